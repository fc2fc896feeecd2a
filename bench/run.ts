/**
 * `npm run bench [-- --quick] [-- --only ack,quick,audit,footprint,protection,budget,idle,malformed]`: runs the scenarios of issues 7, 13, 15 and 16 on
 * loopback and writes bench/RESULTS.md (a `--quick` smoke run prints the report instead). Every figure
 * is set against a baseline measured in the same run: the machine is shared and noisy.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { type AckRow, ackLatency } from './ack-latency.js';
import {
  ALLOWED_INTERVAL_MS,
  type AuditResult,
  auditDelivery,
  auditDeliverySlowSlack,
  SLACK_CALL_TIMEOUT_MS,
  SLOW_CALL_MS,
  type SlowSlackResult,
} from './audit-delivery.js';
import { BUDGET, type BudgetResult, budgetScenarios, MS_PER_TOKEN } from './budget.js';
import { type FootprintResult, footprint } from './footprint.js';
import { IDLE_COMMAND, type IdleResult, idleAcks } from './idle-acks.js';
import { spawnChild } from './ipc.js';
import { LIST_COMMAND } from './load.js';
import { type MalformedResult, malformedAnswers } from './malformed.js';
import { type SocketMalformedResult, socketMalformedAnswers } from './malformed-socket.js';
import { type ProtectionBenchResult, protectionBench } from './protection.js';
import { OVH_LATENCY_MS, type QuickCaseResult, quickSnapshots, TASK_DONE_MS } from './quick-snapshot.js';
import { machineDescription, mib, ms, ratio, type Summary, table, verdict } from './stats.js';

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
});
const quick = values.quick === true;
const only = values.only?.split(',');
const wanted = (name: string) => only === undefined || only.includes(name);

const ACK_TARGET = 1.25;
/** Issue 15: a person's show while others' bulk work runs, against the show alone; acks after idle and warm. */
const SHOW_TARGET = 2;
const IDLE_ACK_TARGET = 1.5;
/** Issue 13 item 4: every malformed or unclaimed request answered within this. */
const MALFORMED_TARGET_MS = 100;
const QUICK_TARGET = 1.1;
const PROTECTION_TARGET = 1.2;
const RATE_TARGET = 0.95;
/** Growth allowed between the two footprint phases, after a full GC. */
const HEAP_GROWTH_BOUND = 2 * 1024 * 1024;
/** RSS after the last phase against the highest reading after an earlier one (glibc keeps freed memory). */
const RSS_PLATEAU_BOUND = 1.1;
/** Cold start to ready and idle RSS against the bare Bolt app (issue 18). */
const FOOTPRINT_TARGET = 1.3;

const load = loadavg();
const startedAt = new Date();
const started = performance.now();
const log = (line: string) =>
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0)} s] ${line}\n`);

/** Report sections and target rows by scenario number (the scenarios do not run in that order). */
const sections = new Map<number, string>();
const summary: string[][] = [];

// Scenario 2 first: it waits on OVH latency and budget, not on the CPU, so it overlaps nothing.
if (wanted('quick')) {
  log('scenario 2: incident quick snapshots (case by case, variants and repeats together)');
  const cases = quick
    ? [{ n: 10, requestsPerMinute: 60, burst: 10, repeats: 3 }]
    : [
        { n: 10, requestsPerMinute: 60, burst: 10, repeats: 5 },
        { n: 50, requestsPerMinute: 60, burst: 10, repeats: 3 },
        { n: 200, requestsPerMinute: 600, burst: 10, repeats: 3 },
      ];
  sections.set(2, quickSection(await quickSnapshots(cases)));
}

if (wanted('protection')) {
  log('scenario 5: protection — a scan and a plan pass over 200 partitions against the budget');
  const cases = quick
    ? [{ partitions: 40, requestsPerMinute: 1_200, burst: 10 }]
    : [{ partitions: 200, requestsPerMinute: 1_200, burst: 10 }];
  const results: ProtectionBenchResult[] = [];
  for (const c of cases) results.push(await protectionBench(c));
  sections.set(5, protectionSection(results));
}

// Scenario 7 waits on the OVH budget (minutes of it), not on the CPU.
if (wanted('budget')) {
  log('scenario 7: people under the OVH request budget (shows during bulk work, list cost cold and warm)');
  sections.set(7, budgetSection(await budgetScenarios({ repeats: quick ? 1 : 3, shows: quick ? 3 : 5 })));
}

if (wanted('audit')) {
  log('scenario 3: audit delivery through the outbox (virtual time)');
  const records = quick ? 200 : 1_000;
  const results: AuditResult[] = [];
  for (const replicas of [1, 2]) results.push(await auditDelivery({ records, channels: 4, replicas }));
  log('scenario 3b: audit delivery under a slow Slack (p99 latency 11 s)');
  const slow: SlowSlackResult[] = [];
  for (const replicas of [1, 2]) slow.push(await auditDeliverySlowSlack({ records, channels: 4, replicas }));
  sections.set(3, `${auditSection(results)}\n${slowSlackSection(slow)}`);
}

if (wanted('ack') || wanted('footprint') || wanted('idle') || wanted('malformed')) {
  const world = await spawnChild('world');
  try {
    if (wanted('ack')) {
      log('scenario 1: Slack ack latency, bot vs bare Bolt app');
      const rows = await ackLatency(world, {
        shapes: ['burst', 'closed'],
        levels: [1, 8, 32],
        // Commands per app and level; a burst of 1 waits for its reply each time, so fewer of those.
        commands: (shape, c) =>
          quick ? 64 * Math.max(1, c / 8) : shape === 'closed' ? 2_000 : c === 1 ? 600 : 1_600 * Math.max(1, c / 16),
        rounds: quick ? 2 : 4,
        warmup: quick ? 32 : 200,
      });
      sections.set(1, ackSection(rows));
    }
    if (wanted('footprint')) {
      log('scenario 4: startup and memory');
      const result = await footprint(world, { startups: quick ? 1 : 3, commands: quick ? 250 : 2_500, phases: 4 });
      sections.set(4, footprintSection(result));
    }
    if (wanted('idle')) {
      log('scenario 6: acks of bursts after a quiet period vs warm bursts');
      const result = await idleAcks(world, {
        burst: 32,
        idleMs: 8_000,
        rounds: quick ? 3 : 16,
        warmPerRound: quick ? 2 : 4,
      });
      sections.set(6, idleSection(result));
    }
    if (wanted('malformed')) {
      log('scenario 8: malformed, refused and unclaimed requests, answered at once');
      const rounds = quick ? 10 : 40;
      const http = await malformedAnswers(world, { rounds });
      log('scenario 8b: the same over Socket Mode');
      const socket = await socketMalformedAnswers(world, { rounds });
      sections.set(8, `${malformedSection(http)}\n${socketMalformedSection(socket)}`);
    }
  } finally {
    await world.stop();
  }
}

const report = [
  '# Benchmark results',
  '',
  `Generated by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${startedAt.toISOString().slice(0, 16)}Z in ${((performance.now() - started) / 60_000).toFixed(1)} min.`,
  '',
  `**Machine:** ${machineDescription(load)}; load average at the end ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ')}.`,
  '',
  'Every figure is set against a baseline measured in the same run, interleaved with it where the',
  'scenario allows, because this machine is shared (other test suites run beside it): absolute',
  'milliseconds vary by 2× from one run to the next, the ratios much less. Code: `bench/` (`run.ts` drives',
  '`ack-latency.ts`, `quick-snapshot.ts`, `audit-delivery.ts`, `footprint.ts`; `child.ts` is the bot, the bare',
  'Bolt app and the "world" — fake Slack Web API + NAS-HA simulator — each in its own process).',
  '',
  '**How to run:** `npm run bench` (≈10 minutes here; loopback only) rewrites this file. `npm run bench -- --quick`',
  'is a ≈1.5-minute smoke run that prints its report instead, as does `--only ack,quick,audit,footprint,protection,budget,idle,malformed` for some',
  'scenarios. `BENCH_PROFILE=bot,bare,world` writes V8 CPU profiles of those processes to `bench/profiles/`.',
  '`test/bench/bench-smoke.test.ts` (part of `npm test`, ≈5 s) runs tiny versions of scenarios 2 and 3.',
  '',
  '## Targets',
  '',
  table(
    ['#', 'target', 'measured', 'verdict'],
    summary.sort((a, b) => Number(a[0]) - Number(b[0])),
  ),
  ...[...sections.entries()].sort(([a], [b]) => a - b).map(([, text]) => text),
  defectsSection(),
  '',
].join('\n');

