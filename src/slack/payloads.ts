import { z } from 'zod';
import { unescapeMrkdwn } from './text.js';

/**
 * zod parsers for the parts of Slack payloads the bot uses. Bolt has verified the signature; these
 * make sure the fields have the shape we rely on before anything acts on them.
 */
export const UserIdSchema = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'not a Slack user ID');
export const ChannelIdSchema = z.string().regex(/^[CDG][A-Z0-9]{2,}$/, 'not a Slack channel ID');

export const SlashCommandSchema = z.object({
  user_id: UserIdSchema,
  channel_id: ChannelIdSchema,
  // As the person typed it. Slack sends `&`, `<` and `>` as entities (the manifest's `should_escape`, so that
  // mentions and links arrive as `<…>` markup): taken as sent, a reason typed as `R&D` was recorded and shown as
  // `R&amp;D`. Every place that shows user text escapes it again (src/slack/text.ts).
  text: z.string().max(4_000).default('').transform(unescapeMrkdwn),
  trigger_id: z.string().min(1),
  response_url: z.url(),
});

const SelectedOption = z.object({ value: z.string() });

/** `view.state.values` entries the bot reads, keyed by block then action id. */
export const StateValueSchema = z.object({
  type: z.string(),
  value: z.string().nullable().optional(),
  selected_option: SelectedOption.nullable().optional(),
  selected_options: z.array(SelectedOption).optional(),
  selected_date: z.string().nullable().optional(),
});
export const ViewStateSchema = z.record(z.string(), z.record(z.string(), StateValueSchema));
export type ViewState = z.infer<typeof ViewStateSchema>;

/** The value of `block_id.action_id` in a view state, whatever the element type. */
export function stateValue(state: ViewState, blockId: string, actionId: string): string | undefined {
  const entry = state[blockId]?.[actionId];
  if (entry === undefined) return undefined;
  return entry.selected_option?.value ?? entry.value ?? entry.selected_date ?? undefined;
}

/** The block whose id starts with `prefix` (blocks whose id changes to reset their input). */
export function stateValueByPrefix(state: ViewState, prefix: string, actionId: string): string | undefined {
  for (const [blockId, actions] of Object.entries(state)) {
    if (blockId.startsWith(prefix) && actions[actionId] !== undefined) return stateValue(state, blockId, actionId);
  }
  return undefined;
}

export function stateOptions(state: ViewState, blockId: string, actionId: string): string[] {
  return state[blockId]?.[actionId]?.selected_options?.map((o) => o.value) ?? [];
}

/**
 * A button click: the clicking user (from the signed payload), the channel if any, and the button's
 * JSON value parsed with `valueSchema` — which only ever says *what*, never who may.
 */
export function parseJsonButton<T>(body: unknown, valueSchema: z.ZodType<T>) {
  const click = ButtonClickSchema.safeParse(body);
  if (!click.success) return undefined;
  let value: T;
  try {
    value = valueSchema.parse(JSON.parse(click.data.actions[0]?.value ?? ''));
  } catch {
    return undefined;
  }
  return { actor: { userId: click.data.user.id, channelId: click.data.channel?.id }, value };
}

const ButtonClickSchema = z.object({
  user: z.object({ id: UserIdSchema }),
  channel: z.object({ id: ChannelIdSchema }).optional(),
  actions: z.array(z.object({ value: z.string().max(2_000) })).min(1),
});
