import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVAL_ACTION } from '../../../src/slack/blocks/approval-card.js';
import { FIELD, MODAL } from '../../../src/slack/blocks/modals.js';
import { QUICK_ACTION, QUICK_MODAL } from '../../../src/slack/blocks/quick-summary.js';
import { PAGE_ACTION } from '../../../src/slack/blocks/replies.js';
import { Arena, type Exchange, ONE_PARTITION_USER, type Owed } from '../../support/attack-arena.js';
import { APPROVALS_CHANNEL, CHANNELS, messageText, USERS } from '../../support/bot-harness.js';
import {
  blockSuggestion,
  select,
  staticSelect,
  textInput,
  type ViewLike,
  viewSubmission,
} from '../../support/slack-payloads.js';

/**
 * Attack classes: crafted button values and private_metadata (tampered, another user's, another request's, of
 * the wrong type, oversized), self-approval, and concurrent clicks racing each other (approve against cancel,
 * approve against reject). Buttons and forms only say *what*; who may is decided again for the verified user.
 */
let arena: Arena;
beforeAll(async () => {
  arena = await Arena.start();
});
afterAll(async () => {
  await arena?.close();
});

const BACKUPS = 'zpool-128310/partition/backups/customSnapshot';

function requestApproval(text: string, user: string = USERS.operator): Promise<string> {
  return arena.requestApproval(text, user);
}

function click(
  attack: string,
  user: string,
  actionId: string,
  value: string | undefined,
  { owed = 'reply' as Owed, channel = APPROVALS_CHANNEL as string } = {},
): Promise<Exchange> {
  const payload = arena.buttonPayload(user, actionId, value, channel);
  return arena.interact(attack, payload, { owed });
}

/** The clicker's answer (after it came). */
async function answerTo(e: Exchange): Promise<string> {
  await arena.waitFor(() => arena.replies(e).length > 0, `the answer to ${e.attack}`);
  return arena
    .replies(e)
    .map((r) => messageText(r))
    .join('\n');
}

/** Opens `/nasha snapshot` as `user`: the main form's signed metadata, as issued to them. */
async function mainFormOf(user: string): Promise<string> {
  const e = await arena.command(`setup: open the form as ${user}`, 'snapshot', { user });
  return (await arena.openedView(e)).private_metadata;
}

/** The create form's metadata for `user` on a partition (from the main form's Next). */
async function createFormOf(user: string, service: string, partition: string): Promise<string> {
  const next = await arena.interact(
    'setup: choose create',
    viewSubmission(user, {
      callback_id: MODAL.main,
      private_metadata: await mainFormOf(user),
      state: {
        service: { service: select(service) },
        partition: { partition: select(partition) },
        action: { action: staticSelect('create') },
      },
    }),
    { owed: 'form' },
  );
  return (JSON.parse(next.response) as { view: { private_metadata: string } }).view.private_metadata;
}

/** The reject form's metadata, as issued to `user` for request `id`. */
async function rejectFormOf(user: string, id: string): Promise<string> {
  const e = await click('setup: open the reject form', user, APPROVAL_ACTION.reject, id);
  return (await arena.openedView(e)).private_metadata;
}

function submit(attack: string, user: string, view: Omit<ViewLike, 'id'>): Promise<Exchange> {
  return arena.submit(attack, user, view);
}

