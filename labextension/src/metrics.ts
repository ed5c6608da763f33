/**
 * The monitoring strip's figures from successive reads of an endpoint's
 * counters (`GET endpoints/{name}/metrics`): requests, errors and latency
 * percentiles per deployment over a window of recent reads. Counters only
 * grow (a restarted deployment starts again from zero, which reads as a
 * reset), so the figures over a window are the differences between its
 * first and last reads. No JupyterLab imports: unit-tested in plain Node.
 */
import type { IDeploymentMetrics, IEndpointMetrics } from './api';

/** How far back the strip looks (ms). */
export const METRICS_WINDOW = 5 * 60 * 1000;

export interface IWindowFigures {
  /** Seconds between the first and the last read. */
  seconds: number;
  requests: number;
  errors: number;
  /** Latency percentiles in ms (a bucket's upper bound); null without requests. */
  p50: number | null;
  p99: number | null;
}

export interface ISample {
  time: number;
  metrics: IEndpointMetrics;
}

/** Keep the reads of the last METRICS_WINDOW ms (and at least the newest). */
export function trimSamples(samples: ISample[], now: number): ISample[] {
  const kept = samples.filter(s => now - s.time <= METRICS_WINDOW);
  return kept.length ? kept : samples.slice(-1);
}

/** One deployment's figures over the reads in `samples`; null before two reads. */
export function windowFigures(samples: ISample[], deployment: string): IWindowFigures | null {
  const reads = samples
    .map(s => ({ time: s.time, d: s.metrics.deployments[deployment] }))
    .filter((r): r is { time: number; d: IDeploymentMetrics } => !!r.d);
  if (reads.length < 2) {
    return null;
  }
  let first = reads[0];
  const last = reads[reads.length - 1];
  // A counter that went down means the deployment restarted: count from the restart.
  for (let i = 1; i < reads.length; i++) {
    if (reads[i].d.requests < reads[i - 1].d.requests) {
      first = { time: reads[i].time, d: zero() };
    }
  }
  const buckets = last.d.latency_buckets.map(([bound, count]) => {
    const before = first.d.latency_buckets.find(b => b[0] === bound)?.[1] ?? 0;
    return [bound, count - before] as [number, number];
  });
  const timed = last.d.latency_count - first.d.latency_count;
  const requests = last.d.requests - first.d.requests;
  return {
    seconds: (last.time - first.time) / 1000,
    requests,
    errors: last.d.errors - first.d.errors,
    p50: percentile(buckets, timed, 0.5),
    p99: percentile(buckets, timed, 0.99)
  };
}

/**
 * The upper bound (ms) of the first cumulative bucket holding fraction `q` of
 * the `total` requests; Infinity when they are past the last bound.
 */
export function percentile(buckets: [number, number][], total: number, q: number): number | null {
  if (total <= 0) {
    return null;
  }
  for (const [bound, count] of buckets) {
    if (count >= q * total) {
      return bound * 1000;
    }
  }
  return Infinity;
}

/** "2.5 ms", "> 10 s" for the last bucket; "–" when unknown. */
export function latencyLabel(ms: number | null): string {
  if (ms === null) {
    return '\u2013';
  }
  if (!isFinite(ms)) {
    return '> 10 s';
  }
  if (ms >= 1000) {
    return `\u2264 ${ms / 1000} s`;
  }
  return ms < 1 ? `\u2264 ${Number((ms * 1000).toPrecision(3))} \u00b5s` : `\u2264 ${Number(ms.toPrecision(3))} ms`;
}

function zero(): IDeploymentMetrics {
  return { up: true, requests: 0, errors: 0, latency_count: 0, latency_sum: 0, latency_buckets: [] };
}
