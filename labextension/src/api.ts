/**
 * Typed client for the Model Hub REST API served by the jupyter_modelhub
 * server extension under `<baseUrl>/modelhub/api/`.
 *
 * The types come from the server's OpenAPI document (src/generated/openapi.ts,
 * made by `jlpm generate:api`, never edited by hand), so a change on the
 * server that the panel does not follow fails the build. Where the document
 * says only "an object" (an operation's link and result), the narrower shape
 * the server sends is spelled out here.
 *
 * Every request goes through `ServerConnection.makeRequest`, which adds the
 * token / XSRF headers the Jupyter server expects.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { errorFromResponse, ModelHubError } from './errors';
import type { components } from './generated/openapi';

export { errorFromResponse, ModelHubError } from './errors';

type Schemas = components['schemas'];

/** Flavors the registry knows about (the server is the authority). */
export const FLAVORS = ['sklearn', 'onnx', 'mlflow', 'custom'] as const;

export type Tags = { [key: string]: string };
export type IModelSummary = Schemas['ModelSummary'];
export type IModelList = Schemas['ModelPage'];
export type ITensorSpec = Schemas['TensorSpec'];
export type IVersionFile = Schemas['FileEntry'];
export type IVersion = Schemas['Version'];
export type IVersionList = Schemas['VersionPage'];
export type IVersionActions = Schemas['VersionActions'];
export type ActionName = keyof IVersionActions;
export type IAction = Schemas['Action'];
export type IEvent = Schemas['Event'];
export type IEventList = Schemas['Events'];
export type IDeployment = Schemas['DeploymentInfo'];
export type IEndpoint = Schemas['EndpointInfo'];
export type IEndpointList = Schemas['EndpointList'];
export type IKeys = Schemas['Keys'];
export type IInvokeResult = Schemas['InvokeResult'];
export type IEndpointMetrics = Schemas['EndpointMetrics'];
export type IDeploymentMetrics = Schemas['DeploymentMetrics'];
export type ITrafficHistory = Schemas['TrafficHistory'];
export type ITrafficPoint = Schemas['TrafficPoint'];
export type IPermissions = Schemas['Permissions'];
export type IPermissionGrant = Schemas['PermissionGrant'];
export type IPermissionRequest = Schemas['PermissionRequest'];
export type IHistory = Schemas['History'];
export type IHistoryEntry = Schemas['HistoryEntry'];
export type IServedState = Schemas['EndpointState'];
export type IPromotion = Schemas['Promotion'];
export type IAliasChecks = Schemas['AliasChecks'];
export type IPromotionCheck = Schemas['PromotionCheck'];
export type ICollection = Schemas['Collection'];
export type ICollectRequest = Schemas['CollectRequest'];
export type IModelCard = Schemas['ModelCard'];
export type ICardRequest = Schemas['CardRequest'];
export type IEndpointMonitorReport = Schemas['EndpointMonitorReport'];
export type IColumnDrift = Schemas['ColumnDrift'];
export type IImage = Schemas['ImageRecord'];
export type IImageList = Schemas['ImageList'];
export type IImagePush = Schemas['ImagePush'];
export type IEnvironment = Schemas['Environment'];
export type IEnvironmentList = Schemas['EnvironmentList'];
export type ITrafficRequest = Schemas['TrafficRequest'];
export type IDeployRequest = Partial<Schemas['DeployRequest']> & { model: string };
export type IPackageRequest = Partial<Schemas['PackageRequest']> & { model: string };
export type IUpload = Schemas['Upload'];
export type IRegisterRequest = Partial<Schemas['RegisterRequest']> & { upload_id: string };
export type IUpdateVersionRequest = Partial<Schemas['UpdateVersionRequest']>;
export type IConvertRequest = Partial<Schemas['ConvertRequest']>;
/** A batch job: an operation of kind "batch" with its settings, output and mini-batch table. */
export type IJob = IOperation &
  Pick<
    Schemas['Job'],
    | 'job'
    | 'model'
    | 'endpoint'
    | 'settings'
    | 'entry_script'
    | 'inputs'
    | 'output'
    | 'output_dir'
    | 'notebook'
    | 'notebook_lab_path'
    | 'summary'
    | 'resume'
    | 'mini_batches'
  >;
export interface IJobPage {
  jobs: IJob[];
  total: number;
  page: number;
  per_page: number;
}
export type IMiniBatch = Schemas['MiniBatch'];
export type IBatchEndpoint = Schemas['BatchEndpoint'];
export type IBatchEndpointList = Schemas['BatchEndpointList'];
export type EndpointState = 'healthy' | 'failed' | 'updating' | 'stopped';

