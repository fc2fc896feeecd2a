/**
 * The core's protection stack over the real client, simulator and store, for tests that drive time themselves
 * (the end-to-end tests go through compose.ts instead): gate and policy from a config, the real audit trail (in
 * the database, no Slack delivery), the real SnapshotService and ChangeDesk, the protection store, and an
 * alert publisher that records what it would show.
 */
import { parseBotConfig } from '../../src/config/bot-config.js';
import { AuditTrail } from '../../src/core/audit.js';
import { ChangeDesk } from '../../src/core/desk.js';
import { ActionGate } from '../../src/core/gate.js';
import { Policy } from '../../src/core/policy.js';
import { protectionCoverage } from '../../src/core/protection/coverage.js';
import { Protection } from '../../src/core/protection/index.js';
import { HeadroomPacer } from '../../src/core/protection/pacer.js';
import type { AlertPublisher, AlertView, ProtectionAlert } from '../../src/core/protection/ports.js';
import { ProtectionQueries } from '../../src/core/protection/queries.js';
import { SnapshotService } from '../../src/core/snapshot-service.js';
import type { Clock } from '../../src/shared/clock.js';
import { AuditStore } from '../../src/store/audit-store.js';
import type { Database } from '../../src/store/database.js';
import { ProtectionStore } from '../../src/store/protection-store.js';
import { TaskJournal } from '../../src/store/task-journal.js';
import type { OvhHarness } from './ovh-harness.js';

/** What the alerts channel would show: one message per alert, each version it was posted or edited to. */
export class RecordingAlerts implements AlertPublisher {
  readonly posts: AlertView[] = [];
  readonly edits: Array<{ ref: string; view: AlertView }> = [];
  /** Set to make the next posts fail (Slack down). */
  failing = false;
  /** Set to make the next posts land while their answer is lost (a timeout after Slack took it). */
  losingAnswers = false;
  readonly lookups: string[] = [];

  async post(view: AlertView): Promise<{ ref: string }> {
    if (this.failing) throw new Error('Slack unreachable');
    this.posts.push(view);
    if (this.losingAnswers) throw new Error('no answer from Slack within 10000 ms');
    return { ref: `ts-${this.posts.length}` };
  }

  async find(alert: ProtectionAlert): Promise<string | undefined> {
    this.lookups.push(alert.id);
    const index = this.posts.findIndex((view) => view.alert.id === alert.id);
    return index < 0 ? undefined : `ts-${index + 1}`;
  }

  async update(ref: string, view: AlertView): Promise<void> {
    if (this.failing) throw new Error('Slack unreachable');
    this.edits.push({ ref, view });
  }

  /** The latest version shown of each alert, by alert id. */
  shown(): Map<string, ProtectionAlert> {
    const latest = new Map<string, ProtectionAlert>();
    for (const view of this.posts) latest.set(view.alert.id, view.alert);
    for (const { view } of this.edits) latest.set(view.alert.id, view.alert);
    return latest;
  }
}

export interface ProtectionStack {
  protection: Protection;
  queries: ProtectionQueries;
  desk: ChangeDesk;
  service: SnapshotService;
  store: ProtectionStore;
  audit: AuditTrail;
  auditStore: AuditStore;
  alerts: RecordingAlerts;
}

export function protectionStack(options: {
  /** The OVH client and the clock it runs on (an OvhHarness will do). */
  ovh: Pick<OvhHarness, 'api' | 'config'> & { clock: Clock };
  database: Database;
  config: string;
  owner?: string;
  alerts?: RecordingAlerts;
}): ProtectionStack {
  const { ovh, database } = options;
  const config = parseBotConfig(options.config, 'nasha.yml');
  const protectionConfig = config.protection;
  if (protectionConfig === undefined) throw new Error('the test config has no protection section');
  const groups = { membersOf: async () => new Set<string>() };
  const policy = new Policy(config.access, groups);
  const gate = new ActionGate({
    policy,
    groups,
    rules: config.approvals.rules,
    responderGroups: [],
    protection: protectionCoverage(protectionConfig),
  });
  const auditStore = new AuditStore(database.db);
  const audit = new AuditTrail({ repo: auditStore, clock: ovh.clock, auditChannel: config.audit.channel });
  const journal = new TaskJournal({ db: database.db, clock: ovh.clock });
  const { client, tracker, transport } = ovh.api;
  const service = new SnapshotService({ client, tracker, gate, policy, audit, journal, clock: ovh.clock });
  const desk = new ChangeDesk({
    gate,
    service,
    // Plan runs and fixes in these tests never need a second person; reaching here is a test failure.
    approvals: {
      request: () => Promise.reject(new Error('this test expects no approval request')),
    },
    audit,
    clock: ovh.clock,
  });
  const store = new ProtectionStore(database.db);
  const alerts = options.alerts ?? new RecordingAlerts();
  const reads = () => client;
  const protection = new Protection({
    config: protectionConfig,
    store,
    desk,
    audit,
    ovh: reads,
    pacer: new HeadroomPacer({
      budget: transport.requestBudget,
      requestsPerMinute: ovh.config.tuning.requestsPerMinute,
      burst: ovh.config.tuning.burst,
      headroom: 3,
      clock: ovh.clock,
    }),
    publisher: alerts,
    clock: ovh.clock,
    ...(options.owner !== undefined && { owner: options.owner }),
  });
  const queries = new ProtectionQueries({
    config: protectionConfig,
    store,
    gate,
    policy,
    service,
    ovh: reads,
    clock: ovh.clock,
  });
  return { protection, queries, desk, service, store, audit, auditStore, alerts };
}
