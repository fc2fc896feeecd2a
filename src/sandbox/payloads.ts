/**
 * Interactivity payloads shaped as Slack sends them (block_actions, view_submission,
 * block_suggestion), for the sandbox console and the tests.
 */

export const TEAM = { id: 'T1', domain: 'acme' } as const;
const APP_ID = 'A1';

export interface PayloadUser {
  id: string;
  name: string;
}

/** A view as the bot last set it, plus what the user has entered so far. */
export interface ViewPayloadInput {
  id: string;
  callback_id: string;
  private_metadata: string;
  title?: object;
  blocks?: readonly unknown[];
  /** `view.state.values`: block id → action id → element state. */
  state?: Readonly<Record<string, Readonly<Record<string, object>>>>;
  hash?: string;
}

const userOf = (user: PayloadUser) => ({ id: user.id, username: user.name, name: user.name, team_id: TEAM.id });

const common = { api_app_id: APP_ID, token: 'legacy', team: TEAM, enterprise: null, is_enterprise_install: false };

export function viewPayload(view: ViewPayloadInput, botId = 'BBOT') {
  return {
    id: view.id,
    team_id: TEAM.id,
    type: 'modal',
    callback_id: view.callback_id,
    private_metadata: view.private_metadata,
    title: view.title ?? { type: 'plain_text', text: 'x' },
    blocks: view.blocks ?? [],
    state: { values: view.state ?? {} },
    hash: view.hash ?? 'h1',
    root_view_id: view.id,
    previous_view_id: null,
    app_id: APP_ID,
    external_id: '',
    bot_id: botId,
  };
}

type ClickedButton = { actionId: string; blockId: string; value?: string | undefined; text: string };

/** The clicked button as `actions[0]` of a block_actions payload. */
function buttonAction(button: ClickedButton, actionTs: string) {
  return {
    type: 'button',
    action_id: button.actionId,
    block_id: button.blockId,
    text: { type: 'plain_text', text: button.text },
    ...(button.value !== undefined && { value: button.value }),
    action_ts: actionTs,
  };
}

/** A click on a message button. Slack includes the message itself unless it is ephemeral. */
export function messageButtonClick(options: {
  user: PayloadUser;
  channel: { id: string; name: string };
  messageTs: string;
  isEphemeral: boolean;
  message?: object;
  button: ClickedButton;
  responseUrl: string;
  triggerId: string;
  actionTs: string;
}): object {
  const { button } = options;
  return {
    type: 'block_actions',
    user: userOf(options.user),
    ...common,
    trigger_id: options.triggerId,
    container: {
      type: 'message',
      message_ts: options.messageTs,
      channel_id: options.channel.id,
      is_ephemeral: options.isEphemeral,
    },
    channel: options.channel,
    ...(options.message !== undefined && !options.isEphemeral && { message: options.message }),
    state: { values: {} },
    response_url: options.responseUrl,
    actions: [buttonAction(button, options.actionTs)],
  };
}

export function viewSubmissionPayload(user: PayloadUser, view: ViewPayloadInput, triggerId: string): object {
  return {
    type: 'view_submission',
    user: userOf(user),
    ...common,
    trigger_id: triggerId,
    response_urls: [],
    view: viewPayload(view),
  };
}

/** Slack asks the app for an external select's options as the user types (`value` is the query). */
export function blockSuggestionPayload(
  user: PayloadUser,
  view: ViewPayloadInput,
  element: { actionId: string; blockId: string },
  value: string,
): object {
  return {
    type: 'block_suggestion',
    user: userOf(user),
    ...common,
    container: { type: 'view', view_id: view.id },
    action_id: element.actionId,
    block_id: element.blockId,
    value,
    view: viewPayload(view),
  };
}

/** A select with `dispatch_action` inside a modal: Slack reports the choice at once. */
export function viewSelectAction(
  user: PayloadUser,
  view: ViewPayloadInput,
  action: { type: string; actionId: string; blockId: string; selected: { text: string; value: string } },
  triggerId: string,
  actionTs: string,
): object {
  return {
    type: 'block_actions',
    user: userOf(user),
    ...common,
    trigger_id: triggerId,
    container: { type: 'view', view_id: view.id },
    view: viewPayload(view),
    actions: [
      {
        type: action.type,
        action_id: action.actionId,
        block_id: action.blockId,
        selected_option: { text: { type: 'plain_text', text: action.selected.text }, value: action.selected.value },
        action_ts: actionTs,
      },
    ],
  };
}

/** A message shortcut ("⋮ More actions" on a message). */
export function messageShortcutPayload(options: {
  user: PayloadUser;
  callbackId: string;
  channel: { id: string; name: string };
  message: { ts: string; text: string; userId: string };
  responseUrl: string;
  triggerId: string;
  actionTs: string;
}): object {
  return {
    type: 'message_action',
    callback_id: options.callbackId,
    user: userOf(options.user),
    ...common,
    trigger_id: options.triggerId,
    action_ts: options.actionTs,
    message_ts: options.message.ts,
    channel: options.channel,
    message: { type: 'message', ts: options.message.ts, text: options.message.text, user: options.message.userId },
    response_url: options.responseUrl,
  };
}

/** A global shortcut (the shortcuts menu): no channel, no message. */
export function globalShortcutPayload(options: {
  user: PayloadUser;
  callbackId: string;
  triggerId: string;
  actionTs: string;
}): object {
  return {
    type: 'shortcut',
    callback_id: options.callbackId,
    user: userOf(options.user),
    ...common,
    trigger_id: options.triggerId,
    action_ts: options.actionTs,
  };
}

/** The Events API envelope of `app_home_opened` (the user opened the app's Home tab), as JSON. */
export function appHomeOpenedEvent(userId: string, eventId: string, eventTs: string): object {
  return {
    token: 'legacy',
    team_id: TEAM.id,
    api_app_id: APP_ID,
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Number(eventTs)),
    event: { type: 'app_home_opened', user: userId, channel: `D${userId}`, tab: 'home', event_ts: eventTs },
    authorizations: [{ team_id: TEAM.id, user_id: 'UBOT', is_bot: true, is_enterprise_install: false }],
  };
}

/** A click on a button of the Home tab: no channel and no response_url, the view instead. */
export function homeButtonClick(options: {
  user: PayloadUser;
  viewId: string;
  button: ClickedButton;
  triggerId: string;
  actionTs: string;
}): object {
  const { button } = options;
  return {
    type: 'block_actions',
    user: userOf(options.user),
    ...common,
    trigger_id: options.triggerId,
    container: { type: 'view', view_id: options.viewId },
    view: {
      id: options.viewId,
      team_id: TEAM.id,
      type: 'home',
      callback_id: '',
      private_metadata: '',
      blocks: [],
      state: { values: {} },
      hash: 'h1',
      app_id: APP_ID,
      bot_id: 'BBOT',
    },
    state: { values: {} },
    actions: [buttonAction(button, options.actionTs)],
  };
}
