/**
 * Every failure of an OVH call surfaces as one `OvhApiError`, whatever node-ovh rejected with
 * (a status number, a string, a negative errno, an Error or a plain object).
 */
export type OvhErrorKind = 'http' | 'network' | 'timeout' | 'clock' | 'parse' | 'input';

export interface OvhApiErrorInit {
  kind: OvhErrorKind;
  /** What the bot was doing, e.g. `GET /dedicated/nasha/{serviceName}/partition`. */
  operation: string;
  httpStatus?: number | undefined;
  ovhMessage?: string | undefined;
  cause?: unknown;
  attempts?: number;
}

export class OvhApiError extends Error {
  override readonly name = 'OvhApiError';
  readonly kind: OvhErrorKind;
  readonly operation: string;
  readonly httpStatus: number | undefined;
  readonly ovhMessage: string | undefined;
  /** How many HTTP attempts were made before giving up (0 when rejected before any request). */
  readonly attempts: number;

  constructor(init: OvhApiErrorInit) {
    super(describe(init), init.cause === undefined ? undefined : { cause: init.cause });
    this.kind = init.kind;
    this.operation = init.operation;
    this.httpStatus = init.httpStatus;
    this.ovhMessage = init.ovhMessage;
    this.attempts = init.attempts ?? 0;
  }

  /** True for an HTTP 404 from OVH: the object (service, partition, snapshot, task) does not exist. */
  get isNotFound(): boolean {
    return this.kind === 'http' && this.httpStatus === 404;
  }
}

function describe(init: OvhApiErrorInit): string {
  const what = `OVH ${init.operation}`;
  switch (init.kind) {
    case 'http':
      return `${what} failed with HTTP ${init.httpStatus ?? '?'}${init.ovhMessage ? `: ${init.ovhMessage}` : ''}`;
    case 'network':
      return `${what} failed: network error${init.ovhMessage ? ` (${init.ovhMessage})` : ''}`;
    case 'timeout':
      return `${what} timed out${init.ovhMessage ? ` (${init.ovhMessage})` : ''}`;
    case 'clock':
      return `${what} failed: clock out of sync with OVH${init.ovhMessage ? ` (${init.ovhMessage})` : ''}`;
    case 'parse':
      return `${what} failed: unexpected response${init.ovhMessage ? ` (${init.ovhMessage})` : ''}`;
    case 'input':
      return `${what} refused before sending: ${init.ovhMessage ?? 'invalid input'}`;
  }
}
