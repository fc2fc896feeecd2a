import { randomBytes } from 'node:crypto';
import { slashCommandBody as commandBody, slashCommandFields } from '../../src/sandbox/signed-requests.js';

export {
  FORM,
  interactivityBody,
  postSigned,
  type SignedResponse,
  slackSignature,
} from '../../src/sandbox/signed-requests.js';

let triggers = 0;

/**
 * A fresh trigger_id, as Slack gives every command and interaction its own: the bot runs each trigger_id
 * once (a second delivery of one is a replay).
 */
export function newTriggerId(): string {
  triggers += 1;
  return `1337.${triggers}.${randomBytes(4).toString('hex')}`;
}

/** A `/nasha` command from the test workspace (admin in #ops unless `fields` say otherwise), with a fresh trigger_id. */
export function slashCommandBody(fields: Record<string, string>): string {
  return commandBody(commandDefaults(fields));
}

/** The same command as a Socket Mode envelope's `payload`. */
export function slashCommandPayload(fields: Record<string, string>): Record<string, string> {
  return slashCommandFields(commandDefaults(fields));
}

const commandDefaults = (fields: Record<string, string>) => ({
  channel_id: 'C0OPS',
  channel_name: 'ops',
  user_id: 'U0ADMIN',
  user_name: 'alice',
  response_url: 'https://hooks.slack.com/commands/T1/1/abc',
  trigger_id: newTriggerId(),
  ...fields,
});
