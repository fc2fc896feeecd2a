import type {
  AllMiddlewareArgs,
  AnyMiddlewareArgs,
  Middleware,
  SlackAction,
  SlackActionMiddlewareArgs,
  SlackCommandMiddlewareArgs,
  SlackEventMiddlewareArgs,
  SlackOptionsMiddlewareArgs,
  SlackShortcut,
  SlackShortcutMiddlewareArgs,
  SlackViewAction,
  SlackViewMiddlewareArgs,
} from '@slack/bolt';
import type { Logger } from 'pino';
import type { ReaderDirectory } from './i18n/readers.js';
import { answerUnclaimed, type RouteKind, routeOf } from './unclaimed.js';

type Listener<A> = (args: A & AllMiddlewareArgs) => Promise<void>;
type AnyListener = (args: AnyMiddlewareArgs & AllMiddlewareArgs) => Promise<void>;
type Matcher = string | RegExp;

/**
 * Every Slack entry point of the bot, found by the payload's kind and id in one lookup. Bolt runs the middleware
 * chain of every listener registered with `app.command`, `app.action`… for every request (26 chains of promises
 * before the one that matches acks); this is one global middleware instead, and it answers at once what no entry
 * claims (see `answerUnclaimed`). The listeners are Bolt's listener functions, called with Bolt's arguments.
 */
export class SlackRouter {
  private readonly exact = new Map<string, AnyListener>();
  private readonly patterns: Array<{ kind: RouteKind; pattern: RegExp; listener: AnyListener }> = [];

  command(name: string, listener: Listener<SlackCommandMiddlewareArgs>): void {
    this.add('command', name, listener);
  }

  action<A extends SlackAction>(id: Matcher, listener: Listener<SlackActionMiddlewareArgs<A>>): void {
    this.add('action', id, listener);
  }

  view<V extends SlackViewAction>(callbackId: string, listener: Listener<SlackViewMiddlewareArgs<V>>): void {
    this.add('view', callbackId, listener);
  }

  options(actionId: string, listener: Listener<SlackOptionsMiddlewareArgs<'block_suggestion'>>): void {
    this.add('options', actionId, listener);
  }

  shortcut<S extends SlackShortcut>(callbackId: string, listener: Listener<SlackShortcutMiddlewareArgs<S>>): void {
    this.add('shortcut', callbackId, listener);
  }

  event(type: 'app_home_opened', listener: Listener<SlackEventMiddlewareArgs<'app_home_opened'>>): void {
    this.add('event', type, listener);
  }

  /** The listener for a payload of `kind` with `id`, if one is registered. */
  find(kind: RouteKind, id: string): AnyListener | undefined {
    const exact = this.exact.get(`${kind} ${id}`);
    if (exact !== undefined) return exact;
    for (const entry of this.patterns) if (entry.kind === kind && entry.pattern.test(id)) return entry.listener;
    return undefined;
  }

  /**
   * The global middleware that runs the listener a payload is for. What the router cannot identify (a legacy
   * payload type) goes on to Bolt as before; what it identifies and nobody claims is answered as stale, in the
   * sender's language (`readers`).
   */
  middleware(logger: Logger, readers?: Pick<ReaderDirectory, 'person' | 'defaultLang'>): Middleware<AnyMiddlewareArgs> {
    return async (args) => {
      const route = routeOf(args.body);
      if (route === undefined) {
        await args.next();
        return;
      }
      const listener = route.kind === 'closed' ? undefined : this.find(route.kind, route.id);
      // Bolt calls a listener with a `next` that does nothing: no listener runs after the one that matched.
      if (listener !== undefined) await listener({ ...args, next: noop });
      else if (route.kind !== 'event') await answerUnclaimed(route, args, logger, readers);
    };
  }

  // The listeners' argument types are Bolt's for the payload kinds they are registered under, which the
  // router checks (`routeOf`) before calling them: erased here, in the one place that checks.
  private add<A>(kind: RouteKind, matcher: Matcher, listener: Listener<A>): void {
    const erased = listener as unknown as AnyListener;
    if (matcher instanceof RegExp) {
      this.patterns.push({ kind, pattern: matcher, listener: erased });
      return;
    }
    const key = `${kind} ${matcher}`;
    if (this.exact.has(key)) throw new Error(`two Slack listeners for ${key}`);
    this.exact.set(key, erased);
  }
}

async function noop(): Promise<void> {}
