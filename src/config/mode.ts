import {
  bothCredentialKindsMessage,
  OVH_APPLICATION_KEY_VARIABLES,
  OVH_SERVICE_ACCOUNT_VARIABLES,
} from '../ovh/config.js';
import type { Env } from './env.js';

/**
 * Whether `npm start` runs the sandbox or the real bot. The sandbox runs only when no credential
 * at all is set: a half-configured production host must fail loudly, never quietly turn into a
 * demo that touches nothing while the operator believes it works.
 */

/**
 * Every variable that says "this is meant to talk to a real Slack, OVH or database", each also
 * counted when given as `<name>_FILE` (secrets from files, see env.ts).
 */
export const CREDENTIAL_VARIABLES = [
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'OVH_ENDPOINT',
  'OVH_APP_KEY',
  'OVH_APP_SECRET',
  'OVH_CONSUMER_KEY',
  'OVH_CLIENT_ID',
  'OVH_CLIENT_SECRET',
  'DATABASE_URL',
] as const;

export type RunMode =
  | { kind: 'sandbox' }
  | { kind: 'real' }
  /** Some credentials but not all: `missing` names what to add, `present` what to remove instead. */
  | { kind: 'incomplete'; missing: string[]; present: string[] }
  /** OVH credentials of both kinds (application key and service account), each as set (VAR or VAR_FILE). */
  | { kind: 'conflicting'; application: string[]; serviceAccount: string[] };

const set = (env: Env, name: string): boolean => (env[name] ?? '').trim() !== '';

export function selectRunMode(env: Env): RunMode {
  const present = CREDENTIAL_VARIABLES.flatMap((name) => [name, `${name}_FILE`]).filter((name) => set(env, name));
  if (present.length === 0) return { kind: 'sandbox' };
  const has = (name: string) => set(env, name) || set(env, `${name}_FILE`);
  const given = (names: readonly string[]) =>
    names.flatMap((name) => [name, `${name}_FILE`]).filter((name) => set(env, name));
  const application = given(OVH_APPLICATION_KEY_VARIABLES);
  const serviceAccount = given(OVH_SERVICE_ACCOUNT_VARIABLES);
  if (application.length > 0 && serviceAccount.length > 0) return { kind: 'conflicting', application, serviceAccount };
  // The kind of which something is set is the one to complete; with neither, either kind will do.
  const ovhCredentials: ReadonlyArray<readonly [string, boolean]> =
    serviceAccount.length > 0
      ? OVH_SERVICE_ACCOUNT_VARIABLES.map((name) => [name, has(name)] as const)
      : application.length > 0
        ? OVH_APPLICATION_KEY_VARIABLES.map((name) => [name, has(name)] as const)
        : [
            [
              'OVH_CLIENT_ID and OVH_CLIENT_SECRET (a service account) or OVH_APP_KEY, OVH_APP_SECRET and OVH_CONSUMER_KEY',
              false,
            ],
          ];
  const needed: ReadonlyArray<readonly [string, boolean]> = [
    ['SLACK_BOT_TOKEN', has('SLACK_BOT_TOKEN')],
    // Either completes the Slack side: the signing secret (HTTP mode) or an app token (Socket Mode).
    [
      'SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)',
      has('SLACK_SIGNING_SECRET') || has('SLACK_APP_TOKEN'),
    ],
    ['OVH_ENDPOINT', has('OVH_ENDPOINT')],
    ...ovhCredentials,
  ];
  const missing = needed.filter(([, ok]) => !ok).map(([name]) => name);
  return missing.length === 0 ? { kind: 'real' } : { kind: 'incomplete', missing, present };
}

/** The startup error for an incomplete setup: what is missing, and how to get the sandbox instead. */
export function incompleteCredentialsMessage(mode: { missing: readonly string[]; present: readonly string[] }): string {
  return [
    'Some Slack/OVH credentials are set but not all, so nasha-bot will not start (and will not fall back to the sandbox).',
    `Missing: ${mode.missing.join(', ')}.`,
    `Set them all to run the real bot, or unset ${mode.present.join(', ')} to try the sandbox.`,
    'See README.md, "Configuration" and "OVH credentials".',
  ].join('\n');
}

/** The startup error for OVH credentials of both kinds, naming each variable as set. */
export function conflictingCredentialsMessage(mode: {
  application: readonly string[];
  serviceAccount: readonly string[];
}): string {
  return `${bothCredentialKindsMessage(mode.application, mode.serviceAccount)}.\nSee README.md, "OVH credentials".`;
}
