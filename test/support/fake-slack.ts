import { LocalSlackApi, RESPONSE_URL_PATH, type RecordedCall } from '../../src/sandbox/slack-api.js';

export type { HandlerResult, MethodHandler, RecordedCall } from '../../src/sandbox/slack-api.js';

/**
 * The sandbox's local Slack Web API (and response_url target), lenient about tokens and unknown
 * methods, with the look-ups tests assert on. Messages get increasing `ts` values; views get ids;
 * user groups come from `groups`.
 */
export class FakeSlack extends LocalSlackApi {
  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** response_url posts for one command, in order. */
  replies(id: string): Array<Record<string, unknown>> {
    return this.calls
      .filter((c) => c.method === 'response_url' && c.args['url'] === `${RESPONSE_URL_PATH}${id}`)
      .map((c) => c.args);
  }

  /**
   * Slack failing chat.postMessage and chat.update (those `affects` picks) with HTTP 500 and 429 in turn (the
   * 429 with `Retry-After: retryAfterSeconds`) until `end()`; nothing is posted or edited meanwhile.
   */
  outage(options: { retryAfterSeconds?: number; affects?: (args: Record<string, unknown>) => boolean } = {}): {
    end(): void;
    failures(): number;
  } {
    const methods = ['chat.postMessage', 'chat.update'] as const;
    const usual = new Map(methods.map((method) => [method, this.handlerOf(method)]));
    let failures = 0;
    for (const method of methods) {
      this.on(method, (args) => {
        if (!(options.affects?.(args) ?? true)) return (usual.get(method) ?? (() => ({ body: { ok: true } })))(args);
        failures += 1;
        return failures % 2 === 1
          ? { status: 500, body: { ok: false, error: 'internal_error' } }
          : {
              status: 429,
              headers: { 'retry-after': String(options.retryAfterSeconds ?? 1) },
              body: { ok: false, error: 'ratelimited' },
            };
      });
    }
    return {
      end: () => {
        for (const [method, handler] of usual) this.on(method, handler);
      },
      failures: () => failures,
    };
  }

  async waitFor(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
