import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createBoltLogger, createLogger } from '../../src/shared/logger.js';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const destination = new PassThrough();
  destination.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
  });
  return { logger: createLogger({ level, destination }), lines };
}

describe('createBoltLogger: Bolt’s log calls on pino', () => {
  it('writes what pino’s level lets through, its pieces joined, and never puts together a line it drops', async () => {
    const { logger, lines } = capture('info');
    const bolt = createBoltLogger(logger);
    let serialized = 0;
    const costly = {
      toJSON: () => {
        serialized += 1;
        return { big: true };
      },
    };
    bolt.debug('request body', costly);
    expect(serialized).toBe(0);
    bolt.info('listening on', costly);
    bolt.error('failed', new Error('boom'));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(serialized).toBe(1);
    expect(lines.map((l) => [l['level'], l['msg']])).toEqual([
      [30, 'listening on {"big":true}'],
      [50, 'failed'],
    ]);
    expect((lines[1]?.['err'] as { message?: string } | undefined)?.message).toBe('boom');
  });
});

describe('createLogger: secrets never reach a log line', () => {
  it('censors secret keys at the top level, nested at any depth and in any case, and in errors', async () => {
    const { logger, lines } = capture('info');
    const headers = { Authorization: 'Bearer xoxb-secret-1', accept: 'application/json' };
    const request = { url: 'https://eu.api.ovh.com/1.0/me', options: { headers, 'X-Ovh-Consumer': 'ck-secret-2' } };
    const error = Object.assign(new Error('request failed', { cause: new Error('socket hang up') }), {
      config: { headers: { authorization: 'Bearer xoxb-secret-3' } },
    });
    logger.info(
      {
        token: 'xoxb-secret-4',
        response_url: 'https://hooks.slack.com/commands/secret-5',
        user: { trigger_id: 'secret-6', id: 'U1' },
        request,
        calls: [{ responseUrl: 'secret-7' }],
        err: error,
        count: 3,
      },
      'something happened',
    );
    await new Promise<void>((resolve) => setImmediate(resolve));
    const text = JSON.stringify(lines);
    for (const n of [1, 2, 3, 4, 5, 6, 7]) expect(text).not.toContain(`secret-${n}`);
    const line = lines[0] ?? {};
    expect(line['token']).toBe('[redacted]');
    expect(line['user']).toEqual({ trigger_id: '[redacted]', id: 'U1' });
    expect(line['request']).toEqual({
      url: 'https://eu.api.ovh.com/1.0/me',
      options: { headers: { Authorization: '[redacted]', accept: 'application/json' }, 'X-Ovh-Consumer': '[redacted]' },
    });
    expect(line['calls']).toEqual([{ responseUrl: '[redacted]' }]);
    expect(line['count']).toBe(3);
    // The error is still reported as one, its message and cause included.
    const err = line['err'] as Record<string, unknown>;
    expect(err['type']).toBe('Error');
    expect(String(err['message'])).toContain('request failed');
    expect(String(err['stack'])).toContain('socket hang up');
    expect(err['config']).toEqual({ headers: { authorization: '[redacted]' } });
    // What the caller logged is left as it was.
    expect(headers.Authorization).toBe('Bearer xoxb-secret-1');
    expect((error as unknown as { config: { headers: { authorization: string } } }).config.headers.authorization).toBe(
      'Bearer xoxb-secret-3',
    );
  });

  it('writes a line without nested secrets as logged, errors serialized by pino as usual', async () => {
    const { logger, lines } = capture('info');
    logger.warn({ kind: 'command', issues: ['text'], err: new Error('boom') }, 'plain');
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(lines[0]?.['issues']).toEqual(['text']);
    expect(lines[0]?.['err']).toMatchObject({ type: 'Error', message: 'boom' });
  });
});
