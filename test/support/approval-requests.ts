import type { BotHarness } from './bot-harness.js';

/** Runs `/nasha <text>` as `user` and returns the id of the approval request it filed. */
export async function requestApproval(h: BotHarness, text: string, user: string): Promise<string> {
  const { id } = await h.command(text, { user });
  const texts = await h.replies(id, (t) =>
    t.some((x) => x.startsWith('Pending approval #') || /^(You|There|`)/.test(x)),
  );
  const pending = texts.find((x) => x.startsWith('Pending approval #'));
  if (pending === undefined) throw new Error(`no approval request: ${JSON.stringify(h.slack.replies(id).at(-1))}`);
  return pending.slice('Pending approval #'.length, 'Pending approval #'.length + 6);
}
