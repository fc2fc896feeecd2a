/**
 * `npm run audit:verify [-- --anchor <short hash>] [-- --export <file.jsonl>]`: checks the audit hash chain in the
 * bot's database and prints a report; with `--export`, also checks a SIEM copy (audit.export JSON Lines) against it. The database is found as the bot finds it: `DATABASE_URL` (PostgreSQL) or the SQLite file
 * in `NASHA_DATA_DIR` (default `./data`). Opening it applies pending migrations, as the bot's startup does.
 *
 * Exit status: 0 the chain is intact, 1 problems were found, 2 nothing could be checked (environment,
 * arguments, database unreachable).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { StoreEnvSchema, withSecretFiles } from '../config/env.js';
import { shortAuditHash } from '../core/audit.js';
import { AUDIT_EXPORT_SCHEMA } from '../core/audit-export.js';
import { ConfigError } from '../shared/config-error.js';
import {
  type AuditChainReport,
  auditChainHash,
  GENESIS_HASH,
  MIN_ANCHOR_LENGTH,
  verifyAuditChain,
} from '../store/audit-chain.js';
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
  let exportFile: string | undefined;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { anchor: { type: 'string' }, export: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help === true) {
      io.out(USAGE);
      return 0;
    }
    anchor = values.anchor;
    exportFile = values.export;
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
    if (exportFile === undefined) return report.ok ? 0 : 1;
    let text: string;
    try {
      text = readFileSync(exportFile, 'utf8');
    } catch (error) {
      io.err(`audit:verify: cannot read ${exportFile}: ${message(error)}\n`);
      return 2;
    }
    const exported = await verifyAuditExport(text, async (seq) => {
      const row = await database.db
        .selectFrom('audit_history')
        .select('hash')
        .where('seq', '=', seq)
        .executeTakeFirst();
      return row?.hash ?? undefined;
    });
    io.out(formatExportReport(exported, exportFile));
    return report.ok && exported.problems.length === 0 ? 0 : 1;
  } catch (error) {
    io.err(`audit:verify: could not read the audit history: ${message(error)}\n`);
    return 2;
  } finally {
    await database.close();
  }
}

const USAGE = `usage: npm run audit:verify [-- --anchor <short hash>] [-- --export <file.jsonl>]
  Checks the audit hash chain in the bot's database (DATABASE_URL, or NASHA_DATA_DIR/${SQLITE_FILE_NAME}).
  --anchor  a short hash seen in the audit channel: it must be in the chain (detects deleted newest rows)
  --export  a SIEM copy (audit.export JSON Lines): every line's hash is recomputed from its fields, consecutive
            lines must link, and each must be the database's row of that seq
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

const ExportLineSchema = z.object({
  schema: z.literal(AUDIT_EXPORT_SCHEMA),
  idempotency_key: z.string(),
  audit_id: z.string(),
  version: z.number().int(),
  recorded_at: z.number().int(),
  actor_user_id: z.string(),
  channel_id: z.string().nullable(),
  action: z.string(),
  target_service: z.string(),
  target_partition: z.string().nullable(),
  subject: z.string().nullable(),
  outcome: z.string(),
  task_id: z.number().int().nullable(),
  detail: z.string().nullable(),
  audit_channel: z.string(),
  chain: z.object({ seq: z.number().int(), prev_hash: z.string().nullable(), hash: z.string().nullable() }),
});

export interface AuditExportReport {
  /** Distinct versions in the file (a line repeated for the same version counts once). */
  versions: number;
  firstSeq: number | undefined;
  lastSeq: number | undefined;
  duplicates: number;
  problems: string[];
}

/**
 * Checks a SIEM copy: each line's hash recomputed from its own fields, each line linked to the one before it
 * (consecutive seqs; the chain's first row to the genesis hash), and each hash equal to the database's row of
 * that seq (`hashAt`). Lines need not start at the chain's first row (a sink added later starts where it starts).
 */
export async function verifyAuditExport(
  text: string,
  hashAt: (seq: number) => Promise<string | undefined>,
): Promise<AuditExportReport> {
  const problems: string[] = [];
  const seen = new Map<number, string | null>();
  let duplicates = 0;
  let previous: { seq: number; hash: string | null } | undefined;
  for (const [index, raw] of text.split('\n').entries()) {
    if (raw.trim() === '') continue;
    const where = `line ${index + 1}`;
    let parsed: z.infer<typeof ExportLineSchema>;
    try {
      parsed = ExportLineSchema.parse(JSON.parse(raw));
    } catch (error) {
      problems.push(`${where}: not an audit export record (${message(error).split('\n')[0]})`);
      continue;
    }
    const { chain, schema: _schema, idempotency_key: _key, ...content } = parsed;
    if (seen.has(chain.seq)) {
      if (seen.get(chain.seq) !== chain.hash) problems.push(`${where}: seq ${chain.seq} seen before with another hash`);
      else duplicates += 1;
      continue;
    }
    seen.set(chain.seq, chain.hash);
    if (chain.hash === null || chain.prev_hash === null) {
      problems.push(`${where}: seq ${chain.seq} has no hash (written outside the chain)`);
    } else if (auditChainHash(content, chain.prev_hash) !== chain.hash) {
      problems.push(
        `${where}: seq ${chain.seq} (audit ${content.audit_id} v${content.version}) was edited: its fields do not match its hash`,
      );
    }
    if (previous !== undefined && chain.seq < previous.seq) {
      problems.push(`${where}: seq ${chain.seq} comes after seq ${previous.seq}: lines out of order`);
    } else if (previous !== undefined && chain.seq === previous.seq + 1 && chain.prev_hash !== previous.hash) {
      problems.push(`${where}: seq ${chain.seq} does not link to seq ${previous.seq}: lines were changed or inserted`);
    } else if (previous === undefined && chain.seq === 1 && chain.prev_hash !== GENESIS_HASH) {
      problems.push(`${where}: seq 1 does not start the chain`);
    }
    const stored = await hashAt(chain.seq);
    if (stored === undefined) problems.push(`${where}: seq ${chain.seq} is not in the database's chain`);
    else if (stored !== chain.hash) problems.push(`${where}: seq ${chain.seq} differs from the database's row`);
    previous = { seq: chain.seq, hash: chain.hash };
  }
  const seqs = [...seen.keys()];
  return {
    versions: seen.size,
    firstSeq: seqs.length === 0 ? undefined : Math.min(...seqs),
    lastSeq: seqs.length === 0 ? undefined : Math.max(...seqs),
    duplicates,
    problems,
  };
}

export function formatExportReport(report: AuditExportReport, file: string): string {
  const span = report.firstSeq === undefined ? '' : ` (seq ${report.firstSeq}–${report.lastSeq})`;
  const lines =
    report.problems.length === 0
      ? [
          `Export OK: ${report.versions} record version(s)${span} in ${file}; every hash recomputed, linked and equal to the database's.`,
        ]
      : [
          `Export BROKEN: ${report.problems.length} problem(s) in ${file}:`,
          ...report.problems.slice(0, MAX_PRINTED).map((p) => `  - ${p}`),
        ];
  if (report.duplicates > 0) lines.push(`  (${report.duplicates} line(s) repeat a version already seen, unchanged)`);
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
