/**
 * State of the Model Hub panel: the current query, the model list, expanded
 * models' versions, the endpoints, and the event poll that keeps them and the
 * Activity section (its own model, `activity`) fresh.
 *
 * The panel holds no registry rules: filters are sent verbatim and the
 * server's answer (or its error message) is shown as is.
 */
import { ISignal, Signal } from '@lumino/signaling';

import type {
  IConversionResult,
  IEndpoint,
  IModelHubClient,
  IModelSummary,
  IOperation,
  IVersion,
  OperationLink
} from './api';
import { ActivityModel } from './components/activity/model';
import { messageOf, ModelHubError } from './errors';
import { conversionSummary } from './format';
import { failureMessage, followOperation } from './operations';

/** Page size for the model list. */
export const PER_PAGE = 50;

/** How often to ask the server for new events while visible (ms). */
export const POLL_INTERVAL = 2000;

/**
 * How often to reload the endpoints while visible (ms): their state changes
 * (a crash, a restart) record no event, so the event poll alone misses them.
 */
export const ENDPOINT_INTERVAL = 5000;

/** Longest wait between polls after repeated failures (ms). */
const MAX_POLL_BACKOFF = 30000;

export interface IQuery {
  /** Tag filter text, sent verbatim. */
  filter: string;
  /** Name substring. */
  search: string;
  /** '' means any flavor. */
  flavor: string;
}

export interface IVersionsState {
  loading: boolean;
  versions: IVersion[];
  total: number;
  error: string | null;
}

export interface IEndpointsState {
  /** True once the endpoints have been received at least once. */
  loaded: boolean;
  loading: boolean;
  endpoints: IEndpoint[];
  error: string | null;
}

/** A conversion to ONNX started from the panel, per version ref. */
export interface IConversionState {
  busy: boolean;
  /** The outcome: a summary, or the server's message when `error`. */
  message: string | null;
  error: boolean;
  /** The operation doing it, while busy (null until the server answered). */
  operation: IOperation | null;
}

/** What a link in the Activity section led to: highlighted and scrolled to. */
export type Selection =
  | { type: 'version'; model: string; version: number }
  | { type: 'endpoint'; name: string };

export class ModelHubModel {
  constructor(client: IModelHubClient) {
    this.client = client;
    this.activity = new ActivityModel(client);
    this.activity.ended.connect(this._onOperationEnded, this);
  }

  readonly client: IModelHubClient;

  /** The Activity section's state, with its own `changed` signal. */
  readonly activity: ActivityModel;

  /** Emitted whenever anything shown changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get query(): Readonly<IQuery> {
    return this._query;
  }

  get models(): readonly IModelSummary[] {
    return this._models;
  }

  get total(): number {
    return this._total;
  }

  /** True while the model list is being (re)loaded. */
  get loading(): boolean {
    return this._loading;
  }

  /** True once a model list has been received at least once. */
  get loaded(): boolean {
    return this._loaded;
  }

  /** The server refused the query (HTTP 4xx): its message, shown under the filter. */
  get queryError(): string | null {
    return this._queryError;
  }

  /** Any other failure (server down, 5xx): a readable message. */
  get error(): string | null {
    return this._error;
  }

  get hasQuery(): boolean {
    const q = this._query;
    return !!(q.filter.trim() || q.search.trim() || q.flavor);
  }

