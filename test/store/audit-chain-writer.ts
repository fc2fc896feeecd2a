/**
 * A second (and third) process for audit-chain.test.ts: a replica appending to the shared audit chain.
 * argv: <DatabaseOptions as JSON> <records> <writer name>. Prints `ready`, waits for a line on stdin (so
 * every writer starts at once), writes each record as v1, v2, v3 with two records in flight, prints `done`.
 */
import { AuditStore } from '../../src/store/audit-store.js';
import { type DatabaseOptions, openDatabase } from '../../src/store/database.js';

const [optionsJson, countText, writer] = process.argv.slice(2);
if (optionsJson === undefined || countText === undefined || writer === undefined) {
  throw new Error('usage: audit-chain-writer.ts <options json> <records> <writer>');
}
const options = JSON.parse(optionsJson) as DatabaseOptions;
const count = Number(countText);
const database = await openDatabase(options);
const store = new AuditStore(database.db);
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));

const LANES = 1;
await Promise.all(
  Array.from({ length: LANES }, async (_, lane) => {
    for (let i = lane; i < count; i += LANES) {
      const id = `${writer}-${String(i).padStart(4, '0')}`;
      const at = Date.UTC(2026, 10, 28) + i;
      await store.insert({
        id,
        version: 1,
        createdAt: at,
        updatedAt: at,
        actorUserId: 'U0WRITER',
        channelId: null,
        action: 'snapshot.create',
        target: { service: 'zpool-1', partition: writer },
        subject: id,
        outcome: 'started',
        taskId: null,
        detail: null,
        auditChannel: 'CAUDIT0001',
      });
      await store.update(id, { taskId: i }, at + 1);
      await store.update(id, { outcome: 'succeeded', detail: `by ${writer}` }, at + 2);
      // Requests arrive spaced out, not back to back: without a pause one SQLite writer re-takes the lock
      // at once every time and the two processes hardly interleave.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
    }
  }),
);
await database.close();
process.stdout.write('done\n');
