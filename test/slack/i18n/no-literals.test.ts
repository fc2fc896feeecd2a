// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the fixtures are TypeScript source, as text
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { literalsOf, strayWords } from './literals.js';

const ROOT = new URL('../../../', import.meta.url).pathname;

/** Modules whose words all come from the catalogs: a literal that reads as text fails this test. */
const CONVERTED: readonly string[] = [
  'src/slack/blocks/limits.ts',
  'src/sandbox/workspace.ts',
  'src/sandbox/render.ts',
  'src/sandbox/console.ts',
  'src/slack/views/quick-form.ts',
  'src/slack/views/modal-context.ts',
  'src/slack/views/main-modal.ts',
  'src/slack/views/listener-replies.ts',
  'src/slack/views/form-changes.ts',
  'src/slack/views/change-forms.ts',
  'src/slack/views/approval-forms.ts',
  'src/slack/shortcuts/quick-snapshot.ts',
  'src/slack/options/target-options.ts',
  'src/slack/commands/run-command.ts',
  'src/slack/commands/quick-command.ts',
  'src/slack/commands/command-start.ts',
  'src/slack/commands/nasha-command.ts',
  'src/slack/blocks/quick-summary.ts',
  'src/slack/blocks/modals.ts',
  'src/slack/blocks/clicks.ts',
  'src/slack/actions/modal-service-select.ts',
  'src/slack/actions/approval-buttons.ts',
  'src/slack/commands/parse.ts',
  'src/slack/blocks/permissions.ts',
  'src/slack/blocks/settlements.ts',
  'src/slack/blocks/approval-card.ts',
  'src/slack/unclaimed.ts',
  'src/slack/actions/page-button.ts',
  'src/slack/actions/quick-delete-oldest.ts',
  'src/slack/blocks/audit-message.ts',
  'src/slack/blocks/problems.ts',
  'src/slack/blocks/protection.ts',
  'src/slack/protection-alerts.ts',
  'src/slack/actions/protection-buttons.ts',
  'src/slack/actions/ephemeral-progress.ts',
  'src/slack/blocks/replies.ts',
  'src/slack/resume-reply.ts',
  'src/slack/quick-runner.ts',
  'src/slack/approval-cards.ts',
  'src/slack/blocks/break-glass.ts',
  'src/slack/break-glass-notices.ts',
  'src/slack/actions/break-glass-buttons.ts',
  'src/slack/audit-publisher.ts',
  'src/sandbox/index.ts',
  'src/slack/blocks/home.ts',
  'src/slack/events/app-home.ts',
  'src/slack/home-board.ts',
  'src/slack/blocks/digest.ts',
];

/**
 * Modules with words for people not converted yet, and why. Listed so that a new module under the scanned
 * folders is noticed: it must be converted or added to one of these lists knowingly.
 */
const NOT_YET: Readonly<Record<string, string>> = {};

/** Modules with no words for people: logs, HTTP details, ids (scanned so a new one is noticed). */
const NO_WORDING: readonly string[] = [
  'src/slack/app.ts',
  'src/slack/arrivals.ts',
  'src/slack/wait-notice.ts',
  'src/slack/message-publisher.ts',
  'src/slack/notification-publisher.ts',
  'src/slack/metadata.ts',
  'src/slack/payloads.ts',
  'src/slack/request-log.ts',
  'src/slack/replay-guard.ts',
  'src/slack/register-listeners.ts',
  'src/slack/router.ts',
  'src/slack/deps.ts',
  'src/slack/text.ts',
  'src/slack/change-runner.ts',
  'src/slack/digest-sender.ts',
  // Log reasons and the HTTP 400 body Slack gets; the answers people read are replies.ts's.
  'src/slack/request-guard.ts',
  'src/slack/group-members.ts',
  'src/sandbox/payloads.ts',
  'src/sandbox/signed-requests.ts',
  'src/sandbox/slack-api.ts',
];

