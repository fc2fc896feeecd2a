/**
 * Durable list of OVH tasks the bot is following, so that after a restart it follows them again and still
 * updates the audit record and the user's message when they finish.
 */
import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import type { JsonValue } from '../core/ports.js';
import type { TaskResult } from '../ovh/task-tracker.js';
import type { Clock } from '../shared/clock.js';
import type { DatabaseSchema, TrackedTasksTable } from './schema.js';

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

export class TaskJournal {
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
      .values({
        service: entry.service,
        task_id: entry.taskId,
        audit_id: entry.auditId ?? null,
        kind: entry.kind,
        reply: JSON.stringify(entry.reply ?? null),
        created_at: this.clock.now(),
        deadline_at: entry.deadlineAt,
        finished_at: null,
        outcome: null,
      })
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
