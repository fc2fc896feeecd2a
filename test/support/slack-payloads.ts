/** Interactivity payloads shaped as Slack sends them (see ../shared/reference/slack-bolt.md §4.3). */

const TEAM = { id: 'T1', domain: 'acme' };

export function buttonClick(options: {
  user: string;
  channel: string;
  actionId: string;
  value: string;
  responseUrl: string;
  blockId?: string;
}): object {
  return {
    type: 'block_actions',
    user: { id: options.user, username: 'u', name: 'u', team_id: 'T1' },
    api_app_id: 'A1',
    token: 'legacy',
    trigger_id: '1337.42.abc',
    team: TEAM,
    enterprise: null,
    is_enterprise_install: false,
    container: { type: 'message', message_ts: '1700000000.000100', channel_id: options.channel, is_ephemeral: true },
    channel: { id: options.channel, name: 'ops' },
    state: { values: {} },
    response_url: options.responseUrl,
    actions: [
      {
        type: 'button',
        action_id: options.actionId,
        block_id: options.blockId ?? 'b1',
        text: { type: 'plain_text', text: 'x' },
        value: options.value,
        action_ts: '1700000001.000200',
      },
    ],
  };
}

export interface ViewLike {
  id?: string;
  callback_id: string;
  private_metadata: string;
  state?: Record<string, Record<string, object>>;
}

function viewOf(view: ViewLike) {
  return {
    id: view.id ?? 'V1',
    team_id: 'T1',
    type: 'modal',
    callback_id: view.callback_id,
    private_metadata: view.private_metadata,
    title: { type: 'plain_text', text: 'x' },
    blocks: [],
    state: { values: view.state ?? {} },
    hash: 'h1',
    root_view_id: view.id ?? 'V1',
    previous_view_id: null,
    app_id: 'A1',
    external_id: '',
    bot_id: 'BBOT',
  };
}

export function viewSubmission(user: string, view: ViewLike): object {
  return {
    type: 'view_submission',
    team: TEAM,
    user: { id: user, username: 'u', name: 'u', team_id: 'T1' },
    api_app_id: 'A1',
    token: 'legacy',
    trigger_id: '1337.43.abc',
    is_enterprise_install: false,
    enterprise: null,
    response_urls: [],
    view: viewOf(view),
  };
}

export function blockSuggestion(user: string, actionId: string, value: string, view: ViewLike): object {
  return {
    type: 'block_suggestion',
    user: { id: user, username: 'u', name: 'u', team_id: 'T1' },
    container: { type: 'view', view_id: view.id ?? 'V1' },
    api_app_id: 'A1',
    token: 'legacy',
    action_id: actionId,
    block_id: actionId,
    value,
    team: TEAM,
    enterprise: null,
    is_enterprise_install: false,
    view: viewOf(view),
  };
}

export function viewAction(user: string, actionId: string, selected: string, view: ViewLike): object {
  return {
    type: 'block_actions',
    user: { id: user, username: 'u', name: 'u', team_id: 'T1' },
    api_app_id: 'A1',
    token: 'legacy',
    trigger_id: '1337.44.abc',
    team: TEAM,
    enterprise: null,
    is_enterprise_install: false,
    container: { type: 'view', view_id: view.id ?? 'V1' },
    view: viewOf(view),
    actions: [
      {
        type: 'external_select',
        action_id: actionId,
        block_id: actionId,
        selected_option: { text: { type: 'plain_text', text: selected }, value: selected },
        action_ts: '1700000001.000300',
      },
    ],
  };
}

/** State entries as Slack puts them in view.state.values. */
export const select = (value: string) => ({ type: 'external_select', selected_option: { value } });
export const staticSelect = (value: string) => ({ type: 'static_select', selected_option: { value } });
export const textInput = (value: string) => ({ type: 'plain_text_input', value });
export const datePicker = (date: string | null) => ({ type: 'datepicker', selected_date: date });
export const checkboxes = (values: string[]) => ({
  type: 'checkboxes',
  selected_options: values.map((value) => ({ value })),
});
