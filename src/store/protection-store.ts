import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Lease } from '../core/ports.js';
import { type PlanGap, PROTECTION_PROBLEM_KINDS, type ProtectionProblem } from '../core/protection/model.js';
import {
  type AlertFix,
  type AlertRevision,
  type NewAlert,
  type NewPlanRun,
  type PartitionScan,
  PLAN_RUN_STATES,
  type PlanRun,
  type PlanRunPatch,
  type ProtectionAlert,
  type ProtectionRepository,
  type RunKey,
  type ScannedPartition,
} from '../core/protection/ports.js';
import { SnapshotTypeSchema } from '../ovh/models.js';
import { sql } from './kysely.js';
import type { DatabaseSchema, ProtectionAlertsTable, ProtectionPlanRunsTable } from './schema.js';

const looseObject = z.record(z.string(), z.unknown());
/** Problems and gaps are the core's own data, read back by kind (the database is an input like any other). */
const ProblemSchema = looseObject.and(
  z.object({ kind: z.enum(PROTECTION_PROBLEM_KINDS) }),
) as unknown as z.ZodType<ProtectionProblem>;
const GapSchema = looseObject.and(z.object({ cause: z.string() })) as unknown as z.ZodType<PlanGap>;
const ScanSchema: z.ZodType<PartitionScan> = z.object({
  scannedAt: z.number(),
  frequencies: z.array(SnapshotTypeSchema),
  custom: z.array(z.string()),
  usedBySnapshots: z.number().nullable(),
  problems: z.array(ProblemSchema),
  newestAt: z.number().nullable(),
});
const FixesSchema = z.array(z.object({ userId: z.string(), at: z.number() }));

function json<T>(schema: z.ZodType<T>, text: string | null, what: string): T | undefined {
  if (text === null) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`stored ${what} is not JSON`);
  }
  return schema.parse(value);
}