// Only a complete full run is the record; a smoke or partial run prints its report.
const complete = !quick && only === undefined;
if (complete) writeFileSync(new URL('./RESULTS.md', import.meta.url), report);
else process.stdout.write(report);
log(complete ? 'wrote bench/RESULTS.md' : 'done (report printed, bench/RESULTS.md untouched)');

// ---- sections --------------------------------------------------------------------------------------------

function ackSection(rows: readonly AckRow[]): string {
  const at32 = (shape: string) => rows.find((r) => r.shape === shape && r.concurrency === 32);
  const missed = (row: AckRow | undefined) => row !== undefined && row.bot.p99 > ACK_TARGET * row.bare.p99;
  const closedMissed = missed(at32('closed'));
  for (const shape of ['burst', 'closed'] as const) {
    const row = at32(shape);
    if (row === undefined) continue;
    const r = row.bot.p99 / row.bare.p99;
    summary.push([
      '1',
      `ack p99 ≤ ${ACK_TARGET}× bare Bolt at concurrency 32 (${shape === 'burst' ? 'bursts of 32' : 'closed loop, 32 senders'})`,
      `${ms(row.bot.p99)} vs ${ms(row.bare.p99)} = ${ratio(row.bot.p99, row.bare.p99)}`,
      shape === 'closed' && r > ACK_TARGET ? `${verdict(false)} (cannot be met: see 1.)` : verdict(r <= ACK_TARGET),
    ]);
  }
  return [
    '',
    '## 1. Slack ack latency',
    '',
    `Signed \`/nasha ${LIST_COMMAND}\` commands (admin in #ops) over keep-alive HTTP to the bot in HTTP mode, and to`,
    'a bare Bolt app with the same `HTTPReceiver` whose `/nasha` handler only acks. Time to the complete HTTP 200',
    "ack. After its ack the bot does the command's real work: 4 OVH calls to the simulator, then the reply",
    'through the response_url (fake Slack); the OVH budget is lifted for this scenario so that work runs at',
    'CPU speed and competes with the acks, instead of queueing for hours behind 60 requests/min. The apps',
    'alternate in blocks (bare, bot, bot, bare, …); after a bot block the run waits until every reply is out.',
    '',
    '- **burst**: `c` commands sent at once, then nothing until the bot has answered them all; repeated.',
    '- **closed**: `c` senders, each sending its next command as soon as its previous one is acked.',
    '',
    table(
      [
        'shape',
        'c',
        'n/app',
        'bare p50',
        'bare p99',
        'bot p50',
        'bot p99',
        'p50 ratio',
        'p99 ratio',
        'CPU/cmd bare · bot · world',
      ],
      rows.map((r) => [
        r.shape,
        String(r.concurrency),
        String(r.bot.n),
        ms(r.bare.p50),
        ms(r.bare.p99),
        ms(r.bot.p50),
        ms(r.bot.p99),
        ratio(r.bot.p50, r.bare.p50),
        `**${ratio(r.bot.p99, r.bare.p99)}**`,
        `${ms(r.cpuMs.bare)} · ${ms(r.cpuMs.bot)} (${ratio(r.cpuMs.bot, r.cpuMs.bare)}) · ${ms(r.cpuMs.world)}`,
      ]),
    ),
    '',
    `${closedMissed ? '**Why the closed-loop target cannot be met.**' : '**About the closed loop.**'} A closed loop keeps \`c\` requests outstanding, so it saturates`,
    "whichever app it drives, and then latency is Little's law: p50 ≈ c × CPU per command. The bare app's",
    "CPU per command is the ack alone; the bot's includes the 4 signed HTTPS calls to OVH, zod parsing, the",
    'reply POST and two log lines (CPU column). No scheduling makes a CPU-bound server answer 32 queued',
    'requests faster than the work they bring, so the closed-loop ratio follows the CPU ratio, not the ack',
    'path. The burst shape gives both apps the same arrivals without saturating them by construction, and is',
    'what an incident looks like (many people at once, then waiting for answers). There the ack path',
    'matters, and two defects found with CPU profiles of the bot (`BENCH_PROFILE=bot npm run bench`) were',
    'fixed — see "Defects" below.',
    ...(missed(at32('burst'))
      ? [
          '',
          '**Why bursts of 32 still miss 1.25×.** The 32nd ack of a burst waits for the ack paths of the 31 before it,',
          "and the bot's ack path costs more CPU than the bare app's. CPU profiles of both (`BENCH_PROFILE=bot,bare`,",
          "bursts of 1, 2,100 commands each) put Bolt's `processEvent` at 1.0 ms per command for the bot against",
          "0.43 ms for the bare app (0.27 ms of each is the ack's socket write): Bolt runs every request through the",
          'middleware chain of every registered listener (the bot has 18; `invokeMiddleware` alone: 0.17 ms vs',
          '0.03 ms), and the bot adds its request-log middleware (an AsyncLocalStorage context: promise hooks on',
          'every promise), the zod check of the payload, a log line and the "working…" message. With the HTTP',
          "parsing and signature check both share, the bot's ack path costs about 2–2.5× the bare one (the burst p50 ratios",
          'above), and the 32nd ack pays it 32 times, plus whatever OVH work of the first commands of the burst',
          'slips in between (p99 ratios of 1.0–2.6× across runs on this machine).',
          '',
          'Three changes aimed at that, each measured with `--quick --only ack` (256 commands per app at c=32,',
          'two runs; p99 ratio in bursts), none kept: unchanged code 1.41×, 1.39×; without the AsyncLocalStorage',
          'context 2.65×, 2.04×; with only the `/nasha` listener registered (1 instead of 18) 1.76×, 1.31×; with',
          "each command's work held until no request to the bot's HTTP server is unanswered (≤ 50 ms) 2.28×, 1.93×.",
          'None moved the ratio beyond the run-to-run noise (other full runs today: 1.37×, 1.43×, 1.76×,',
          "2.34×). By the profile, even without Bolt's per-listener fan-out the bot's ack would cost about 1.5× the",
          'bare one\'s CPU (the payload check, a log line, a "working…" body instead of an empty one), so the',
          "target would need an ack path that does nothing the bare app does not: we keep Bolt's listener model",
          '(typed listeners, one per file) and a useful ack instead, at about 0.4 ms more per command.',
        ]
      : []),
  ].join('\n');
}