export type OperationStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface IOperationProgress {
  done: number;
  /** null while the amount of work is unknown. */
  total: number | null;
  unit: string;
  /** What it is doing now; may be ''. */
  message: string;
}

/** What an operation's result is, for a link to it (the document says only "an object"). */
export type OperationLink =
  | { type: 'version'; model: string; version: number; ref: string }
  | { type: 'endpoint'; name: string };

export type IOperationError = Schemas['OperationError'];

/** Long work on the server (`GET operations/{id}`), with its link narrowed. */
export type IOperation = Omit<Schemas['Operation'], 'link' | 'progress'> & {
  link: OperationLink | null;
  progress: IOperationProgress;
};

export interface IOperationList {
  operations: IOperation[];
  total: number;
  page: number;
  per_page: number;
}

/** The result of a successful conversion (`result` of a "convert" operation). */
export interface IConversionResult {
  version: IVersion;
  equivalence: { passed: boolean; rows: number; [key: string]: unknown };
  speed: {
    speedup?: { latency?: number | null; throughput?: number | null };
    [key: string]: unknown;
  };
  conversion: { [key: string]: unknown };
}

export interface IListOperationsQuery {
  kind?: string;
  /** One status, or several: ['queued', 'running']. */
  status?: string | string[];
  subject?: string;
  page?: number;
  per_page?: number;
}

/** Filters of a history (`GET models/{name}/history`, `GET endpoints/{name}/history`). */
export interface IHistoryQuery {
  /** One action or several, comma-separated (alias.moved,traffic.changed). */
  action?: string;
  user?: string;
  since?: string;
  until?: string;
  limit?: number;
  /** Endpoints only: a time; the answer's `state` says what served then. */
  at?: string;
}

export interface IListModelsQuery {
  /** Also models whose versions are all archived. */
  archived?: boolean;
  /** Name substring. */
  q?: string;
  /** Tag filter in the registry's syntax; passed verbatim. */
  filter?: string;
  flavor?: string;
  page?: number;
  per_page?: number;
}

export interface IListVersionsQuery {
  archived?: boolean;
  filter?: string;
  flavor?: string;
  page?: number;
  per_page?: number;
}

