import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AuditRefusal } from '../core/audit-detail.js';
import type { JsonValue } from '../core/ports.js';
import type { QuickFailure, QuickRun, QuickSnapshotMemory, SavedQuickRun } from '../core/quick-snapshots.js';
import type { DatabaseSchema } from './schema.js';

const TaskIdSchema = z.number().int().nullable();

/** Runs saved by an older version kept their reasons as text. */
function legacyState(state: unknown): unknown {
  if (typeof state !== 'object' || state === null || !('reason' in state)) return state;
  const { reason, ...rest } = state as { reason: unknown; status?: unknown };
  const text = typeof reason === 'string' ? reason : '';
  if (rest.status === 'failed') return { ...rest, failure: { kind: 'text', text } };
  if (rest.status === 'denied') return { ...rest, refusal: { kind: 'not_visible', action: 'snapshot.quick' } };
  return state;
}

const looseObject = z.record(z.string(), z.unknown());
/** Problems and refusals are checked by kind; their fields are the core's own data, read back as written. */
const QuickFailureSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('problem'), problem: looseObject.and(z.object({ kind: z.string() })) }),
  z.object({
    kind: z.literal('task'),
    outcome: z.enum(['failed', 'timeout', 'lost']),
    status: z.string().optional(),
    details: z.string().optional(),
  }),
  z.object({ kind: z.literal('restart'), when: z.enum(['not_started', 'not_created', 'unknown']) }),
  z.object({ kind: z.literal('text'), text: z.string() }),
]) as unknown as z.ZodType<QuickFailure>;
const RefusalSchema = looseObject.and(z.object({ kind: z.string() })) as unknown as z.ZodType<AuditRefusal>;

/** A saved run, checked on the way back in (the database is an input like any other). */
const QuickRunSchema: z.ZodType<QuickRun> = z.object({
  id: z.string().min(1),
  spec: z.string(),
  label: z.string(),
  requester: z.string(),
  reason: z.string().nullable(),
  expiration: z.string().nullable(),
  items: z.array(
    z.object({
      target: z.object({ service: z.string().min(1), partition: z.string().min(1) }),
      name: z.string().min(1),
      state: z.preprocess(
        legacyState,
        z.discriminatedUnion('status', [
          z.object({ status: z.literal('queued') }),
          z.object({ status: z.literal('creating'), taskId: TaskIdSchema }),
          z.object({ status: z.literal('done'), taskId: TaskIdSchema, existed: z.boolean() }),
          z.object({ status: z.literal('failed'), failure: QuickFailureSchema, taskId: TaskIdSchema }),
          z.object({
            status: z.literal('full'),
            snapshots: z.array(
              z.object({ name: z.string(), expiration: z.string().nullable(), createdAt: z.number().nullable() }),
            ),
          }),
          z.object({ status: z.literal('denied'), refusal: RefusalSchema }),
        ]),
      ),
    }),
  ),
  startedAt: z.number(),
  finishedAt: z.number().nullable(),
});

const JsonSchema: z.ZodType<JsonValue> = z.json();

/**
 * Snapshot creation times, last quick-snapshot targets and runs in progress, over Kysely (SQLite or
 * PostgreSQL).
 */
export class QuickStore implements QuickSnapshotMemory {
  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    private readonly logger?: Logger,
  ) {}

  async saveRun(run: QuickRun, auditId: string, reply: JsonValue, at: number): Promise<void> {
    const row = { run: JSON.stringify(run), audit_id: auditId, reply: JSON.stringify(reply), updated_at: at };
    await this.db
      .insertInto('quick_runs')
      .values({ id: run.id, ...row, created_at: run.startedAt, finished_at: null })
      .onConflict((oc) => oc.column('id').doUpdateSet(row))
      .execute();
  }

  async finishRun(id: string, at: number): Promise<void> {
    await this.db.updateTable('quick_runs').set({ finished_at: at, updated_at: at }).where('id', '=', id).execute();
  }

  async unfinishedRuns(): Promise<SavedQuickRun[]> {
    const rows = await this.db
      .selectFrom('quick_runs')
      .select(['id', 'run', 'audit_id', 'reply'])
      .where('finished_at', 'is', null)
      .orderBy('created_at')
      .execute();
    const runs: SavedQuickRun[] = [];
    for (const row of rows) {
      const run = QuickRunSchema.safeParse(parseJson(row.run));
      const reply = JsonSchema.safeParse(parseJson(row.reply));
      if (run.success && reply.success && run.data.id === row.id) {
        runs.push({ run: run.data, auditId: row.audit_id, reply: reply.data });
      } else {
        // Left in place for inspection; a run the bot cannot read is not one it can finish.
        this.logger?.error({ runId: row.id }, 'a saved quick snapshot run is unreadable; skipped');
      }
    }
    return runs;
  }

  async recordCreated(service: string, partition: string, name: string, at: number, by: string): Promise<void> {
    await this.db
      .insertInto('snapshot_records')
      .values({ service, partition, name, created_at: at, created_by: by })
      .onConflict((oc) => oc.columns(['service', 'partition', 'name']).doNothing())
      .execute();
  }

  async createdAt(service: string, partition: string, names: readonly string[]): Promise<Map<string, number>> {
    if (names.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('snapshot_records')
      .select(['name', 'created_at'])
      .where('service', '=', service)
      .where('partition', '=', partition)
      .where('name', 'in', [...names])
      .execute();
    return new Map(rows.map((r) => [r.name, Number(r.created_at)]));
  }

  async lastTarget(scope: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('quick_targets')
      .select('target')
      .where('scope', '=', scope)
      .executeTakeFirst();
    return row?.target;
  }

  async rememberTarget(scope: string, target: string, at: number): Promise<void> {
    await this.db
      .insertInto('quick_targets')
      .values({ scope, target, updated_at: at })
      .onConflict((oc) => oc.column('scope').doUpdateSet({ target, updated_at: at }))
      .execute();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
