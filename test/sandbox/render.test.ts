import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  choiceLines,
  editedLines,
  escapeCommandText,
  type FormField,
  formErrors,
  type MessageRenderOptions,
  modalForm,
  mrkdwn,
  parseAnswer,
  renderMessage,
  viewState,
} from '../../src/sandbox/render.js';
import { SANDBOX_WORKSPACE, workspaceNames } from '../../src/sandbox/workspace.js';
import { createModal, mainModal } from '../../src/slack/blocks/modals.js';

function options(color = false): MessageRenderOptions {
  let n = 0;
  return { names: workspaceNames(SANDBOX_WORKSPACE), color, nextButtonNumber: () => ++n };
}

describe('mrkdwn for a terminal', () => {
  it("draws every emoji the bot's messages use (src/slack/blocks), none left as :shortcode:", () => {
    const dir = new URL('../../src/slack/blocks/', import.meta.url);
    const used = new Set(
      readdirSync(dir)
        .filter((file) => file.endsWith('.ts'))
        .flatMap((file) => [...readFileSync(new URL(file, dir), 'utf8').matchAll(/:([a-z][a-z0-9_+-]*):/g)])
        .map((match) => match[0]),
    );
    expect(used.size).toBeGreaterThan(20);
    const undrawn = [...used].filter((shortcode) => mrkdwn(`x ${shortcode} y`, options())[0]?.includes(shortcode));
    expect(undrawn).toEqual([]);
  });

  it('shows mentions, channels, groups, dates and links as a reader sees them', () => {
    const text =
      '<@U0ALICE> asked in <#C0OPS>, <!subteam^S0SRE> and <!subteam^S9X|@storage> told; expires <!date^1764000000^{date_short_pretty}|2025-11-24 16:00 UTC>; <https://ovh.com|docs>';
    expect(mrkdwn(text, options())).toEqual([
      '@alice asked in #ops, @sre and @storage told; expires 2025-11-24 16:00 UTC; docs (https://ovh.com)',
    ]);
  });

  it('unknown ids stay ids; escaped text is unescaped after tokens, so it cannot become a mention', () => {
    expect(mrkdwn('<@U0NOBODY> &lt;@U0ALICE&gt; a &amp; b', options())).toEqual(['@U0NOBODY <@U0ALICE> a & b']);
  });

  it('bold, italics, emoji and quotes; code spans kept verbatim', () => {
    expect(mrkdwn(':white_check_mark: *Done* _e.g._ `zpool-*/db` :unknown_thing:\n>quoted *line*', options())).toEqual([
      '✅ Done e.g. `zpool-*/db` :unknown_thing:',
      '▎ quoted line',
    ]);
  });

  it('colours bold and code when writing to a terminal', () => {
    expect(mrkdwn('*Done* `x`', options(true))).toEqual(['\x1b[1mDone\x1b[22m \x1b[36mx\x1b[39m']);
  });
});

describe('slash command text, escaped as Slack escapes it', () => {
  it('turns known @people, @groups and #channels into mentions and escapes &, <, >', () => {
    expect(escapeCommandText('can-i delete zpool-1/db @erin', SANDBOX_WORKSPACE)).toBe(
      'can-i delete zpool-1/db <@U0ERIN|erin>',
    );
    expect(escapeCommandText('@sre #incident @nobody a<b & c>d', SANDBOX_WORKSPACE)).toBe(
      '<!subteam^S0SRE|@sre> <#C0INCIDENT|incident> @nobody a&lt;b &amp; c&gt;d',
    );
  });
});

