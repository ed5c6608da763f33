/**
 * The Model Hub panel's state: one model per section (Models, Endpoints,
 * Activity, Images, Environments, Batch), each with its own signal, and the one
 * poll that keeps them fresh.
 *
 * The poll (`@lumino/polling`) reads the events feed. Each round reloads only
 * the sections the new events concern: registry events the Models section,
 * "deployed" the Endpoints, "operation" the Activity section (and, when a
 * build, deploy or conversion ends, what it made). Endpoint states change
 * without an event (a crash, a restart), so the Endpoints reload every
 * ENDPOINT_INTERVAL ms as part of the same rounds, and open deployment details
 * follow their log and metrics. The poll runs every ACTIVITY_INTERVAL ms while
 * an operation is active, POLL_INTERVAL otherwise; it backs off while the
 * server fails and stands by while the panel or the browser tab is hidden.
 */
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import type { IModelHubClient, IOperation, OperationLink } from './api';
import { ACTIVITY_INTERVAL, ActivityModel } from './components/activity/model';
import { BatchModel } from './components/batch/model';
import { ENDPOINT_INTERVAL, EndpointsModel } from './components/endpoints/model';
import { EnvironmentsModel } from './components/environments/model';
import { GovernanceModel } from './components/governance/model';
import { ImagesModel } from './components/images/model';
import { ModelsModel } from './components/models/model';
import { messageOf, ModelHubError } from './errors';
import { alertNotice, INotice, Notifier } from './notifications';

export { PER_PAGE } from './components/models/model';
export { ENDPOINT_INTERVAL } from './components/endpoints/model';

/** How often to ask the server for new events while visible (ms). */
export const POLL_INTERVAL = 2000;

/** How often open governance views are reloaded without an event (ms). */
export const GOVERNANCE_INTERVAL = 5000;

/** Longest wait between polls after repeated failures (ms). */
export const MAX_POLL_BACKOFF = 30000;

export class ModelHubModel {
  constructor(client: IModelHubClient) {
    this.client = client;
    this.models = new ModelsModel(client);
    this.endpoints = new EndpointsModel(client);
    this.activity = new ActivityModel(client);
    this.images = new ImagesModel(client);
    this.environments = new EnvironmentsModel(client);
    this.batch = new BatchModel(client);
    this.governance = new GovernanceModel(client);
    this.notifier = new Notifier(notice => this.onNotice(notice));
    this.governance.onChanged = () => {
      void this.models.reload();
      void this._reloadEndpoints();
    };
    this.models.onOperation = operation => {
      this.activity.remember(operation);
      this.notifier.track(operation);
    };
    this.images.onOperation = operation => {
      this.activity.remember(operation);
      this.notifier.track(operation);
    };
    this.activity.changed.connect(() => this.activity.operations.forEach(op => this.notifier.running(op)));
    this.models.onChanged = what => this._reloadAfterAction(what);
    this.models.endpoints = () => this.endpoints.endpoints;
    this.endpoints.onChanged = () => void this.models.reload();
    this.activity.ended.connect(this._onOperationEnded, this);
    this._poll = new Poll({
      factory: () => this.pollOnce(),
      frequency: { interval: POLL_INTERVAL, backoff: true, max: MAX_POLL_BACKOFF },
      standby: () => this._hidden || 'when-hidden',
      name: 'jupyter-modelhub:events',
      auto: false
    });
  }

  readonly client: IModelHubClient;
  readonly models: ModelsModel;
  readonly endpoints: EndpointsModel;
  readonly activity: ActivityModel;
  readonly images: ImagesModel;
  readonly environments: EnvironmentsModel;
  readonly batch: BatchModel;
  readonly governance: GovernanceModel;
  readonly notifier: Notifier;

  /** Show a notification (the plugin gives JupyterLab's; none by default). */
  onNotice: (notice: INotice) => void = () => undefined;

  /** The user the panel acts as (JupyterLab's identity), when known. */
  setUser(user: string | null): void {
    this.governance.user = user;
    this.notifier.user = user;
  }

  /** Emitted when the panel-wide state (the connection error) changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The server cannot be reached (or failed before anything loaded): a readable message. */
  get error(): string | null {
    return this._error;
  }

