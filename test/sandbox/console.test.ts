import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { ManualClock } from '../../src/shared/clock.js';

/**
 * The sandbox as a newcomer uses it, driven through its console with piped input: the real bot,
 * the local Slack API and the simulator, on a virtual clock so OVH tasks and audit pacing take no
 * real time. Each step waits for what the console prints, never for a fixed delay.
 */

class Transcript extends Writable {
  text = '';
  private readonly waiters = new Set<() => void>();

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: () => void): void {
    this.text += String(chunk);
    for (const waiter of this.waiters) waiter();
    callback();
  }

  /** Resolves with the match once `pattern` appears after `from`. */
  until(pattern: RegExp | string, from: number, timeoutMs = 10_000): Promise<RegExpExecArray> {
    const regex = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = regex.exec(this.text.slice(from));
        if (match === null) return false;
        finish();
        resolve(match);
        return true;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out waiting for ${regex}; output since:\n${this.text.slice(from)}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }
}

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.stop();
  sandbox = undefined;
});

async function start() {
  const input = new PassThrough();
  const output = new Transcript();
  const clock = new ManualClock(Date.UTC(2026, 10, 28, 9, 0, 0), { autoAdvance: true });
  sandbox = await startSandbox({
    input,
    output,
    terminal: false,
    color: false,
    // One protection scan and plan pass at start: the virtual clock would spin their loops.
    overrides: { clock, slackRetries: 0, protectionLoops: 'once' },
  });
  const running = sandbox.console.run();
  let mark = output.text.length;
  return {
    output,
    running,
    /** Types a line; later waits look at what follows it. */
    say(line: string) {
      mark = output.text.length;
      input.write(`${line}\n`);
    },
    see: (pattern: RegExp | string) => output.until(pattern, mark),
    end() {
      input.end();
    },
  };
}

