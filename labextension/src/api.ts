/**
 * Typed client for the Model Hub REST API served by the jupyter_modelhub
 * server extension under `<baseUrl>/modelhub/api/`.
 *
 * Every request goes through `ServerConnection.makeRequest`, which adds the
 * token / XSRF headers the Jupyter server expects.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { errorFromResponse, ModelHubError } from './errors';

export { errorFromResponse, ModelHubError } from './errors';

/** Flavors the registry knows about (the server is the authority). */
export const FLAVORS = ['sklearn', 'onnx', 'mlflow', 'custom'] as const;

export type Tags = { [key: string]: string };

export interface IModelSummary {
  name: string;
  description: string;
  latest_version: number;
  version_count: number;
  /** Flavor of the latest version. */
  flavor: string;
  /** Tags of the latest version. */
  tags: Tags;
  /** alias -> version number */
  aliases: { [alias: string]: number };
  created_time: string;
  updated_time: string;
}

export interface IModelList {
  models: IModelSummary[];
  total: number;
  page: number;
  per_page: number;
}

export interface ITensorSpec {
  name: string;
  dtype: string;
  shape: number[];
}

export interface IVersionFile {
  path: string;
  size: number;
  sha256: string;
}

export interface IVersion {
  name: string;
  version: number;
  ref: string;
  flavor: string;
  description: string;
  tags: Tags;
  properties: { [key: string]: unknown };
  signature: { inputs: ITensorSpec[]; outputs: ITensorSpec[] } | null;
  input_example: unknown;
  files: IVersionFile[];
  size: number;
  created_time: string;
  created_by: string;
  source_notebook: string | null;
  derived_from: string | null;
  archived: boolean;
  aliases: string[];
}

export interface IVersionList {
  versions: IVersion[];
  total: number;
  page: number;
  per_page: number;
}

export interface IEvent {
  id: number;
  time: string;
  /** "version_registered", ..., or "operation" for any change of an operation. */
  kind: string;
  /** The model, or for an operation event its subject. */
  model: string;
  version?: number | null;
  /** The operation's id, on "operation" events. */
  operation?: number | null;
}

export interface IEventList {
  events: IEvent[];
  last_id: number;
}

/** One deployment of an endpoint (`GET endpoints`). */
export interface IDeployment {
  name: string;
  model?: string;
  version?: number;
  /** The version actually served, "churn:2". */
  ref: string;
  /** What was asked for, "churn@production". */
  requested?: string;
  flavor: string;
  state: string;
  reason: string;
  restarts: number;
  instances: number;
  [key: string]: unknown;
}

export type EndpointState = 'healthy' | 'failed' | 'updating' | 'stopped';

export interface IEndpoint {
  name: string;
  url: string;
  port: number;
  auth: string;
  /** deployment -> percent of live traffic */
  traffic: { [deployment: string]: number };
  /** `{}` or the deployment that gets a copy of a share of the traffic. */
  mirror: { deployment?: string; percent?: number };
  state: EndpointState | string;
  deployments: IDeployment[];
  created_time: string;
  created_by?: string;
  [key: string]: unknown;
}

export interface IEndpointList {
  endpoints: IEndpoint[];
}

/** The result of a successful conversion (`result` of a "convert" operation). */
export interface IConversionResult {
  version: IVersion & { existing?: boolean };
  equivalence: { passed: boolean; rows: number; [key: string]: unknown };
  speed: {
    speedup?: { latency?: number | null; throughput?: number | null };
    [key: string]: unknown;
  };
  conversion: { [key: string]: unknown };
}

export type OperationStatus =
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled';

export interface IOperationProgress {
  done: number;
  /** null while the amount of work is unknown. */
  total: number | null;
  unit: string;
  /** What it is doing now; may be ''. */
  message: string;
}

/** What an operation's result is, for a link to it. */
export type OperationLink =
  | { type: 'version'; model: string; version: number; ref: string }
  | { type: 'endpoint'; name: string };

export interface IOperationError {
  message: string;
  /** "invalid", "not_found", "conflict", "cancelled", "failed", "restarted" */
  reason: string;
  /** A refused conversion: the equivalence report. */
  report?: { [key: string]: unknown };
}

/**
 * Long work on the server (`GET operations/{id}`): a conversion, a deploy
 * that builds an environment, later image builds and batch jobs.
 */
export interface IOperation {
  id: number;
  /** "convert" | "deploy" (later "build", "batch") */
  kind: string;
  /** The model ref, endpoint or image it concerns. */
  subject: string;
  status: OperationStatus | string;
  progress: IOperationProgress;
  /** 1-based place among queued operations of its kind; null unless queued. */
  queue_position: number | null;
  created_time: string;
  started_time: string | null;
  ended_time: string | null;
  created_by: string;
  /** convert: an IConversionResult; deploy: the endpoint. */
  result: { [key: string]: unknown } | null;
  link: OperationLink | null;
  error: IOperationError | null;
  /** True while queued or running. */
  active: boolean;
}