describe('messages', () => {
  it('renders headers, fields, sections, context, dividers and numbered buttons with their confirm dialog', () => {
    const card = {
      text: 'fallback',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Approval #ABC123' } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Requested by*\n<@U0CAROL>' },
            { type: 'mrkdwn', text: '*Target*\n`zpool-128310/data`' },
          ],
        },
        { type: 'section', text: { type: 'mrkdwn', text: '*Reason*\nfree space' } },
        { type: 'divider' },
        {
          type: 'actions',
          block_id: 'approval_ABC123',
          elements: [
            {
              type: 'button',
              action_id: 'approve',
              text: { type: 'plain_text', text: 'Approve' },
              value: 'ABC123',
              confirm: {
                title: { type: 'plain_text', text: 'Approve this change?' },
                text: { type: 'mrkdwn', text: 'delete `x`' },
                confirm: { type: 'plain_text', text: 'Approve' },
                deny: { type: 'plain_text', text: 'Back' },
              },
            },
            { type: 'button', action_id: 'reject', text: { type: 'plain_text', text: 'Reject…' }, value: 'ABC123' },
          ],
        },
        {
          type: 'context',
          elements: [
            { type: 'mrkdwn', text: 'one' },
            { type: 'plain_text', text: 'two' },
          ],
        },
        { type: 'image', image_url: 'https://x/y.png', alt_text: 'a chart' },
        { type: 'rich_text', elements: [] },
      ],
    };
    const rendered = renderMessage(card, options());
    expect(rendered.lines).toEqual([
      '━━ Approval #ABC123 ━━',
      'Requested by: @carol',
      'Target: `zpool-128310/data`',
      'Reason',
      'free space',
      '─'.repeat(40),
      '[1] Approve   [2] Reject…',
      'one  ·  two',
      '[image: a chart]',
      '[rich_text block: not shown in the console]',
    ]);
    expect(rendered.buttons).toEqual([
      {
        number: 1,
        actionId: 'approve',
        blockId: 'approval_ABC123',
        value: 'ABC123',
        text: 'Approve',
        url: undefined,
        confirm: { title: 'Approve this change?', text: 'delete `x`', confirm: 'Approve', deny: 'Back' },
      },
      expect.objectContaining({ number: 2, actionId: 'reject', confirm: undefined }),
    ]);
  });

  it('falls back to the text when there are no blocks; buttons of blocks without ids get one', () => {
    expect(renderMessage({ text: 'only *text*' }, options()).lines).toEqual(['only text']);
    const paged = renderMessage(
      { blocks: [{ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Next' } }] }] },
      options(),
    );
    expect(paged.buttons[0]).toMatchObject({ blockId: 'b0', actionId: 'button_0' });
  });

  it('an edit shows what it is about and only the lines that changed; a no-op edit shows nothing', () => {
    expect(editedLines(['✅ Title', 'Who: a', 'Outcome: started'], ['✅ Title', 'Who: a', 'Outcome: done'])).toEqual([
      '(edited) ✅ Title',
      'Outcome: done',
    ]);
    expect(editedLines(['a', 'b'], ['a', 'b'])).toEqual([]);
    expect(editedLines(['a'], ['b'])).toEqual(['(edited) b']);
  });
});

describe('modals as forms', () => {
  it('the create form: text with its default and the expiry as text, read-only blocks as lines', () => {
    const form = modalForm(createModal('meta', 'zpool-128310/logs', 'snap-logs-20261128-090000', 3), options());
    expect(form).toMatchObject({
      title: 'Create a snapshot',
      submit: 'Create',
      close: 'Cancel',
      callbackId: 'nasha_modal_create',
      privateMetadata: 'meta',
      lines: ['Custom snapshot of `zpool-128310/logs` (3/10 used).'],
      unsupported: [],
    });
    expect(form?.fields.map((f) => [f.kind, f.blockId, f.label, f.optional, f.initial])).toEqual([
      ['text', 'name', 'Name', false, { kind: 'text', text: 'snap-logs-20261128-090000' }],
      ['text', 'expiration', 'Expires', true, undefined],
    ]);
  });

  it('the main form: external selects (one dispatching), a static select with its initial option', () => {
    const form = modalForm(mainModal('meta'), options());
    expect(form?.fields.map((f) => [f.kind, f.blockId, f.dispatchAction, f.minQueryLength])).toEqual([
      ['external_select', 'service', true, 0],
      ['external_select', 'partition', false, 0],
      ['static_select', 'action', false, 3],
    ]);
    const action = form?.fields[2];
    expect(action?.initial).toEqual({ kind: 'option', option: { text: 'List snapshots', value: 'list' } });
    expect(action?.options.map((o) => o.value)).toEqual(['list', 'create', 'schedule', 'delete']);
  });

  it('a read-only modal has no submit; an unknown input is reported, not fatal', () => {
    const form = modalForm(
      {
        type: 'modal',
        title: { type: 'plain_text', text: 'Result' },
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text: 'done' } },
          { type: 'input', label: { type: 'plain_text', text: 'Who' }, element: { type: 'users_select' } },
        ],
      },
      options(),
    );
    expect(form).toMatchObject({ submit: undefined, lines: ['done'], fields: [], unsupported: ['Who'] });
    expect(modalForm({ not: 'a view' }, options())).toBeUndefined();
  });
});

const field = (overrides: Partial<FormField>): FormField => ({
  kind: 'text',
  blockId: 'b',
  actionId: 'a',
  label: 'L',
  hint: undefined,
  placeholder: undefined,
  optional: false,
  dispatchAction: false,
  options: [],
  initial: undefined,
  multiline: false,
  minLength: undefined,
  maxLength: undefined,
  minQueryLength: 0,
  ...overrides,
});

const choices = [
  { text: 'One', value: '1v' },
  { text: 'Two', value: '2v' },
  { text: 'Three', value: '3v' },
];