function toRun(row: ProtectionPlanRunsTable): PlanRun {
  return {
    service: row.service,
    partition: row.partition,
    slotAt: Number(row.slot_at),
    label: row.label,
    policy: row.policy,
    name: row.name,
    state: z.enum(PLAN_RUN_STATES).parse(row.state),
    attempts: row.attempts,
    owner: row.owner,
    leaseUntil: row.lease_until === null ? null : Number(row.lease_until),
    auditId: row.audit_id,
    taskId: row.task_id === null ? null : Number(row.task_id),
    gap: json(GapSchema, row.gap, 'plan gap') ?? null,
    existed: row.existed === 1,
    lateMs: Number(row.late_ms),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toAlert(row: ProtectionAlertsTable): ProtectionAlert {
  const problem = json(ProblemSchema, row.problem, 'alert problem');
  if (problem === undefined) throw new Error(`alert ${row.id} has no problem`);
  return {
    id: row.id,
    service: row.service,
    partition: row.partition,
    kind: z.enum(PROTECTION_PROBLEM_KINDS).parse(row.kind),
    policy: row.policy,
    problem,
    state: z.enum(['open', 'resolved']).parse(row.state),
    resolution: row.resolution === null ? null : z.enum(['cleared', 'uncovered']).parse(row.resolution),
    version: row.version,
    postedVersion: row.posted_version,
    channel: row.channel,
    messageRef: row.message_ref,
    postClaims: row.post_claims,
    auditId: row.audit_id,
    fixes: json(FixesSchema, row.fixes, 'alert fixes') ?? [],
    openedAt: Number(row.opened_at),
    updatedAt: Number(row.updated_at),
    resolvedAt: row.resolved_at === null ? null : Number(row.resolved_at),
    lastError: row.last_error,
  };
}

/** The protection tables over Kysely (SQLite or PostgreSQL); see migration 0011. */
export class ProtectionStore implements ProtectionRepository {
  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  async syncCovered(
    found: readonly { service: string; partition: string; policy: string }[],
    services: { listed: readonly string[]; existing: readonly string[] },
    now: number,
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (const row of found) {
        await trx
          .insertInto('protection_partitions')
          .values({ ...row, first_seen_at: now, last_seen_at: now, scan: null })
          .onConflict((oc) =>
            oc.columns(['service', 'partition']).doUpdateSet({ policy: row.policy, last_seen_at: now }),
          )
          .execute();
      }
      if (services.listed.length > 0) {
        // Partitions of the services listed this time that were not found: no longer covered (or gone).
        await trx
          .deleteFrom('protection_partitions')
          .where('service', 'in', [...services.listed])
          .where('last_seen_at', '<', now)
          .execute();
      }
      let gone = trx.deleteFrom('protection_partitions');
      if (services.existing.length > 0) gone = gone.where('service', 'not in', [...services.existing]);
      await gone.execute();
      await trx
        .insertInto('protection_inventory')
        .values({ name: 'covered', taken_at: now })
        .onConflict((oc) => oc.column('name').doUpdateSet({ taken_at: now }))
        .execute();
    });
  }

  async inventoryTakenAt(): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('protection_inventory')
      .select('taken_at')
      .where('name', '=', 'covered')
      .executeTakeFirst();
    return row === undefined ? undefined : Number(row.taken_at);
  }

  async covered(): Promise<ScannedPartition[]> {
    const rows = await this.db
      .selectFrom('protection_partitions')
      .selectAll()
      .orderBy('service')
      .orderBy('partition')
      .execute();
    return rows.map((row) => ({
      service: row.service,
      partition: row.partition,
      policy: row.policy,
      firstSeenAt: Number(row.first_seen_at),
      lastSeenAt: Number(row.last_seen_at),
      scan: json(ScanSchema, row.scan, 'partition scan'),
    }));
  }

  async saveScan(service: string, partition: string, scan: PartitionScan): Promise<void> {
    await this.db
      .updateTable('protection_partitions')
      .set({ scan: JSON.stringify(scan) })
      .where('service', '=', service)
      .where('partition', '=', partition)
      .execute();
  }

  async claimRun(
    run: NewPlanRun,
    lease: Lease,
    now: number,
    retry: { afterMs: number; maxAttempts: number },
  ): Promise<PlanRun | undefined> {
    const inserted = await this.db
      .insertInto('protection_plan_runs')
      .values({
        service: run.service,
        partition: run.partition,
        slot_at: run.slotAt,
        label: run.label,
        policy: run.policy,
        name: run.name,
        state: 'claimed',
        attempts: 1,
        owner: lease.owner,
        lease_until: lease.until,
        audit_id: null,
        task_id: null,
        gap: null,
        existed: 0,
        late_ms: run.lateMs,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.columns(['service', 'partition', 'slot_at']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) {
      // Someone has it: take it over only if their claim expired, or it failed and may be tried again.
      const taken = await this.db
        .updateTable('protection_plan_runs')
        .set((eb) => ({
          state: 'claimed',
          owner: lease.owner,
          lease_until: lease.until,
          attempts: eb('attempts', '+', 1),
          late_ms: run.lateMs,
          updated_at: now,
        }))
        .where('service', '=', run.service)
        .where('partition', '=', run.partition)
        .where('slot_at', '=', run.slotAt)
        .where((eb) =>
          eb.or([
            eb.and([eb('state', '=', 'claimed'), eb('lease_until', '<', now)]),
            eb.and([
              eb('state', 'in', ['failed', 'skipped']),
              eb('attempts', '<', retry.maxAttempts),
              eb('updated_at', '<=', now - retry.afterMs),
            ]),
          ]),
        )
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) !== 1) return undefined;
    }
    const row = await this.db
      .selectFrom('protection_plan_runs')
      .selectAll()
      .where('service', '=', run.service)
      .where('partition', '=', run.partition)
      .where('slot_at', '=', run.slotAt)
      .executeTakeFirst();
    return row === undefined || row.owner !== lease.owner ? undefined : toRun(row);
  }

  async updateRun(key: RunKey, owner: string, patch: PlanRunPatch, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('protection_plan_runs')
      .set({
        ...(patch.state !== undefined && { state: patch.state }),
        ...(patch.auditId !== undefined && { audit_id: patch.auditId }),
        ...(patch.taskId !== undefined && { task_id: patch.taskId }),
        ...(patch.gap !== undefined && { gap: patch.gap === null ? null : JSON.stringify(patch.gap) }),
        ...(patch.existed !== undefined && { existed: patch.existed ? 1 : 0 }),
        // Retries of a failed or skipped run count from here.
        updated_at: now,
      })
      .where('service', '=', key.service)
      .where('partition', '=', key.partition)
      .where('slot_at', '=', key.slotAt)
      .where('owner', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async runsOf(service: string, partition: string, sinceSlot: number): Promise<PlanRun[]> {
    const rows = await this.db
      .selectFrom('protection_plan_runs')
      .selectAll()
      .where('service', '=', service)
      .where('partition', '=', partition)
      .where('slot_at', '>=', sinceSlot)
      .orderBy('slot_at')
      .execute();
    return rows.map(toRun);
  }

  async openAlert(alert: NewAlert, now: number): Promise<ProtectionAlert | undefined> {
    const result = await this.db
      .insertInto('protection_alerts')
      .values({
        id: alert.id,
        service: alert.service,
        partition: alert.partition,
        kind: alert.kind,
        policy: alert.policy,
        problem: JSON.stringify(alert.problem),
        state: 'open',
        resolution: null,
        version: 1,
        posted_version: 0,
        channel: alert.channel,
        message_ref: null,
        post_claims: 0,
        lease_owner: null,
        lease_until: null,
        last_error: null,
        audit_id: null,
        fixes: '[]',
        opened_at: now,
        updated_at: now,
        resolved_at: null,
      })
      .onConflict((oc) => oc.columns(['service', 'partition', 'kind']).where(sql<boolean>`state = 'open'`).doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 0) return undefined;
    return this.alert(alert.id);
  }

  async reviseAlert(
    id: string,
    version: number,
    revision: AlertRevision,
    now: number,
  ): Promise<ProtectionAlert | undefined> {
    const result = await this.db
      .updateTable('protection_alerts')
      .set({
        version: version + 1,
        updated_at: now,
        ...(revision.problem !== undefined && { problem: JSON.stringify(revision.problem) }),
        ...(revision.state !== undefined && { state: revision.state }),
        ...(revision.state === 'resolved' && { resolved_at: now }),
        ...(revision.resolution !== undefined && { resolution: revision.resolution }),
        ...(revision.auditId !== undefined && { audit_id: revision.auditId }),
        ...(revision.fixes !== undefined && { fixes: JSON.stringify(revision.fixes satisfies readonly AlertFix[]) }),
      })
      .where('id', '=', id)
      .where('version', '=', version)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return undefined;
    return this.alert(id);
  }

  async alert(id: string): Promise<ProtectionAlert | undefined> {
    const row = await this.db.selectFrom('protection_alerts').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toAlert(row);
  }

  async openAlerts(): Promise<ProtectionAlert[]> {
    const rows = await this.db
      .selectFrom('protection_alerts')
      .selectAll()
      .where('state', '=', 'open')
      .orderBy('opened_at')
      .execute();
    return rows.map(toAlert);
  }

  async undelivered(): Promise<ProtectionAlert[]> {
    const rows = await this.db
      .selectFrom('protection_alerts')
      .selectAll()
      .where(sql<boolean>`posted_version < version`)
      .orderBy('updated_at')
      .execute();
    return rows.map(toAlert);
  }

  async claimDelivery(id: string, lease: Lease, now: number): Promise<ProtectionAlert | undefined> {
    const result = await this.db
      .updateTable('protection_alerts')
      .set((eb) => ({
        lease_owner: lease.owner,
        lease_until: lease.until,
        post_claims: eb
          .case()
          .when('message_ref', 'is', null)
          .then(eb('post_claims', '+', 1))
          .else(eb.ref('post_claims'))
          .end(),
      }))
      .where('id', '=', id)
      .where(sql<boolean>`posted_version < version`)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return undefined;
    return this.alert(id);
  }

  async markDelivered(id: string, owner: string, version: number, messageRef: string): Promise<void> {
    await this.db
      .updateTable('protection_alerts')
      .set((eb) => ({
        message_ref: eb.fn.coalesce('message_ref', eb.val(messageRef)),
        posted_version: eb
          .case()
          .when('posted_version', '<', version)
          .then(version)
          .else(eb.ref('posted_version'))
          .end(),
        post_claims: 0,
        lease_owner: null,
        lease_until: null,
        last_error: null,
      }))
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }

  async markUndelivered(id: string, owner: string, error: string, postedNothing: boolean): Promise<void> {
    await this.db
      .updateTable('protection_alerts')
      .set((eb) => ({
        lease_owner: null,
        lease_until: null,
        last_error: error.slice(0, 2_000),
        ...(postedNothing && {
          post_claims: eb
            .case()
            .when('message_ref', 'is', null)
            .then(eb('post_claims', '-', 1))
            .else(eb.ref('post_claims'))
            .end(),
        }),
      }))
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }

  async takeLease(name: string, lease: Lease, now: number): Promise<boolean> {
    const inserted = await this.db
      .insertInto('protection_leases')
      .values({ name, owner: lease.owner, lease_until: lease.until })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ owner: lease.owner, lease_until: lease.until })
          .where((eb) =>
            eb.or([eb('protection_leases.owner', '=', lease.owner), eb('protection_leases.lease_until', '<', now)]),
          ),
      )
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.db.deleteFrom('protection_leases').where('name', '=', name).where('owner', '=', owner).execute();
  }

  async knownCreations(service: string, partition: string): Promise<Map<string, { at: number; by: string }>> {
    const known = new Map<string, { at: number; by: string }>();
    // Snapshots people took through the bot (audited creations), then incident quick snapshots.
    const audited = await this.db
      .selectFrom('audit_records')
      .select(['subject', 'created_at', 'actor_user_id'])
      .where('action', '=', 'snapshot.create')
      .where('outcome', 'in', ['succeeded', 'started', 'unknown'])
      .where('target_service', '=', service)
      .where('target_partition', '=', partition)
      .where('subject', 'is not', null)
      .execute();
    for (const row of audited) {
      if (row.subject !== null) known.set(row.subject, { at: Number(row.created_at), by: row.actor_user_id });
    }
    const quick = await this.db
      .selectFrom('snapshot_records')
      .selectAll()
      .where('service', '=', service)
      .where('partition', '=', partition)
      .execute();
    for (const row of quick) known.set(row.name, { at: Number(row.created_at), by: row.created_by });
    return known;
  }
}