  get poll(): Poll {
    return this._poll;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The panel is shown: poll now, then on schedule. */
  show(): void {
    if (this._isDisposed) {
      return;
    }
    this._hidden = false;
    if (this._poll.state.phase === 'constructed' || this._poll.state.phase === 'stopped') {
      void this._poll.start();
    } else {
      void this._poll.refresh();
    }
  }

  /** The panel is hidden: the poll stands by (no requests) until shown again. */
  hide(): void {
    this._hidden = true;
  }

  get isHidden(): boolean {
    return this._hidden;
  }

  /** Reload everything shown. */
  refresh(): Promise<void> {
    if (this._isDisposed) {
      return Promise.resolve();
    }
    void this.activity.refresh();
    void this.endpoints.reload();
    if (this.images.expanded) {
      void this.images.reload();
    }
    if (this.environments.expanded) {
      void this.environments.reload();
    }
    if (this.batch.expanded) {
      void this.batch.reload();
    }
    return this.models.reload();
  }

  /** Retry after an error: poll again at once. */
  retry(): void {
    void this._poll.refresh();
  }

  /** Show what an Activity link names. (An arrow function: one stable callback.) */
  readonly reveal = (link: OperationLink): void => {
    if (this._isDisposed) {
      return;
    }
    if (link.type === 'version') {
      this.models.select(link.model, link.version);
    } else if (link.type === 'endpoint') {
      this.endpoints.select(link.name);
    }
  };

  /**
   * One poll round. The first round learns the current event position and
   * loads everything, so nothing registered in between is missed; later
   * rounds reload what the new events concern. A failure is thrown, so the
   * poll backs off.
   */
  async pollOnce(): Promise<void> {
    if (this._isDisposed) {
      return;
    }
    try {
      await this._round();
      this._setError(null);
    } catch (error) {
      const unreachable = error instanceof ModelHubError && error.isNetworkError;
      if (unreachable || !this.models.loaded) {
        this._setError(messageOf(error));
      }
      throw error;
    } finally {
      const interval = this.activity.activeCount > 0 ? ACTIVITY_INTERVAL : POLL_INTERVAL;
      if (!this._isDisposed && this._poll.frequency.interval !== interval) {
        this._poll.frequency = { ...this._poll.frequency, interval };
      }
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._poll.dispose();
    for (const section of [
      this.models,
      this.endpoints,
      this.activity,
      this.images,
      this.environments,
      this.batch,
      this.governance
    ]) {
      section.dispose();
    }
    Signal.clearData(this);
  }

  private async _round(): Promise<void> {
    const after = this._lastEventId;
    const result = await this.client.events(after ?? undefined);
    if (this._isDisposed) {
      return;
    }
    const events = result.events ?? [];
    this._lastEventId = result.last_id;
    const first = after === null || this._error !== null;
    const kinds = new Set(events.map(e => e.kind));
    // a saved monitor's alert (issue 22): one notification per run that crossed a rule
    events.filter(e => e.kind === 'monitor_alert').forEach(e => this.onNotice(alertNotice(e.model, e.operation ?? null)));
    const registry = events.some(e => e.kind !== 'operation');
    const work: Promise<unknown>[] = [];
    if (first || this.activity.error !== null || this.activity.activeCount > 0 || kinds.has('operation')) {
      work.push(this.activity.refresh());
    }
    if (first || registry || (events.length === 0 && after !== null && result.last_id !== after)) {
      work.push(this.models.reload());
    }
    // An endpoint that is starting or updating is followed every round until it settles: its
    // 'deployed' event comes when the deploy is written, before the deployment is ready.
    const settling = this.endpoints.endpoints.some(e => e.state === 'updating');
    const endpointsDue = settling || Date.now() - this.endpoints.loadedAt >= ENDPOINT_INTERVAL;
    if (first || kinds.has('deployed') || endpointsDue) {
      work.push(this._reloadEndpoints());
    }
    if (this.endpoints.isWatching) {
      work.push(this.endpoints.follow());
    }
    // open governance views (permissions, histories, promotion checks) follow every change; evidence
    // for a promotion (an approval) records no event, so they are also reloaded every GOVERNANCE_INTERVAL
    const governanceDue = Date.now() - this._governanceAt >= GOVERNANCE_INTERVAL;
    if (this.governance.isWatching && !first && (events.length > 0 || governanceDue)) {
      this._governanceAt = Date.now();
      work.push(this.governance.refresh());
    }
    if (first && this.images.expanded) {
      work.push(this.images.reload());
    }
    if (first && this.environments.expanded) {
      work.push(this.environments.reload());
    }
    if (this.batch.expanded && (first || kinds.has('operation') || this.batch.activeCount > 0)) {
      work.push(this.batch.reload());
    }
    await Promise.all(work);
  }

  /** Reload the endpoints; when what they serve changed, so did the versions' actions. */
  private async _reloadEndpoints(): Promise<void> {
    const before = servedRefs(this.endpoints);
    await this.endpoints.reload();
    if (before !== null && servedRefs(this.endpoints) !== before) {
      void this.models.reload();
    }
  }

  /** An operation that ended changed what it made: show it now, not on the next round. */
  private _onOperationEnded(_: ActivityModel, operation: IOperation): void {
    this.notifier.seen(operation);
    if (operation.link?.type === 'endpoint' || operation.kind === 'deploy') {
      void this._reloadEndpoints();
    }
    if (operation.kind === 'image_build' || operation.kind === 'image_push' || operation.kind === 'deploy') {
      void this.images.reload();
      void this.environments.reload();
    }
    if (operation.kind === 'convert') {
      void this.models.reload();
    }
    if (operation.kind === 'batch') {
      void this.batch.reload();
    }
  }

  private _reloadAfterAction(what: 'endpoints' | 'images' | 'registry'): void {
    if (what === 'endpoints') {
      void this._reloadEndpoints();
    } else if (what === 'images') {
      void this.images.reload();
    }
  }

  private _setError(error: string | null): void {
    if (error !== this._error) {
      this._error = error;
      this._changed.emit();
    }
  }

  private _changed = new Signal<this, void>(this);
  private _poll: Poll;
  private _hidden = false;
  private _lastEventId: number | null = null;
  private _governanceAt = 0;
  private _error: string | null = null;
  private _isDisposed = false;
}

/** What the endpoints serve, as one string to compare; null before they loaded. */
function servedRefs(endpoints: EndpointsModel): string | null {
  if (!endpoints.loaded) {
    return null;
  }
  return endpoints.endpoints
    .flatMap(e => e.deployments.map(d => `${e.name}/${d.name}=${d.ref}`))
    .sort()
    .join(' ');
}