/** Scan and plan pass wall time against the budget floor, plan lateness, and a person's wait meanwhile. */
function protectionSection(results: readonly ProtectionBenchResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    const budget = `${r.case.requestsPerMinute}/min, burst ${r.case.burst}`;
    rows.push([
      `scan of ${r.case.partitions}`,
      budget,
      `${r.scan.requests} (stated ${r.scan.expected})`,
      ms(r.scan.wallMs),
      ms(r.scan.floorMs),
      `**${ratio(r.scan.wallMs, r.scan.floorMs)}**`,
    ]);
    rows.push([
      `plan pass, ${r.plan.taken} snapshots`,
      budget,
      String(r.plan.requests),
      ms(r.plan.wallMs),
      ms(r.plan.floorMs),
      `**${ratio(r.plan.wallMs, r.plan.floorMs)}**`,
    ]);
    summary.push(
      [
        '5',
        `protection scan of ${r.case.partitions} partitions: wall ≤ ${PROTECTION_TARGET}× budget floor, requests as stated`,
        `${ms(r.scan.wallMs)} = ${ratio(r.scan.wallMs, r.scan.floorMs)}, ${r.scan.requests} requests (stated ${r.scan.expected})`,
        verdict(
          r.scan.wallMs <= PROTECTION_TARGET * r.scan.floorMs &&
            r.scan.requests === r.scan.expected &&
            r.scan.failed === 0,
        ),
      ],
      [
        '5',
        `plan pass over ${r.case.partitions}: every snapshot taken, wall ≤ ${PROTECTION_TARGET}× floor`,
        `${r.plan.taken} taken; lateness p50 ${ms(r.plan.lateness.p50)}, p95 ${ms(r.plan.lateness.p95)}, max ${ms(r.plan.lateness.max)}`,
        verdict(r.plan.taken === r.case.partitions && r.plan.wallMs <= PROTECTION_TARGET * r.plan.floorMs),
      ],
      [
        '5',
        "a person's read during the background work waits for no budget token",
        `p50 ${ms(r.interactive.p50)}, max ${ms(r.interactive.max)} over ${r.interactive.count} reads (OVH answers in ${OVH_LATENCY_MS} ms)`,
        verdict(r.interactive.max <= 4 * OVH_LATENCY_MS + 1_000),
      ],
    );
  }
  const late = results
    .map(
      (r) =>
        `- ${r.case.partitions} partitions: p50 ${ms(r.plan.lateness.p50)}, p95 ${ms(r.plan.lateness.p95)}, the last ${ms(r.plan.lateness.max)} after the pass started (floor for the whole pass: ${ms(r.plan.floorMs)}).`,
    )
    .join('\n');
  return [
    '',
    '## 5. Protection at fleet size',
    '',
    'A scan of every covered partition (1 + 1 per service + 3 per partition requests) and a plan pass that takes one',
    "snapshot on each (a slot check, the desk's pre-check, the creation, then the shared task polling), in real time",
    `against the simulator (${OVH_LATENCY_MS} ms per answer, tasks done in ${TASK_DONE_MS / 1000} s) and the OVH request budget.`,
    "The floor is what the budget allows: (requests − burst) ÷ rate (for the pass, plus the last task's 2 s).",
    'Background work starts only while the budget',
    'keeps a third of its burst for people, which is what the last row measures: a person listing a partition every',
    '2 s meanwhile.',
    '',
    table(['work', 'budget', 'requests', 'wall', 'budget floor', 'wall ÷ floor'], rows),
    '',
    'Plan lateness (after the pass started, i.e. after the slot):',
    late,
    '',
    'At the default 60 requests a minute the same scan takes 60 ÷ 1200 = 20× longer: about 10 minutes for 200',
    'partitions, so `scan_every` must be above that for such a fleet.',
  ].join('\n');
}

