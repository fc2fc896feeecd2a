import type { Logger as BoltLogger, LogLevel } from '@slack/bolt';
import { type Logger, type LoggerOptions, pino } from 'pino';
import { requestContext } from './request-context.js';

/** Keys whose values never reach a log line, wherever they appear in a logged object. */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  'botToken',
  'appToken',
  'signingSecret',
  'appSecret',
  'consumerKey',
  'clientSecret',
  'access_token',
  '*.access_token',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.headers.authorization',
  'response_url',
  '*.response_url',
  'responseUrl',
  '*.responseUrl',
  'trigger_id',
  '*.trigger_id',
];

export function createLogger(options: { level: string; destination?: NodeJS.WritableStream }): Logger {
  const config: LoggerOptions = {
    level: options.level,
    base: { app: 'nasha-bot' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // Every log line written while serving a request carries its id (and nothing else of its context).
    mixin: () => {
      const requestId = requestContext.getStore()?.requestId;
      return requestId === undefined ? {} : { requestId };
    },
  };
  return options.destination === undefined ? pino(config) : pino(config, options.destination as never);
}

/**
 * Bolt's Logger over pino. Bolt and its WebClient call setLevel/setName on the logger they are
 * given; those calls are recorded but never change pino's own level.
 */
export function createBoltLogger(logger: Logger): BoltLogger {
  let level = (logger.level === 'silent' ? 'error' : logger.level) as LogLevel;
  const emit =
    (name: 'debug' | 'info' | 'warn' | 'error', write: (obj: object, msg: string) => void) =>
    (...messages: unknown[]): void => {
      // Bolt writes debug lines on every request's path: a line pino would drop is not put together first.
      if (!logger.isLevelEnabled(name)) return;
      const err = messages.find((m): m is Error => m instanceof Error);
      const text = messages
        .filter((m) => !(m instanceof Error))
        .map((m) => (typeof m === 'string' ? m : safeJson(m)))
        .join(' ');
      write(err === undefined ? {} : { err }, text);
    };
  return {
    debug: emit('debug', (o, m) => logger.debug(o, m)),
    info: emit('info', (o, m) => logger.info(o, m)),
    warn: emit('warn', (o, m) => logger.warn(o, m)),
    error: emit('error', (o, m) => logger.error(o, m)),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
