import type { AuditInput, AuditPatch, AuditSink } from '../../src/core/ports.js';

/** The audit port, recording what core writes (the real trail is tested in test/core/audit). */
export class RecordingAudit implements AuditSink {
  readonly records: AuditInput[] = [];
  readonly patches: Array<{ id: string; patch: AuditPatch }> = [];

  async record(input: AuditInput): Promise<{ id: string }> {
    this.records.push(input);
    return { id: `audit-${this.records.length}` };
  }

  async update(id: string, patch: AuditPatch): Promise<unknown> {
    this.patches.push({ id, patch });
    return undefined;
  }

  /** The record as its patches leave it. */
  final(id: string): AuditPatch {
    return Object.assign({}, ...this.patches.filter((p) => p.id === id).map((p) => p.patch));
  }
}