describe('the sandbox console', () => {
  it('list, create with expiration, delete asked by alice and approved by bob, with audit lines', async () => {
    const c = await start();
    expect(c.output.text).toContain('nothing real is touched');

    c.say('/nasha snapshot list zpool-128310/data');
    await c.see('@alice only │ • `snap-data-pre-upgrade` — kept until deleted');

    c.say('/nasha snapshot create zpool-128310/data before-upgrade --expires 7d');
    await c.see('@alice only │ ✅ Done: Create snapshot `before-upgrade` on `zpool-128310/data`.');
    await c.see(/#audit │ \(edited\) ✅ Create snapshot on `zpool-128310\/data`: Succeeded/);

    c.say('/nasha snapshot list zpool-128310/data');
    await c.see(/@alice only │ • `before-upgrade` — expires 2026-12-05T\d\d:\d\dZ/);

    // Approvals are on: the delete asks why (a modal, filled as a form), then waits for someone else.
    c.say('/nasha snapshot delete zpool-128310/data/before-upgrade');
    await c.see('┌ Request approval — a form for @alice');
    c.say('');
    await c.see('│   ✗ This field is required.');
    c.say('free space before the upgrade');
    c.say('y');
    const [, id] = await c.see(/pending approval #([A-Z0-9]{6})/);
    const [, approve] = await c.see(/#approvals │ \[(\d+)\] Approve {3}\[\d+\] Reject… {3}\[\d+\] Cancel request/);
    await c.see('#approvals │ Reason');

    c.say(approve ?? '');
    await c.see('Approve this change?');
    c.say('y');
    await c.see(`@alice only │ ⛔ You cannot approve your own request`);

    c.say('/as bob');
    await c.see('You are now bob');
    c.say(approve ?? '');
    await c.see('Approve this change?');
    c.say('n');
    await c.see('Back: nothing was sent.');
    c.say(approve ?? '');
    c.say('y');
    await c.see(`@bob only │ ✅ You approved #${id}; running it now.`);
    await c.see(/#approvals │ ✅ Approved → done by @bob · OVH task `\d+`/);
    await c.see(
      `DM @alice │ Your request #${id} (delete snapshot \`before-upgrade\` on \`zpool-128310/data\`): ✅ Approved → done`,
    );
    await c.see(/#audit │ \(edited\) ✅ Delete snapshot on `zpool-128310\/data`: Succeeded/);

    const deletes = sandbox?.sim.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith('/before-upgrade'));
    expect(deletes?.map((r) => r.status)).toEqual([200]);
    // The old buttons went with the card's edit.
    c.say(approve ?? '');
    await c.see(`There is no button [${approve}]`);

    c.say('/quit');
    expect(await c.running).toBe(0);
  });

  it('/home draws the Home tab of the current user; its Approve goes through the same checks', async () => {
    const c = await start();
    c.say('/nasha snapshot delete zpool-128310/data/snap-data-pre-upgrade --reason from home');
    const [, id] = await c.see(/pending approval #([A-Z0-9]{6})/);
    c.say('/home');
    await c.see('Home tab of @alice │');
    await c.see('No request is waiting for your decision.');
    await c.see(`#${id}`);

    c.say('/as bob');
    await c.see('You are now bob');
    c.say('/home');
    await c.see('Home tab of @bob │');
    const [, approve] = await c.see(/\[(\d+)\] Approve {3}\[\d+\] Reject…/);
    c.say(approve ?? '');
    await c.see('Approve this change?');
    c.say('y');
    await c.see(`You approved #${id}; running it now.`);
    c.say('/quit');
    expect(await c.running).toBe(0);
  });

  it('protection: the drifting partition has an alert in #alerts at once, status shows it, Fix closes it', async () => {
    const c = await start();
    await c.see(/#alerts │ 🚨 Required frequencies are off on `zpool-128310\/logs`/);
    const [, fix] = await c.see(/#alerts │ \[(\d+)\] Fix: enable day-1/);

    c.say('/nasha snapshot status');
    await c.see(/@alice only │ .*`zpool-128310\/logs` \(`production`\) — .*frequencies off/);
    c.say('/nasha snapshot status zpool-128310/logs');
    await c.see('@alice only │ Policy `production`: requires `hour-1` and `day-1`');

    c.say(fix ?? '');
    await c.see(/@alice only │ ✅ Done: Enable `day-1` snapshots on `zpool-128310\/logs`/);
    await c.see(/#alerts │ \(edited\) ✅ Resolved: required frequencies are off on `zpool-128310\/logs`/);
    c.end();
    expect(await c.running).toBe(0);
  });

  it('the form: options loaded as Slack loads them, the partition menu reset by the service, inline errors', async () => {
    const c = await start();
    c.say('/as carol');
    c.say('/nasha snapshot');
    await c.see('┌ NAS-HA snapshots — a form for @carol');
    await c.see('│     2. zpool-204117');
    c.say('1');
    // Choosing the service makes the bot rebuild the form; the partitions are then those of that service.
    await c.see('│     2. data');
    c.say('log');
    await c.see(/│ {5}1\. logs\n/);
    c.say('1');
    await c.see('│     2. Create a snapshot');
    c.say('2');
    c.say('y');
    await c.see('┌ Create a snapshot — a form for @carol');
    await c.see('│ Custom snapshot of `zpool-128310/logs`.');
    c.say('bad name!');
    // The expiry is typed as for `--expires`; the bot checks it on submit, as it does the name.
    c.say('2027-02-30');
    c.say('y');
    await c.see(/│ {3}✗ Name: .*not a valid snapshot name/);
    await c.see('│   ✗ Expires: The expiration “2027-02-30” is not a real date: February 2027 has 28 days.');
    c.say('from-console');
    c.say('12h');
    c.say('');
    await c.see(/✅ Done: Create snapshot `from-console` on `zpool-128310\/logs`\./);
    await c.see(/#audit │ \(edited\) ✅ Create snapshot on `zpool-128310\/logs`: Succeeded/);

    // dave may only read: the form refuses the change inline, on the action field.
    c.say('/as dave');
    c.say('/nasha snapshot');
    await c.see('┌ NAS-HA snapshots — a form for @dave');
    c.say('1');
    await c.see('│     1. backups');
    c.say('1');
    await c.see('│     2. Create a snapshot');
    c.say('2');
    c.say('y');
    await c.see(/│ {3}✗ Action: .*operator/);
    c.say('/cancel');
    await c.see('└ Cancel: the form was closed.');
    c.end();
    expect(await c.running).toBe(0);
  });

  it('incidents: a responder takes snapshots from a message shortcut; the summary is updated in the channel', async () => {
    const c = await start();
    c.say('/as dave');
    c.say('/in incident');
    c.say('the payments database is corrupting rows!');
    await c.see('#incident │ dave: the payments database is corrupting rows!');
    c.say('/shortcut');
    await c.see(/1\. Snapshot now \(on the channel's last message\)/);
    c.say('/shortcut 1');
    await c.see('┌ Snapshot now — a form for @dave');
    c.say('payments');
    c.say('inc-42');
    c.say('');
    c.say('');
    c.say('y');
    await c.see('#incident │ ━━ Taking quick snapshots — inc-42 ━━');
    await c.see(/#incident │ \(edited\) ━━ Quick snapshots — inc-42 ━━/);
    await c.see('#incident │ 2/2 done');
    await c.see(/#incident │ ✅ `zpool-128310\/data` — `inc-42-data-\d{8}T\d{4}`/);
    await c.see(/Incident message: http:\/\/127\.0\.0\.1:\d+\/archives\/C0INCIDENT\/p\d+/);
    await c.see(/#audit │ .*Quick snapshots on `payments`/);
    c.end();
    expect(await c.running).toBe(0);
  });

  it("a French channel: alice's quick snapshot there is summarised in French in the channel, her own reply in English", async () => {
    const c = await start();
    c.say('/in paris');
    c.say('/nasha snapshot quick zpool-128310/data inc-7');
    await c.see('#paris │ ━━ Instantanés d’incident en cours — inc-7 ━━');
    await c.see('#paris │ Demandés par @alice pour `zpool-128310/data`');
    await c.see('@alice only │ 📸 The summary is posted in this channel.');
    await c.see('#paris │ (edited) ━━ Instantanés d’incident — inc-7 ━━');
    await c.see(/#paris │ ✅ `zpool-128310\/data` — `inc-7-data-\d{8}T\d{4}`/);
    c.end();
    expect(await c.running).toBe(0);
  });

  it('camille reads French: the console, help, the form and its answers; alice, back, reads English', async () => {
    const c = await start();
    c.say('/as camille');
    await c.see(
      'Vous êtes maintenant camille (opératrice partout, via le groupe @sre\u202f; son Slack est en français',
    );
    c.say('/nasha snapshot help');
    await c.see('pour @camille seulement │ ━━ Instantanés NAS-HA ━━');
    await c.see('Ce que vous pouvez faire ici. Les commandes commencent par `/nasha snapshot`\u00a0:');
    c.say('/nasha snapshot lsit');
    await c.see('Commande inconnue\u00a0: `lsit`. Vouliez-vous dire `list`\u202f? Essayez `/nasha help`.');
    c.say('/nasha snapshot');
    await c.see('┌ Instantanés NAS-HA — un formulaire pour @camille');
    await c.see('│   un numéro, ou du texte à rechercher');
    c.say('/users');
    await c.see('│   Terminez d’abord ce formulaire, ou tapez /cancel pour le fermer.');
    c.say('/cancel');
    await c.see('└ Annuler\u00a0: le formulaire a été fermé.');
    c.say('/frobnicate');
    await c.see('/frobnicate n’est pas une commande ici.');
    c.say('/as alice');
    await c.see('You are now alice (admin everywhere).');
    c.say('/nasha snapshot help');
    await c.see('@alice only │ ━━ NAS-HA snapshots ━━');
    c.say('/quit');
    expect(await c.running).toBe(0);
  });

  it('a delete nobody decides is reminded in the card thread, naming the approvers (virtual time)', async () => {
    const c = await start();
    c.say('/as carol');
    await c.see('You are now carol');
    c.say('/nasha snapshot delete zpool-204117/db/snap-db-keep --reason "old copy, no longer needed"');
    await c.see(/pending approval #[A-Z0-9]{6}/);
    // The virtual clock jumps while the bot is idle: 2 minutes pass at once (the sandbox's remind_after).
    await c.see(/#approvals │ ↳ 🔔 Reminder 1: request #[A-Z0-9]{6} is still waiting for approval\. Approvers: .*@bob/);
    c.say('/quit');
    expect(await c.running).toBe(0);
  });

  it('break-glass: carol deletes at once after the confirm; approvers DM’d; bob acknowledges the review card', async () => {
    const c = await start();
    c.say('/as carol');
    await c.see('You are now carol');
    c.say(
      '/nasha snapshot delete zpool-204117/db/snap-db-keep --reason "payments are down, the disk is full" --break-glass',
    );
    const [, run] = await c.see(/@carol only │ \[(\d+)\] Run now \(break-glass\)/);
    c.say(run ?? '');
    await c.see('Run without approval?');
    c.say('y');
    await c.see(/@carol only │ .*Done: Delete snapshot `snap-db-keep`/);
    await c.see(/DM @bob │ 🚨 @carol ran delete snapshot `snap-db-keep`/);
    const [, ack] = await c.see(/#approvals │ \[(\d+)\] Acknowledge/);
    c.say('/as bob');
    await c.see('You are now bob');
    c.say(ack ?? '');
    await c.see(/@bob only │ ✅ You acknowledged break-glass #[A-Z0-9]{6}/);
    await c.see(/#approvals │ ↳ ✅ Acknowledged by @bob/);
    c.say('/quit');
    expect(await c.running).toBe(0);
  });

  it('scripts: /wait fails the run when the text never comes; unknown input is explained', async () => {
    const input = new PassThrough();
    input.end('hello\n/frobnicate\n/wait this never appears\n');
    const output = new Transcript();
    sandbox = await startSandbox({ input, output, terminal: false, color: false, waitTimeoutMs: 50 });
    expect(await sandbox.console.run()).toBe(1);
    expect(output.text).toContain('#ops │ alice: hello\n(The bot does not read messages: its command is /nasha');
    expect(output.text).toContain('/frobnicate is not a command here');
    expect(output.text).toContain('⚠ /wait: "this never appears" did not appear within 0.05 s.');
  });
});
