import type { AllMiddlewareArgs, SlackOptionsMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { LIMITS } from '../blocks/limits.js';
import { FIELD, option } from '../blocks/modals.js';
import type { SlackDeps } from '../deps.js';
import type { Translator } from '../i18n/translate.js';
import { stateValue } from '../payloads.js';
import { modalContext, payloadTranslator } from '../views/modal-context.js';

/** Slack waits 3 s for the options; answer with what we have a little before. */
const OPTIONS_DEADLINE_MS = 2_500;

const QuerySchema = z.object({ value: z.string().default('') });

/** What the user typed, bounded: a long query matches nothing anyway. */
function typed(body: unknown): string {
  const parsed = QuerySchema.safeParse(body);
  return parsed.success ? parsed.data.value.slice(0, 200).toLowerCase() : '';
}

type OptionsArgs = AllMiddlewareArgs & SlackOptionsMiddlewareArgs<'block_suggestion'>;

/** Services the clicking user can see, filtered by what they type (type-ahead), at most 100. */
export function createServiceOptions(deps: SlackDeps) {
  return async ({ ack, body }: OptionsArgs): Promise<void> => {
    const context = modalContext(deps, body);
    if (context === undefined) return ack({ options: [] });
    const query = typed(body);
    const [names, tr] = await Promise.all([
      withinDeadline(deps, deps.service.serviceNames(context.actor)),
      payloadTranslator(deps, body),
    ]);
    return ack({ options: toOptions(names, query, tr) });
  };
}

/** Partitions of the service chosen in the same form, that the user can read. */
export function createPartitionOptions(deps: SlackDeps) {
  return async ({ ack, body }: OptionsArgs): Promise<void> => {
    const context = modalContext(deps, body);
    const service = context === undefined ? undefined : stateValue(context.state, FIELD.service, FIELD.service);
    if (context === undefined || service === undefined) return ack({ options: [] });
    const query = typed(body);
    const [names, tr] = await Promise.all([
      withinDeadline(deps, deps.service.partitionNames(context.actor, service)),
      payloadTranslator(deps, body),
    ]);
    return ack({ options: toOptions(names, query, tr) });
  };
}

function toOptions(names: readonly string[] | undefined, query: string, tr: Translator) {
  if (names === undefined) return [option('-', tr.plain(tr.t('options.slow')))];
  const matching = names.filter((n) => n.toLowerCase().includes(query));
  const shown = matching.slice(0, LIMITS.options).map((n) => option(n, n));
  if (matching.length > LIMITS.options) {
    const more = tr.t('options.more', { count: matching.length - (LIMITS.options - 1) });
    shown[LIMITS.options - 1] = option('-', tr.plain(more));
  }
  return shown;
}

async function withinDeadline<T>(deps: SlackDeps, work: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), OPTIONS_DEADLINE_MS);
  });
  try {
    return await Promise.race([work, deadline]);
  } catch (error) {
    deps.logger.info({ err: error }, 'could not load options');
    return [] as T;
  } finally {
    clearTimeout(timer);
  }
}
