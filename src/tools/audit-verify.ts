/**
 * `npm run audit:verify [-- --anchor <short hash>]`: checks the audit hash chain in the bot's database and
 * prints a report. The database is found as the bot finds it: `DATABASE_URL` (PostgreSQL) or the SQLite file
 * in `NASHA_DATA_DIR` (default `./data`). Opening it applies pending migrations, as the bot's startup does.
 *
 * Exit status: 0 the chain is intact, 1 problems were found, 2 nothing could be checked (environment,
 * arguments, database unreachable).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { StoreEnvSchema, withSecretFiles } from '../config/env.js';
import { shortAuditHash } from '../core/audit.js';
import { ConfigError } from '../shared/config-error.js';
import { type AuditChainReport, MIN_ANCHOR_LENGTH, verifyAuditChain } from '../store/audit-chain.js';
import { openDatabase, SQLITE_FILE_NAME } from '../store/database.js';

/** Problem lines printed; the rest are counted (the full list is in the report for programmatic use). */
const MAX_PRINTED = 100;

export interface AuditVerifyIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: AuditVerifyIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** Runs the tool; returns the exit status. */
export async function runAuditVerify(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: AuditVerifyIo = processIo,
): Promise<number> {
  let anchor: string | undefined;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { anchor: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help === true) {
      io.out(USAGE);
      return 0;
    }
    anchor = values.anchor;
  } catch (error) {
    io.err(`audit:verify: ${message(error)}\n${USAGE}`);
    return 2;
  }
  if (anchor !== undefined && !new RegExp(`^[0-9a-fA-F]{${MIN_ANCHOR_LENGTH},64}$`).test(anchor.trim())) {
    io.err(
      `audit:verify: --anchor takes the short hash an audit message shows (at least ${MIN_ANCHOR_LENGTH} hex digits)\n`,
    );
    return 2;
  }

  // The database variables as the bot reads them, DATABASE_URL_FILE included.
  const secrets = withSecretFiles(env);
  for (const problem of secrets.problems) io.err(`audit:verify: ${problem}\n`);
  if (secrets.problems.length > 0) return 2;
  const parsed = StoreEnvSchema.safeParse(secrets.env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) io.err(`audit:verify: ${issue.path.join('.')}: ${issue.message}\n`);
    return 2;
  }
  const { DATABASE_URL: databaseUrl, NASHA_DATA_DIR: dataDirSetting } = parsed.data;
  const dataDir = resolve(dataDirSetting);
  if (databaseUrl === undefined && !existsSync(join(dataDir, SQLITE_FILE_NAME))) {
    // Opening would create an empty database and report an empty, "intact" chain.
    io.err(
      `audit:verify: no database at ${join(dataDir, SQLITE_FILE_NAME)}; set NASHA_DATA_DIR to the bot's data directory, or DATABASE_URL\n`,
    );
    return 2;
  }

  let database: Awaited<ReturnType<typeof openDatabase>>;
  try {
    database = await openDatabase(databaseUrl === undefined ? { dataDir } : { databaseUrl });
  } catch (error) {
    const lines = error instanceof ConfigError ? error.problems : [message(error)];
    for (const line of lines) io.err(`audit:verify: cannot open the database: ${line}\n`);
    return 2;
  }
  try {
    const where = databaseUrl === undefined ? join(dataDir, SQLITE_FILE_NAME) : redact(databaseUrl);
    const report = await verifyAuditChain(database.db, { anchor });
    io.out(formatAuditChainReport(report, where));
    return report.ok ? 0 : 1;
  } catch (error) {
    io.err(`audit:verify: could not read the audit history: ${message(error)}\n`);
    return 2;
  } finally {
    await database.close();
  }
}

const USAGE = `usage: npm run audit:verify [-- --anchor <short hash>]
  Checks the audit hash chain in the bot's database (DATABASE_URL, or NASHA_DATA_DIR/${SQLITE_FILE_NAME}).
  --anchor  a short hash seen in the audit channel: it must be in the chain (detects deleted newest rows)
  exit status: 0 intact, 1 problems found, 2 could not check
`;

/** The human report: a verdict line, each problem, notes, the head and how to cross-check it with Slack. */
export function formatAuditChainReport(report: AuditChainReport, where: string): string {
  const lines: string[] = [];
  const span = report.firstSeq === undefined ? '' : ` (seq ${report.firstSeq}–${report.lastSeq})`;
  const rows = `${report.rows} history row${report.rows === 1 ? '' : 's'}${span}, ${report.records} audit record${report.records === 1 ? '' : 's'}`;
  const count = report.problems.length + report.problemsOmitted;
  if (report.ok && report.rows === 0) {
    lines.push(`Audit chain OK: empty, no audit record yet (${where}).`);
  } else if (report.ok) {
    lines.push(`Audit chain OK: ${rows}; every hash and link checked (${where}).`);
  } else {
    lines.push(`Audit chain BROKEN: ${count} problem${count === 1 ? '' : 's'} in ${rows} (${where}).`);
    for (const problem of report.problems.slice(0, MAX_PRINTED)) lines.push(`  - ${problem.kind}: ${problem.message}`);
    const more = count - Math.min(report.problems.length, MAX_PRINTED);
    if (more > 0) lines.push(`  … and ${more} more`);
  }
  if (report.notes.length > 0) {
    lines.push('Notes (not tampering):');
    for (const note of report.notes.slice(0, MAX_PRINTED)) lines.push(`  - ${note}`);
  }
  if (report.head !== undefined) {
    const { head } = report;
    lines.push(`Head: seq ${head.seq}, audit ${head.auditId} v${head.version}`);
    lines.push(`  hash ${head.hash}`);
    lines.push(`  short hash ${shortAuditHash(head.hash)}: the newest audit message in Slack should show it.`);
  }
  if (report.anchor !== undefined) {
    const { prefix, found } = report.anchor;
    lines.push(
      found === undefined
        ? `Anchor ${prefix}: NOT in the chain.`
        : `Anchor ${prefix}: found at seq ${found.seq} (audit ${found.auditId} v${found.version}), ${found.rowsAfter} row(s) after it.`,
    );
  }
  lines.push(
    'Rows deleted from the end of the chain leave no trace in the database: every short hash shown in the audit',
    'channel must be in the chain. Check the newest one with `npm run audit:verify -- --anchor <short hash>`.',
  );
  return `${lines.join('\n')}\n`;
}

/** The URL without its password, for the report. */
function redact(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return 'DATABASE_URL';
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Run only as a script, so tests can import the functions above.
const script = process.argv[1];
if (script !== undefined && import.meta.url === pathToFileURL(resolve(script)).href) {
  process.exitCode = await runAuditVerify(process.argv.slice(2), process.env);
}
