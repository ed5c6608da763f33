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

// -- charts over time (`GET endpoints/{name}/metrics/history`) ---------------------------------

/** The ranges the server keeps charts for (it refuses others with a 400 naming these). */
export const HISTORY_RANGES = ['1h', '6h', '24h', '7d'] as const;
export type HistoryRange = (typeof HISTORY_RANGES)[number];
export const RANGE_SECONDS: Record<HistoryRange, number> = { '1h': 3600, '6h': 21600, '24h': 86400, '7d': 604800 };

/** One point of a chart: x in ms since the epoch; y null where there is no value (no requests). */
export interface IChartPoint {
  x: number;
  y: number | null;
}

/**
 * An SVG path through `points` (already in pixels), broken where two
 * neighbours are more than `gap` apart in x (a step the server did not watch)
 * or a value is missing, so a gap never reads as a straight line of traffic.
 * The single points of a broken line come back apart (a path cannot show
 * them): drawn as dots.
 */
export function linePath(points: IChartPoint[], gap: number): { d: string; dots: [number, number][] } {
  const parts: [number, number][][] = [];
  let current: [number, number][] = [];
  let lastX = -Infinity;
  for (const { x, y } of points) {
    if (y === null || x - lastX > gap) {
      if (current.length) {
        parts.push(current);
      }
      current = [];
    }
    if (y !== null) {
      current.push([x, y]);
    }
    lastX = x;
  }
  if (current.length) {
    parts.push(current);
  }
  const d = parts
    .filter(p => p.length > 1)
    .map(p => p.map(([x, y], i) => `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`).join(''))
    .join('');
  return { d, dots: parts.filter(p => p.length === 1).map(p => p[0]) };
}

/** A round upper bound of a y axis at or above `max` (1, 2 or 5 times a power of ten); 1 for nothing. */
export function niceMax(max: number): number {
  if (!(max > 0) || !isFinite(max)) {
    return 1;
  }
  const power = Math.pow(10, Math.floor(Math.log10(max)));
  for (const m of [1, 2, 5, 10]) {
    if (m * power >= max * (1 - 1e-9)) {
      return m * power;
    }
  }
  return 10 * power;
}

/** A y value as an axis writes it: "0", "0.25", "12", "1.5k". */
export function axisNumber(value: number): string {
  if (value >= 1000) {
    return `${Number((value / 1000).toPrecision(3))}k`;
  }
  return String(Number(value.toPrecision(3)));
}

/** Times on an x axis from `start` to `end` (ms): `count` evenly spaced, written for the range. */
export function timeTicks(start: number, end: number, count: number, range: HistoryRange): { x: number; label: string }[] {
  const ticks = [];
  for (let i = 0; i < count; i++) {
    const x = start + ((end - start) * i) / (count - 1);
    const date = new Date(x);
    const time = `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
    const label =
      range === '7d' ? date.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric' }) : time;
    ticks.push({ x, label });
  }
  return ticks;
}