const errorsOf = (e: Exchange) => (JSON.parse(e.response) as { errors?: Record<string, string> }).errors ?? {};
const EXPIRED = /expired or was not opened for you/;
const flip = (text: string, at: number) => `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;

describe('crafted button values', () => {
  const page = `${PAGE_ACTION}_next`;
  const pageValue = (service: string, extra: object = {}) =>
    JSON.stringify({ view: 'list', service, page: 1, ...extra });

  it.each([
    ['a service outside the grants (no grant)', USERS.nobody, pageValue('zpool-128310')],
    ['a service outside the grants (one partition)', ONE_PARTITION_USER, pageValue('zpool-128310')],
    [
      'a value that claims a user and a role',
      USERS.nobody,
      pageValue('zpool-204117', { user: USERS.admin, role: 'admin' }),
    ],
  ])('page button: %s → "not found, or not yours"', async (attack, user, value) => {
    const e = await click(attack, user, page, value, { channel: CHANNELS.ops });
    expect(await answerTo(e)).toMatch(/not found, or is not yours/);
  });

  it.each([
    ['not JSON', 'not json'],
    ['a number', '123'],
    ['an array', '[]'],
    ['fields of the wrong type', '{"view":"list","service":123,"page":"1"}'],
    ['a page out of range', '{"view":"list","service":"zpool-128310","page":1e9}'],
    ['oversized (3 KB)', JSON.stringify({ view: 'list', service: 'zpool-128310', page: 1, pad: 'x'.repeat(3_000) })],
    ['oversized (200 KB)', 'x'.repeat(200_000)],
  ])('page button, value %s → "no longer valid", nothing done', async (attack, value) => {
    const e = await click(`page button: ${attack}`, USERS.admin, page, value, { channel: CHANNELS.ops });
    expect(await answerTo(e)).toMatch(/button is no longer valid/);
  });

  it.each([
    ['lower case', 'abcdef'],
    ['too long', 'ABCDEFG'],
    ['a path', '../ABCD'],
    ['JSON', '{"id":"ABCDEF"}'],
    ['empty', ''],
    ['missing', undefined],
  ])('approve button, request id %s → "no longer valid"', async (attack, value) => {
    const e = await click(`approve button: ${attack}`, USERS.approver, APPROVAL_ACTION.approve, value);
    expect(await answerTo(e)).toMatch(/button is no longer valid/);
  });

  it('approve, reject and cancel of a request that does not exist: "there is no approval request"', async () => {
    for (const action of Object.values(APPROVAL_ACTION)) {
      const e = await click(`${action} of an unknown request`, USERS.approver, action, 'ZZZZZZ');
      if (action !== APPROVAL_ACTION.reject) expect(await answerTo(e)).toMatch(/There is no approval request/);
    }
  });

  it.each([
    [
      'a partition outside the grants',
      ONE_PARTITION_USER,
      { s: 'zpool-128310', p: 'backups', n: 'snap-backups-week-01', l: 'x' },
    ],
    ['no grant at all', USERS.nobody, { s: 'zpool-204117', p: 'db', n: 'snap-db-keep', l: 'x' }],
    ['a snapshot that does not exist', USERS.operator, { s: 'zpool-128310', p: 'backups', n: 'snap-nope', l: 'x' }],
    ['a path as the name', USERS.admin, { s: 'zpool-128310', p: 'backups', n: '../../x', l: 'x' }],
    ['a path as the service', USERS.admin, { s: '..', p: 'backups', n: 'snap-backups-week-01', l: 'x' }],
  ])('"Delete oldest" crafted for %s: refused or put to approval, never deleted', async (attack, user, value) => {
    const e = await click(`delete oldest: ${attack}`, user, QUICK_ACTION.deleteOldest, JSON.stringify(value), {
      channel: CHANNELS.incident,
    });
    expect(await answerTo(e)).not.toMatch(/^Done/m);
  });

  it('"Delete oldest" with a label over its limit → "no longer valid"', async () => {
    const value = JSON.stringify({ s: 'zpool-128310', p: 'backups', n: 'snap-backups-week-01', l: 'x'.repeat(61) });
    const e = await click('delete oldest: oversized label', USERS.admin, QUICK_ACTION.deleteOldest, value, {
      channel: CHANNELS.incident,
    });
    expect(await answerTo(e)).toMatch(/button is no longer valid/);
  });
});

describe('crafted private_metadata', () => {
  let adminCreate: string;
  beforeAll(async () => {
    adminCreate = await createFormOf(USERS.admin, 'zpool-128310', 'logs');
  });
  const createState = { name: { name: textInput('from-crafted-metadata') } };

  it.each([
    ['another user’s (no grant)', USERS.nobody],
    ['another user’s (an operator, who could create there)', USERS.operator],
    ['another user’s (one partition)', ONE_PARTITION_USER],
  ])(
    'the create form with metadata issued to the admin, submitted by %s → expired, nothing created',
    async (attack, user) => {
      const e = await submit(`metadata: ${attack}`, user, {
        callback_id: MODAL.create,
        private_metadata: adminCreate,
        state: createState,
      });
      expect(errorsOf(e)[FIELD.name]).toMatch(EXPIRED);
    },
  );

  it('tampered: any one character changed, in the body or the signature → expired', async () => {
    for (const at of [0, 5, Math.floor(adminCreate.length / 2), adminCreate.length - 1]) {
      const e = await submit(`metadata tampered at ${at}`, USERS.admin, {
        callback_id: MODAL.create,
        private_metadata: flip(adminCreate, at),
        state: createState,
      });
      expect(errorsOf(e)[FIELD.name]).toMatch(EXPIRED);
    }
  });

  it('the body re-encoded with another target and the old signature → expired', async () => {
    const [body = '', signature = ''] = adminCreate.split('.');
    const data = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    for (const change of [{ u: USERS.nobody }, { s: 'zpool-204117', p: 'db' }, { c: CHANNELS.ops, t: Date.now() }]) {
      const forged = `${Buffer.from(JSON.stringify({ ...data, ...change })).toString('base64url')}.${signature}`;
      const e = await submit('metadata re-encoded', USERS.nobody, {
        callback_id: MODAL.create,
        private_metadata: forged,
        state: createState,
      });
      expect(errorsOf(e)[FIELD.name]).toMatch(EXPIRED);
    }
  });

  it('of the wrong type: another form’s metadata, a number, an object, null → refused inline', async () => {
    const id = await requestApproval(
      'snapshot delete zpool-128310/backups/snap-backups-week-03 --reason metadata test',
    );
    const reject = await rejectFormOf(USERS.approver, id);
    const main = await mainFormOf(USERS.admin);
    const wrong: Array<[string, string, unknown, Record<string, Record<string, object>>]> = [
      ['the reject form’s metadata on the create form', MODAL.create, reject, createState],
      [
        'the create form’s metadata on the reject form',
        MODAL.reject,
        adminCreate,
        { reason: { reason: textInput('no reason') } },
      ],
      [
        'the main form’s metadata on the delete form',
        MODAL.delete,
        main,
        { snapshot: { snapshot: staticSelect('x') } },
      ],
      ['the main form’s metadata on the reason form', MODAL.reason, main, { reason: { reason: textInput('why not') } }],
      ['the create form’s metadata on the quick form', QUICK_MODAL, adminCreate, {}],
    ];
    for (const [attack, callback, metadata] of wrong) {
      const user = callback === MODAL.reject ? USERS.admin : USERS.admin;
      const e = await submit(`metadata: ${attack}`, user, {
        callback_id: callback,
        private_metadata: metadata as string,
        state: wrong.find((w) => w[0] === attack)?.[3] ?? {},
      });
      expect(e.response, attack).toMatch(/"response_action":"errors"/);
    }
    for (const [attack, metadata] of [
      ['a number', 123],
      ['an object', { u: USERS.admin }],
      ['null', null],
    ] as const) {
      const payload = viewSubmission(USERS.admin, {
        id: `V-${randomUUID()}`,
        callback_id: MODAL.create,
        private_metadata: '',
        state: createState,
      }) as { view: Record<string, unknown> };
      payload.view['private_metadata'] = metadata;
      const e = await arena.interact(`metadata: ${attack}`, payload, { owed: 'form' });
      expect(e.status, attack).toBe(200);
    }
  });

  it('a create form’s metadata on the delete form (a direct change turned destructive): put to approval, nothing deleted', async () => {
    const metadata = await createFormOf(USERS.operator, 'zpool-128310', 'backups');
    const e = await submit('metadata: create → delete', USERS.operator, {
      callback_id: MODAL.delete,
      private_metadata: metadata,
      state: { snapshot: { snapshot: staticSelect('snap-backups-week-04') } },
    });
    expect(e.response).toMatch(/"response_action":"errors"/);
  });

  it('another request’s reject form cannot decide this one: the request id is inside the signature', async () => {
    const first = await requestApproval('snapshot delete zpool-128310/backups/snap-backups-week-05 --reason first');
    const second = await requestApproval('snapshot delete zpool-128310/backups/snap-backups-week-06 --reason second');
    const metadata = await rejectFormOf(USERS.approver, first);
    const [body = '', signature = ''] = metadata.split('.');
    const data = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const pointed = `${Buffer.from(JSON.stringify({ ...data, r: second })).toString('base64url')}.${signature}`;
    const e = await submit('reject form pointed at another request', USERS.approver, {
      callback_id: MODAL.reject,
      private_metadata: pointed,
      state: { reason: { reason: textInput('not this one') } },
    });
    expect(errorsOf(e)[FIELD.reason]).toMatch(EXPIRED);
    // And the form issued to one approver does not work for another.
    const other = await submit('reject form of another approver', USERS.approver2, {
      callback_id: MODAL.reject,
      private_metadata: metadata,
      state: { reason: { reason: textInput('not mine to use') } },
    });
    expect(errorsOf(other)[FIELD.reason]).toMatch(EXPIRED);
  });

  it('oversized: 10 KB and 1 MB of metadata → refused inline, answered at once', async () => {
    for (const size of [10_000, 1_000_000]) {
      const e = await submit(`metadata of ${size} bytes`, USERS.admin, {
        callback_id: MODAL.create,
        private_metadata: `${'A'.repeat(size)}.${'B'.repeat(43)}`,
        state: createState,
      });
      expect(errorsOf(e)[FIELD.name]).toMatch(EXPIRED);
    }
  });

  it('option loads with another user’s or forged metadata: no options', async () => {
    for (const [attack, user, metadata] of [
      ['another user’s', USERS.nobody, adminCreate],
      ['forged', USERS.admin, 'eyJ1IjoiVTBBRE1JTiJ9.forged'],
    ] as const) {
      const e = await arena.interact(
        `options with ${attack} metadata`,
        blockSuggestion(user, FIELD.service, '', { callback_id: MODAL.main, private_metadata: metadata }),
        { owed: 'options' },
      );
      expect(JSON.parse(e.response)).toEqual({ options: [] });
    }
  });
});

describe('self-approval and decisions by the wrong person', () => {
  it('the requester approving their own request (operator, and an approver) is refused', async () => {
    const byOperator = await requestApproval('snapshot delete zpool-128310/backups/snap-backups-week-07 --reason mine');
    const e = await click('self-approval (operator)', USERS.operator, APPROVAL_ACTION.approve, byOperator);
    expect(await answerTo(e)).toMatch(/own request|your own/i);
    const byApprover = await requestApproval(
      'snapshot delete zpool-128310/backups/snap-backups-week-08 --reason mine',
      USERS.approver,
    );
    const self = await click('self-approval (approver)', USERS.approver, APPROVAL_ACTION.approve, byApprover);
    expect(await answerTo(self)).toMatch(/own request|your own/i);
    // Rejecting one's own request is refused too; cancelling it is the way.
    const metadata = await rejectFormOf(USERS.approver, byApprover);
    const rejected = await submit('self-rejection', USERS.approver, {
      callback_id: MODAL.reject,
      private_metadata: metadata,
      state: { reason: { reason: textInput('changed my mind') } },
    });
    expect(rejected.response).toMatch(/"response_action":"errors"/);
  });

  it('approvers without rights on the target, viewers and strangers cannot approve; only the requester cancels', async () => {
    const id = await requestApproval('snapshot delete zpool-128310/backups/snap-backups-week-09 --reason others');
    for (const [attack, user] of [
      ['approver on another service', USERS.scopedApprover],
      ['viewer', USERS.viewer],
      ['no grant', USERS.nobody],
      ['one partition', ONE_PARTITION_USER],
    ] as const) {
      const e = await click(`approve by ${attack}`, user, APPROVAL_ACTION.approve, id);
      expect(await answerTo(e)).not.toMatch(/approved/i);
    }
    const cancel = await click('cancel by an approver (not the requester)', USERS.approver, APPROVAL_ACTION.cancel, id);
    expect(await answerTo(cancel)).toMatch(/only the requester|not your request|requester/i);
  });

  it('control: a scoped approver approves a request on their service, and it runs', async () => {
    const name = 'control: scoped approver';
    arena.allow(name, 'DELETE', 'zpool-204117/partition/db/customSnapshot/snap-db-before-migration');
    const id = await requestApproval(
      'snapshot delete zpool-204117/db/snap-db-before-migration --reason control',
      USERS.scoped,
    );
    const e = await click(name, USERS.scopedApprover, APPROVAL_ACTION.approve, id);
    expect(await answerTo(e)).toMatch(/approved/i);
  });
});

describe('concurrent clicks', () => {
  const deletes = (name: string) =>
    arena.h.sim.requests.filter((r) => r.method === 'DELETE' && r.path === `/1.0/dedicated/nasha/${BACKUPS}/${name}`);

  it('Approve (by two approvers) racing Cancel (by the requester), 3 each: one outcome, at most one OVH call', async () => {
    const name = 'approve racing cancel';
    arena.allow(name, 'DELETE', `${BACKUPS}/snap-backups-week-10`, { min: 0, max: 1 });
    const id = await requestApproval('snapshot delete zpool-128310/backups/snap-backups-week-10 --reason race');
    const clicks = await Promise.all(
      Array.from({ length: 3 }, (_, i) => [
        click(name, i % 2 === 0 ? USERS.approver : USERS.approver2, APPROVAL_ACTION.approve, id),
        click(name, USERS.operator, APPROVAL_ACTION.cancel, id),
      ]).flat(),
    );
    const answers = await Promise.all(clicks.map(answerTo));
    const won = answers.filter((a) => /You approved|Request #\w+ cancelled/.test(a));
    expect(won.length, answers.join('\n---\n')).toBe(1);
    await arena.settle();
    const approved = /approved/i.test(won[0] ?? '');
    expect(deletes('snap-backups-week-10')).toHaveLength(approved ? 1 : 0);
  });

  it('Approve racing a Reject submission: one outcome, at most one OVH call', async () => {
    const name = 'approve racing reject';
    arena.allow(name, 'DELETE', `${BACKUPS}/snap-backups-week-03`, { min: 0, max: 1 });
    // week-03 has an open request from the metadata tests: decide that one.
    const id = await requestApproval('snapshot delete zpool-128310/backups/snap-backups-week-03 --reason race again');
    const metadata = await rejectFormOf(USERS.approver2, id);
    const [approve, reject] = await Promise.all([
      click(name, USERS.approver, APPROVAL_ACTION.approve, id),
      submit(name, USERS.approver2, {
        callback_id: MODAL.reject,
        private_metadata: metadata,
        state: { reason: { reason: textInput('racing the approval') } },
      }),
    ]);
    const approved = /You approved/.test(await answerTo(approve));
    expect(approved).toBe(reject.response !== '');
    await arena.settle();
    expect(deletes('snap-backups-week-03')).toHaveLength(approved ? 1 : 0);
  });

  it('6 Approve clicks by two approvers at once: the change runs exactly once', async () => {
    const name = '6 concurrent approvals';
    arena.allow(name, 'DELETE', `${BACKUPS}/snap-backups-week-05`);
    // week-05 has an open request (filed above): approve it.
    const id = await requestApproval('snapshot delete zpool-128310/backups/snap-backups-week-05 --reason again');
    const clicks = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        click(name, i % 2 === 0 ? USERS.approver : USERS.approver2, APPROVAL_ACTION.approve, id),
      ),
    );
    await Promise.all(clicks.map(answerTo));
    await arena.settle();
    expect(deletes('snap-backups-week-05')).toHaveLength(1);
  });

  it('6 Cancel clicks by the requester at once: cancelled once, nothing sent', async () => {
    const id = await requestApproval('snapshot delete zpool-128310/backups/snap-backups-week-06 --reason cancel race');
    const clicks = await Promise.all(
      Array.from({ length: 6 }, () => click('6 concurrent cancels', USERS.operator, APPROVAL_ACTION.cancel, id)),
    );
    const answers = await Promise.all(clicks.map(answerTo));
    expect(answers.filter((a) => /Request #\w+ cancelled/.test(a)).length, answers.join('\n')).toBe(1);
  });
});

describe('after every attack of this file', () => {
  it('no unauthorized OVH write, none unanswered, no ping, no name beyond grants, within Block Kit limits', async () => {
    expect(await arena.violations()).toEqual([]);
  });
});