/** Build a query string, leaving out empty values. */
export function queryString(params: {
  [key: string]: string | number | boolean | undefined | null;
}): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') {
      continue;
    }
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** What the panel needs from the API (a fake in unit tests). */
export interface IModelHubClient {
  listModels(query?: IListModelsQuery): Promise<IModelList>;
  listVersions(name: string, query?: IListVersionsQuery): Promise<IVersionList>;
  getVersion(name: string, version: number): Promise<IVersion>;
  updateVersion(name: string, version: number, change: IUpdateVersionRequest): Promise<IVersion>;
  deleteVersion(name: string, version: number): Promise<unknown>;
  setAlias(name: string, alias: string, version: number): Promise<IVersion>;
  convertVersion(name: string, version: number, request?: IConvertRequest): Promise<IOperation>;
  upload(tar: Uint8Array): Promise<IUpload>;
  register(name: string, request: IRegisterRequest): Promise<IVersion>;
  fileUrl(name: string, version: number, path: string): string;
  events(after?: number): Promise<IEventList>;
  listEndpoints(): Promise<IEndpointList>;
  deploy(endpoint: string, request: IDeployRequest): Promise<IEndpoint | IOperation>;
  undeploy(endpoint: string, deployment: string): Promise<unknown>;
  deleteEndpoint(endpoint: string): Promise<unknown>;
  setTraffic(endpoint: string, request: ITrafficRequest): Promise<IEndpoint>;
  keys(endpoint: string): Promise<IKeys>;
  deploymentLog(endpoint: string, deployment: string, tail?: number): Promise<string>;
  /** Send `body` to the endpoint; to `deployment` when given (whatever its traffic). */
  invoke(endpoint: string, body: unknown, deployment?: string): Promise<IInvokeResult>;
  endpointMetrics(endpoint: string): Promise<IEndpointMetrics>;
  /** The endpoint's traffic per deployment over `range` (1h, 6h, 24h, 7d), as the server recorded it. */
  endpointMetricsHistory(endpoint: string, range: string): Promise<ITrafficHistory>;
  listImages(): Promise<IImageList>;
  packageVersion(request: IPackageRequest): Promise<IOperation>;
  /** Push an image to REGISTRY/REPO[:TAG] (an operation; its result is the record with the push). */
  pushImage(image: number, reference: string): Promise<IOperation>;
  listEnvironments(): Promise<IEnvironmentList>;
  listBatchEndpoints(): Promise<IBatchEndpointList>;
  listJobs(perPage?: number): Promise<IJobPage>;
  getJob(id: number): Promise<IJob>;
  listOperations(query?: IListOperationsQuery): Promise<IOperationList>;
  getOperation(id: number): Promise<IOperation>;
  operationLog(id: number, tail?: number): Promise<string>;
  cancelOperation(id: number): Promise<IOperation>;
  /** The server's OpenAPI document: the rules its request bodies obey. */
  openapi(): Promise<unknown>;
  /** Who may do what to a model, and the asking user's own permission. */
  permissions(name: string): Promise<IPermissions>;
  /** Grant (or take back, with "default") a permission; needs manage (403 names who can). */
  grant(name: string, request: IPermissionRequest): Promise<IPermissions>;
  modelHistory(name: string, query?: IHistoryQuery): Promise<IHistory>;
  endpointHistory(name: string, query?: IHistoryQuery): Promise<IHistory>;
  /** Point `name@alias` back at the version before its last move. */
  rollbackAlias(name: string, alias: string): Promise<IVersion>;
  /** Return an endpoint's traffic and mirror to before their last change. */
  rollbackTraffic(endpoint: string): Promise<IEndpoint>;
  /** A version's checks for every alias under promotion rules. */
  promotion(name: string, version: number): Promise<IPromotion>;
  /** Approve a version for an alias (refused, 403, for its registrant). */
  approve(name: string, version: number, alias: string): Promise<IPromotion>;
  getEndpoint(name: string): Promise<IEndpoint>;
  setCollect(endpoint: string, request: ICollectRequest): Promise<IEndpoint>;
  /** The endpoint's monitor report over the traffic of the last `window` (e.g. 1h, 1d, 7d). */
  endpointMonitor(endpoint: string, window?: string): Promise<IEndpointMonitorReport>;
  /** A version's model card as a document: Markdown, or HTML rendered with raw HTML off. */
  cardText(name: string, version: number, format: 'md' | 'html'): Promise<string>;
  /** A link that downloads the card's Markdown (the login cookie authenticates it). */
  cardUrl(name: string, version: number): string;
  /** Keep the written sections of an edited card (needs write). */
  saveCard(name: string, version: number, request: ICardRequest): Promise<IModelCard>;
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/** Says to the server that a change came from the panel: its history records it so. */
const CLIENT_HEADER = 'X-Modelhub-Client';

function path(...parts: (string | number)[]): string {
  return parts.map(part => encodeURIComponent(String(part))).join('/');
}

/** A client bound to one server connection. */
export class ModelHubClient implements IModelHubClient {
  constructor(settings?: ServerConnection.ISettings) {
    this.serverSettings = settings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  listModels(query: IListModelsQuery = {}): Promise<IModelList> {
    return this.get(
      'models' +
        queryString({
          archived: query.archived,
          q: query.q?.trim(),
          filter: query.filter?.trim(),
          flavor: query.flavor,
          page: query.page ?? 1,
          per_page: query.per_page ?? 50
        })
    );
  }

  /** One model's versions with their actions (archived ones included by default). */
  listVersions(name: string, query: IListVersionsQuery = {}): Promise<IVersionList> {
    return this.get(
      path('models', name, 'versions') +
        queryString({
          archived: query.archived ?? true,
          filter: query.filter?.trim(),
          flavor: query.flavor,
          page: query.page ?? 1,
          per_page: query.per_page ?? 50
        })
    );
  }

  getVersion(name: string, version: number): Promise<IVersion> {
    return this.get(path('models', name, 'versions', version));
  }

  updateVersion(name: string, version: number, change: IUpdateVersionRequest): Promise<IVersion> {
    return this.send(path('models', name, 'versions', version), 'PATCH', change);
  }

  deleteVersion(name: string, version: number): Promise<unknown> {
    return this.send(path('models', name, 'versions', version), 'DELETE');
  }

  setAlias(name: string, alias: string, version: number): Promise<IVersion> {
    return this.send(path('models', name, 'aliases', alias), 'PUT', { version });
  }

  /** Start converting a scikit-learn version to ONNX: the operation to follow (202). */
  convertVersion(name: string, version: number, request: IConvertRequest = {}): Promise<IOperation> {
    return this.send(path('models', name, 'versions', version, 'convert'), 'POST', request);
  }

  /** `POST uploads`: a tar of a version's files, then `register` with its id. */
  upload(tar: Uint8Array): Promise<IUpload> {
    return this.request('uploads', {
      method: 'POST',
      body: tar as unknown as BodyInit,
      headers: { 'Content-Type': 'application/x-tar' }
    });
  }

  register(name: string, request: IRegisterRequest): Promise<IVersion> {
    return this.send(path('models', name, 'versions'), 'POST', request);
  }

  /** A link that downloads one file of a version (the login cookie authenticates it). */
  fileUrl(name: string, version: number, file: string): string {
    const parts = file.split('/').map(encodeURIComponent).join('/');
    return URLExt.join(
      this.serverSettings.baseUrl,
      'modelhub/api',
      path('models', name, 'versions', version, 'files'),
      parts
    );
  }

  /** Without `after` the server answers only with the current position (`last_id`). */
  events(after?: number): Promise<IEventList> {
    return this.get('events' + queryString({ after }));
  }

  listEndpoints(): Promise<IEndpointList> {
    return this.get('endpoints');
  }

  /** 201/200 with the endpoint when it is ready; 202 with an operation when it builds first. */
  deploy(endpoint: string, request: IDeployRequest): Promise<IEndpoint | IOperation> {
    return this.send(path('endpoints', endpoint, 'deployments'), 'POST', request);
  }

  undeploy(endpoint: string, deployment: string): Promise<unknown> {
    return this.send(path('endpoints', endpoint, 'deployments', deployment), 'DELETE');
  }

  /** The endpoint with all its deployments, its port and keys (as `%undeploy EP`). */
  deleteEndpoint(endpoint: string): Promise<unknown> {
    return this.send(path('endpoints', endpoint), 'DELETE');
  }

  setTraffic(endpoint: string, request: ITrafficRequest): Promise<IEndpoint> {
    return this.send(path('endpoints', endpoint, 'traffic'), 'PUT', request);
  }

  keys(endpoint: string): Promise<IKeys> {
    return this.get(path('endpoints', endpoint, 'keys'));
  }

  async deploymentLog(endpoint: string, deployment: string, tail = 100): Promise<string> {
    const response = await this.fetch(
      path('endpoints', endpoint, 'deployments', deployment, 'logs') + queryString({ tail })
    );
    return response.text();
  }

  invoke(endpoint: string, body: unknown, deployment?: string): Promise<IInvokeResult> {
    return this.send(path('endpoints', endpoint, 'invoke'), 'POST', deployment ? { body, deployment } : { body });
  }

  endpointMetrics(endpoint: string): Promise<IEndpointMetrics> {
    return this.get(path('endpoints', endpoint, 'metrics'));
  }

  endpointMetricsHistory(endpoint: string, range: string): Promise<ITrafficHistory> {
    return this.get(path('endpoints', endpoint, 'metrics', 'history') + queryString({ range }));
  }

  listImages(): Promise<IImageList> {
    return this.get('images');
  }

  packageVersion(request: IPackageRequest): Promise<IOperation> {
    return this.send('images', 'POST', request);
  }

  pushImage(image: number, reference: string): Promise<IOperation> {
    return this.send(path('images', String(image), 'push'), 'POST', { reference });
  }

  listEnvironments(): Promise<IEnvironmentList> {
    return this.get('environments');
  }

  listBatchEndpoints(): Promise<IBatchEndpointList> {
    return this.get('batch-endpoints');
  }

  /** The newest batch jobs (without their mini-batch tables). */
  listJobs(perPage = 10): Promise<IJobPage> {
    return this.get('jobs' + queryString({ per_page: perPage }));
  }

  /** One job with its per-mini-batch table. */
  getJob(id: number): Promise<IJob> {
    return this.get(`jobs/${id}`);
  }

  listOperations(query: IListOperationsQuery = {}): Promise<IOperationList> {
    const status = Array.isArray(query.status) ? query.status.join(',') : query.status;
    return this.get(
      'operations' +
        queryString({
          kind: query.kind,
          status,
          subject: query.subject,
          page: query.page,
          per_page: query.per_page
        })
    );
  }

  getOperation(id: number): Promise<IOperation> {
    return this.get(`operations/${id}`);
  }

  /** The last lines of an operation's log, as text. */
  async operationLog(id: number, tail = 100): Promise<string> {
    const response = await this.fetch(`operations/${id}/log` + queryString({ tail }));
    return response.text();
  }

  /** A finished operation is refused (409). */
  cancelOperation(id: number): Promise<IOperation> {
    return this.send(`operations/${id}/cancel`, 'POST', {});
  }

  openapi(): Promise<unknown> {
    return this.get('openapi.json');
  }

  permissions(name: string): Promise<IPermissions> {
    return this.get(path('models', name, 'permissions'));
  }

  grant(name: string, request: IPermissionRequest): Promise<IPermissions> {
    return this.send(path('models', name, 'permissions'), 'PUT', request);
  }

  modelHistory(name: string, query: IHistoryQuery = {}): Promise<IHistory> {
    return this.get(path('models', name, 'history') + historyQuery(query));
  }

  endpointHistory(name: string, query: IHistoryQuery = {}): Promise<IHistory> {
    return this.get(path('endpoints', name, 'history') + historyQuery(query));
  }

  rollbackAlias(name: string, alias: string): Promise<IVersion> {
    return this.send(path('models', name, 'aliases', alias, 'rollback'), 'POST');
  }

  rollbackTraffic(endpoint: string): Promise<IEndpoint> {
    return this.send(path('endpoints', endpoint, 'traffic', 'rollback'), 'POST');
  }

  promotion(name: string, version: number): Promise<IPromotion> {
    return this.get(path('models', name, 'versions', version, 'promotion'));
  }

  approve(name: string, version: number, alias: string): Promise<IPromotion> {
    return this.send(path('models', name, 'versions', version, 'evidence'), 'POST', { kind: 'approval', alias });
  }

  getEndpoint(name: string): Promise<IEndpoint> {
    return this.get(path('endpoints', name));
  }

  setCollect(endpoint: string, request: ICollectRequest): Promise<IEndpoint> {
    return this.send(path('endpoints', endpoint, 'collect'), 'PUT', request);
  }

  endpointMonitor(endpoint: string, window?: string): Promise<IEndpointMonitorReport> {
    return this.get(path('endpoints', endpoint, 'monitor') + queryString({ window }));
  }

  async cardText(name: string, version: number, format: 'md' | 'html'): Promise<string> {
    const response = await this.fetch(path('models', name, 'versions', version, 'card') + queryString({ format }));
    return response.text();
  }

  cardUrl(name: string, version: number): string {
    return URLExt.join(
      this.serverSettings.baseUrl,
      'modelhub/api',
      path('models', name, 'versions', version, 'card') + queryString({ format: 'md' })
    );
  }

  saveCard(name: string, version: number, request: ICardRequest): Promise<IModelCard> {
    return this.send(path('models', name, 'versions', version, 'card'), 'PUT', request);
  }

  private get<T>(route: string): Promise<T> {
    return this.request<T>(route);
  }

  private send<T>(route: string, method: string, body?: unknown): Promise<T> {
    return this.request<T>(route, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: body === undefined ? undefined : JSON_HEADERS
    });
  }

