import { describe, expect, it } from 'vitest';
import { controlCall, httpsCall, ovhCall, signOvhRequest } from '../../support/ovh-signing.js';
import { api, P128, startTestSimulator } from './harness.js';

const nowSeconds = () => Math.round(Date.now() / 1000);

describe('GET /1.0/auth/time', () => {
  it('answers the bare server time, unauthenticated, skew included', async () => {
    const sim = await startTestSimulator({ authNow: () => 1_767_225_600_987, skewSeconds: 42 });
    const res = await httpsCall(sim, { path: '/1.0/auth/time' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('1767225642');
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['x-ovh-queryid']).toMatch(/^SIM\.\d+$/);
    expect(sim.requests).toMatchObject([{ method: 'GET', path: '/1.0/auth/time', status: 200, consumerKey: null }]);

    sim.setSkew(-10);
    expect((await httpsCall(sim, { path: '/1.0/auth/time' })).json).toBe(1_767_225_590);
  });
});

describe('signed calls', () => {
  it('accepts a correct signature over https://<host without port><path>', async () => {
    const sim = await startTestSimulator();
    const res = await api(sim).get('/dedicated/nasha');
    expect(res.status).toBe(200);
    expect(sim.requests.at(-1)).toMatchObject({ path: '/1.0/dedicated/nasha', consumerKey: 'sandbox-consumer-key' });
  });

  it('signs the query string and the body too', async () => {
    const sim = await startTestSimulator();
    expect((await api(sim).get(`${P128}/task?status=todo`)).status).toBe(200);
    const res = await api(sim).post(`${P128}/partition/logs/snapshot`, { snapshotType: 'day-1' });
    expect(res.status).toBe(200);
  });

  it('checks the signature against publicHost when configured', async () => {
    const sim = await startTestSimulator({ publicHost: 'eu.api.ovh.com' });
    expect((await api(sim).get('/dedicated/nasha', { signatureHost: 'eu.api.ovh.com' })).status).toBe(200);
    expect((await api(sim).get('/dedicated/nasha')).status).toBe(400);
  });

  it('rejects a bad signature with INVALID_SIGNATURE', async () => {
    const sim = await startTestSimulator();
    const expected = { errorCode: 'INVALID_SIGNATURE', httpCode: '400 Bad Request', message: 'Invalid signature' };
    for (const extra of [
      { appSecret: 'wrong-secret' },
      { signatureHost: `127.0.0.1:${sim.port}` }, // the port must not be signed (node-ovh never does)
      { signature: '$1$0000000000000000000000000000000000000000' },
    ]) {
      const res = await api(sim).get('/dedicated/nasha', extra);
      expect(res.status).toBe(400);
      expect(res.json).toEqual(expected);
    }
    // A body other than the signed one.
    const tampered = await ovhCall(sim, {
      method: 'POST',
      path: `${P128}/partition/logs/snapshot`,
      body: '{"snapshotType":"day-1"}',
      signature: signOvhRequest({
        appSecret: sim.credentials.appSecret,
        consumerKey: sim.credentials.consumerKey,
        method: 'POST',
        url: `https://127.0.0.1/1.0${P128}/partition/logs/snapshot`,
        body: '{"snapshotType":"day-2"}',
        timestamp: nowSeconds(),
      }),
    });
    expect(tampered.status).toBe(400);
    expect(tampered.json).toEqual(expected);
  });

  it('rejects a timestamp outside the tolerance with QUERY_TIME_OUT', async () => {
    const sim = await startTestSimulator();
    const expected = { errorCode: 'QUERY_TIME_OUT', httpCode: '400 Bad Request', message: 'Query out of time' };
    for (const offset of [-200, 200]) {
      const res = await api(sim).get('/dedicated/nasha', { timestamp: nowSeconds() + offset });
      expect(res.status).toBe(400);
      expect(res.json).toEqual(expected);
    }
    expect((await api(sim).get('/dedicated/nasha', { timestamp: nowSeconds() - 150 })).status).toBe(200);
  });

  it('with a server skew, only clients that synced from /auth/time get through', async () => {
    const sim = await startTestSimulator({ skewSeconds: 600 });
    expect((await api(sim).get('/dedicated/nasha')).status).toBe(400);
    const serverTime = (await httpsCall(sim, { path: '/1.0/auth/time' })).json as number;
    const delta = serverTime - nowSeconds();
    expect((await api(sim).get('/dedicated/nasha', { timestamp: nowSeconds() + delta })).status).toBe(200);
  });

  it('uses the injectable auth clock for timestamp checks', async () => {
    const sim = await startTestSimulator({ authNow: () => Date.UTC(2030, 0, 1) });
    expect((await api(sim).get('/dedicated/nasha')).status).toBe(400);
    const ok = await api(sim).get('/dedicated/nasha', { timestamp: Date.UTC(2030, 0, 1) / 1000 + 5 });
    expect(ok.status).toBe(200);
  });

  it('rejects a missing or unknown application key with INVALID_KEY', async () => {
    const sim = await startTestSimulator();
    const expected = { errorCode: 'INVALID_KEY', httpCode: '403 Forbidden', message: 'Invalid application key' };
    for (const appKey of [null, 'someone-elses-key']) {
      const res = await api(sim).get('/dedicated/nasha', { appKey });
      expect(res.status).toBe(403);
      expect(res.json).toEqual(expected);
    }
  });

  it('asks unsigned calls to log in first', async () => {
    const sim = await startTestSimulator();
    const expected = { class: 'Client::Unauthorized', message: 'You must login first' };
    const unsigned = await api(sim).get('/dedicated/nasha', { sign: false });
    expect(unsigned.status).toBe(401);
    expect(unsigned.json).toEqual(expected);
    // node-ovh never signs /auth paths, so this is what it gets from GET /auth/currentCredential.
    const current = await api(sim).get('/auth/currentCredential', { sign: false });
    expect(current.status).toBe(401);
    // Consumer key without a signature.
    const noSignature = await httpsCall(sim, {
      path: '/1.0/dedicated/nasha',
      headers: {
        'X-Ovh-Application': 'sandbox-app-key',
        'X-Ovh-Consumer': 'sandbox-consumer-key',
        'X-Ovh-Timestamp': String(nowSeconds()),
      },
    });
    expect(noSignature.status).toBe(401);
  });

  it('rejects an unknown consumer key with NOT_CREDENTIAL', async () => {
    const sim = await startTestSimulator();
    const res = await api(sim).get('/dedicated/nasha', { consumerKey: 'no-such-ck' });
    expect(res.status).toBe(403);
    expect(res.json).toEqual({
      errorCode: 'NOT_CREDENTIAL',
      httpCode: '403 Forbidden',
      message: 'This credential does not exist',
    });
  });

  it('enforces consumer-key access rules with NOT_GRANTED_CALL', async () => {
    const sim = await startTestSimulator({
      consumerKeys: [{ consumerKey: 'read-only-ck', accessRules: [{ method: 'GET', path: '/dedicated/nasha/*' }] }],
    });
    const readOnly = api(sim, { consumerKey: 'read-only-ck' });
    const notGranted = {
      errorCode: 'NOT_GRANTED_CALL',
      httpCode: '403 Forbidden',
      message: 'This call has not been granted',
    };

    expect((await readOnly.get(`${P128}/partition/data/snapshot`)).status).toBe(200);
    // `/dedicated/nasha/*` does not cover `/dedicated/nasha` itself.
    const list = await readOnly.get('/dedicated/nasha');
    expect(list.status).toBe(403);
    expect(list.json).toEqual(notGranted);
    const post = await readOnly.post(`${P128}/partition/data/snapshot`, { snapshotType: 'day-2' });
    expect(post.status).toBe(403);
    expect(post.json).toEqual(notGranted);
    // The sandbox key keeps full access; several consumer keys coexist.
    expect((await api(sim).post(`${P128}/partition/data/snapshot`, { snapshotType: 'day-2' })).status).toBe(200);
  });

  it('adds consumer keys at runtime, pending ones being refused with INVALID_CREDENTIAL', async () => {
    const sim = await startTestSimulator();
    sim.addConsumerKey({ consumerKey: 'pending-ck', status: 'pendingValidation' });
    const res = await api(sim, { consumerKey: 'pending-ck' }).get('/dedicated/nasha');
    expect(res.status).toBe(403);
    expect(res.json).toEqual({
      errorCode: 'INVALID_CREDENTIAL',
      httpCode: '403 Forbidden',
      message: 'This credential is not valid',
    });
    expect(sim.validateCredential('pending-ck')).toBe(true);
    expect(sim.validateCredential('unknown-ck')).toBe(false);
    expect((await api(sim, { consumerKey: 'pending-ck' }).get('/dedicated/nasha')).status).toBe(200);
  });
});

describe('credential request flow (POST /1.0/auth/credential)', () => {
  const accessRules = [
    { method: 'GET', path: '/dedicated/nasha' },
    { method: 'GET', path: '/dedicated/nasha/*' },
    { method: 'POST', path: '/dedicated/nasha/*/partition/*/customSnapshot' },
  ];
  const requestCredential = (
    sim: Awaited<ReturnType<typeof startTestSimulator>>,
    body: unknown,
    appKey = 'sandbox-app-key',
  ) =>
    httpsCall(sim, {
      method: 'POST',
      path: '/1.0/auth/credential',
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', 'X-Ovh-Application': appKey },
    });

  it('creates a pending consumer key with exactly the requested rules, usable once validated', async () => {
    const sim = await startTestSimulator();
    const created = await requestCredential(sim, { accessRules });
    expect(created.status).toBe(200);
    const { consumerKey, validationUrl, state } = created.json as Record<string, string>;
    expect(state).toBe('pendingValidation');
    expect(consumerKey).toMatch(/^[0-9a-f]{32}$/);
    expect(validationUrl).toBe(`${sim.origin}/_sim/validate/${consumerKey}`);

    const client = api(sim, { consumerKey });
    const before = await client.get('/dedicated/nasha');
    expect(before.status).toBe(403);
    expect(before.json).toMatchObject({ errorCode: 'INVALID_CREDENTIAL' });

    const visit = await httpsCall(sim, { path: new URL(validationUrl ?? '').pathname });
    expect(visit.status).toBe(200);
    expect(visit.json).toEqual({ consumerKey, status: 'validated' });

    expect((await client.get('/dedicated/nasha')).status).toBe(200);
    expect((await client.post(`${P128}/partition/data/customSnapshot`, { name: 'snap-a' })).status).toBe(200);
    const denied = await client.post(`${P128}/partition/data/snapshot`, { snapshotType: 'day-2' });
    expect(denied.json).toMatchObject({ errorCode: 'NOT_GRANTED_CALL' });

    const current = await client.get('/auth/currentCredential');
    expect(current.status).toBe(200);
    expect(current.json).toMatchObject({ status: 'validated', rules: accessRules });
  });

  it('redirects after validation when a redirection was given', async () => {
    const sim = await startTestSimulator();
    const created = await requestCredential(sim, { accessRules, redirection: 'https://example.org/done' });
    const { consumerKey } = created.json as Record<string, string>;
    const visit = await controlCall(sim, 'GET', `/validate/${consumerKey}`);
    expect(visit.status).toBe(303);
    expect(visit.headers.location).toBe('https://example.org/done');
    expect((await controlCall(sim, 'GET', '/validate/unknown')).status).toBe(404);
  });

  it('validates at once with autoValidateCredentials, still answering pendingValidation like OVH', async () => {
    const sim = await startTestSimulator({ autoValidateCredentials: true });
    const created = await requestCredential(sim, { accessRules });
    const { consumerKey, state } = created.json as Record<string, string>;
    expect(state).toBe('pendingValidation');
    expect((await api(sim, { consumerKey }).get('/dedicated/nasha')).status).toBe(200);
  });

  it('needs a known application key and a valid body', async () => {
    const sim = await startTestSimulator();
    expect((await requestCredential(sim, { accessRules }, 'bad-key')).json).toMatchObject({ errorCode: 'INVALID_KEY' });
    const noRules = await requestCredential(sim, {});
    expect(noRules.status).toBe(400);
    expect(noRules.json).toMatchObject({
      class: 'Client::BadRequest',
      message: expect.stringContaining('accessRules'),
    });
    const badMethod = await requestCredential(sim, { accessRules: [{ method: 'PATCH', path: '/x' }] });
    expect(badMethod.status).toBe(400);
  });
});
