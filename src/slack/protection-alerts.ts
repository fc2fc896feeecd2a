import type { webApi } from '@slack/bolt';
import type { AlertPublisher, AlertView } from '../core/protection/ports.js';
import { type ApprovalRuleOf, alertMessage } from './blocks/protection.js';
import type { ReaderDirectory } from './i18n/readers.js';
import { translator } from './i18n/translate.js';
import { createSlackPublisher, type SlackPublisherOptions } from './message-publisher.js';

/** The metadata every alert message carries, so a post whose answer was lost can be found. */
export const ALERT_EVENT_TYPE = 'nasha_protection_alert';

/** An alert as the shared Slack publisher sees it: its id and version, and the view to draw. */
interface AlertItem {
  readonly id: string;
  readonly version: number;
  readonly view: AlertView;
}

const itemOf = (view: AlertView): AlertItem => ({ id: view.alert.id, version: view.alert.version, view });

/**
 * Alert messages in the alerts channel, through the same Slack publisher as the outboxes (deadline per call, no
 * retries of its own, rate limits reported: the alert board retries at the next scan). Errors are DeliveryErrors, so
 * the board knows a refused post posted nothing. `find` reads the alert id back from the channel's history.
 * Each alert is in its channel's language (`readers`; without them, English), its times Slack's date tokens; what
 * its Fix says about approval is the gate's rule (`rules`: `ActionGate.approvalRule`).
 */
export function createSlackAlertPublisher(
  client: webApi.WebClient,
  options: SlackPublisherOptions = {},
  readers?: Pick<ReaderDirectory, 'channel'>,
  rules?: ApprovalRuleOf,
): AlertPublisher {
  const render = (item: AlertItem) =>
    alertMessage(item.view, translator(readers?.channel(item.view.alert.channel)), rules);
  const slack = createSlackPublisher<AlertItem>(
    client,
    { eventType: ALERT_EVENT_TYPE, idField: 'alert_id', render },
    options,
  );
  return {
    async post(view) {
      return { ref: (await slack.post(view.alert.channel, itemOf(view))).ts };
    },
    async update(ref, view) {
      await slack.update(view.alert.channel, ref, itemOf(view));
    },
    async find(alert) {
      // A look-up reads ids from metadata only: the view is never drawn.
      return (await slack.find?.(alert.channel, itemOf({ alert, fix: undefined }), undefined))?.ts;
    },
  };
}
