import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { SIGNING_SECRET } from '../test/support/bot-harness.js';
import { FORM, slackSignature, slashCommandBody } from '../test/support/slack-requests.js';
import type { Child } from './ipc.js';

/** What every command asks: 4 OVH calls after the ack (frequencies, names, 2 snapshot details) and a reply. */
export const LIST_COMMAND = 'snapshot list zpool-128310/data';

/** A slash command ready to send: body and Slack's signature headers. */
export interface SignedCommand {
  body: string;
  headers: Record<string, string>;
}

/**
 * `count` signed `/nasha <text>` commands (admin in #ops), each with its own response_url under
 * `responseUrlBase`. Signed up front, so the load loop only sends.
 */
export function signedCommands(text: string, count: number, responseUrlBase: string): SignedCommand[] {
  const timestamp = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, () => {
    const body = slashCommandBody({ text, response_url: `${responseUrlBase}${randomUUID()}` });
    return {
      body,
      headers: {
        'content-type': FORM,
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, body),
      },
    };
  });
}

/**
 * How commands arrive. `closed`: `concurrency` senders, each sending its next command as soon as the
 * previous one is acked (saturates the app by construction). `burst`: `concurrency` commands at once,
 * then nothing until `settle()` says the app has finished the work they started.
 */
export type Shape = 'closed' | 'burst';

/** Keep-alive connections to one app's /slack/events, as many as the concurrency. */
export class LoadTarget {
  private readonly pool: Pool;

  constructor(port: number, connections: number) {
    this.pool = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1 });
  }

  /** Time to the complete HTTP 200 ack of each command, in ms. */
  async run(
    commands: readonly SignedCommand[],
    shape: Shape,
    concurrency: number,
    /** Resolves once the app has finished the work of the first `sent` commands of this run. */
    settle: (sent: number) => Promise<void>,
  ): Promise<number[]> {
    const latencies: number[] = [];
    if (shape === 'burst') {
      for (let start = 0; start < commands.length; start += concurrency) {
        latencies.push(...(await Promise.all(commands.slice(start, start + concurrency).map((c) => this.send(c)))));
        await settle(latencies.length);
      }
      return latencies;
    }
    let next = 0;
    const sender = async () => {
      for (let i = next++; i < commands.length; i = next++) {
        const command = commands[i];
        if (command !== undefined) latencies.push(await this.send(command));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, sender));
    await settle(latencies.length);
    return latencies;
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private async send(command: SignedCommand): Promise<number> {
    const started = performance.now();
    const response = await this.pool.request({
      path: '/slack/events',
      method: 'POST',
      headers: command.headers,
      body: command.body,
    });
    await response.body.text();
    const elapsed = performance.now() - started;
    if (response.statusCode !== 200) throw new Error(`ack was HTTP ${response.statusCode}`);
    return elapsed;
  }
}

/**
 * Sends `n` signed commands (LIST_COMMAND unless `text` says) to one app. For the bot (`answers`), settling waits until the world has
 * received the reply of every command sent so far (the work after the ack is done).
 */
export async function sendBlock(
  world: Child,
  target: LoadTarget,
  answers: boolean,
  shape: Shape,
  concurrency: number,
  n: number,
  text: string = LIST_COMMAND,
): Promise<number[]> {
  const info = world.world;
  if (info === undefined) throw new Error('the world child did not describe itself');
  const before = (await world.count()).replies;
  const settle = async (sent: number) => {
    if (!answers) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the bot did not answer every command within 120 s')), 120_000);
    });
    await Promise.race([world.count(before + sent), timeout]).finally(() => clearTimeout(timer));
  };
  return target.run(signedCommands(text, n, info.responseUrlBase), shape, concurrency, settle);
}