function quickSection(results: readonly QuickCaseResult[]): string {
  const rows: string[][] = [];
  for (const c of results) {
    for (const run of c.runs) {
      const polls = run.requests.lists + run.requests.taskGets;
      const requestBound = run.rounds === undefined ? '' : ` ≤ ${c.n + 2 * run.rounds}`;
      rows.push([
        String(c.n),
        `${c.requestsPerMinute}/min, burst ${c.burst}`,
        ms(c.floorMs),
        run.variant,
        `${ms(run.wallMs)} (${ms(run.wallRangeMs[0])}–${ms(run.wallRangeMs[1])})`,
        `**${ratio(run.wallMs, c.floorMs)}** (${ratio(run.wallRangeMs[0], c.floorMs)}–${ratio(run.wallRangeMs[1], c.floorMs)})`,
        `${run.requests.total} = ${run.requests.setup} + ${run.requests.creations} + ${polls}`,
        run.rounds === undefined ? '—' : String(run.rounds),
        run.rounds === undefined
          ? '—'
          : `${run.requests.creations + polls}${requestBound} ${polls <= 2 * run.rounds ? '✓' : '✗'}`,
      ]);
    }
    const bot = c.runs.find((r) => r.variant === 'bot');
    const service = c.runs.find((r) => r.variant === 'service');
    const perTask = c.runs.find((r) => r.variant === 'per-task');
    if (bot !== undefined && service !== undefined && perTask !== undefined && service.rounds !== undefined) {
      const polls = service.requests.lists + service.requests.taskGets;
      summary.push(
        [
          '2',
          `quick snapshot N=${c.n} (${c.requestsPerMinute}/min): wall ≤ ${QUICK_TARGET}× floor`,
          `bot ${ms(bot.wallMs)} = ${ratio(bot.wallMs, c.floorMs)}, service ${ratio(service.wallMs, c.floorMs)} (per-task polling ${ratio(perTask.wallMs, c.floorMs)})`,
          verdict(bot.wallMs <= QUICK_TARGET * c.floorMs),
        ],
        [
          '2',
          `quick snapshot N=${c.n}: requests ≤ N + 2 × rounds`,
          `${service.requests.creations + polls} vs ${c.n + 2 * service.rounds} (${service.rounds} rounds; per-task ${perTask.requests.total - perTask.requests.setup})`,
          verdict(polls <= 2 * service.rounds),
        ],
      );
    }
  }
  return [
    '',
    '## 2. Incident quick snapshot',
    '',
    `The simulator answers every request after ${OVH_LATENCY_MS} ms and ends every task ${TASK_DONE_MS / 1000} s after it was created`,
    '(`doing` after 1 s). One service of N partitions; `quick bench-N inc` takes a snapshot of each. The cases run',
    'one after the other; within a case every variant runs several times at once, each with its own simulator,',
    'client and budget (they wait on latency and budget, not on the CPU), set up first and then started 0.5 s',
    'apart so that their opening bursts do not compete for the CPU (not counted in their times):',
    '',
    '- **bot**: the whole bot (`startBot`), a signed slash command → the summary in the channel says N/N done;',
    "- **service**: `QuickSnapshotService` with the bot's `TaskTracker` (as `createNashaApi` wires it), plan →",
    '  execute returns;',
    '- **per-task**: the same, with the baseline of `per-task-tracker.ts` (one GET /task/{id} per task per round,',
    '  same back-off: the OVH control panel and Terraform);',
    '',
    '**Floor** = the least time any client needs under that budget: the 2 setup requests (clock sync, partition',
    'list) and N creations take tokens 1…N+2 of the bucket, the last task ends 2 s after it reached OVH, and one',
    `more request must see it done. (The issue's max(one task, N / budget) gives ${results.map((c) => `${ms(c.issueFloorMs)} for N=${c.n}`).join(', ')}: it`,
    'ignores the burst of 10 and the setup and observation requests.) N=200 runs with a budget of 600/min so the',
    'whole bench stays under 10 minutes (at 60/min its runs would take 3–7 minutes); its floor uses that budget.',
    '',
    'Requests (of the median run) = setup + creations + polls (lists of tasks by status, and GET /task/{id}). "Rounds" are polling',
    "rounds (the tracker's `roundsPolled`; per-task: one per GET). The last column checks",
    'creations + polls ≤ N + 2 × rounds.',
    '',
    table(
      ['N', 'budget', 'floor', 'variant', 'wall: median (range)', '× floor', 'requests', 'rounds', 'N + polls'],
      rows,
    ),
    '',
    results.every((c) => c.runs.every((r) => r.variant !== 'bot' || r.wallMs <= QUICK_TARGET * c.floorMs))
      ? '**Where the time goes.** Under 60 requests/min every request costs a second of the'
      : '**Why the bot misses 1.1× the floor.** Under 60 requests/min every request costs a second of the',
    'budget, so every poll made while creations wait delays the last creation. The tracker',
    '(`src/ovh/task-tracker.ts`) spends one request per round (`status=done`; a GET for a lone task), holds its',
    'rounds while requests are queued in the budget, and starts its back-off over when a task joins, so the last',
    `task is seen about a second after it ends: ${pollSummary(results)}. The rest of the gap at N=50 is`,
    'deliberate: while creations queue, a round still goes out every 10 s so that the summary shows the tasks',
    'already done, and each such poll takes a token from the creations. For N=10 the floor leaves 0.4 s',
    "of slack, less than one polling interval, so which side of a task's end the deciding poll lands on moves a",
    'run by a whole budget token (1 s) — hence the ranges, and the medians of several concurrent runs. The bot',
    'stays within about a second of the service: its summary is rewritten at most once per second (Slack allows',
    'about one edit per second per message).',
  ].join('\n');
}

/** What the bot's tracker spent and achieved in this run, for the prose. */
function pollSummary(results: readonly QuickCaseResult[]): string {
  const runs = results.flatMap((c) => c.runs.filter((r) => r.variant === 'service').map((run) => ({ c, run })));
  const polls = runs.map(({ run }) => run.requests.lists + run.requests.taskGets);
  const ratios = runs.map(({ c, run }) => `${ratio(run.wallMs, c.floorMs)} for N=${c.n}`);
  return `N + 2 + ${Math.min(...polls)}…${Math.max(...polls)} requests, and ${ratios.join(', ')} the floor (medians)`;
}

function auditSection(results: readonly AuditResult[]): string {
  for (const r of results) {
    const ok = r.duplicates === 0 && r.stale === 0 && r.rate.slowest >= RATE_TARGET;
    summary.push([
      '3',
      `audit: ${r.records} records, ${r.replicas} outbox${r.replicas > 1 ? 'es' : ''}: all delivered, none duplicated, rate ≥ ${RATE_TARGET}× allowed`,
      `${r.delivered}/${r.records} delivered, ${r.duplicates} duplicated, ${r.stale} stale, slowest channel ${r.rate.slowest.toFixed(3)}/s = ${ratio(r.rate.slowest, 1000 / ALLOWED_INTERVAL_MS)}`,
      verdict(ok),
    ]);
  }
  return [
    '',
    '## 3. Audit delivery',
    '',
    'The real `AuditTrail` and `AuditOutbox` over the real `AuditStore` (SQLite, WAL, synchronous=FULL, in a temporary',
    'directory). The records are written in one burst (an incident), spread over 4 audit channels; a third of',
    'the way through the backlog every 5th change ends (a second version: an edit if already posted). The',
    'publisher is a fake Slack',
    `that accepts at most one message (post or edit) per ${ALLOWED_INTERVAL_MS / 1000} s per channel and answers 429 with Retry-After`,
    'in whole seconds otherwise. **Time is virtual**: one `ManualClock` (auto-advancing when the event loop is',
    'idle) drives the outbox and the fake Slack, since 1,000 messages at 1/s would take 4–17 real minutes. Rates',
    'are messages per virtual second per channel against the allowed 1/s; CPU is real, per record, against the',
    'bare store work of one delivery (write the record, claim it, mark it delivered) measured in the same run.',
    "With 2 outboxes (two replicas on one database file) each paces itself, so Slack's limit is really tested.",
    '',
    table(
      [
        'outboxes',
        'records',
        'messages',
        'delivered',
        'duplicated',
        'stale',
        '429s',
        'rate/channel (slowest · mean)',
        'virtual',
        'real',
        'CPU/record (outbox · store)',
      ],
      results.map((r) => [
        String(r.replicas),
        String(r.records),
        String(r.messages),
        String(r.delivered),
        String(r.duplicates),
        String(r.stale),
        String(r.rateLimited),
        `${r.rate.slowest.toFixed(3)} · ${r.rate.mean.toFixed(3)} /s (**${ratio(r.rate.slowest, 1000 / ALLOWED_INTERVAL_MS)}**)`,
        `${r.virtualSeconds.toFixed(0)} s`,
        ms(r.realMs),
        `${ms(r.cpuMsPerRecord.outbox)} · ${ms(r.cpuMsPerRecord.store)} (${ratio(r.cpuMsPerRecord.outbox, r.cpuMsPerRecord.store)})`,
      ]),
    ),
  ].join('\n');
}