export interface IOperationList {
  operations: IOperation[];
  total: number;
  page: number;
  per_page: number;
}

export interface IListOperationsQuery {
  kind?: string;
  /** One status, or several: ['queued', 'running']. */
  status?: string | string[];
  subject?: string;
  page?: number;
  per_page?: number;
}

export interface IListModelsQuery {
  /** Name substring. */
  q?: string;
  /** Tag filter in the registry's syntax; passed verbatim. */
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
    parts.push(
      `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`
    );
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** What the panel needs from the API (a fake in unit tests). */
export interface IModelHubClient {
  listModels(query?: IListModelsQuery): Promise<IModelList>;
  listVersions(
    name: string,
    options?: { archived?: boolean; page?: number; per_page?: number }
  ): Promise<IVersionList>;
  events(after?: number): Promise<IEventList>;
  listEndpoints(): Promise<IEndpointList>;
  convertVersion(name: string, version: number): Promise<IOperation>;
  listOperations(query?: IListOperationsQuery): Promise<IOperationList>;
  getOperation(id: number): Promise<IOperation>;
  operationLog(id: number, tail?: number): Promise<string>;
  cancelOperation(id: number): Promise<IOperation>;
}

/** A client bound to one server connection. */
export class ModelHubClient implements IModelHubClient {
  constructor(settings?: ServerConnection.ISettings) {
    this.serverSettings = settings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  /** `GET models` */
  listModels(query: IListModelsQuery = {}): Promise<IModelList> {
    return this.request<IModelList>(
      'models' +
        queryString({
          q: query.q?.trim(),
          filter: query.filter?.trim(),
          flavor: query.flavor,
          page: query.page ?? 1,
          per_page: query.per_page ?? 50
        })
    );
  }

  /** `GET models/{name}/versions` (archived versions included by default). */
  listVersions(
    name: string,
    options: { archived?: boolean; page?: number; per_page?: number } = {}
  ): Promise<IVersionList> {
    return this.request<IVersionList>(
      `models/${encodeURIComponent(name)}/versions` +
        queryString({
          archived: options.archived ?? true,
          page: options.page ?? 1,
          per_page: options.per_page ?? 50
        })
    );
  }

  /**
   * `GET events?after=<id>`. Without `after` the server answers only with the
   * current position (`last_id`), so polling can start from "now".
   */
  events(after?: number): Promise<IEventList> {
    return this.request<IEventList>('events' + queryString({ after }));
  }

  /** `GET endpoints` */
  listEndpoints(): Promise<IEndpointList> {
    return this.request<IEndpointList>('endpoints');
  }

  /**
   * `POST models/{name}/versions/{version}/convert` with the server's defaults:
   * starts converting a scikit-learn version to ONNX (checked for equivalence,
   * timed, registered as a new version) and answers at once with the
   * operation to follow (202).
   */
  convertVersion(name: string, version: number): Promise<IOperation> {
    return this.request<IOperation>(
      `models/${encodeURIComponent(name)}/versions/${version}/convert`,
      {
        method: 'POST',
        body: '{}',
        headers: { 'Content-Type': 'application/json' }
      }
    );
  }

  /** `GET operations`, newest first. */
  listOperations(query: IListOperationsQuery = {}): Promise<IOperationList> {
    const status = Array.isArray(query.status)
      ? query.status.join(',')
      : query.status;
    return this.request<IOperationList>(
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

  /** `GET operations/{id}` */
  getOperation(id: number): Promise<IOperation> {
    return this.request<IOperation>(`operations/${id}`);
  }

  /** `GET operations/{id}/log?tail=N`: the last lines of its log, as text. */
  async operationLog(id: number, tail = 100): Promise<string> {
    const response = await this.send(
      `operations/${id}/log` + queryString({ tail })
    );
    return response.text();
  }

  /** `POST operations/{id}/cancel`; a finished operation is refused (409). */
  cancelOperation(id: number): Promise<IOperation> {
    return this.request<IOperation>(`operations/${id}/cancel`, {
      method: 'POST',
      body: '{}',
      headers: { 'Content-Type': 'application/json' }
    });
  }

  /** A JSON request: the parsed body, or a ModelHubError. */
  private async request<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await this.send(path, init);
    const body = parseJSON(await response.text());
    if (body === null) {
      throw new ModelHubError(
        `The Model Hub API sent an unreadable answer (HTTP ${response.status}).`,
        response.status
      );
    }
    return body as T;
  }

  /** Send a request; a failed answer becomes a ModelHubError with the server's message. */
  private async send(path: string, init: RequestInit = {}): Promise<Response> {
    const settings = this.serverSettings;
    const url = URLExt.join(settings.baseUrl, 'modelhub/api', path);
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, init, settings);
    } catch {
      throw new ModelHubError(
        'Cannot reach the Jupyter server. Is it still running?',
        0
      );
    }
    if (!response.ok) {
      throw errorFromResponse(response.status, parseJSON(await response.text()));
    }
    return response;
  }
}

function parseJSON(text: string): any {
  if (!text) {
    return null;
  }
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
