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

  async waitFor(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
