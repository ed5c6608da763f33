/**
 * Small pure formatting helpers for the panel.
 */

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60]
];

/**
 * "3 minutes ago", "yesterday", "just now" for an ISO time; the input as is
 * when it cannot be parsed.
 */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const time = Date.parse(iso);
  if (isNaN(time)) {
    return iso;
  }
  // a time ahead of this browser's clock (the server's clock differs) is "just now", never
  // "in 2 minutes": a time shown only moves further into the past
  const seconds = Math.min(0, Math.round((time - now) / 1000));
  const abs = Math.abs(seconds);
  if (abs < 45) {
    return 'just now';
  }
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  for (const [unit, size] of UNITS) {
    if (abs >= size || unit === 'minute') {
      return rtf.format(Math.round(seconds / size), unit);
    }
  }
  return iso;
}

/** Local date and time, for tooltips. */
export function absoluteTime(iso: string): string {
  const time = Date.parse(iso);
  return isNaN(time) ? iso : new Date(time).toLocaleString();
}

/** Human-readable byte size. */
export function formatSize(bytes: number): string {
  if (!isFinite(bytes) || bytes < 0) {
    return '';
  }
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return i === 0 ? `${value} ${units[i]}` : `${value.toFixed(1)} ${units[i]}`;
}

/** Tags as sorted `k=v` strings (a tag with an empty value shows as `k`). */
export function tagLabels(tags: { [key: string]: string } | null): string[] {
  if (!tags) {
    return [];
  }
  return Object.keys(tags)
    .sort()
    .map(key => (tags[key] === '' ? key : `${key}=${tags[key]}`));
}

/** Aliases of a model as `alias → vN`, sorted by alias. */
export function aliasLabels(aliases: { [alias: string]: number } | null): {
  alias: string;
  version: number;
  label: string;
}[] {
  if (!aliases) {
    return [];
  }
  return Object.keys(aliases)
    .sort()
    .map(alias => ({
      alias,
      version: aliases[alias],
      label: `${alias} \u2192 v${aliases[alias]}`
    }));
}

/** A speedup factor: "23x" from 23.1, "1.4x" from 1.43; '' when unknown. */
export function formatSpeedup(factor: number | null | undefined): string {
  if (typeof factor !== 'number' || !isFinite(factor) || factor <= 0) {
    return '';
  }
  if (factor >= 10) {
    return `${Math.round(factor)}x`;
  }
  return `${Number(factor.toFixed(1))}x`;
}

/**
 * One line about a finished conversion:
 * "churn:2 (onnx): equivalent on 5 rows, 23x faster per row".
 */
export function conversionSummary(result: {
  version: { ref: string; flavor?: string; existing?: boolean | null };
  equivalence?: { passed?: boolean; rows?: number } | null;
  speed?: { speedup?: { latency?: number | null } | null } | null;
}): string {
  const version = result.version;
  let text = `${version.ref} (${version.flavor || 'onnx'})`;
  const parts: string[] = [];
  const eq = result.equivalence;
  if (eq) {
    const rows = typeof eq.rows === 'number' ? eq.rows : 0;
    const on = rows ? ` on ${rows === 1 ? '1 row' : `${rows} rows`}` : '';
    parts.push((eq.passed ? 'equivalent' : 'NOT equivalent') + on);
  }
  const latency = result.speed?.speedup?.latency;
  const factor = formatSpeedup(latency);
  if (factor) {
    parts.push(
      (latency as number) >= 1
        ? `${factor} faster per row`
        : `${formatSpeedup(1 / (latency as number))} slower per row`
    );
  }
  if (parts.length) {
    text += `: ${parts.join(', ')}`;
  }
  if (version.existing) {
    text += ' (already converted)';
  }
  return text;
}

/** Traffic share of one deployment as "100%"; "0%" when it gets none. */
export function trafficLabel(
  traffic: { [deployment: string]: number } | null | undefined,
  deployment: string
): string {
  const percent = traffic ? traffic[deployment] : undefined;
  return typeof percent === 'number' ? `${percent}%` : '0%';
}

/** Time between two ISO times: "800 ms", "4 s", "2 min 5 s", "1 h 3 min"; '' when unknown. */
export function formatDuration(startIso: string, endIso: string): string {
  const ms = Date.parse(endIso) - Date.parse(startIso);
  if (!isFinite(ms) || ms < 0) {
    return '';
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) {
    return `${seconds} s`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return seconds % 60 ? `${minutes} min ${seconds % 60} s` : `${minutes} min`;
  }
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}

/** An id-safe form of a name (for element ids and class names). */
export function cssSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** The last part of a path. */
export function basename(path: string): string {
  const parts = path.split('/');
  return parts[parts.length - 1] || path;
}

/** "1 version", "3 versions". */
export function versionCount(count: number): string {
  return count === 1 ? '1 version' : `${count} versions`;
}

/** A value as short text for a table cell: numbers rounded, objects as JSON. */
export function cellText(value: unknown): string {
  if (value === undefined) {
    return '';
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  }
  if (typeof value === 'string') {
    return value;
  }
  return JSON.stringify(value);
}

/** [["speedup.latency", 23.1], ...]: nested objects as dotted keys, lists as JSON. */
export function flatten(value: unknown, prefix = ''): [string, unknown][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [[prefix, value]];
  }
  const entries = Object.entries(value as { [key: string]: unknown });
  if (entries.length === 0) {
    return [[prefix, '{}']];
  }
  return entries.flatMap(([key, inner]) => flatten(inner, prefix ? `${prefix}.${key}` : key));
}

/**
 * A time in milliseconds as the notebook's reports say it: "45.2 µs" below a
 * tenth of a millisecond, "1.23 ms" below a second, "2.41 s" above; '' when unknown.
 */
export function formatMs(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !isFinite(ms) || ms < 0) {
    return '';
  }
  if (ms < 0.1) {
    return `${(ms * 1000).toFixed(1)} µs`;
  }
  return ms < 1000 ? `${ms.toFixed(2)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** A ratio as the notebook's speed report says it: "12.3x"; '' when unknown. */
export function formatFactor(factor: number | null | undefined): string {
  return typeof factor === 'number' && isFinite(factor) && factor > 0 ? `${factor.toFixed(1)}x` : '';
}

/** "1 row", "1,200 rows": a count and its noun, in the plural unless it is one. */
export function plural(count: number, noun: string, pluralForm?: string): string {
  if (count === 1) {
    return `1 ${noun}`;
  }
  return `${count.toLocaleString('en-US')} ${pluralForm ?? noun + (/(ch|sh|s|x)$/.test(noun) ? 'es' : 's')}`;
}

/**
 * Whether a table cell holds a number (and is right-aligned): "0.93", "-4",
 * "1,200", "1.9 KB", "45.2 µs", "12.3x", "98%"; never a name or a sentence.
 */
export function isNumeric(text: string): boolean {
  return /^[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?(e[-+]?\d+)?\s?(%|x|B|KB|MB|GB|TB|µs|us|ms|s)?$/i.test(text.trim());
}