  get hasMore(): boolean {
    return this._models.length < this._total;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  isExpanded(name: string): boolean {
    return this._expanded.has(name);
  }

  versions(name: string): IVersionsState | undefined {
    return this._versions.get(name);
  }

  get endpoints(): Readonly<IEndpointsState> {
    return this._endpoints;
  }

  /** Whether the Endpoints section is open (it is by default). */
  get endpointsExpanded(): boolean {
    return this._endpointsExpanded;
  }

  toggleEndpoints(): void {
    this._endpointsExpanded = !this._endpointsExpanded;
    this._emit();
  }

  /** The conversion of version `ref` ("churn:1") started here, if any. */
  conversion(ref: string): IConversionState | undefined {
    return this._conversions.get(ref);
  }

  /** Forget the outcome shown for version `ref`. */
  dismissConversion(ref: string): void {
    const state = this._conversions.get(ref);
    if (state && !state.busy) {
      this._conversions.delete(ref);
      this._emit();
    }
  }

  /**
   * Convert a scikit-learn version to ONNX on the server: start the
   * operation, follow it until it ends, keep a one-line outcome (or the
   * server's message) for the version, then reload so the new version shows
   * up. The Activity section gets every state of the operation on the way.
   */
  async convert(name: string, version: number): Promise<void> {
    const ref = `${name}:${version}`;
    if (this._isDisposed || this._conversions.get(ref)?.busy) {
      return;
    }
    this._conversions.set(ref, {
      busy: true,
      message: null,
      error: false,
      operation: null
    });
    this._emit();
    let state: IConversionState;
    try {
      const started = await this.client.convertVersion(name, version);
      this._followConversion(ref, started);
      const ended = await followOperation(this.client, started, {
        stopped: () => this._isDisposed,
        onUpdate: operation => this._followConversion(ref, operation)
      });
      if (ended === null) {
        return;
      }
      const succeeded = ended.status === 'succeeded';
      state = {
        busy: false,
        message: succeeded ? successMessage(ended, ref) : failureMessage(ended),
        error: !succeeded,
        operation: null
      };
    } catch (error) {
      state = {
        busy: false,
        message: messageOf(error),
        error: true,
        operation: null
      };
    }
    if (this._isDisposed) {
      return;
    }
    this._conversions.set(ref, state);
    this._emit();
    if (!state.error) {
      await this._reloadRegistry();
    }
  }

  /** A new state of the conversion of `ref`; re-render only if what shows changed. */
  private _followConversion(ref: string, operation: IOperation): void {
    this.activity.remember(operation);
    const previous = this._conversions.get(ref)?.operation;
    this._conversions.set(ref, {
      busy: true,
      message: null,
      error: false,
      operation
    });
    if (
      !previous ||
      previous.status !== operation.status ||
      previous.queue_position !== operation.queue_position ||
      JSON.stringify(previous.progress) !== JSON.stringify(operation.progress)
    ) {
      this._emit();
    }
  }

  /** A deploy that ended changed the endpoints: show them now, not in 5 s. */
  private _onOperationEnded(_: ActivityModel, operation: IOperation): void {
    if (operation.link?.type === 'endpoint' || operation.kind === 'deploy') {
      void this.loadEndpoints();
    }
  }

  /** What an Activity link led to, until another one is followed. */
  get selection(): Readonly<Selection> | null {
    return this._selection;
  }

  /**
   * Show what an operation's result link names: open the model and select
   * the version, or open the Endpoints section and select the endpoint. (An
   * arrow function, so the Activity section gets one stable callback.)
   */
  readonly reveal = (link: OperationLink): void => {
    if (this._isDisposed) {
      return;
    }
    if (link.type === 'version') {
      this._selection = {
        type: 'version',
        model: link.model,
        version: link.version
      };
      if (!this._expanded.has(link.model)) {
        this.toggle(link.model);
        return;
      }
    } else if (link.type === 'endpoint') {
      this._selection = { type: 'endpoint', name: link.name };
      this._endpointsExpanded = true;
      void this.loadEndpoints();
    }
    this._emit();
  };

  isSelectedVersion(name: string, version: number): boolean {
    const selection = this._selection;
    return (
      selection?.type === 'version' &&
      selection.model === name &&
      selection.version === version
    );
  }

  isSelectedEndpoint(name: string): boolean {
    const selection = this._selection;
    return selection?.type === 'endpoint' && selection.name === name;
  }

  /** (Re)load the endpoints; unchanged answers cause no re-render. */
  async loadEndpoints(): Promise<void> {
    if (this._isDisposed) {
      return;
    }
    const seq = ++this._endpointSeq;
    const previous = this._endpoints;
    if (!previous.loaded) {
      this._endpoints = { ...previous, loading: true };
      this._emit();
    }
    let next: IEndpointsState;
    try {
      const result = await this.client.listEndpoints();
      next = {
        loaded: true,
        loading: false,
        endpoints: result.endpoints ?? [],
        error: null
      };
    } catch (error) {
      next = {
        loaded: previous.loaded,
        loading: false,
        endpoints: previous.endpoints,
        error: messageOf(error)
      };
    }
    if (this._isDisposed || seq !== this._endpointSeq) {
      return;
    }
    const current = this._endpoints;
    const same =
      current.loaded === next.loaded &&
      current.loading === next.loading &&
      current.error === next.error &&
      JSON.stringify(current.endpoints) === JSON.stringify(next.endpoints);
    if (!same) {
      this._endpoints = next;
      this._emit();
    }
  }

  /** Change the query and reload the list. */
  setQuery(query: Partial<IQuery>): Promise<void> {
    const next = { ...this._query, ...query };
    if (
      next.filter === this._query.filter &&
      next.search === this._query.search &&
      next.flavor === this._query.flavor
    ) {
      return Promise.resolve();
    }
    this._query = next;
    return this._loadList();
  }

  /**
   * Reload everything shown: the model list (first page), every expanded
   * model's versions, the endpoints and the Activity section.
   */
  refresh(): Promise<void> {
    if (this._isDisposed) {
      return Promise.resolve();
    }
    void this.activity.refresh();
    return this._reloadRegistry();
  }

  /** Reload the model list, every expanded model's versions and the endpoints. */
  private _reloadRegistry(): Promise<void> {
    if (this._isDisposed) {
      return Promise.resolve();
    }
    void this.loadEndpoints();
    return this._loadList();
  }

  /** Reload the model list (first page) and every expanded model's versions. */
  private async _loadList(): Promise<void> {
    if (this._isDisposed) {
      return;
    }
    await this._fetchPage(1);
    // Keep open version lists in step with the list.
    const names = new Set(this._models.map(m => m.name));
    for (const name of Array.from(this._expanded)) {
      if (names.has(name)) {
        void this.loadVersions(name);
      }
    }
  }

  /** Fetch the next page of models and append it. */
  async loadMore(): Promise<void> {
    if (this._isDisposed || this._loading || !this.hasMore) {
      return;
    }
    await this._fetchPage(this._page + 1);
  }

  /**
   * Fetch one page of models: page 1 replaces the list, later pages append to it. A response
   * that a newer request has overtaken is dropped.
   */
  private async _fetchPage(page: number): Promise<void> {
    const seq = ++this._listSeq;
    this._loading = true;
    this._emit();
    const query = this._query;
    try {
      const result = await this.client.listModels({
        q: query.search,
        filter: query.filter,
        flavor: query.flavor,
        page,
        per_page: PER_PAGE
      });
      if (seq !== this._listSeq || this._isDisposed) {
        return;
      }
      if (page === 1) {
        this._models = result.models;
        this._queryError = null;
        this._loaded = true;
      } else {
        const seen = new Set(this._models.map(m => m.name));
        this._models = this._models.concat(
          result.models.filter(m => !seen.has(m.name))
        );
      }
      this._total = result.total;
      this._page = page;
      this._error = null;
    } catch (error) {
      if (seq !== this._listSeq || this._isDisposed) {
        return;
      }
      this._applyListError(error);
    } finally {
      if (seq === this._listSeq) {
        this._loading = false;
        this._emit();
      }
    }
  }

  /** Expand or collapse a model; expanding loads its versions. */
  toggle(name: string): void {
    if (this._expanded.has(name)) {
      this._expanded.delete(name);
      this._emit();
      return;
    }
    this._expanded.add(name);
    this._emit();
    void this.loadVersions(name);
  }

  /** (Re)load the versions of one model. */
  async loadVersions(name: string): Promise<void> {
    if (this._isDisposed) {
      return;
    }
    const seq = (this._versionSeq.get(name) ?? 0) + 1;
    this._versionSeq.set(name, seq);
    const previous = this._versions.get(name);
    this._versions.set(name, {
      loading: true,
      versions: previous?.versions ?? [],
      total: previous?.total ?? 0,
      error: null
    });
    this._emit();
    let state: IVersionsState;
    try {
      const result = await this.client.listVersions(name, {
        archived: true,
        per_page: PER_PAGE
      });
      state = {
        loading: false,
        versions: result.versions,
        total: result.total,
        error: null
      };
    } catch (error) {
      state = {
        loading: false,
        versions: previous?.versions ?? [],
        total: previous?.total ?? 0,
        error: messageOf(error)
      };
    }
    if (this._isDisposed || this._versionSeq.get(name) !== seq) {
      return;
    }
    this._versions.set(name, state);
    this._emit();
  }

  /**
   * Start polling `events` every POLL_INTERVAL ms. The first call learns the
   * current position; later calls reload the list when new events arrive.
   */
  startPolling(): void {
    if (this._polling || this._isDisposed) {
      return;
    }
    this._polling = true;
    this._schedulePoll(0);
    this._scheduleEndpoints();
    this.activity.start();
  }

  /** Stop polling (the panel is hidden or detached). */
  stopPolling(): void {
    this._polling = false;
    this.activity.stop();
    if (this._pollTimer !== null) {
      clearTimeout(this._pollTimer);
      this._pollTimer = null;
    }
    if (this._endpointTimer !== null) {
      clearTimeout(this._endpointTimer);
      this._endpointTimer = null;
    }
  }

  get isPolling(): boolean {
    return this._polling;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.stopPolling();
    this.activity.dispose();
    Signal.clearData(this);
  }

  /**
   * One poll round. The first round learns the current event position and
   * then loads everything, so nothing registered in between is missed; later
   * rounds reload what the new events concern: "operation" events the
   * Activity section only, any other the models and endpoints.
   */
  async pollOnce(): Promise<void> {
    if (this._isDisposed) {
      return;
    }
    const after = this._lastEventId;
    const result = await this.client.events(after ?? undefined);
    if (this._isDisposed) {
      return;
    }
    const events = result.events ?? [];
    const operationEvents = events.filter(e => e.kind === 'operation').length;
    const registryChanged =
      after === null ||
      events.length > operationEvents ||
      (events.length === 0 && result.last_id !== after) ||
      this._error !== null;
    this._lastEventId = result.last_id;
    if (after === null || this.activity.error !== null) {
      void this.activity.refresh();
    } else if (operationEvents > 0) {
      this.activity.operationsChanged();
    }
    if (registryChanged) {
      await this._reloadRegistry();
    }
  }

  private _schedulePoll(delay: number): void {
    if (!this._polling || this._isDisposed) {
      return;
    }
    if (this._pollTimer !== null) {
      clearTimeout(this._pollTimer);
    }
    this._pollTimer = setTimeout(async () => {
      this._pollTimer = null;
      if (!this._polling || this._isDisposed) {
        return;
      }
      let next = POLL_INTERVAL;
      if (typeof document !== 'undefined' && document.hidden) {
        // The browser tab is in the background: ask again later.
        this._schedulePoll(next);
        return;
      }
      try {
        await this.pollOnce();
        this._pollFailures = 0;
      } catch (error) {
        this._pollFailures++;
        next = Math.min(
          POLL_INTERVAL * 2 ** Math.min(this._pollFailures, 5),
          MAX_POLL_BACKOFF
        );
        const unreachable =
          error instanceof ModelHubError && error.isNetworkError;
        if ((unreachable || !this._loaded) && !this._isDisposed) {
          this._error = messageOf(error);
          this._queryError = null;
          this._emit();
        }
      }
      this._schedulePoll(next);
    }, delay);
  }

  /** Reload the endpoints every ENDPOINT_INTERVAL ms while polling. */
  private _scheduleEndpoints(): void {
    if (!this._polling || this._isDisposed) {
      return;
    }
    if (this._endpointTimer !== null) {
      clearTimeout(this._endpointTimer);
    }
    this._endpointTimer = setTimeout(async () => {
      this._endpointTimer = null;
      if (!this._polling || this._isDisposed) {
        return;
      }
      const hidden = typeof document !== 'undefined' && document.hidden;
      // Only once the list is up: the first poll round loads both.
      if (!hidden && this._loaded) {
        await this.loadEndpoints();
      }
      this._scheduleEndpoints();
    }, ENDPOINT_INTERVAL);
  }

  /** Retry after an error: reload now and poll again right away. */
  retry(): void {
    this._pollFailures = 0;
    if (this._polling) {
      this._schedulePoll(0);
    } else {
      void this.refresh();
    }
  }

  private _applyListError(error: unknown): void {
    if (error instanceof ModelHubError && error.isClientError) {
      // The server refused the query (bad filter, ...): show its words.
      this._queryError = error.message;
      this._error = null;
      this._models = [];
      this._total = 0;
      this._page = 1;
    } else {
      this._error = messageOf(error);
      this._queryError = null;
    }
  }

  private _emit(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private _changed = new Signal<this, void>(this);
  private _query: IQuery = { filter: '', search: '', flavor: '' };
  private _models: IModelSummary[] = [];
  private _total = 0;
  private _page = 1;
  private _loading = false;
  private _loaded = false;
  private _queryError: string | null = null;
  private _error: string | null = null;
  private _listSeq = 0;
  private _expanded = new Set<string>();
  private _versions = new Map<string, IVersionsState>();
  private _versionSeq = new Map<string, number>();
  private _polling = false;
  private _pollTimer: ReturnType<typeof setTimeout> | null = null;
  private _pollFailures = 0;
  private _lastEventId: number | null = null;
  private _endpoints: IEndpointsState = {
    loaded: false,
    loading: false,
    endpoints: [],
    error: null
  };
  private _endpointsExpanded = true;
  private _endpointSeq = 0;
  private _endpointTimer: ReturnType<typeof setTimeout> | null = null;
  private _conversions = new Map<string, IConversionState>();
  private _selection: Selection | null = null;
  private _isDisposed = false;
}

/** One line about a finished conversion, from its result. */
function successMessage(operation: IOperation, ref: string): string {
  const result = operation.result as IConversionResult | null;
  if (result?.version?.ref) {
    return conversionSummary(result);
  }
  const link = operation.link;
  return link?.type === 'version'
    ? `${ref} converted: ${link.ref}`
    : `${ref} converted.`;
}
