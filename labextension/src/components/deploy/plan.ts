/**
 * What a deploy from the panel will do, worked out before it is sent: the
 * default deployment name and traffic share, the traffic of the endpoint
 * after it, what it replaces, and the request body.
 *
 * Why these defaults: deploying to an endpoint that already serves must not
 * touch what is live unless asked, so a new deployment there gets an unused
 * name and 0% of the traffic (a canary, as in Azure ML's blue/green), and
 * reusing a name in service is said in words and confirmed first.
 *
 * No JupyterLab imports: unit-tested in plain Node.
 */
import type { IDeployRequest, IEndpoint } from '../../api';

export type Target = 'process' | 'docker' | 'kubernetes';

/** Names offered for a new deployment, in order (Azure ML's docs use blue and green). */
export const DEPLOYMENT_NAMES = ['blue', 'green', 'red', 'yellow', 'purple', 'orange'];

/** The form's values, as typed (numbers as text, '' for "the server's default"). */
export interface IDeployForm {
  endpoint: string;
  deployment: string;
  model: string;
  target: Target;
  /** Live traffic for this deployment, percent. */
  traffic: string;
  optimize: boolean;
  /** Deploy even if the version's inputs or outputs differ from what the endpoint answers now. */
  allowContractChange: boolean;
  instances: string;
  environment: string;
  auth: 'key' | 'none';
  cpu: string;
  memory: string;
  gpu: boolean;
  image: string;
  maxInstances: string;
  kserve: boolean;
  namespace: string;
  kubeContext: string;
}

/** The first name of DEPLOYMENT_NAMES the endpoint does not use ("blue" for a new endpoint). */
export function defaultDeploymentName(endpoint: IEndpoint | undefined): string {
  const used = new Set(endpoint?.deployments.map(d => d.name) ?? []);
  const free = DEPLOYMENT_NAMES.find(name => !used.has(name));
  if (free) {
    return free;
  }
  let n = used.size + 1;
  while (used.has(`deployment-${n}`)) {
    n++;
  }
  return `deployment-${n}`;
}

/**
 * The share a deployment starts with: all of a new endpoint, what it already
 * has when it replaces a deployment, and none (a canary) beside live ones.
 */
export function defaultTraffic(endpoint: IEndpoint | undefined, deployment: string): number {
  if (!endpoint || endpoint.deployments.length === 0) {
    return 100;
  }
  return endpoint.traffic[deployment] ?? 0;
}

/**
 * The endpoint's traffic once `deployment` has `percent`: the others keep
 * their proportions in what is left (the largest share takes the rounding).
 */
export function trafficAfter(
  endpoint: IEndpoint | undefined,
  deployment: string,
  percent: number
): { [deployment: string]: number } {
  const others = (endpoint?.deployments ?? []).map(d => d.name).filter(name => name !== deployment);
  const result: { [deployment: string]: number } = { [deployment]: percent };
  if (!others.length) {
    return { [deployment]: 100 };
  }
  const current = others.map(name => endpoint?.traffic[name] ?? 0);
  const total = current.reduce((a, b) => a + b, 0);
  const rest = 100 - percent;
  // with no live share among the others, what is left goes to the first one
  const weights = total > 0 ? current : current.map((_, i) => (i === 0 ? 1 : 0));
  const sum = weights.reduce((a, b) => a + b, 0);
  let given = 0;
  others.forEach((name, i) => {
    result[name] = Math.floor((rest * weights[i]) / sum);
    given += result[name];
  });
  const largest = others[weights.indexOf(Math.max(...weights))];
  result[largest] += rest - given;
  return result;
}

/** "blue 90%, green 10%" */
export function trafficText(traffic: { [deployment: string]: number }): string {
  return Object.keys(traffic)
    .sort()
    .map(name => `${name} ${traffic[name]}%`)
    .join(', ');
}

/**
 * What deploying `ref` as `deployment` replaces, in words, or null when the
 * deployment is new: "Replaces deployment blue (churn:3, 100% of traffic) with churn:2".
 */
export function replacement(endpoint: IEndpoint | undefined, deployment: string, ref: string): string | null {
  const existing = endpoint?.deployments.find(d => d.name === deployment);
  if (!endpoint || !existing) {
    return null;
  }
  const share = endpoint.traffic[deployment] ?? 0;
  const what = existing.ref === ref ? `again with ${ref} (a restart with these settings)` : `with ${ref}`;
  return `Replaces deployment ${deployment} (${existing.ref}, ${share}% of traffic) ${what}`;
}

/** Blank means "the server's default"; anything else is sent as a number (the rules check it). */
function numberOrNull(text: string): number | null {
  const trimmed = text.trim();
  return trimmed === '' ? null : Number(trimmed);
}

function textOrNull(text: string): string | null {
  const trimmed = text.trim();
  return trimmed === '' ? null : trimmed;
}

/**
 * The body of `POST endpoints/{endpoint}/deployments`. Traffic is sent only
 * when it changes the endpoint's split: a 0% deployment beside live ones
 * leaves it as it is (the server keeps the current split).
 */
export function deployRequest(form: IDeployForm, endpoint: IEndpoint | undefined): IDeployRequest {
  const request: IDeployRequest = { model: form.model, deployment: form.deployment.trim() };
  const percent = numberOrNull(form.traffic);
  const unchanged = percent === null || (endpoint?.traffic[form.deployment] ?? 0) === percent;
  if (endpoint && endpoint.deployments.length && !unchanged) {
    request.traffic = trafficAfter(endpoint, form.deployment.trim(), percent as number);
  }
  if (!endpoint && form.auth !== 'key') {
    request.auth = form.auth;
  }
  if (form.optimize) {
    request.optimize = true;
  }
  if (endpoint && form.allowContractChange) {
    request.allow_contract_change = true;
  }
  request.target = form.target;
  const optional: [keyof IDeployRequest, unknown][] = [['instances', numberOrNull(form.instances)]];
  if (form.target === 'process') {
    optional.push(['environment', textOrNull(form.environment)]);
  } else {
    optional.push(['cpu', numberOrNull(form.cpu)], ['memory', textOrNull(form.memory)], ['image', textOrNull(form.image)]);
    if (form.gpu) {
      optional.push(['gpu', true]);
    }
  }
  if (form.target === 'kubernetes') {
    optional.push(
      ['max_instances', numberOrNull(form.maxInstances)],
      ['namespace', textOrNull(form.namespace)],
      ['kube_context', textOrNull(form.kubeContext)]
    );
    if (form.kserve) {
      optional.push(['kserve', true]);
    }
  }
  for (const [key, value] of optional) {
    if (value !== null) {
      (request as { [key: string]: unknown })[key] = value;
    }
  }
  return request;
}
