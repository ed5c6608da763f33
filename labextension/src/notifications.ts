/**
 * Notifications when long work the user started finishes or fails (issue
 * 23): a conversion, an image build, a deploy that builds, a push, a batch
 * job. The panel keeps following the operations it started (`track`), and
 * the Activity section sees every operation end; one of those that the panel
 * started, or that the same user started elsewhere (a magic, the CLI), gives
 * one notification, with a link to what it made or to its record.
 *
 * How a notification is shown is given (JupyterLab's `Notification` in the
 * plugin), so this module has no JupyterLab imports and is unit-tested in
 * plain Node.
 */
import type { IOperation, OperationLink } from './api';
import { failureMessage, linkLabel } from './operations';

/** What the kinds of operation are called in a notification. */
const NOUNS: { [kind: string]: string } = {
  convert: 'Conversion',
  image_build: 'Image build',
  image_push: 'Image push',
  deploy: 'Deploy',
  batch: 'Batch job',
  environment: 'Environment build',
  monitor: 'Monitor run'
};

/** One notification: its text, whether it failed, and the links it offers. */
export interface INotice {
  message: string;
  failed: boolean;
  /** "Open churn:2": what the operation made; "Show operation 7": its record in the Activity section. */
  actions: { label: string; link: OperationLink | { type: 'operation'; id: number } }[];
}

export type Notify = (notice: INotice) => void;

export class Notifier {
  constructor(notify: Notify) {
    this._notify = notify;
  }

  /**
   * The user the panel acts as: operations they started elsewhere (their
   * `created_by`) notify too. Null: only those started from the panel.
   */
  user: string | null = null;

  /** An operation started from the panel, in any of its states. */
  track(operation: IOperation): void {
    if (!this._told.has(operation.id)) {
      this._tracked.add(operation.id);
    }
    this.seen(operation);
  }

  /** Any state of any operation (an Activity reload, an ended operation). */
  seen(operation: IOperation): void {
    if (operation.active || this._told.has(operation.id)) {
      return;
    }
    const mine = this._tracked.has(operation.id) || (!!this.user && operation.created_by === this.user && this._activeSeen.has(operation.id));
    if (!mine) {
      return;
    }
    this._tracked.delete(operation.id);
    this._told.add(operation.id);
    this._notify(notice(operation));
  }

  /** An operation seen running (so its end, seen later, is news and not history). */
  running(operation: IOperation): void {
    if (operation.active) {
      this._activeSeen.add(operation.id);
    }
  }

  private _notify: Notify;
  private _tracked = new Set<number>();
  private _told = new Set<number>();
  private _activeSeen = new Set<number>();
}

/** The notification of an ended operation. */
export function notice(operation: IOperation): INotice {
  const noun = NOUNS[operation.kind] ?? `Operation ${operation.kind}`;
  const what = `${noun} of ${operation.subject}`;
  const actions: INotice['actions'] = [];
  if (operation.status === 'succeeded') {
    const made = linkLabel(operation);
    if (operation.link && made) {
      actions.push({ label: `Open ${made}`, link: operation.link });
    }
    actions.push({ label: `Show operation ${operation.id}`, link: { type: 'operation', id: operation.id } });
    return { message: made ? `${what} finished: ${made}.` : `${what} finished.`, failed: false, actions };
  }
  actions.push({ label: `Show operation ${operation.id}`, link: { type: 'operation', id: operation.id } });
  const failed = operation.status === 'cancelled' ? `${what} was cancelled.` : `${what} failed: ${failureMessage(operation)}`;
  return { message: failed, failed: true, actions };
}

/**
 * The notification of a saved monitor's alert (an events-feed event of kind
 * `monitor_alert`, subject the endpoint): the rules crossed are in the
 * endpoint's history and the operation's report.
 */
export function alertNotice(endpoint: string, operation: number | null): INotice {
  const actions: INotice['actions'] = [{ label: `Open ${endpoint}`, link: { type: 'endpoint', name: endpoint } }];
  if (operation !== null) {
    actions.push({ label: `Show operation ${operation}`, link: { type: 'operation', id: operation } });
  }
  return { message: `Monitor of ${endpoint} crossed an alert rule.`, failed: true, actions };
}
