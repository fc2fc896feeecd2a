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
