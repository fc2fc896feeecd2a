/**
 * Durable list of OVH tasks the bot is following, so that after a restart it follows them again and still
 * updates the audit record and the user's message when they finish; and of the changes on their way to OVH
 * (write-ahead intents), so that a crash before a task is journaled is reconciled instead of forgotten.
 */
import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import type {
  ChangeAction,
  ChangeIntent,
  IntentOutcome,
  JsonValue,
  Lease,
  StoredIntent,
  TaskJournalPort,
} from '../core/ports.js';
import type { TaskResult } from '../ovh/task-tracker.js';
import type { Clock } from '../shared/clock.js';
import type { ChangeIntentsTable, DatabaseSchema, TrackedTasksTable } from './schema.js';

/** How a followed task ended: the task tracker's outcomes. */
export const TRACKED_TASK_OUTCOMES = [
  'done',
  'failed',
  'timeout',
  'lost',
] as const satisfies readonly TaskResult['outcome'][];
export type TrackedTaskOutcome = (typeof TRACKED_TASK_OUTCOMES)[number];
const OutcomeSchema = z.enum(TRACKED_TASK_OUTCOMES);

export interface TrackedTask {
  service: string;
  taskId: number;
  /** The audit record to update when the task ends. */
  auditId: string | null;
  /** What the task does, e.g. 'snapshot.create'. */
  kind: string;
  /** Opaque to the journal: where to report back (Slack response_url, channel and ts, …). */
  reply: JsonValue;
  createdAt: number;
  deadlineAt: number;
  finishedAt: number | null;
  outcome: TrackedTaskOutcome | null;
}

export interface NewTrackedTask {
  service: string;
  taskId: number;
  auditId?: string | null | undefined;
  kind: string;
  reply?: JsonValue | undefined;
  /** When to stop following it (epoch ms). */
  deadlineAt: number;
}

const CHANGE_KINDS = [
  'schedule.add',
  'schedule.remove',
  'snapshot.create',
  'snapshot.delete',
] as const satisfies readonly ChangeAction[];
const ChangeKindSchema = z.enum(CHANGE_KINDS);
const INTENT_OUTCOMES = [
  'journaled',
  'failed',
  'applied',
  'not_applied',
  'unknown',
] as const satisfies readonly IntentOutcome[];
const IntentOutcomeSchema = z.enum(INTENT_OUTCOMES);

export class TaskJournal implements TaskJournalPort {
  private readonly db: Kysely<DatabaseSchema>;
  private readonly clock: Clock;

  constructor(options: { db: Kysely<DatabaseSchema>; clock: Clock }) {
    this.db = options.db;
    this.clock = options.clock;
  }

  /** Records a task to follow. Adding the same (service, taskId) again keeps the first entry. */
  async add(entry: NewTrackedTask): Promise<TrackedTask> {
    await this.db
      .insertInto('tracked_tasks')
      .values(trackedRow(entry, this.clock.now()))
      .onConflict((oc) => oc.columns(['service', 'task_id']).doNothing())
      .execute();
    const stored = await this.get(entry.service, entry.taskId);
    if (stored === undefined) throw new Error(`tracked task ${entry.service}#${entry.taskId} vanished after insert`);
    return stored;
  }

