import { ProxyTunnelError } from './proxy.js';

/**
 * An outside dependency (Slack, OVH, the database) failed at startup. Like a ConfigError, one line per
 * problem, each naming the dependency and where it was looked for, what happened, the likely cause and the fix.
 */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options?: { cause?: unknown }) {
    super(`nasha-bot could not start:\n${problems.map((p) => `  - ${p}`).join('\n')}`, options);
    this.problems = problems;
  }
}

/** Why a connection failed, in an operator's words. */
export interface Diagnosis {
  /** What happened, e.g. `getaddrinfo ENOTFOUND slack.com`. */
  what: string;
  cause: string;
  fix: string;
  /** Worth another attempt within the startup time (a blip), as opposed to a setting that is wrong. */
  transient: boolean;
}

/** Where the failing connection went, to word the cause and the fix. */
export interface ConnectionTarget {
  host: string;
  port: number;
  /** The variable that names the host, e.g. `SLACK_API_URL`. */
  variable: string;
  /** The proxy in use for this target (credentials already removed), if any. */
  proxy: string | undefined;
  /** Whether HTTPS_PROXY applies to this kind of connection (HTTP: yes; PostgreSQL: no). */
  proxyable: boolean;
  /** How to trust a private CA for this target, e.g. `OVH_CA_FILE`. */
  trustCa: string;
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);

/**
 * The error code deepest in `error`'s chain (`cause`, and Slack's `original`), e.g. ENOTFOUND under
 * "fetch failed"; a timeout abort counts as ETIMEDOUT. Slack's own wrapper codes are skipped.
 */
export function errorCode(error: unknown): string | undefined {
  let found: string | undefined;
  let current: unknown = error;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth++) {
    const { code, name } = current as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && !code.startsWith('slack_')) found = code;
    else if (name === 'TimeoutError') found = 'ETIMEDOUT';
    const next = current as { cause?: unknown; original?: unknown };
    current = next.cause ?? next.original;
  }
  return found;
}

/** The deepest message of `error`'s chain: `getaddrinfo ENOTFOUND slack.com` rather than `fetch failed`. */
export function innermostMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    // A proxy error says which proxy and which tunnel: it is the message to show.
    if (current instanceof ProxyTunnelError) return current.message;
    if (current.message !== '') message = current.message;
    const next = current as { cause?: unknown; original?: unknown };
    current = next.cause ?? next.original;
  }
  return message;
}

function findTunnelError(error: unknown): ProxyTunnelError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth++) {
    if (current instanceof ProxyTunnelError) return current;
    const next = current as { cause?: unknown; original?: unknown };
    current = next.cause ?? next.original;
  }
  return undefined;
}

/**
 * The likely cause and the fix of a failed connection, from its error code: DNS, nothing listening or a
 * firewall, a proxy needed or refusing, TLS trust. Undefined when the error is not about the connection.
 */
export function diagnoseConnection(
  error: unknown,
  target: ConnectionTarget,
  code = errorCode(error),
): Diagnosis | undefined {
  const where = `${target.host}:${target.port}`;
  const viaProxy = target.proxy === undefined ? '' : ` through the proxy ${target.proxy}`;
  const orProxy =
    target.proxy === undefined && target.proxyable
      ? `, or, if outbound traffic must go through a proxy, set HTTPS_PROXY (and keep ${target.host} out of NO_PROXY)`
      : '';
  const tunnel = findTunnelError(error);
  if (tunnel !== undefined) {
    const status = tunnel.statusCode;
    if (status === 407) {
      return diagnosis(
        tunnel.message,
        'the proxy wants credentials',
        'put them in the proxy URL: HTTPS_PROXY=http://user:password@host:port',
        false,
      );
    }
    if (status === 403) {
      return diagnosis(
        tunnel.message,
        `the proxy's rules forbid ${where}`,
        `have ${where} allowed on the proxy, or list ${target.host} in NO_PROXY if it is reachable directly`,
        false,
      );
    }
    if (status !== undefined) {
      return diagnosis(
        tunnel.message,
        status >= 500
          ? `the proxy could not reach ${where} itself (its DNS or firewall)`
          : 'the proxy refused the tunnel',
        `check the proxy's outbound access to ${where}`,
        status >= 500,
      );
    }
    return diagnosis(
      tunnel.message,
      `the proxy ${tunnel.proxy} itself cannot be reached (${code ?? 'network error'})`,
      'check HTTPS_PROXY (host and port) and that the proxy runs and accepts connections from this host',
      true,
    );
  }
  const what = innermostMessage(error);
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return diagnosis(
        what,
        `DNS: "${target.host}" does not resolve from this host`,
        `check the host name in ${target.variable} and this host's DNS resolver${orProxy}`,
        code === 'EAI_AGAIN',
      );
    case 'ECONNREFUSED':
      return diagnosis(
        what,
        `nothing is listening at ${where}, or a firewall rejects the connection`,
        `check the address and port in ${target.variable} and the firewall's outbound rules${orProxy}`,
        true,
      );
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return diagnosis(
        what,
        target.proxy === undefined
          ? `no answer from ${where}: a firewall drops the traffic${target.proxyable ? ', or outbound access needs a proxy' : ''}`
          : `no answer from ${where}${viaProxy}`,
        target.proxy === undefined
          ? `allow outbound traffic to ${where}${orProxy}`
          : `check that the proxy reaches ${where}, or list ${target.host} in NO_PROXY if it is reachable directly`,
        true,
      );
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return diagnosis(
        what,
        `the connection to ${where} was cut${viaProxy}: a proxy or firewall (often TLS inspection) closed it`,
        `allow TLS to ${where} end to end on the firewall or proxy`,
        true,
      );
    default:
      if (code !== undefined && (code === 'EPROTO' || code.startsWith('ERR_SSL'))) {
        return diagnosis(
          what,
          `TLS: the handshake with ${where} failed (it may not speak HTTPS on that port, or something in between interferes)`,
          `check the address and port in ${target.variable}`,
          false,
        );
      }
      if (code === undefined || !TLS_CODES.has(code)) return undefined;
      return diagnosis(
        what,
        code === 'ERR_TLS_CERT_ALTNAME_INVALID'
          ? `TLS: the certificate ${where} presents does not name "${target.host}" (a TLS-inspecting proxy, or the wrong host)`
          : code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID'
            ? `TLS: the certificate of ${where} is outside its validity dates (or this host's clock is wrong)`
            : `TLS: the certificate of ${where} is not trusted (a TLS-inspecting proxy or a private CA)`,
        `trust the issuing CA with ${target.trustCa} (verification is never turned off), or check the host in ${target.variable}`,
        false,
      );
  }
}

function diagnosis(what: string, cause: string, fix: string, transient: boolean): Diagnosis {
  return { what, cause, fix, transient };
}

/** One problem line: what failed where, what happened, the likely cause, the fix. */
export function problemLine(dependency: string, diagnosis: Diagnosis, after?: string): string {
  const when = after === undefined ? '' : ` (${after})`;
  return `${dependency}: ${diagnosis.what}${when}. Likely cause: ${diagnosis.cause}. Fix: ${diagnosis.fix}.`;
}
