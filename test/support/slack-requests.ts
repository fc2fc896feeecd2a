import { createHmac } from 'node:crypto';

export const FORM = 'application/x-www-form-urlencoded';

export function slackSignature(secret: string, timestamp: number, rawBody: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

export interface SignedResponse {
  status: number;
  body: string;
  json: () => unknown;
}

/** POSTs a body signed exactly as Slack signs it (v0 HMAC over "v0:ts:body"). */
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

export function slashCommandBody(fields: Record<string, string>): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: 'T1',
    team_domain: 'acme',
    channel_id: 'C0OPS',
    channel_name: 'ops',
    user_id: 'U0ADMIN',
    user_name: 'alice',
    command: '/nasha',
    text: '',
    api_app_id: 'A1',
    is_enterprise_install: 'false',
    response_url: 'https://hooks.slack.com/commands/T1/1/abc',
    trigger_id: '1337.42.abcdef',
    ...fields,
  }).toString();
}

export const interactivityBody = (payload: object): string =>
  new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