  /** Marks a task finished. False if it was unknown or already finished (the first outcome wins). */
  async finish(service: string, taskId: number, outcome: TrackedTaskOutcome): Promise<boolean> {
    const result = await this.db
      .updateTable('tracked_tasks')
      .set({ finished_at: this.clock.now(), outcome: OutcomeSchema.parse(outcome) })
      .where('service', '=', service)
      .where('task_id', '=', taskId)
      .where('finished_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Tasks still to follow, oldest first. */
  async unfinished(): Promise<TrackedTask[]> {
    const rows = await this.db
      .selectFrom('tracked_tasks')
      .selectAll()
      .where('finished_at', 'is', null)
      .orderBy('created_at')
      .orderBy('service')
      .orderBy('task_id')
      .execute();
    return rows.map(toTask);
  }

  async get(service: string, taskId: number): Promise<TrackedTask | undefined> {
    const row = await this.db
      .selectFrom('tracked_tasks')
      .selectAll()
      .where('service', '=', service)
      .where('task_id', '=', taskId)
      .executeTakeFirst();
    return row === undefined ? undefined : toTask(row);
  }

  // ---------------------------------------------------------------- intents

  async addIntent(intent: Omit<ChangeIntent, 'sentAt' | 'checks'>, lease: Lease): Promise<void> {
    await this.db
      .insertInto('change_intents')
      .values({
        id: intent.id,
        service: intent.service,
        partition: intent.partition,
        kind: ChangeKindSchema.parse(intent.kind),
        subject: intent.subject,
        audit_id: intent.auditId,
        reply: JSON.stringify(intent.reply ?? null),
        created_at: intent.createdAt,
        sent_at: null,
        task_id: null,
        finished_at: null,
        outcome: null,
        checks: 0,
        lease_owner: lease.owner,
        lease_until: lease.until,
      })
      .execute();
  }

  async markIntentSent(id: string, at: number): Promise<void> {
    await this.db
      .updateTable('change_intents')
      .set({ sent_at: at })
      .where('id', '=', id)
      .where('finished_at', 'is', null)
      .execute();
  }

  async attachTask(intentId: string, entry: NewTrackedTask): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const closed = await trx
        .updateTable('change_intents')
        .set({
          task_id: entry.taskId,
          finished_at: this.clock.now(),
          outcome: 'journaled',
          lease_owner: null,
          lease_until: null,
        })
        .where('id', '=', intentId)
        .where('finished_at', 'is', null)
        .executeTakeFirst();
      if (closed.numUpdatedRows === 0n) return false;
      await trx
        .insertInto('tracked_tasks')
        .values(trackedRow(entry, this.clock.now()))
        .onConflict((oc) => oc.columns(['service', 'task_id']).doNothing())
        .execute();
      return true;
    });
  }

  async closeIntent(id: string, outcome: Exclude<IntentOutcome, 'journaled'>): Promise<boolean> {
    const result = await this.db
      .updateTable('change_intents')
      .set({
        finished_at: this.clock.now(),
        outcome: IntentOutcomeSchema.parse(outcome),
        lease_owner: null,
        lease_until: null,
      })
      .where('id', '=', id)
      .where('finished_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async renewIntent(id: string, lease: Lease): Promise<boolean> {
    const result = await this.db
      .updateTable('change_intents')
      .set({ lease_until: lease.until })
      .where('id', '=', id)
      .where('lease_owner', '=', lease.owner)
      .where('finished_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async releaseIntent(id: string, owner: string, retry: { at: number; checks: number }): Promise<void> {
    await this.db
      .updateTable('change_intents')
      .set({ lease_owner: null, lease_until: retry.at, checks: retry.checks })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('finished_at', 'is', null)
      .execute();
  }

  async claimIntents(lease: Lease, now: number, limit: number): Promise<ChangeIntent[]> {
    const due = await this.db
      .selectFrom('change_intents')
      .selectAll()
      .where('finished_at', 'is', null)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '<>', lease.owner)]))
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    const claimed: ChangeIntent[] = [];
    for (const row of due) {
      const intent = toIntent(row);
      // A row this release cannot read (a kind from a newer one) is left to that release.
      if (intent === undefined) continue;
      const won = await this.db
        .updateTable('change_intents')
        .set({ lease_owner: lease.owner, lease_until: lease.until })
        .where('id', '=', row.id)
        .where('finished_at', 'is', null)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
        .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '<>', lease.owner)]))
        .executeTakeFirst();
      if (won.numUpdatedRows > 0n) claimed.push(intent);
    }
    return claimed;
  }

  async nextIntentDueAt(): Promise<number | undefined> {
    const rows = await this.db
      .selectFrom('change_intents')
      .select(['lease_until'])
      .where('finished_at', 'is', null)
      .execute();
    if (rows.length === 0) return undefined;
    return Math.min(...rows.map((row) => row.lease_until ?? 0));
  }

  async intentOfAudit(auditId: string): Promise<StoredIntent | undefined> {
    const row = await this.db
      .selectFrom('change_intents')
      .selectAll()
      .where('audit_id', '=', auditId)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : toStoredIntent(row);
  }

  async openIntents(): Promise<StoredIntent[]> {
    const rows = await this.db
      .selectFrom('change_intents')
      .selectAll()
      .where('finished_at', 'is', null)
      .orderBy('created_at')
      .execute();
    return rows.map(toStoredIntent).filter((intent): intent is StoredIntent => intent !== undefined);
  }

  async journaledTaskIds(service: string, since: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('tracked_tasks')
      .select(['task_id'])
      .where('service', '=', service)
      .where('created_at', '>=', since)
      .execute();
    return rows.map((row) => row.task_id);
  }
}

function trackedRow(entry: NewTrackedTask, now: number): TrackedTasksTable {
  return {
    service: entry.service,
    task_id: entry.taskId,
    audit_id: entry.auditId ?? null,
    kind: entry.kind,
    reply: JSON.stringify(entry.reply ?? null),
    created_at: now,
    deadline_at: entry.deadlineAt,
    finished_at: null,
    outcome: null,
  };
}

function toIntent(row: Selectable<ChangeIntentsTable>): ChangeIntent | undefined {
  const kind = ChangeKindSchema.safeParse(row.kind);
  if (!kind.success) return undefined;
  return {
    id: row.id,
    service: row.service,
    partition: row.partition,
    kind: kind.data,
    subject: row.subject,
    auditId: row.audit_id,
    reply: parseJson(row.reply),
    createdAt: row.created_at,
    sentAt: row.sent_at,
    checks: row.checks,
  };
}

function toStoredIntent(row: Selectable<ChangeIntentsTable>): StoredIntent | undefined {
  const intent = toIntent(row);
  if (intent === undefined) return undefined;
  const outcome = row.outcome === null ? null : IntentOutcomeSchema.safeParse(row.outcome);
  return {
    ...intent,
    taskId: row.task_id,
    // An outcome written by a newer release still means "closed"; it reads as unknown here.
    outcome: outcome?.success ? outcome.data : null,
    finishedAt: row.finished_at,
  };
}

function toTask(row: Selectable<TrackedTasksTable>): TrackedTask {
  const outcome = row.outcome === null ? null : OutcomeSchema.safeParse(row.outcome);
  return {
    service: row.service,
    taskId: row.task_id,
    auditId: row.audit_id,
    kind: row.kind,
    reply: parseJson(row.reply),
    createdAt: row.created_at,
    deadlineAt: row.deadline_at,
    finishedAt: row.finished_at,
    // An outcome written by a newer release still means "finished"; it just reads as unknown here.
    outcome: outcome?.success ? outcome.data : null,
  };
}

function parseJson(text: string): JsonValue {
  try {
    return JSON.parse(text);
  } catch {
    // A damaged reply must not stop the other tasks from being resumed; the caller sees null.
    return null;
  }
}
