import { describe, expect, it } from 'vitest';
import { loadBotConfig } from '../../src/config/bot-config.js';

describe('nasha.example.yml', () => {
  it('is a valid configuration (the README example cannot rot)', () => {
    const config = loadBotConfig(new URL('../../nasha.example.yml', import.meta.url).pathname);
    expect(config.audit.channel).toBe('C0123AUDIT');
    expect(config.access.grants.map((g) => g.role)).toEqual(['admin', 'operator', 'viewer']);
    expect(config.warnings).toEqual([]);
  });
});
