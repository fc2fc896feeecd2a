import {
  appHomeOpenedEvent,
  blockSuggestionPayload,
  homeButtonClick,
  messageButtonClick,
  type ViewPayloadInput,
  viewSelectAction,
  viewSubmissionPayload,
} from '../../src/sandbox/payloads.js';
import { newTriggerId } from './slack-requests.js';

/** Interactivity payloads shaped as Slack sends them (see ../shared/reference/slack-bolt.md §4.3). */

const user = (id: string) => ({ id, name: 'u' });

export function buttonClick(options: {
  user: string;
  channel: string;
  actionId: string;
  value: string;
  responseUrl: string;
  blockId?: string;
}): object {
  return messageButtonClick({
    user: user(options.user),
    channel: { id: options.channel, name: 'ops' },
    messageTs: '1700000000.000100',
    isEphemeral: true,
    button: { actionId: options.actionId, blockId: options.blockId ?? 'b1', value: options.value, text: 'x' },
    responseUrl: options.responseUrl,
    triggerId: newTriggerId(),
    actionTs: '1700000001.000200',
  });
}

export interface ViewLike {
  id?: string;
  callback_id: string;
  private_metadata: string;
  state?: Record<string, Record<string, object>>;
}

const input = (view: ViewLike): ViewPayloadInput => ({ ...view, id: view.id ?? 'V1' });

export function viewSubmission(userId: string, view: ViewLike): object {
  return viewSubmissionPayload(user(userId), input(view), newTriggerId());
}

export function blockSuggestion(userId: string, actionId: string, value: string, view: ViewLike): object {
  return blockSuggestionPayload(user(userId), input(view), { actionId, blockId: actionId }, value);
}

export function viewAction(userId: string, actionId: string, selected: string, view: ViewLike): object {
  return viewSelectAction(
    user(userId),
    input(view),
    { type: 'external_select', actionId, blockId: actionId, selected: { text: selected, value: selected } },
    newTriggerId(),
    '1700000001.000300',
  );
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

let events = 0;

/** `app_home_opened` for `userId` (an Events API JSON body: post it with content-type application/json). */
export function homeOpened(userId: string): string {
  events += 1;
  return JSON.stringify(appHomeOpenedEvent(userId, `Ev${events}${Date.now()}`, `${1_700_000_000 + events}.000100`));
}

/** A click on a Home tab button (no channel, no response_url). */
export function homeClick(userId: string, actionId: string, value: string): object {
  return homeButtonClick({
    user: user(userId),
    viewId: `VHOME${userId}`,
    button: { actionId, blockId: 'home', value, text: 'x' },
    triggerId: newTriggerId(),
    actionTs: '1700000001.000400',
  });
}