function slowSlackSection(results: readonly SlowSlackResult[]): string {
  for (const r of results) {
    summary.push([
      '3',
      `audit under a slow Slack (p99 latency ${SLOW_CALL_MS / 1000} s), ${r.replicas} outbox${r.replicas > 1 ? 'es' : ''}: messages per record = 1.00`,
      `${r.messagesPerRecord.toFixed(2)} messages per record (${r.duplicates} duplicated, ${r.stale} stale); p99 latency ${ms(r.latency.p99)}`,
      verdict(r.messagesPerRecord === 1 && r.duplicates === 0 && r.stale === 0),
    ]);
  }
  return [
    '',
    '### 3b. Audit delivery under a slow Slack',
    '',
    `The same burst, through a fake Slack where one call in fifty is answered after ${SLOW_CALL_MS / 1000} s (p99), past the`,
    `publisher's ${SLACK_CALL_TIMEOUT_MS / 1000} s call timeout: the call fails as unanswered, yet Slack still acts on it when its`,
    'latency is up (a post appears a second later). Before issue 14 such a post became three messages (two',
    'client-level retries). Now nothing retries a post blindly: the outbox looks for the message first (by the',
    'record id in its metadata), and its lease outlasts the longest attempt. Virtual time, as above.',
    '',
    table(
      [
        'outboxes',
        'records',
        'messages / record',
        'duplicated',
        'stale',
        'Slack calls (p50 · p99 latency)',
        'unanswered (post · edit · look-up)',
        'look-ups (found)',
        'virtual',
        'real',
      ],
      results.map((r) => [
        String(r.replicas),
        String(r.records),
        `**${r.messagesPerRecord.toFixed(2)}**`,
        String(r.duplicates),
        String(r.stale),
        `${r.latency.calls} (${ms(r.latency.p50)} · ${ms(r.latency.p99)})`,
        `${r.timeouts.post} · ${r.timeouts.update} · ${r.timeouts.find}`,
        `${r.lookups.made} (${r.lookups.found})`,
        `${r.virtualSeconds.toFixed(0)} s`,
        ms(r.realMs),
      ]),
    ),
  ].join('\n');
}

function footprintSection(f: FootprintResult): string {
  const bot = f.memory.bot;
  const bare = f.memory.bare;
  const last = bot.at(-1);
  const middleIndex = Math.floor((bot.length - 1) / 2);
  const middle = bot[middleIndex];
  const earlier = bot.slice(1, -1);
  const [idleBot, idleBare] = [bot[0], bare[0]];
  const { settled } = f;
  if (
    last === undefined ||
    middle === undefined ||
    idleBot === undefined ||
    idleBare === undefined ||
    earlier.length === 0 ||
    bare.length !== bot.length
  ) {
    throw new Error('missing memory readings');
  }
  const total = f.commands * (bot.length - 1);
  const halfway = f.commands * middleIndex;
  const heapGrowth = last.heapUsed - middle.heapUsed;
  const rssPeak = Math.max(...earlier.map((m) => m.rss));
  summary.push(
    [
      '4',
      `memory bounded over ${total} commands: heap +≤ ${mib(HEAP_GROWTH_BOUND)} over the second half, last RSS ≤ ${RSS_PLATEAU_BOUND}× the highest before`,
      `heap ${mib(middle.heapUsed)} → ${mib(last.heapUsed)}; RSS ${earlier.map((m) => mib(m.rss)).join(', ')} → ${mib(last.rss)} (${ratio(last.rss, rssPeak)})`,
      verdict(heapGrowth <= HEAP_GROWTH_BOUND && last.rss <= RSS_PLATEAU_BOUND * rssPeak),
    ],
    [
      '4',
      `cold start to ready ≤ ${FOOTPRINT_TARGET}× the bare app (both plain Node on tsc output)`,
      `${ms(f.startupMs.bot)} vs bare ${ms(f.startupMs.bare)} = ${ratio(f.startupMs.bot, f.startupMs.bare)}`,
      verdict(f.startupMs.bot <= FOOTPRINT_TARGET * f.startupMs.bare),
    ],
    [
      '4',
      `idle RSS ≤ ${FOOTPRINT_TARGET}× the bare app (both settled)`,
      `${mib(settled.bot.rss)} vs bare ${mib(settled.bare.rss)} = ${ratio(settled.bot.rss, settled.bare.rss)} (1 s after ready: ${mib(idleBot.rss)} vs ${mib(idleBare.rss)} = ${ratio(idleBot.rss, idleBare.rss)})`,
      verdict(settled.stable && settled.bot.rss <= FOOTPRINT_TARGET * settled.bare.rss),
    ],
  );
  const row = (label: string, bot: number, bare: number, format: (v: number) => string) => [
    label,
    format(bare),
    format(bot),
    ratio(bot, bare),
  ];
  const readings = bot.map((_, i) => (i === 0 ? '1 s after ready' : `after ${i * f.commands}`));
  const settledAfter = `${Math.round(settled.afterMs / 1_000)} s${settled.stable ? '' : ', still moving'}`;
  return [
    '',
    '## 4. Footprint',
    '',
    'Both apps run with plain Node on tsc output, as production runs the bot (`node dist/main.js`). Startup = wall',
    'time from spawning the process to its HTTP port listening (median of the cold starts, alternating apps); it is',
    `mostly Node and module loading. Memory is read after a full GC (\`--expose-gc\`): 1 s after ready; idle once settled`,
    "(both apps' RSS still over three readings 2 s apart, at least 16 s after ready: V8's memory reducer shrinks",
    'the young generation and compacts the heap some seconds into a quiet period, so earlier readings are the',
    `startup's transient, not what an idle process holds); and after each of ${bot.length - 1} phases of ${f.commands}`,
    `\`/nasha ${LIST_COMMAND}\` commands at concurrency 32 (closed loop), each answered before the reading.`,
    '',
    table(
      ['reading', 'bare', 'bot', 'bot / bare'],
      [
        row('startup to ready', f.startupMs.bot, f.startupMs.bare, ms),
        row('· Node boot', f.phases.bot.bootMs, f.phases.bare.bootMs, ms),
        row('· loading modules', f.phases.bot.importMs, f.phases.bare.importMs, ms),
        row('· startBot / app.start', f.phases.bot.startMs, f.phases.bare.startMs, ms),
        ...readings.flatMap((label, i) => {
          const b = bot[i];
          const r = bare[i];
          if (b === undefined || r === undefined) return [];
          const rows = [row(`RSS ${label}`, b.rss, r.rss, mib), row(`heap ${label}`, b.heapUsed, r.heapUsed, mib)];
          if (i > 0) return rows;
          return [
            ...rows,
            row(`RSS idle, settled (${settledAfter})`, settled.bot.rss, settled.bare.rss, mib),
            row(`heap idle, settled (${settledAfter})`, settled.bot.heapUsed, settled.bare.heapUsed, mib),
          ];
        }),
      ],
    ),
    '',
    `The bot's heap grows while its caches and connection pools fill (first phase), then stays flat: ${mib(heapGrowth)} over`,
    `the last ${total - halfway} commands. RSS is native memory too (TLS sockets to OVH, buffers) that glibc keeps once`,
    'freed, so it steps up under load and then plateaus; a leak would show as a rise at every reading. (Readings',
    'taken 25 s after each phase, once the idle OVH sockets had closed, showed the same plateau during development.)',
  ].join('\n');
}

