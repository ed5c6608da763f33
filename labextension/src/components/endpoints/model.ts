/**
 * State of the Endpoints section: the endpoints with their deployments, and
 * for each deployment whose detail is open its log tail and monitoring
 * figures, followed on every round of the panel's poll; the "try it"
 * requests and traffic changes made here, with the server's answers.
 *
 * Not here: whether traffic adds up or a mirror is valid; the server checks
 * it (as for `%traffic`) and its message is shown as is.
 */
import type {
  IEndpointMonitorReport,
  IEndpoint,
  IEndpointList,
  IInvokeResult,
  IModelHubClient,
  ITrafficRequest
} from '../../api';
import { messageOf, ModelHubError } from '../../errors';
import { ISample, trimSamples } from '../../metrics';
import { ListSection } from '../../section';

/** How often the endpoints are reloaded while shown (ms): a crash records no event. */
export const ENDPOINT_INTERVAL = 5000;

/** Lines of a deployment's log shown in its detail. */
export const DEPLOYMENT_LOG_TAIL = 40;

export type IEndpointsClient = Pick<
  IModelHubClient,
  | 'listEndpoints'
  | 'setTraffic'
  | 'keys'
  | 'deploymentLog'
  | 'invoke'
  | 'endpointMetrics'
  | 'undeploy'
  | 'deleteEndpoint'
  | 'setCollect'
  | 'endpointMonitor'
>;

/** An endpoint page's own facts: whether the keys may be read, and the monitoring answer. */
export interface IPageState {
  /** null until asked; false with the server's reason when the keys are refused (no write). */
  keysAllowed: boolean | null;
  keysReason: string | null;
  monitor: IMonitorState;
}

/** The windows the page's monitor picker offers (the server takes any, e.g. 30m). */
export const MONITOR_WINDOWS = ['1h', '1d', '7d'] as const;
export type MonitorWindow = (typeof MONITOR_WINDOWS)[number];

/**
 * The endpoint's monitor report over a window. 'empty' carries the server's 400
 * (nothing collected in the window, or collection off): a state to explain, not a
 * failure; 'unavailable' is a server without the monitor route (404).
 */
export interface IMonitorState {
  window: MonitorWindow;
  state: 'loading' | 'unavailable' | 'empty' | 'error' | 'ready';
  data: IEndpointMonitorReport | null;
  error: string | null;
}

/** Lines of the deployment log that are probes (health, readiness, metrics), not traffic. */
const PROBE_LINE = /"(GET|HEAD) (\/|\/ping|\/health[^ "]*|\/ready[^ "]*|\/live[^ "]*|\/metrics[^ "]*|\/v2\/health\/[^ "]*|\/v2\/models\/[^ "]*\/ready)(\?[^ "]*)?"/;

/** The log without the probes' lines: what the endpoint answered to its clients. */
export function withoutProbes(log: string): string {
  return log
    .split('\n')
    .filter(line => !PROBE_LINE.test(line))
    .join('\n');
}

export interface IWatchState {
  log: string;
  logError: string | null;
  samples: ISample[];
  metricsError: string | null;
}

export interface ITryState {
  busy: boolean;
  result: IInvokeResult | null;
  error: string | null;
}

export interface IChangeState {
  busy: boolean;
  error: string | null;
  message: string | null;
}

/** The key of a change to an endpoint's collection (its outcome is shown apart from traffic's). */
export function collectKey(endpoint: string): string {
  return `${endpoint}#collect`;
}

/** "scoring/blue" */
export function deploymentKey(endpoint: string, deployment: string): string {
  return `${endpoint}/${deployment}`;
}

export class EndpointsModel extends ListSection<IEndpointList> {
  constructor(client: IEndpointsClient) {
    super();
    this.client = client;
  }

  readonly client: IEndpointsClient;

  /** Called after a change made here (undeploy, delete, traffic): what versions are used by changed too. */
  onChanged: () => void = () => undefined;

  get endpoints(): readonly IEndpoint[] {
    return this.data?.endpoints ?? [];
  }

  find(name: string): IEndpoint | undefined {
    return this.endpoints.find(e => e.name === name);
  }

  // -- selection ---------------------------------------------------------------------------

  isSelected(name: string): boolean {
    return this._selected === name;
  }

  get selection(): unknown {
    return this._selection;
  }

  select(name: string): void {
    this._selected = name;
    this._selection = {};
    this.open();
    void this.reload();
    this.emit();
  }

  // -- deployment details followed by the poll ---------------------------------------------

