import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ChangeAction } from '../../../src/core/ports.js';
import type { OvhFailure, OvhProblem } from '../../../src/core/problems.js';
import type { LostAnswer, Settlement } from '../../../src/core/reconcile.js';
import type { ChangeResult } from '../../../src/core/snapshot-service.js';
import { changeResultBlocks } from '../../../src/slack/blocks/replies.js';
import { checkFailureText, lostAnswerText, settlementText } from '../../../src/slack/blocks/settlements.js';
import { code, mrkdwn, say } from '../../../src/slack/text.js';
import { fuzzParams, hostileString } from '../../fuzz/hostile.js';

/** The words for how a change was settled on OVH, from core's data (reply, approval card, audit message). */
const TARGET = { service: 'zpool-128310', partition: 'data' };
const problem = (failure: OvhFailure, extra: Partial<OvhProblem> = {}): OvhProblem => ({
  kind: 'ovh',
  failure,
  step: 'read task',
  target: TARGET,
  name: undefined,
  httpStatus: undefined,
  ovhMessage: undefined,
  ...extra,
});

describe('lostAnswerText', () => {
  it('says how the answer went missing, a network error’s own words verbatim', () => {
    const cases: Array<[LostAnswer, string]> = [
      [{ kind: 'timeout' }, 'OVH did not answer in time'],
      [{ kind: 'http', httpStatus: 502 }, 'OVH answered HTTP 502'],
      [{ kind: 'http', httpStatus: undefined }, 'OVH answered HTTP ?'],
      [{ kind: 'parse' }, 'OVH answered with a page that is not its API answer'],
      [
        { kind: 'network', ovhMessage: 'ECONNRESET: socket hang up' },
        'the connection to OVH broke (`ECONNRESET: socket hang up`)',
      ],
      [{ kind: 'network', ovhMessage: undefined }, 'the connection to OVH broke (network error)'],
      [{ kind: 'not_heard' }, "OVH's answer never reached the bot"],
    ];
    for (const [lost, words] of cases) expect(mrkdwn(lostAnswerText(lost))).toBe(words);
  });
});

describe('checkFailureText', () => {
  it('words every way a check on OVH can fail, with the step and OVH’s words', () => {
    const cases: Array<[OvhProblem, string]> = [
      [problem('not_found'), 'not found while trying to read the task of `zpool-128310/data`'],
      [problem('unavailable', { httpStatus: 503 }), 'HTTP 503 while trying to read the task of `zpool-128310/data`'],
      [
        problem('refused', { httpStatus: 403, ovhMessage: 'This call has not been granted' }),
        'refused with HTTP 403: `This call has not been granted` while trying to read the task of `zpool-128310/data`',
      ],
      [problem('invalid'), 'invalid input while trying to read the task of `zpool-128310/data`'],
      [
        problem('timeout', { step: 'list snapshots' }),
        'no answer in time while trying to list the snapshots of `zpool-128310/data`',
      ],
      [
        problem('clock', { step: 'read frequencies' }),
        'the request time refused (clock skew) while trying to read the frequencies of `zpool-128310/data`',
      ],
      [problem('network'), 'a network error while trying to read the task of `zpool-128310/data`'],
      [problem('parse'), 'an answer that is not its API answer while trying to read the task of `zpool-128310/data`'],
      [problem('unexpected'), 'an unexpected error while trying to read the task of `zpool-128310/data`'],
    ];
    for (const [failed, words] of cases) expect(mrkdwn(checkFailureText(failed))).toBe(words);
  });
});