function budgetSection(r: BudgetResult): string {
  const alone = r.showAlone.ms;
  for (const d of r.duringList) {
    summary.push([
      '7',
      `a person's show while another's \`list <service>\` runs (20 partitions, ${d.snapshotsPerPartition} snapshots each): ≤ ${SHOW_TARGET}× the show alone`,
      `${ms(d.showMs)} vs ${ms(alone)} = ${ratio(d.showMs, alone)} (list: ${d.listRequests} requests, ${ms(d.listMs)}; overtaken in ${d.overtook}/${d.showRuns.length} runs)`,
      verdict(d.showMs <= SHOW_TARGET * alone),
    ]);
  }
  const q = r.duringQuick;
  const quickBound = QUICK_TARGET * q.floorMs + q.overtakingReads * MS_PER_TOKEN;
  summary.push(
    [
      '7',
      `a person's show during a ${50}-partition quick run: ≤ ${SHOW_TARGET}× the show alone`,
      `median ${ms(q.showMs)} vs ${ms(alone)} = ${ratio(q.showMs, alone)} (slowest ${ms(Math.max(...q.showRuns))}, ${q.showRuns.length} shows)`,
      verdict(q.showMs <= SHOW_TARGET * alone),
    ],
    [
      '7',
      `that quick run: ≤ ${QUICK_TARGET}× floor + one token per read that overtook it`,
      `${ms(q.quickMs)} ≤ ${ms(quickBound)} (${QUICK_TARGET} × ${ms(q.floorMs)} + ${q.overtakingReads} × ${ms(MS_PER_TOKEN)}); alone ${ms(q.quickAloneMs)} = ${ratio(q.quickAloneMs, q.floorMs)}`,
      verdict(q.quickMs <= quickBound),
    ],
  );
  for (const c of r.listCost) {
    const bound = 1 + 2 * c.partitionsOnPage;
    summary.push([
      '7',
      `\`list <service>\` after warm-up (${c.snapshotsPerPartition} snapshots per partition): ≤ 1 + 2 × ${c.partitionsOnPage} requests per page`,
      `cold ${c.cold.requests}, again at once ${c.cached.requests}, after the cache time ${c.warm.requests}`,
      verdict(c.warm.requests <= bound && c.cached.requests <= bound),
    ]);
  }
  return [
    '',
    '## 7. People under the OVH request budget',
    '',
    `The whole bot (\`startBot\`) per run, each with its own simulator (every request answered after ${OVH_LATENCY_MS} ms, tasks done`,
    `${TASK_DONE_MS / 1000} s after creation), fake Slack and budget: ${BUDGET.requestsPerMinute} requests/min, burst ${BUDGET.burst} (the defaults). Times are from the signed`,
    'command to its answer at the fake Slack (the reply that is not a "working" line). A person\'s `show` is a viewer\'s',
    '`snapshot show` of a snapshot whose names were never listed (one OVH request, nothing cached for it). The runs of',
    'a case go at once, each in its own world.',
    '',
    table(
      ['case', 'show: median', 'runs', '× alone', 'other work'],
      [
        ['show alone', ms(alone), r.showAlone.runs.map(ms).join(', '), '1.00×', '—'],
        ...r.duringList.map((d) => [
          `show 1 s after another person's \`list <service>\` (20 × ${d.snapshotsPerPartition} snapshots, cold)`,
          ms(d.showMs),
          d.showRuns.map(ms).join(', '),
          `**${ratio(d.showMs, alone)}**`,
          `list: ${d.listRequests} requests, ${ms(d.listMs)}; notice: ${d.notice === undefined ? 'none' : `“${d.notice}”`}`,
        ]),
        [
          `shows every 8 s during a 50-partition quick run`,
          ms(q.showMs),
          q.showRuns.map(ms).join(', '),
          `**${ratio(q.showMs, alone)}**`,
          `quick run ${ms(q.quickMs)} (${ratio(q.quickMs, q.floorMs)} floor ${ms(q.floorMs)}; alone ${ms(q.quickAloneMs)} = ${ratio(q.quickAloneMs, q.floorMs)}), ${q.overtakingReads} reads overtook it`,
        ],
      ],
    ),
    '',
    'Requests of `list <service>` (page 1: 5 partitions of 20) at a faster budget (600/min: requests are counted here, not timed):',
    'cold, again at once (within the 5 s listing cache), and again after 6 s (listings asked again, snapshot details',
    'kept while their names are listed).',
    '',
    table(
      ['snapshots per partition', 'cold', 'again at once', 'after the cache time', 'bound'],
      r.listCost.map((c) => [
        String(c.snapshotsPerPartition),
        `${c.cold.requests} (${ms(c.cold.ms)})`,
        `${c.cached.requests} (${ms(c.cached.ms)})`,
        `**${c.warm.requests}** (${ms(c.warm.ms)})`,
        `≤ ${1 + 2 * c.partitionsOnPage}`,
      ]),
    ),
  ].join('\n');
}