  /** Follow a deployment's log and metrics while its detail is open. */
  watch(endpoint: string, deployment: string): void {
    const key = deploymentKey(endpoint, deployment);
    this._details.set(key, (this._details.get(key) ?? 0) + 1);
    if (!this._watched.has(key)) {
      this._watched.set(key, { log: '', logError: null, samples: [], metricsError: null });
      this.emit();
    }
    void this.follow();
  }

  unwatch(endpoint: string, deployment: string): void {
    const key = deploymentKey(endpoint, deployment);
    const count = (this._details.get(key) ?? 0) - 1;
    if (count > 0) {
      this._details.set(key, count);
      return;
    }
    this._details.delete(key);
    if (!this._pages.has(endpoint)) {
      this._watched.delete(key);
    }
  }

  /** An endpoint's page opened: follow every deployment's log and metrics; ask for its keys and monitoring. */
  watchPage(endpoint: string): void {
    this._pages.set(endpoint, (this._pages.get(endpoint) ?? 0) + 1);
    if (!this._pageStates.has(endpoint)) {
      this._pageStates.set(endpoint, {
        keysAllowed: null,
        keysReason: null,
        monitor: { window: '1d', state: 'loading', data: null, error: null }
      });
    }
    void this._loadPage(endpoint);
    void this.follow();
  }

  unwatchPage(endpoint: string): void {
    const count = (this._pages.get(endpoint) ?? 0) - 1;
    if (count > 0) {
      this._pages.set(endpoint, count);
      return;
    }
    this._pages.delete(endpoint);
    this._pageStates.delete(endpoint);
    for (const key of Array.from(this._watched.keys())) {
      if (key.startsWith(`${endpoint}/`) && !this._details.has(key)) {
        this._watched.delete(key);
      }
    }
  }

  pageState(endpoint: string): IPageState | undefined {
    return this._pageStates.get(endpoint);
  }

  /** Switch payload collection on (requests and answers) or off; the server's refusal is kept to show. */
  setCollecting(endpoint: string, on: boolean): Promise<void> {
    return this._change(collectKey(endpoint), async () => {
      await this.client.setCollect(endpoint, { collect: on ? ['requests', 'responses'] : [] });
      return on ? `Collecting the requests and answers of ${endpoint}.` : `Collection on ${endpoint} switched off.`;
    });
  }

  private async _loadPage(endpoint: string): Promise<void> {
    let keysAllowed = true;
    let keysReason: string | null = null;
    try {
      await this.client.keys(endpoint); // only whether they may be read: the key itself is not kept
    } catch (error) {
      keysAllowed = false;
      keysReason = messageOf(error);
    }
    const page = this._pageStates.get(endpoint);
    if (this.isDisposed || !page) {
      return;
    }
    this._pageStates.set(endpoint, { ...page, keysAllowed, keysReason });
    this.emit();
    await this.loadMonitor(endpoint, page.monitor.window);
  }

  /** Ask for the endpoint's monitor report over `window` (the picker, Refresh, the page opening). */
  async loadMonitor(endpoint: string, window: MonitorWindow): Promise<void> {
    const page = this._pageStates.get(endpoint);
    if (!page) {
      return;
    }
    this._pageStates.set(endpoint, { ...page, monitor: { window, state: 'loading', data: null, error: null } });
    this.emit();
    let monitor: IMonitorState;
    try {
      monitor = { window, state: 'ready', data: await this.client.endpointMonitor(endpoint, window), error: null };
    } catch (error) {
      const status = error instanceof ModelHubError ? error.status : 0;
      monitor = {
        window,
        state: status === 400 ? 'empty' : status === 404 ? 'unavailable' : 'error',
        data: null,
        error: messageOf(error)
      };
    }
    const now = this._pageStates.get(endpoint);
    // a page closed, or a newer window chosen meanwhile: this answer is stale
    if (this.isDisposed || !now || now.monitor.window !== window) {
      return;
    }
    this._pageStates.set(endpoint, { ...now, monitor });
    this.emit();
  }

  watched(endpoint: string, deployment: string): IWatchState | undefined {
    return this._watched.get(deploymentKey(endpoint, deployment));
  }

  get isWatching(): boolean {
    return this._watched.size > 0 || this._pages.size > 0;
  }

