/**
 * State of the Model Hub panel: the current query, the model list, expanded
 * models' versions, and the event poll that keeps them fresh.
 *
 * The panel holds no registry rules: filters are sent verbatim and the
 * server's answer (or its error message) is shown as is.
 */
import { ISignal, Signal } from '@lumino/signaling';

import type {
  IEndpoint,
  IModelHubClient,
  IModelSummary,
  IVersion
} from './api';
import { ModelHubError } from './errors';
import { conversionSummary } from './format';

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
}

export class ModelHubModel {
  constructor(client: IModelHubClient) {
    this.client = client;
  }

  readonly client: IModelHubClient;

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
   * Convert a scikit-learn version to ONNX on the server, keep a one-line
   * outcome (or the server's message) for the version, then refresh so the
   * new version shows up.
   */
  async convert(name: string, version: number): Promise<void> {
    const ref = `${name}:${version}`;
    if (this._isDisposed || this._conversions.get(ref)?.busy) {
      return;
    }
    this._conversions.set(ref, { busy: true, message: null, error: false });
    this._emit();
    let state: IConversionState;
    try {
      const result = await this.client.convertVersion(name, version);
      state = { busy: false, message: conversionSummary(result), error: false };
    } catch (error) {
      state = { busy: false, message: messageOf(error), error: true };
    }
    if (this._isDisposed) {
      return;
    }
    this._conversions.set(ref, state);
    this._emit();
    if (!state.error) {
      await this.refresh();
    }
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
   * Reload the model list (first page), every expanded model's versions and
   * the endpoints.
   */
  refresh(): Promise<void> {
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
  }

  /** Stop polling (the panel is hidden or detached). */
  stopPolling(): void {
    this._polling = false;
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
    Signal.clearData(this);
  }

  /**
   * One poll round. The first round learns the current event position and
   * then loads the list, so nothing registered in between is missed; later
   * rounds reload the list when new events arrived.
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
    const changed =
      after === null ||
      result.last_id !== after ||
      result.events.length > 0 ||
      this._error !== null;
    this._lastEventId = result.last_id;
    if (changed) {
      await this.refresh();
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
  private _isDisposed = false;
}

/** A readable message for any error. */
export function messageOf(error: unknown): string {
  if (error instanceof Error && error.message) {
    return error.message;
  }
  return String(error);
}