function idleSection(r: IdleResult): string {
  for (const state of ['idle', 'warm'] as const) {
    const bot = r.bot[state].p99;
    const bare = r.bare[state].p99;
    summary.push([
      '6',
      `ack p99 ≤ ${IDLE_ACK_TARGET}× bare Bolt, bursts of ${r.burst} ${state === 'idle' ? `after ${r.idleMs / 1000} s of silence` : 'back to back (warm)'}`,
      `${ms(bot)} vs ${ms(bare)} = ${ratio(bot, bare)}`,
      verdict(bot <= IDLE_ACK_TARGET * bare),
    ]);
  }
  return [
    '',
    '## 6. Acks after a quiet period',
    '',
    `Bursts of ${r.burst} signed \`/nasha ${IDLE_COMMAND}\` (one OVH request and a reply after each ack), to the bot and to the`,
    `bare Bolt app (the processes of scenario 1, OVH budget lifted). "Idle": after ${r.idleMs / 1000} s with no request, longer than`,
    "every keep-alive timeout (Node's 5 s: the apps' servers, the simulator, the fake Slack), so connections the",
    'work needs are gone; "warm": the bursts that follow at once. Both apps go quiet together and get their idle burst',
    'one after the other (alternating which first).',
    '',
    table(
      ['bursts', 'n/app', 'bare p50', 'bare p99', 'bot p50', 'bot p99', 'p99 ratio', 'CPU/cmd bare · bot'],
      (['idle', 'warm'] as const).map((state) => [
        state,
        String(r.bot[state].n),
        ms(r.bare[state].p50),
        ms(r.bare[state].p99),
        ms(r.bot[state].p50),
        ms(r.bot[state].p99),
        `**${ratio(r.bot[state].p99, r.bare[state].p99)}**`,
        `${ms(r.bare.cpuMs[state])} · ${ms(r.bot.cpuMs[state])}`,
      ]),
    ),
    '',
    "**Where the bot's time went (issue 15, item 4).** Node accepts one new connection per event-loop turn (libuv 1.45",
    'and later; Node 20 has 1.46), and after a quiet period each request of a burst comes on a new connection, so',
    'the 32nd ack of an idle burst waits for 31 turns. Traced on 2026-12-03, each of those turns also ran the work',
    "of commands already acknowledged (OVH requests over new TLS connections, replies); since then a listener's",
    '`await ack()` returns only at the first turn in which no connection was accepted and every request received',
    'before the call is answered, at most 100 ms later (src/slack/arrivals.ts), and traces show accepts, requests and',
    "acks strictly in turn, the first OVH request after the last ack. What is left is the ack path's own CPU, which",
    'the last ack pays 32 times. Measured on 2026-12-07 in the ack windows of idle bursts (CPU and timings logged per',
    'window, V8 profiles at 50 µs), and removed: the middleware of 26 Bolt listeners run for every request (now one',
    'router middleware, src/slack/router.ts), three AsyncLocalStorages each adding a step to every promise (now one),',
    "the delivery ledger waiting for Kysely's connection lock (now only inside a transaction), SQLite's automatic",
    'checkpoint in a ledger commit (up to 4.7 ms; now run while Slack is quiet, src/store/wal-checkpoints.ts), a',
    "slash command's form parsed twice, Bolt's debug lines put together for pino to drop. `--only idle`, 8 runs of",
    'the final code (the last 4 with 16 rounds): idle p99 ratio 0.95–2.42× (6 of 8 within 1.5×), warm 1.26–2.04× (4',
    'of 8), against 1.88× and 2.11× the same day before; warm p50 19.3 → 10.4–14.1 ms. Not reliably met for warm bursts (4 of 8 runs over): their',
    'p50 ratio is 1.4–1.9× too, so what remains is systematic, not noise: the ledger insert (40–130 µs on average per',
    'request in those windows, up to 2.5 ms), the payload checks, the "working" reply built in the person\'s language,',
    'the remaining AsyncLocalStorage, and garbage collection (scavenges of 1–7 ms in 2–3 of 8 idle windows; the bot',
    "spends three times the bare app's GC time per command, its work included). On this shared 2-core machine the p99 of a",
    'run is the tail of its one or two slowest bursts, so ratios move by up to 2× between runs (the p50s are steadier).',
    '',
    "**Later the same day.** The bot's allocation profile (V8's sampling heap profiler, collected objects included)",
    "had pino's wildcard redact paths as the largest source of garbage, 42 of 261 KB per command: nested secrets are",
    'now censored by a formatter (src/shared/logger.ts; 14.8 → 3–4 µs per log line). The delivery ledger is WITHOUT',
    'ROWID on SQLite (migration 0019; 37 → 20 µs per insert in a microbenchmark). `--only idle` after both, 4 runs:',
    'idle p99 ratio 1.05–2.68×, warm 1.32–2.01×. What is left was taken apart in a scratch copy of the bot with parts',
    'switched off (6 rounds of one idle and 10 warm bursts, 0.6 s pauses; 3 runs each; warm p50 ratio, the steadier',
    'figure): as is 1.60–1.85×; without the ledger insert 1.43–1.48×; with the command listener acking before its',
    'own checks and "working" message 1.36–1.51×; without the AsyncLocalStorage 1.64–1.84× (its cost is in the',
    'work: CPU per command −17%); all three off 1.16–1.25×. The two parts left on the ack path are the ledger insert',
    'and the listener\'s work before its ack (payload schema, parse, the "working" message in the person\'s',
    "language), each about a quarter of the bare app's ack time. Taking them off means acking before knowing: a",
    'delivery recorded after its ack (a copy of a command would show "working…", then "already received"), a',
    '"working" message sent after an empty ack. Both change what Slack shows; neither is done.',
  ].join('\n');
}

function malformedSection(r: MalformedResult): string {
  const CASES_LINE =
    'malformed bodies (`payload=null`, a JSON `null`, `payload=123`, `[]`, `{}`, a block action without a user: 400),\nrefused ones (a wrong signature, a timestamp 6 minutes ahead: 401), unclaimed ones (a command `/other`, a button\nand a form of an older version: 200 and an answer) and stale buttons (a page button whose value is not JSON or\nof the wrong shape: 200, "no longer valid").';
  summary.push([
    '8',
    `every malformed, refused or unclaimed request answered within ${MALFORMED_TARGET_MS} ms (HTTP)`,
    `p50 ${ms(r.all.p50)}, p99 ${ms(r.all.p99)}, slowest ${ms(r.all.max)} over ${r.all.n}; bare Bolt's ack of \`/nasha\` p99 ${ms(r.baseline.p99)} (${ratio(r.all.p99, r.baseline.p99)}); ${r.statusesOk ? 'every status as expected' : '**a status was not as expected**'}`,
    verdict(r.all.max <= MALFORMED_TARGET_MS && r.statusesOk),
  ]);
  return [
    '',
    '## 8. Malformed and unclaimed requests',
    '',
    `Issue 13, item 4: ${CASES_LINE} Each sent ${r.rounds} times, one at a time over a keep-alive`,
    'connection to the bot in HTTP mode, alternating with a signed `/nasha help` to the bare Bolt app, whose ack is the',
    'baseline (the cheapest answer Bolt gives). Time to the complete HTTP answer; for a button, the "no longer valid"',
    'message follows through its response_url. Socket Mode: 8b below.',
    '',
    table(
      ['requests', 'cases', 'status', 'p50', 'p99', 'slowest', 'p99 × bare ack', `≤ ${MALFORMED_TARGET_MS} ms`],
      answerRows(
        r.groups.map((g) => ({ ...g, answered: g.statuses })),
        r.baseline,
        '200',
      ),
    ),
    '',
    'The bare Bolt app (one `/nasha` listener, no guard) with the same requests, once each:',
    '',
    table(
      ['request', 'bare Bolt'],
      r.bare.map((b) => [b.what, b.answer]),
    ),
  ].join('\n');
}

/** Scenario 8's table rows (HTTP and Socket Mode): each group against the bare app's ack, then the baseline. */
function answerRows(
  groups: ReadonlyArray<{ group: string; cases: number; answered: string; summary: Summary; max: number }>,
  baseline: Summary,
  baselineAnswered: string,
): string[][] {
  return [
    ...groups.map((g) => [
      g.group,
      String(g.cases),
      g.answered,
      ms(g.summary.p50),
      ms(g.summary.p99),
      ms(g.max),
      `**${ratio(g.summary.p99, baseline.p99)}**`,
      g.max <= MALFORMED_TARGET_MS ? 'yes' : '**no**',
    ]),
    ['bare Bolt: ack of `/nasha help`', '1', baselineAnswered, ms(baseline.p50), ms(baseline.p99), '—', '1.00×', '—'],
  ];
}

function socketMalformedSection(r: SocketMalformedResult): string {
  summary.push([
    '8',
    `every malformed or unclaimed envelope acknowledged within ${MALFORMED_TARGET_MS} ms (Socket Mode)`,
    `p50 ${ms(r.all.p50)}, p99 ${ms(r.all.p99)}, slowest ${ms(r.all.max)} over ${r.all.n}; bare Bolt's ack of \`/nasha\` p99 ${ms(r.baseline.p99)} (${ratio(r.all.p99, r.baseline.p99)}); ${r.allAnswered ? 'every envelope acknowledged, every stale button answered' : '**an envelope or a stale button went unanswered**'}`,
    verdict(r.all.max <= MALFORMED_TARGET_MS && r.allAnswered),
  ]);
  return [
    '',
    '### 8b. The same over Socket Mode',
    '',
    'The bot and the bare Bolt app each connected over Socket Mode to a Slack side run by the benchmark itself',
    '(`apps.connections.open`, then a WebSocket server on loopback), which sends the envelopes and times each',
    'from sending to its ack frame. Malformed payloads (`null`, `123`, `[]`, `{}`, a block action, a form',
    'submission and a command without a user), unclaimed ones (a command `/other`, a button and a form of an',
    'older version) and stale page buttons (whose clicker must also be told "no longer valid" through the',
    `response_url, checked). Each sent ${r.rounds} times, one at a time, alternating with a \`/nasha help\` envelope to`,
    'the bare app, whose ack is the baseline. There are no signatures in Socket Mode (the app-level token',
    'authenticates the link), so no "refused" group.',
    '',
    table(
      ['envelopes', 'cases', 'acknowledged', 'p50', 'p99', 'slowest', 'p99 × bare ack', `≤ ${MALFORMED_TARGET_MS} ms`],
      answerRows(
        r.groups.map((g) => ({ ...g, answered: g.acked })),
        r.baseline,
        String(r.baseline.n),
      ),
    ),
    '',
    'The bare Bolt app (one `/nasha` listener, no guard) with the same envelopes, once each, all at once:',
    '',
    table(
      ['envelope', 'bare Bolt'],
      r.bare.map((b) => [b.what, b.answer]),
    ),
  ].join('\n');
}

