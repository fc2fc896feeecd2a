import { createHmac } from 'node:crypto';

/** Requests to the bot signed exactly as Slack signs them (what Bolt verifies). */

export const FORM = 'application/x-www-form-urlencoded';

/** Slack's v0 signature: HMAC-SHA256 over `v0:<timestamp>:<raw body>`. */
export function slackSignature(secret: string, timestamp: number, rawBody: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

export interface SignedResponse {
  status: number;
  body: string;
  json: () => unknown;
}

export async function postSigned(
  url: string,
  secret: string,
  rawBody: string,
  options: { timestamp?: number; signature?: string; contentType?: string } = {},
): Promise<SignedResponse> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? FORM,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': options.signature ?? slackSignature(secret, timestamp, rawBody),
    },
    body: rawBody,
  });
  const body = await res.text();
  return { status: res.status, body, json: () => JSON.parse(body) as unknown };
}

/** A slash command as Slack form-encodes it; `fields` override the defaults. */
export function slashCommandBody(fields: Readonly<Record<string, string>>): string {
  return new URLSearchParams(slashCommandFields(fields)).toString();
}

/** A slash command's fields as Socket Mode carries them (an envelope's `payload`), with the workspace's defaults. */
export function slashCommandFields(fields: Readonly<Record<string, string>>): Record<string, string> {
  return {
    token: 'deprecated-verification-token',
    team_id: 'T1',
    team_domain: 'acme',
    command: '/nasha',
    text: '',
    api_app_id: 'A1',
    is_enterprise_install: 'false',
    ...fields,
  };
}

/** Interactivity payloads travel as one form field, `payload`, holding JSON. */
export const interactivityBody = (payload: object): string =>
  new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