describe('answers, checked as Slack checks them before a form goes', () => {
  it('text: Enter keeps the default, required fields must be filled, lengths hold, \\n is a line break', () => {
    const name = field({ minLength: 3, maxLength: 5 });
    expect(parseAnswer(name, { kind: 'text', text: 'abc' }, '')).toEqual({ ok: true, keep: true });
    expect(parseAnswer(name, undefined, '  ')).toEqual({ ok: false, error: 'This field is required.' });
    expect(parseAnswer(name, undefined, 'ab')).toMatchObject({
      ok: false,
      error: expect.stringContaining('at least 3'),
    });
    expect(parseAnswer(name, undefined, 'abcdef')).toMatchObject({
      ok: false,
      error: expect.stringContaining('at most 5'),
    });
    expect(parseAnswer(name, undefined, 'a\\nb')).toEqual({
      ok: true,
      keep: false,
      value: { kind: 'text', text: 'a\nb' },
    });
    expect(parseAnswer(name, undefined, '-')).toEqual({ ok: false, error: 'This field is required.' });
    expect(parseAnswer(field({ optional: true }), undefined, '-')).toEqual({ ok: true, keep: false, value: undefined });
  });

  it('dates must be real calendar dates', () => {
    const date = field({ kind: 'datepicker', optional: true });
    expect(parseAnswer(date, undefined, '2026-12-31')).toEqual({
      ok: true,
      keep: false,
      value: { kind: 'date', date: '2026-12-31' },
    });
    for (const bad of ['2026-02-30', '31/12/2026', '2026-13-01'])
      expect(parseAnswer(date, undefined, bad)).toMatchObject({ ok: false });
    expect(parseAnswer(date, undefined, '')).toEqual({ ok: true, keep: true });
  });

  it('selects take a number from the list on screen; checkboxes a list of numbers or - for none', () => {
    const select = field({ kind: 'static_select', options: choices });
    expect(parseAnswer(select, undefined, '2')).toEqual({
      ok: true,
      keep: false,
      value: { kind: 'option', option: choices[1] },
    });
    expect(parseAnswer(select, undefined, '4')).toEqual({ ok: false, error: 'Type a number from 1 to 3.' });
    expect(parseAnswer(select, undefined, 'two')).toMatchObject({ ok: false });
    const boxes = field({ kind: 'checkboxes', options: choices, optional: true });
    expect(parseAnswer(boxes, undefined, '3, 1 3')).toEqual({
      ok: true,
      keep: false,
      value: { kind: 'options', options: [choices[2], choices[0]] },
    });
    expect(parseAnswer(boxes, undefined, '-')).toEqual({
      ok: true,
      keep: false,
      value: { kind: 'options', options: [] },
    });
    expect(parseAnswer(boxes, undefined, '1,9')).toMatchObject({ ok: false });
  });

  it('builds view.state.values as Slack reports them (initial values when untouched)', () => {
    const fields = [
      field({ blockId: 'name', actionId: 'name', initial: { kind: 'text', text: 'dflt' } }),
      field({ kind: 'datepicker', blockId: 'exp', actionId: 'exp' }),
      field({ kind: 'external_select', blockId: 'service', actionId: 'service' }),
      field({ kind: 'checkboxes', blockId: 'f', actionId: 'f', options: choices }),
    ];
    const values = new Map([
      ['service\u0000service', { kind: 'option' as const, option: { text: 'zpool-1', value: 'zpool-1' } }],
      ['f\u0000f', { kind: 'options' as const, options: [choices[0] ?? { text: '', value: '' }] }],
    ]);
    expect(viewState(fields, values)).toEqual({
      name: { name: { type: 'plain_text_input', value: 'dflt' } },
      exp: { exp: { type: 'datepicker', selected_date: null } },
      service: {
        service: {
          type: 'external_select',
          selected_option: { text: { type: 'plain_text', text: 'zpool-1', emoji: true }, value: 'zpool-1' },
        },
      },
      f: {
        f: {
          type: 'checkboxes',
          selected_options: [{ text: { type: 'plain_text', text: 'One', emoji: true }, value: '1v' }],
        },
      },
    });
  });

  it('maps response_action errors to field labels and numbers choices', () => {
    const fields = [field({ blockId: 'name', label: 'Name' })];
    expect(formErrors(fields, { name: 'bad', other: 'x' })).toEqual([
      { field: fields[0], label: 'Name', message: 'bad' },
      { field: undefined, label: 'other', message: 'x' },
    ]);
    expect(choiceLines(choices.slice(0, 2))).toEqual(['     1. One', '     2. Two']);
    expect(choiceLines(choices.slice(0, 2), ['2v'])).toEqual(['     1. [ ] One', '     2. [x] Two']);
  });
});