/** Strings in converted modules that read as words but are not for people (ids, grammar, Slack's own names). */
const ALLOWED: Readonly<Record<string, ReadonlyArray<string | RegExp>>> = {
  // What the log line says about a button payload the bot cannot read (the person gets unclaimed.ts's words).
  'src/slack/actions/approval-buttons.ts': ['malformed approval button payload'],
  'src/slack/actions/page-button.ts': ['malformed page button payload'],
  'src/slack/actions/quick-delete-oldest.ts': ['malformed delete-oldest payload'],
  'src/slack/actions/break-glass-buttons.ts': ['malformed break-glass payload', 'malformed break-glass review payload'],
  'src/slack/events/app-home.ts': ['malformed app_home_opened event', 'malformed Home tab button payload'],
  'src/slack/home-board.ts': ['could not publish the Home tab'],
  // The request log's outcome and reason for what no listener claims.
  'src/slack/unclaimed.ts': ['invalid button', 'no listener claims it; answered as stale'],
  // Core's OVH steps (data), the keys of their words.
  'src/slack/blocks/problems.ts': [
    /^(list|read|create|delete|add|remove) (services|service|partitions|partition|frequencies|snapshots|snapshot|frequency|task)$/,
  ],
  // The console's commands (`/nasha snapshot help` typed after the command's name), the same in every language.
  'src/sandbox/console.ts': ['… snapshot help'],
  // Log lines: what a button payload the bot cannot read, or a failed answer, was (the person gets unclaimed.ts's words).
  'src/slack/actions/protection-buttons.ts': [
    'malformed … payload',
    'protection fix',
    'a protection fix',
    'status page',
  ],
  // The sandbox's own settings error (like src/config's, for whoever starts it), before any catalog applies.
  'src/sandbox/index.ts': ['LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent'],
  // The sandbox's bot configuration: a YAML file (its comments are for whoever reads the file, like nasha.example.yml).
  'src/sandbox/workspace.ts': [/^# The sandbox's bot configuration/],
};

const SCANNED = ['src/slack', 'src/sandbox'];

function modules(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path.endsWith('i18n') ? [] : modules(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('no user-facing words outside the catalogs', () => {
  it.each(CONVERTED)('%s takes every word from the catalog', (path) => {
    const source = readFileSync(join(ROOT, path), 'utf8');
    const stray = strayWords(source, ALLOWED[path] ?? []);
    expect(stray.map((s) => `${path}:${s.line}: ${s.tag ?? ''}${JSON.stringify(s.value)}`)).toEqual([]);
  });

  it('knows every module it scans: converted, knowingly not yet, or without words for people', () => {
    const lists = [...CONVERTED, ...Object.keys(NOT_YET), ...NO_WORDING];
    expect(lists.length).toBe(new Set(lists).size);
    const all = SCANNED.flatMap(modules).map((p) => relative('.', p));
    expect(all.filter((p) => !lists.includes(p))).toEqual([]);
    expect(lists.filter((p) => !all.includes(p))).toEqual([]);
  });
});

describe('the scanner (it can fail)', () => {
  it('finds words in strings, templates and say templates', () => {
    const source = [
      "section('Choose a service');",
      'const title = `Snapshots of ${service}`;',
      "plainText('Next', 24);",
      'return say`Unknown command ${verbatim(x)}.`;',
      "const nested = `${a ? 'Try again later' : ''}`;",
    ].join('\n');
    expect(strayWords(source).map((s) => s.value)).toEqual([
      'Choose a service',
      'Snapshots of …',
      'Next',
      'Unknown command ….',
      'Try again later',
    ]);
  });

  it('leaves ids, emoji, imports, comments, regular expressions, logs and errors alone', () => {
    const source = [
      "import { x } from '../text.js';",
      "const MODAL = { main: 'nasha_modal_main', kind: 'plain_text' };",
      'section(`:warning: ${words}`);',
      '// Not shown: a comment with words in it.',
      '/* Neither is this one. */',
      'const re = /^["“\'](.*)["”\']$/s;',
      "deps.logger.warn({ err: error }, 'views.open failed');",
      "deps.logger.info({ userId }, 'slash command');",
      "throw new Error('a quick snapshot run with nothing allowed was not refused');",
      'const sep = say`${a} — ${b}`;',
      'const value = `${service}/${partition}`;',
    ].join('\n');
    expect(strayWords(source)).toEqual([]);
  });

  it('an allow-list exempts exact strings only', () => {
    expect(strayWords("const a = 'Slack API';", ['Slack API'])).toEqual([]);
    expect(strayWords("const a = 'Slack API';", ['Slack']).length).toBe(1);
    expect(strayWords("const a = 'Slack API';", [/^Slack /])).toEqual([]);
  });

  it('lexes the project’s own modules without losing its place', () => {
    const source = readFileSync(join(ROOT, 'src/slack/commands/parse.ts'), 'utf8');
    const values = literalsOf(source).map((l) => l.value);
    expect(values).toContain('--expires');
    expect(values).toContain('schedule');
  });
});
