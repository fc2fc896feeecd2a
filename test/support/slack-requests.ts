import { slashCommandBody as commandBody } from '../../src/sandbox/signed-requests.js';

export {
  FORM,
  interactivityBody,
  postSigned,
  type SignedResponse,
  slackSignature,
} from '../../src/sandbox/signed-requests.js';

/** A `/nasha` command from the test workspace (admin in #ops unless `fields` say otherwise). */
export function slashCommandBody(fields: Record<string, string>): string {
  return commandBody({
    channel_id: 'C0OPS',
    channel_name: 'ops',
    user_id: 'U0ADMIN',
    user_name: 'alice',
    response_url: 'https://hooks.slack.com/commands/T1/1/abc',
    trigger_id: '1337.42.abcdef',
    ...fields,
  });
}
