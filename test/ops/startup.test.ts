import { webApi } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { diagnoseOvh, diagnoseSlack, StartupTimer } from '../../src/ops/startup.js';
import { OvhApiError } from '../../src/ovh/errors.js';
import { TOKEN_OPERATION } from '../../src/ovh/oauth2.js';
import { ProxyTunnelError } from '../../src/shared/proxy.js';
import { type ConnectionTarget, diagnoseConnection, errorCode, problemLine } from '../../src/shared/startup-error.js';

const SLACK: ConnectionTarget = {
  host: 'slack.com',
  port: 443,
  variable: 'SLACK_API_URL',
  proxy: undefined,
  proxyable: true,
  trustCa: 'NODE_EXTRA_CA_CERTS=<CA file>',
};
const OVH: ConnectionTarget = { ...SLACK, host: 'eu.api.ovh.com', variable: 'OVH_ENDPOINT', trustCa: 'OVH_CA_FILE' };

/** What Node's fetch throws: "fetch failed" with the socket error as its cause. */
function fetchFailed(code: string, message = `${code} something`): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });
}

describe('the likely cause, from the error code', () => {
  it('finds the code under the wrappers (Slack request error → fetch failed → socket error)', () => {
    const error = new webApi.WebAPIRequestError(fetchFailed('ENOTFOUND', 'getaddrinfo ENOTFOUND slack.com'));
    expect(errorCode(error)).toBe('ENOTFOUND');
    expect(diagnoseSlack(error, SLACK)).toMatchObject({
      what: 'getaddrinfo ENOTFOUND slack.com',
      cause: 'DNS: "slack.com" does not resolve from this host',
      transient: false,
    });
  });

  it('an aborted attempt (AbortSignal.timeout) is a timeout: firewall or proxy', () => {
    const abort = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const d = diagnoseSlack(new webApi.WebAPIRequestError(abort as unknown as Error), SLACK);
    expect(d.cause).toBe(
      'no answer from slack.com:443: a firewall drops the traffic, or outbound access needs a proxy',
    );
    expect(d.transient).toBe(true);
  });

  it.each([
    ['ECONNREFUSED', 'nothing is listening at slack.com:443, or a firewall rejects the connection', true],
    [
      'ECONNRESET',
      'the connection to slack.com:443 was cut: a proxy or firewall (often TLS inspection) closed it',
      true,
    ],
    [
      'UND_ERR_CONNECT_TIMEOUT',
      'no answer from slack.com:443: a firewall drops the traffic, or outbound access needs a proxy',
      true,
    ],
    ['EAI_AGAIN', 'DNS: "slack.com" does not resolve from this host', true],
    [
      'SELF_SIGNED_CERT_IN_CHAIN',
      'TLS: the certificate of slack.com:443 is not trusted (a TLS-inspecting proxy or a private CA)',
      false,
    ],
    [
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'TLS: the certificate slack.com:443 presents does not name "slack.com" (a TLS-inspecting proxy, or the wrong host)',
      false,
    ],
    [
      'CERT_HAS_EXPIRED',
      "TLS: the certificate of slack.com:443 is outside its validity dates (or this host's clock is wrong)",
      false,
    ],
    [
      'EPROTO',
      'TLS: the handshake with slack.com:443 failed (it may not speak HTTPS on that port, or something in between interferes)',
      false,
    ],
  ])('%s → %s', (code, cause, transient) => {
    expect(diagnoseConnection(fetchFailed(code), SLACK)).toMatchObject({ cause, transient });
  });

  it('TLS trust problems say how to trust the CA for that dependency, never to turn verification off', () => {
    expect(diagnoseConnection(fetchFailed('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), OVH)?.fix).toBe(
      'trust the issuing CA with OVH_CA_FILE (verification is never turned off), or check the host in OVH_ENDPOINT',
    );
  });

  it('through a proxy: what the proxy answered decides', () => {
    const proxy = new URL('http://ops:secret@proxy.corp:3128');
    const tunnel = (statusCode?: number) =>
      new ProxyTunnelError({
        proxy,
        target: 'slack.com:443',
        detail: statusCode === undefined ? 'ECONNREFUSED' : `it answered ${statusCode}`,
        ...(statusCode !== undefined && { statusCode }),
      });
    const via = { ...SLACK, proxy: 'http://proxy.corp:3128' };
    expect(diagnoseConnection(tunnel(407), via)?.cause).toBe('the proxy wants credentials');
    expect(diagnoseConnection(tunnel(403), via)?.cause).toBe("the proxy's rules forbid slack.com:443");
    expect(diagnoseConnection(tunnel(502), via)).toMatchObject({
      cause: 'the proxy could not reach slack.com:443 itself (its DNS or firewall)',
      transient: true,
    });
    expect(diagnoseConnection(tunnel(), via)?.cause).toBe(
      'the proxy http://proxy.corp:3128 itself cannot be reached (network error)',
    );
    // The proxy's password never reaches a message.
    expect(JSON.stringify(diagnoseConnection(tunnel(407), via))).not.toContain('secret');
  });

  it('an error that is not about the connection gets no invented cause', () => {
    expect(diagnoseConnection(new Error('boom'), SLACK)).toBeUndefined();
  });
});

describe('Slack: the token is blamed only when Slack says so', () => {
  it.each(['invalid_auth', 'not_authed', 'token_revoked', 'account_inactive'])(
    '%s: fix SLACK_BOT_TOKEN, no retry',
    (code) => {
      const d = diagnoseSlack(new webApi.WebAPIPlatformError({ ok: false, error: code }), SLACK);
      expect(d.transient).toBe(false);
      expect(d.what).toBe(`Slack rejected the bot token (auth.test: ${code})`);
      expect(d.fix).toContain('SLACK_BOT_TOKEN');
    },
  );

  it('5xx and Slack-side errors: an outage, retried, the token not blamed', () => {
    for (const error of [
      new webApi.WebAPIHTTPError(503, 'Service Unavailable', {}, ''),
      new webApi.WebAPIPlatformError({ ok: false, error: 'fatal_error' }),
    ]) {
      const d = diagnoseSlack(error, SLACK);
      expect(d.transient).toBe(true);
      expect(d.cause).toMatch(/outage/);
      expect(JSON.stringify(d)).not.toContain('SLACK_BOT_TOKEN');
    }
  });

  it('404: SLACK_API_URL is not a Web API', () => {
    expect(diagnoseSlack(new webApi.WebAPIHTTPError(404, 'Not Found', {}, ''), SLACK)).toMatchObject({
      cause: 'SLACK_API_URL does not point at a Slack Web API',
      transient: false,
    });
  });
});

describe('OVH: from the OvhApiError the transport made', () => {
  const ovhError = (init: ConstructorParameters<typeof OvhApiError>[0]) => new OvhApiError(init);

  it("a socket errno named by the transport (node-ovh's shape) is diagnosed like any other", () => {
    const d = diagnoseOvh(ovhError({ kind: 'network', operation: 'GET /auth/time', ovhMessage: 'ECONNREFUSED' }), OVH);
    expect(d.cause).toBe('nothing is listening at eu.api.ovh.com:443, or a firewall rejects the connection');
  });

  it('401/403: the credentials, with the command that checks them; 5xx: an outage, not the credentials', () => {
    const refused = diagnoseOvh(
      ovhError({
        kind: 'http',
        operation: 'GET /dedicated/nasha',
        httpStatus: 403,
        ovhMessage: 'This credential is not valid',
      }),
      OVH,
    );
    expect(refused.transient).toBe(false);
    expect(refused.fix).toContain('npm run ovh:credentials -- --check');
    const outage = diagnoseOvh(ovhError({ kind: 'http', operation: 'GET /dedicated/nasha', httpStatus: 503 }), OVH);
    expect(outage.transient).toBe(true);
    expect(outage.fix).toContain('the credentials were not the problem');
  });

  it('a service account: the token endpoint refusing it, and IAM allowing it nothing, each with its fix', () => {
    const token = diagnoseOvh(
      ovhError({ kind: 'http', operation: TOKEN_OPERATION, httpStatus: 401, ovhMessage: 'invalid_client' }),
      OVH,
    );
    expect(token.cause).toContain('the token endpoint refused the service account');
    expect(token.fix).toContain('OVH_CLIENT_ID, OVH_CLIENT_SECRET');
    const iam = diagnoseOvh(
      ovhError({
        kind: 'http',
        operation: 'GET /dedicated/nasha',
        httpStatus: 403,
        ovhMessage: 'User not granted for this request',
      }),
      OVH,
    );
    expect(iam.cause).toContain('no IAM policy allows the service account');
    expect(iam.fix).toContain('npm run ovh:credentials -- --iam');
  });

  it("the clock, and a page that is not OVH's API", () => {
    expect(diagnoseOvh(ovhError({ kind: 'clock', operation: 'GET /dedicated/nasha' }), OVH).fix).toBe(
      'synchronise the clock (NTP)',
    );
    expect(diagnoseOvh(ovhError({ kind: 'parse', operation: 'GET /auth/time' }), OVH).cause).toMatch(/not the OVH API/);
  });
});

describe('problem lines and the startup time', () => {
  it('one line: dependency, what happened, attempts, cause, fix', () => {
    expect(
      problemLine(
        'OVH at ovh-eu (eu.api.ovh.com)',
        { what: 'boom', cause: 'a cause', fix: 'a fix', transient: true },
        '3 attempts in 30 s',
      ),
    ).toBe('OVH at ovh-eu (eu.api.ovh.com): boom (3 attempts in 30 s). Likely cause: a cause. Fix: a fix.');
  });

  it('bound() returns the work, or says the time ran out', async () => {
    const timer = new StartupTimer(50);
    expect(await timer.bound(Promise.resolve(7))).toEqual({ timedOut: false, value: 7 });
    expect(await timer.bound(new Promise(() => undefined))).toEqual({ timedOut: true });
    expect(timer.remaining()).toBe(0);
    expect(new StartupTimer(1_500).describe()).toBe('1.5 s');
  });
});
