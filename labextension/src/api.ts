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
  kind: string;
  model: string;
  version?: number | null;
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

/** Answer of `POST models/{name}/versions/{version}/convert`. */
export interface IConversionResult {
  version: IVersion & { existing?: boolean };
  equivalence: { passed: boolean; rows: number; [key: string]: unknown };
  speed: {
    speedup?: { latency?: number | null; throughput?: number | null };
    [key: string]: unknown;
  };
  conversion: { [key: string]: unknown };
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
  convertVersion(name: string, version: number): Promise<IConversionResult>;
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
   * converts a scikit-learn version to ONNX, checks equivalence and speed,
   * and registers the result as a new version (takes a few seconds).
   */
  convertVersion(name: string, version: number): Promise<IConversionResult> {
    return this.request<IConversionResult>(
      `models/${encodeURIComponent(name)}/versions/${version}/convert`,
      {
        method: 'POST',
        body: '{}',
        headers: { 'Content-Type': 'application/json' }
      }
    );
  }

  private async request<T>(path: string, init: RequestInit = {}): Promise<T> {
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
    const text = await response.text();
    let body: any = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
    }
    if (!response.ok) {
      throw errorFromResponse(response.status, body);
    }
    if (body === null) {
      throw new ModelHubError(
        `The Model Hub API sent an unreadable answer (HTTP ${response.status}).`,
        response.status
      );
    }
    return body as T;
  }
}
