import type { AllMiddlewareArgs, AnyMiddlewareArgs, BlockButtonAction } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.js';
import { SlackRouter } from '../../src/slack/router.js';

const logger = createLogger({ level: 'silent' });

/** What Bolt hands a global middleware: the payload, its ack, and a `next` that runs Bolt's listeners. */
function boltArgs(body: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const acks: unknown[] = [];
  let nextCalls = 0;
  const args = {
    body,
    payload: body,
    ack: async (response?: unknown) => {
      acks.push(response);
    },
    next: async () => {
      nextCalls += 1;
    },
    context: {},
    client: {},
    logger: {},
    ...extra,
  } as unknown as AnyMiddlewareArgs & AllMiddlewareArgs;
  return { args, acks, nextCalls: () => nextCalls };
}

const command = (name: string) => ({ command: name, text: 'help', user_id: 'U1', channel_id: 'C1', trigger_id: 't' });
const button = (actionId: string) => ({
  type: 'block_actions',
  user: { id: 'U1' },
  actions: [{ action_id: actionId }],
  container: { type: 'view' },
});
const submission = (callbackId: string) => ({
  type: 'view_submission',
  user: { id: 'U1' },
  view: { callback_id: callbackId },
});

describe('SlackRouter: each payload to its one listener', () => {
  it('runs the listener registered for the kind and id, with Bolt’s arguments and a next that does nothing', async () => {
    const router = new SlackRouter();
    const seen: string[] = [];
    router.command('/nasha', async (args) => {
      seen.push(`command ${args.body.command}`);
      await args.next();
    });
    router.action<BlockButtonAction>('nasha_approve', async ({ body }) => {
      seen.push(`action ${body.actions[0]?.action_id}`);
    });
    // The same id under another kind is another entry.
    router.view('nasha_approve', async ({ body }) => {
      seen.push(`view ${body.view.callback_id}`);
    });
    router.action(/^nasha_page_/, async () => {
      seen.push('page');
    });
    const middleware = router.middleware(logger);
    const calls = [
      boltArgs(command('/nasha')),
      boltArgs(button('nasha_approve')),
      boltArgs(submission('nasha_approve')),
    ];
    const page = boltArgs(button('nasha_page_3'));
    for (const call of [...calls, page]) await middleware(call.args);
    expect(seen).toEqual(['command /nasha', 'action nasha_approve', 'view nasha_approve', 'page']);
    // No Bolt listener runs after the router's: Bolt's `next` is never called for what the router placed.
    expect([...calls, page].map((c) => c.nextCalls())).toEqual([0, 0, 0, 0]);
  });

  it('refuses two listeners for one kind and id when they are registered', () => {
    const router = new SlackRouter();
    router.command('/nasha', async () => {});
    expect(() => router.command('/nasha', async () => {})).toThrow('two Slack listeners for command /nasha');
  });

  it('answers at once what nobody claims, and hands Bolt what it cannot place', async () => {
    const router = new SlackRouter();
    router.command('/nasha', async () => {
      throw new Error('not this one');
    });
    const middleware = router.middleware(logger);

    const unknownCommand = boltArgs(command('/other'));
    await middleware(unknownCommand.args);
    expect(JSON.stringify(unknownCommand.acks)).toContain('/other');
    expect(unknownCommand.nextCalls()).toBe(0);

    const staleForm = boltArgs(submission('nasha_gone'));
    await middleware(staleForm.args);
    expect(staleForm.acks).toEqual([expect.objectContaining({ response_action: 'update' })]);

    const options = boltArgs({ type: 'block_suggestion', action_id: 'gone', user: { id: 'U1' } });
    await middleware(options.args);
    expect(options.acks).toEqual([{ options: [] }]);

    const closed = boltArgs({ type: 'view_closed', user: { id: 'U1' }, view: { callback_id: 'nasha_main' } });
    await middleware(closed.args);
    expect(closed.acks).toEqual([undefined]);

    // An event nobody listens for was acknowledged by Bolt already: nothing more to do.
    const event = boltArgs({ type: 'event_callback', event: { type: 'member_joined_channel' } });
    await middleware(event.args);
    expect([event.acks, event.nextCalls()]).toEqual([[], 0]);

    const legacy = boltArgs({ type: 'interactive_message', callback_id: 'x' });
    await middleware(legacy.args);
    expect([legacy.acks, legacy.nextCalls()]).toEqual([[], 1]);
  });

  it('routes the Home tab being opened to its event listener', async () => {
    const router = new SlackRouter();
    const opened: string[] = [];
    router.event('app_home_opened', async ({ event }) => {
      opened.push(event.user);
    });
    const event = { type: 'app_home_opened', user: 'U7', tab: 'home' };
    await router.middleware(logger)(boltArgs({ type: 'event_callback', event }, { event }).args);
    expect(opened).toEqual(['U7']);
  });
});
