import { describe, expect, it } from 'vitest';
import { runMain } from './run-main.js';

describe('npm start on a machine with no credentials', () => {
  it('starts the sandbox (banner, console) and stops cleanly on /quit', async () => {
    const { code, stdout, stderr } = await runMain({}, '/help\n/whoami\n/quit\n');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('nasha-bot SANDBOX — no Slack or OVH credentials are set, so nothing real is touched.');
    expect(stdout).toMatch(/Bot {4}the real bot, in HTTP mode at http:\/\/127\.0\.0\.1:\d+\/slack\/events/);
    expect(stdout).toContain('alice in #ops › /help');
    expect(stdout).toContain('/as <name>');
    expect(stdout).toContain('You are alice (U0ALICE, admin everywhere) in #ops.');
    expect(stdout).toContain('Stopped.');
  }, 30_000);
});