/** What the profiles and runs found, and what was fixed in src/. */
function defectsSection(): string {
  return `
## Defects found

Fixed (the test suites of \`test/ovh\`, \`test/slack\` and \`test/e2e\` pass):

1. **\`src/ovh/endpoint-agent.ts\`: every new TLS connection to OVH re-parsed ~145 CA certificates.** With
   \`OVH_CA_FILE\` set (the simulator, a TLS-inspecting proxy), \`createConnection\` passed \`ca: [...rootCertificates,
   caPem]\`, so Node built a new SecureContext per socket: ~50–65 ms of CPU each on this machine (V8 profile of
   the bot: 25 % of its CPU in \`addCACerts\` under \`createConnection\`). Bursts of OVH calls open sockets in
   bursts, so this stalled the event loop, acks included. Fix: the context is built once per registered
   endpoint and passed as \`secureContext\`. Measured during development (same machine, c=8 closed loop):
   bot CPU per command 6.4–6.9 ms → 5.0 ms; closed-loop p99 at 32 was 4.2 s (over Slack's 3 s ack deadline).
2. **\`src/slack/commands/nasha-command.ts\`: a command's work started before the acks of commands already
   received.** After \`ack()\`, the handler went straight into the OVH calls (signing, sockets, TLS) in the
   same turn, so in a burst the later acks waited behind earlier commands' work. Fix: one \`setImmediate\`
   between the ack and the work. Measured during development, bursts of 32, one run each: bot/bare p99
   3.6× → 1.3× (since then it has moved between 1.0× and 2.6× from run to run on this machine).
3. **\`src/core/quick-snapshots.ts\`: the pool of 8 held a slot until a task *ended*, not until it was
   created.** So creation 9 waited for task 1 to be seen done: throughput was 8 per (task time + poll
   delay), far below the budget the comment says paces the run. Fix: the pool bounds creations in flight;
   tasks are followed outside it. Measured during development: N=10 at 60/min 10.1 s → 6.7 s (2.48× → 1.64×
   the floor), N=50 at 600/min 21.6 s → 7.6 s (3.44× → 1.21×).

4. **\`src/ovh/task-tracker.ts\`: the tracker spent the budget that creations needed, and saw the last tasks
   late.** Each round was 2 requests (\`todo\` + \`doing\` lists) plus a third (\`done\`) when several tasks
   finished; the back-off (1 s, ×1.5, ≤ 10 s) ran per service and never restarted when tasks joined, so during
   a long run the last task waited for a 10 s round; and rounds polled while creations were queued for the
   budget. Fix (measured first with a prototype in the bench): a round is one \`status=done\` list (a lone task:
   its GET); a task missing from it three rounds running is fetched (which brings a failure's details), or,
   when more than two are, located in the \`todo\`/\`doing\` lists first; rounds are spaced by half the
   youngest task's age (1–10 s), so they start over when a task joins; and they wait (up to 10 s) while
   requests are queued in the budget. Previous run of this bench, service variant: N=10 1.64×, N=50 1.24×,
   N=200 1.34× the floor with N + 2 + 4…17 polls; now see scenario 2.
5. **\`src/slack/quick-runner.ts\`: the final summary waited for the 1 s pacing of progress edits**, and a
   change arriving just after the pacing loop had ended was sent at once (two edits 375 ms apart seen in a
   test). Fix: edits are paced from the last one sent, whatever started them, and the final result is sent
   at once (chat.update is a Tier 3 method: one extra edit is within it). Measured during development, N=10:
   the bot 1.39× → 1.16× the floor, against 1.14–1.15× for the service alone.
7. **\`src/store/delivery-store.ts\`: every Slack request waited for an fsync before its ack.** The replay
   ledger's claim insert (issue 13) committed with SQLite's synchronous=FULL, like the audit records: an fsync
   of the write-ahead log per request, on the event loop (0.2–0.3 ms each on this machine's disk when it is
   calm, much more when others write to it), plus the once-a-minute prune awaited by the request that found it
   due. Fix: the ledger commits with synchronous=NORMAL on its reserved connection (durable across crashes and
   restarts; why a power loss cannot re-run a change: the class comment), and the prune runs 1 s later on an
   unref'd timer. CPU profile of the bench bot, scenario 6: SQLite's \`executeQuery\` 0.74 → 0.13 ms per command.
   Scenario 6 alone (\`--only idle\`), before and after, run back to back twice on this machine (load average 2–3):
   bot CPU per warm command 4.26, 4.25 → 3.83, 3.75 ms; warm p50 41.1, 47.0 → 26.7, 27.4 ms; idle p50 110, 90.1 →
   72.2, 102 ms; p99 ratios idle 5.95×, 7.08× → 5.54×, 6.73× and warm 4.12×, 5.98× → 4.41×, 2.50× (noise: see 6).

8. **\`src/core/protection/scanner.ts\`: the scan report's request count was a formula, not a count.** It said
   1 + 1 per service + 3 per partition whatever happened: not the client's clock sync, not a retry, and a listing
   the cache served counted as sent (this bench's 200-partition scan: stated 605, the simulator saw 604). The same
   figure goes to \`nasha_protection_scan_requests\` and the scan's log line. Fix: the transport tallies every
   request it sends in the scope of \`countOvhRequests\` (src/shared/request-context.ts), and the report gives that.
   This bench's probe was also no person's read (no request class: background) and often served by the listing
   cache (p50 0.09 ms, and the scan's count was off by the probes the cache served); it now reads a partition
   outside the policy, as a person, always from OVH, and the scan's requests exclude exactly its requests.

Observed, no target:

6. **Startup is mostly module loading.** Both apps now run with plain Node on tsc output (issue 18: \`npm start\`
   builds, then runs \`node dist/main.js\`), which removed tsx's loader from both. What is left is the bot loading
   about 2.7× the code of a bare Bolt app: after \`@slack/bolt\` (≈250 ms alone here), \`kysely\` ≈145 ms,
   \`@ovhcloud/node-ovh\` ≈95 ms (its \`simple-oauth2\` loads \`joi\`), \`zod\` ≈65 ms, \`prom-client\` ≈30 ms and
   the bot's own modules ≈110 ms (measured one after the other in one process during development).`;
}
