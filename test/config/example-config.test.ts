import { describe, expect, it } from 'vitest';
import { loadBotConfig } from '../../src/config/bot-config.js';

describe('nasha.example.yml', () => {
  it('is a valid configuration (the README example cannot rot)', () => {
    const config = loadBotConfig(new URL('../../nasha.example.yml', import.meta.url).pathname);
    expect(config.audit.channel).toBe('C0123AUDIT');
    expect(config.access.grants.map((g) => g.role)).toEqual(['admin', 'approver', 'operator', 'viewer']);
    expect(config.approvals.channel).toBe('C0123APPROVE');
    expect(config.approvals.rules).toEqual({
      'snapshot.delete': {
        required: true,
        quorum: 1,
        approverGroups: ['S0123STORAGE'],
        ttlMs: 4 * 3_600_000,
        remindAfterMs: 30 * 60_000,
        escalateTo: ['S0123LEADS'],
        breakGlass: { group: 'S0123ONCALL' },
        escalateAfterMs: 2 * 3_600_000,
      },
      'schedule.remove': {
        required: true,
        quorum: 2,
        approverGroups: [],
        ttlMs: 30 * 60_000,
        remindAfterMs: 30 * 60_000,
        escalateTo: [],
      },
      'snapshot.create': {
        required: false,
        quorum: 1,
        approverGroups: [],
        ttlMs: 4 * 3_600_000,
        remindAfterMs: 30 * 60_000,
        escalateTo: [],
      },
      'schedule.add': {
        required: false,
        quorum: 1,
        approverGroups: [],
        ttlMs: 4 * 3_600_000,
        remindAfterMs: 30 * 60_000,
        escalateTo: [],
      },
    });
    expect(config.language).toEqual({
      default: 'en',
      channels: new Map([
        ['C0123INCIDENT', 'fr'],
        ['C0123AUDIT', 'en'],
      ]),
    });
    expect(config.protection?.policies.map((p) => [p.name, p.plan.map((c) => `${c.label}×${c.keep}`)])).toEqual([
      ['production', ['daily×5', 'weekly×3']],
    ]);
    expect(config.digest).toEqual({ channel: 'C0123APPROVE', minuteOfDay: 9 * 60, timezone: 'Europe/Paris' });
    expect(config.warnings).toEqual([]);
  });
});