describe('settlementText', () => {
  const lost: LostAnswer = { kind: 'http', httpStatus: 503 };
  const shown = (kind: 'shown_made' | 'shown_not_made', action: ChangeAction, subject: string): Settlement => ({
    kind,
    lost,
    action,
    subject,
  });

  it('one sentence for every settlement, naming what the partition shows', () => {
    const cases: Array<[Settlement, string]> = [
      [
        shown('shown_made', 'snapshot.create', 'snap-1'),
        'OVH answered HTTP 503; OVH shows it done (snapshot `snap-1` exists; no OVH task found for it).',
      ],
      [
        shown('shown_not_made', 'snapshot.create', 'snap-1'),
        'OVH answered HTTP 503; OVH shows it was not done (there is no snapshot `snap-1`, and no OVH task was started for it).',
      ],
      [
        shown('shown_made', 'snapshot.delete', 'snap-1'),
        'OVH answered HTTP 503; OVH shows it done (snapshot `snap-1` is gone; no OVH task found for it).',
      ],
      [
        shown('shown_not_made', 'snapshot.delete', 'snap-1'),
        'OVH answered HTTP 503; OVH shows it was not done (snapshot `snap-1` is still there, and no OVH task was started for it).',
      ],
      [
        shown('shown_made', 'schedule.add', 'day-7'),
        'OVH answered HTTP 503; OVH shows it done (`day-7` is enabled; no OVH task found for it).',
      ],
      [
        shown('shown_not_made', 'schedule.add', 'day-7'),
        'OVH answered HTTP 503; OVH shows it was not done (`day-7` is not enabled, and no OVH task was started for it).',
      ],
      [
        shown('shown_made', 'schedule.remove', 'hour-1'),
        'OVH answered HTTP 503; OVH shows it done (`hour-1` is disabled; no OVH task found for it).',
      ],
      [
        shown('shown_not_made', 'schedule.remove', 'hour-1'),
        'OVH answered HTTP 503; OVH shows it was not done (`hour-1` is still enabled, and no OVH task was started for it).',
      ],
      [
        { kind: 'task_found', lost: { kind: 'timeout' }, taskId: 4242 },
        'OVH did not answer in time; the bot found OVH task `4242` for it and followed it.',
      ],
      [{ kind: 'not_sent' }, 'The bot stopped before sending it to OVH; nothing was changed.'],
      [
        { kind: 'cannot_ask', lost, problem: problem('unavailable', { httpStatus: 500 }), tries: 1, gaveUp: false },
        'OVH answered HTTP 503, and OVH cannot be asked now (HTTP 500 while trying to read the task of `zpool-128310/data`); the bot keeps checking and updates this record.',
      ],
      [
        { kind: 'cannot_ask', lost, problem: problem('timeout'), tries: 12, gaveUp: true },
        'OVH answered HTTP 503, and OVH cannot be asked now (no answer in time while trying to read the task of `zpool-128310/data`); gave up asking after 12 tries: check the partition on OVH.',
      ],
      [
        { kind: 'checking', lost: { kind: 'parse' } },
        'OVH answered with a page that is not its API answer; the bot is still checking whether OVH made the change.',
      ],
      [{ kind: 'other_replica' }, 'Another bot replica is finishing this change.'],
      [{ kind: 'settled_by_sweep' }, 'Settled on OVH while the bot was restarting; see the audit record.'],
      [{ kind: 'failed_before_made' }, 'It failed before OVH made it; see the audit record.'],
    ];
    for (const [settlement, words] of cases) expect(mrkdwn(settlementText(settlement))).toBe(words);
  });

  it('property: what OVH and users wrote (names, OVH’s words) stays inert', () => {
    fc.assert(
      fc.property(hostileString(80), hostileString(80), (subject, ovhMessage) => {
        const settlements: Settlement[] = [
          { kind: 'shown_made', lost: { kind: 'network', ovhMessage }, action: 'snapshot.delete', subject },
          {
            kind: 'cannot_ask',
            lost: { kind: 'timeout' },
            problem: problem('refused', { httpStatus: 403, ovhMessage, name: subject }),
            tries: 2,
            gaveUp: false,
          },
        ];
        for (const settlement of settlements) {
          const rendered = mrkdwn(settlementText(settlement));
          expect(rendered).not.toMatch(/<[@#!]/);
          expect((rendered.match(/`/g) ?? []).length % 2).toBe(0);
          // One line: a reply quotes it as a block quote.
          expect(rendered).not.toMatch(/[\r\n]/);
        }
      }),
      fuzzParams(200),
    );
  });
});

describe('changeResultBlocks', () => {
  const what = say`delete snapshot ${code('snap-1')}`;
  const texts = (result: ChangeResult) =>
    changeResultBlocks(what, result).map((block) =>
      block.type === 'section' ? block.text?.text : block.type === 'context' ? JSON.stringify(block.elements) : '',
    );

  it('quotes the words for how it ended: the task’s end, or the settlement', () => {
    expect(
      texts({
        outcome: 'failed',
        taskId: 7,
        failure: { outcome: 'failed', status: 'error', details: 'disk <!here>' },
      })[0],
    ).toBe(":x: Failed: delete snapshot `snap-1`.\n>OVH's task ended in `error`: `disk &lt;!here&gt;`.");
    expect(texts({ outcome: 'not_applied', taskId: null, settlement: { kind: 'not_sent' } })[0]).toBe(
      ':heavy_minus_sign: Not applied: delete snapshot `snap-1`.\n>The bot stopped before sending it to OVH; nothing was changed.',
    );
    expect(texts({ outcome: 'unknown', taskId: null, settlement: { kind: 'other_replica' } })[0]).toBe(
      ':grey_question: Unknown, being checked: delete snapshot `snap-1`.\n>Another bot replica is finishing this change.',
    );
    const applied = texts({
      outcome: 'applied',
      taskId: null,
      settlement: { kind: 'shown_made', lost: { kind: 'not_heard' }, action: 'snapshot.delete', subject: 'snap-1' },
    })[0];
    expect(applied).toBe(
      ":white_check_mark: Applied (confirmed on OVH): delete snapshot `snap-1`.\n>OVH's answer never reached the bot; OVH shows it done (snapshot `snap-1` is gone; no OVH task found for it).",
    );
  });
});