  /** One round for every open detail and page: the log tails and a read of the metrics. */
  async follow(): Promise<void> {
    for (const endpoint of this._pages.keys()) {
      for (const deployment of this.find(endpoint)?.deployments ?? []) {
        const key = deploymentKey(endpoint, deployment.name);
        if (!this._watched.has(key)) {
          this._watched.set(key, { log: '', logError: null, samples: [], metricsError: null });
        }
      }
    }
    const byEndpoint = new Map<string, string[]>();
    for (const key of this._watched.keys()) {
      const [endpoint, deployment] = key.split('/');
      byEndpoint.set(endpoint, [...(byEndpoint.get(endpoint) ?? []), deployment]);
    }
    await Promise.all(
      Array.from(byEndpoint.entries()).map(async ([endpoint, deployments]) => {
        let sample: ISample | null = null;
        let metricsError: string | null = null;
        try {
          sample = { time: Date.now(), metrics: await this.client.endpointMetrics(endpoint) };
        } catch (error) {
          metricsError = messageOf(error);
        }
        await Promise.all(
          deployments.map(async deployment => {
            let log: string | null = null;
            let logError: string | null = null;
            try {
              log = await this.client.deploymentLog(endpoint, deployment, DEPLOYMENT_LOG_TAIL);
            } catch (error) {
              logError = messageOf(error);
            }
            const key = deploymentKey(endpoint, deployment);
            const state = this._watched.get(key);
            if (!state || this.isDisposed) {
              return;
            }
            const samples = sample
              ? trimSamples([...state.samples, sample], sample.time)
              : state.samples;
            this._watched.set(key, {
              log: log ?? state.log,
              logError,
              samples,
              metricsError
            });
          })
        );
      })
    );
    if (byEndpoint.size) {
      this.emit();
    }
  }

  // -- keys, try it, traffic -----------------------------------------------------------------

  /** The endpoint's primary key (fetched when asked for: never kept in the page). */
  async primaryKey(endpoint: string): Promise<string> {
    const keys = await this.client.keys(endpoint);
    return keys.primary;
  }

  tryState(endpoint: string): ITryState | undefined {
    return this._tries.get(endpoint);
  }

  /**
   * Send `body` to the endpoint through the server, to `deployment` when given
   * (the header that picks one, whatever its traffic); keep its answer and latency.
   */
  async tryIt(endpoint: string, body: unknown, deployment?: string): Promise<void> {
    if (this._tries.get(endpoint)?.busy) {
      return;
    }
    this._tries.set(endpoint, { busy: true, result: null, error: null });
    this.emit();
    let state: ITryState;
    try {
      state = { busy: false, result: await this.client.invoke(endpoint, body, deployment), error: null };
    } catch (error) {
      state = { busy: false, result: null, error: messageOf(error) };
    }
    if (!this.isDisposed) {
      this._tries.set(endpoint, state);
      this.emit();
      void this.follow();
    }
  }

  changeState(endpoint: string): IChangeState | undefined {
    return this._changes.get(endpoint);
  }

  /** Forget the outcome shown for a change to `endpoint` (its banner was dismissed). */
  dismissChange(endpoint: string): void {
    if (this._changes.get(endpoint)?.busy === false) {
      this._changes.delete(endpoint);
      this.emit();
    }
  }

  /** Change traffic and/or the mirror; the server validates, its refusal is kept to show. */
  setTraffic(endpoint: string, request: ITrafficRequest): Promise<void> {
    return this._change(endpoint, async () => {
      await this.client.setTraffic(endpoint, request);
      return 'Traffic changed.';
    });
  }

  undeploy(endpoint: string, deployment: string): Promise<void> {
    return this._change(endpoint, async () => {
      await this.client.undeploy(endpoint, deployment);
      this.unwatch(endpoint, deployment);
      return `Deployment ${deployment} removed from ${endpoint}.`;
    });
  }

  /** The endpoint's last deployment goes with the endpoint (the server refuses it alone). */
  deleteEndpoint(endpoint: string, deployment?: string): Promise<void> {
    return this._change(endpoint, async () => {
      await this.client.deleteEndpoint(endpoint);
      if (deployment) {
        this.unwatch(endpoint, deployment);
      }
      return `Endpoint ${endpoint} removed.`;
    });
  }

  protected fetch(): Promise<IEndpointList> {
    return this.client.listEndpoints();
  }

  private async _change(endpoint: string, work: () => Promise<string>): Promise<void> {
    if (this._changes.get(endpoint)?.busy) {
      return;
    }
    this._changes.set(endpoint, { busy: true, error: null, message: null });
    this.emit();
    let state: IChangeState;
    try {
      state = { busy: false, error: null, message: await work() };
    } catch (error) {
      state = { busy: false, error: messageOf(error), message: null };
    }
    if (this.isDisposed) {
      return;
    }
    this._changes.set(endpoint, state);
    this.emit();
    await this.reload();
    if (!state.error) {
      this.onChanged();
    }
  }

  private _selected: string | null = null;
  private _selection: unknown = null;
  private _watched = new Map<string, IWatchState>();
  private _details = new Map<string, number>();
  private _pages = new Map<string, number>();
  private _pageStates = new Map<string, IPageState>();
  private _tries = new Map<string, ITryState>();
  private _changes = new Map<string, IChangeState>();
}