  /** A JSON request: the parsed body (null for an empty one), or a ModelHubError. */
  private async request<T>(route: string, init: RequestInit = {}): Promise<T> {
    const response = await this.fetch(route, init);
    const text = await response.text();
    if (!text) {
      return null as T;
    }
    const body = parseJSON(text);
    if (body === undefined) {
      throw new ModelHubError(
        `The Model Hub API sent an unreadable answer (HTTP ${response.status}).`,
        response.status
      );
    }
    return body as T;
  }

  /** Send a request; a failed answer becomes a ModelHubError with the server's message. */
  private async fetch(route: string, init: RequestInit = {}): Promise<Response> {
    const settings = this.serverSettings;
    const url = URLExt.join(settings.baseUrl, 'modelhub/api', route);
    const headers = new Headers(init.headers);
    headers.set(CLIENT_HEADER, 'panel');
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, { ...init, headers }, settings);
    } catch {
      throw new ModelHubError('Cannot reach the Jupyter server. Is it still running?', 0);
    }
    if (!response.ok) {
      const body = parseJSON(await response.text());
      throw errorFromResponse(response.status, body ?? null);
    }
    return response;
  }
}

function historyQuery(query: IHistoryQuery): string {
  return queryString({
    action: query.action?.trim(),
    user: query.user?.trim(),
    since: query.since,
    until: query.until,
    limit: query.limit,
    at: query.at
  });
}

function parseJSON(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
