import type { webApi } from '@slack/bolt';
import type { Actor } from '../core/model.js';
import { homeView } from './blocks/home.js';
import type { SlackMessage } from './blocks/limits.js';
import type { SlackDeps } from './deps.js';
import { translator } from './i18n/translate.js';

export interface HomeBoardOptions {
  /** A change is shown at most this often per person (views.publish is Tier 4; one person: ≤ 6 a minute). */
  debounceMs?: number;
  /** How long after opening the tab a person's Home follows changes. */
  followMs?: number;
  /** How many people's Home tabs are followed at once (the oldest are dropped). */
  maxViewers?: number;
  /** Least time between two views.publish calls of this process (600 ms: 100 a minute, Tier 4's floor). */
  minIntervalMs?: number;
}

interface Viewer {
  openedAt: number;
  page: number;
  notice: SlackMessage | undefined;
}

/**
 * Publishes people's Home tabs: when they open it, when they click in it, and (debounced per person) when
 * something it shows changes, for those who opened it lately. One replica's memory: another replica's change
 * reaches a tab when the person opens it again.
 */
export class HomeBoard {
  private readonly viewers = new Map<string, Viewer>();
  private readonly due = new Set<string>();
  /** One publish at a time per person, in order. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly debounceMs: number;
  private readonly followMs: number;
  private readonly maxViewers: number;
  private readonly minIntervalMs: number;
  /** When the next views.publish may go (reserved synchronously, so concurrent renders queue up). */
  private nextSlotAt = 0;

  constructor(
    private readonly deps: SlackDeps,
    private readonly client: webApi.WebClient,
    options: HomeBoardOptions = {},
  ) {
    this.debounceMs = options.debounceMs ?? 10_000;
    this.followMs = options.followMs ?? 12 * 3_600_000;
    this.maxViewers = options.maxViewers ?? 1_000;
    this.minIntervalMs = options.minIntervalMs ?? 600;
  }

  /** `app_home_opened`: publish it now, from the first page, and follow its changes. */
  opened(userId: string): Promise<void> {
    this.viewers.delete(userId);
    this.viewers.set(userId, { openedAt: this.deps.clock.now(), page: 1, notice: undefined });
    while (this.viewers.size > this.maxViewers) {
      const oldest = this.viewers.keys().next().value;
      if (oldest === undefined) break;
      this.viewers.delete(oldest);
    }
    return this.publish(userId);
  }

  /** The "more" button: another page of the lists. */
  showPage(userId: string, page: number): Promise<void> {
    const viewer = this.viewers.get(userId) ?? { openedAt: this.deps.clock.now(), page, notice: undefined };
    this.viewers.set(userId, { ...viewer, page });
    return this.publish(userId);
  }

  /** The answer to a click made in the tab: shown on top of it (a Home tab has no thread to answer in). */
  notice(userId: string, reply: SlackMessage): Promise<void> {
    const viewer = this.viewers.get(userId) ?? { openedAt: this.deps.clock.now(), page: 1, notice: undefined };
    this.viewers.set(userId, { ...viewer, notice: reply });
    return this.publish(userId);
  }

  /** Something a Home tab may show changed: each follower's tab is published once after the debounce. */
  changed(): void {
    const now = this.deps.clock.now();
    for (const [userId, viewer] of this.viewers) {
      if (now - viewer.openedAt > this.followMs) {
        this.viewers.delete(userId);
        continue;
      }
      if (this.due.has(userId)) continue;
      this.due.add(userId);
      void this.deps.clock.sleep(this.debounceMs).then(() => {
        this.due.delete(userId);
        return this.publish(userId);
      });
    }
  }

  private publish(userId: string): Promise<void> {
    const previous = this.chains.get(userId) ?? Promise.resolve();
    const next = previous.then(() => this.render(userId));
    this.chains.set(userId, next);
    void next.finally(() => {
      if (this.chains.get(userId) === next) this.chains.delete(userId);
    });
    return next;
  }

  /** Waits for this publish's turn: a change seen by many followers does not burst past Slack's rate limit. */
  private async slot(): Promise<void> {
    const now = this.deps.clock.now();
    const at = Math.max(now, this.nextSlotAt);
    this.nextSlotAt = at + this.minIntervalMs;
    if (at > now) await this.deps.clock.sleep(at - now);
  }

  private async render(userId: string): Promise<void> {
    // A Home tab belongs to no channel: the checks are those of a request from no channel (as its clicks are).
    const actor: Actor = { userId, channelId: undefined };
    const viewer = this.viewers.get(userId);
    try {
      const [data, reader] = await Promise.all([this.deps.dashboard.home(actor), this.deps.readers.person(userId)]);
      const view = homeView(data, translator(reader), { page: viewer?.page ?? 1, notice: viewer?.notice });
      await this.slot();
      await this.client.views.publish({ user_id: userId, view });
    } catch (error) {
      this.deps.logger.warn({ err: error, userId }, 'could not publish the Home tab');
    }
  }
}
