/**
 * The rows of the compare view: for two or more versions of a model, each
 * metric, property, signature input and output, flavor and tag side by side,
 * marked where the versions differ; timing internals (the speed report,
 * latencies, durations, registration times) in a group of their own that is
 * never counted as a difference. Pure: unit-tested in plain Node.
 */
import type { IVersion } from '../../api';
import { cellText, flatten, formatSize } from '../../format';

export interface ICompareRow {
  /** "Metrics", "Overview", "Properties", "Tags", "Inputs", "Outputs", "Timings". */
  group: string;
  key: string;
  /** One cell per version, '' where it has none. */
  values: string[];
  /** The versions differ here, and it matters: never for a row of the Timings group. */
  differs: boolean;
  /** The values are not all the same (a Timings row varies from run to run). */
  varies?: boolean;
}

/** The order of the groups: what decides between versions first, run-to-run timings last. */
export const GROUPS = ['Metrics', 'Overview', 'Properties', 'Tags', 'Inputs', 'Outputs', 'Timings'];

/** The group whose rows differ between any two runs and are not counted as differences. */
export const TIMINGS = 'Timings';

/**
 * A property key that is a timing internal: the whole speed report (it is
 * measured again on every conversion, under whatever else the machine runs),
 * and anywhere a latency, duration, elapsed or created time.
 */
export function isTiming(key: string): boolean {
  const parts = key.split('.');
  return (
    parts[0] === 'speed' ||
    parts.some(part =>
      /(^|_)(latency|latencies|timing|timings|duration|durations|elapsed|seconds|time|times|created)($|_)|_(ms|s)$/.test(part)
    )
  );
}

/** Properties compared by a one-line summary rather than key by key. */
const SUMMARISED: { [key: string]: (value: unknown) => string } = {
  reference: value => {
    const profile = value as { rows?: number; source?: string } | undefined;
    return profile ? `profile of ${profile.rows ?? '?'} rows${profile.source ? ` (${profile.source})` : ''}` : '';
  }
};

/**
 * A report (an object property) that only some of the versions have, said in
 * one row rather than key by key: having it or not is the difference.
 */
function isReport(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function reportSummary(key: string, value: unknown): string {
  if (value === undefined) {
    return '';
  }
  const report = (value ?? {}) as { [key: string]: unknown };
  if (key === 'equivalence') {
    return `${report.passed ? 'passed' : 'NOT passed'} on ${cellText(report.rows ?? '?')} rows`;
  }
  if (key === 'conversion') {
    return `from ${cellText(report.from ?? '?')} with ${cellText(report.converter ?? '?')}`;
  }
  return 'recorded';
}

/**
 * The rows, grouped in GROUPS order: the evaluation's metrics first (the
 * numbers a choice between versions rests on), then the version's other
 * metrics (its `metrics` property, numbers at the top level), then what it is,
 * its other properties, tags, signature, and last the timings, which vary from
 * run to run and are never counted as a difference.
 */
export function compareRows(versions: readonly IVersion[]): ICompareRow[] {
  const rows: ICompareRow[] = [];
  const add = (group: string, key: string, values: string[]) => {
    const varies = new Set(values).size > 1;
    rows.push(
      group === TIMINGS ? { group, key, values, differs: false, varies } : { group, key, values, differs: varies }
    );
  };
  const keys = (pick: (v: IVersion) => { [key: string]: unknown } | null | undefined) =>
    Array.from(new Set(versions.flatMap(v => Object.keys(pick(v) ?? {})))).sort();
  const props = (v: IVersion) => (v.properties ?? {}) as { [key: string]: unknown };
  const objectAt = (value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as { [key: string]: unknown }) : {};

  // Metrics: the evaluation's, the metrics property's, numbers at the top level (as the model card reads them).
  const evaluated = (v: IVersion) => objectAt(objectAt(props(v).evaluation).metrics);
  const recorded = (v: IVersion) => objectAt(props(v).metrics);
  const topNumbers = (v: IVersion) =>
    Object.fromEntries(Object.entries(props(v)).filter(([, value]) => typeof value === 'number'));
  const shown = new Set<string>();
  for (const source of [evaluated, recorded, topNumbers]) {
    for (const key of keys(source)) {
      if (!shown.has(key)) {
        shown.add(key);
        add('Metrics', key, versions.map(v => cellText(evaluated(v)[key] ?? recorded(v)[key] ?? topNumbers(v)[key])));
      }
    }
  }

  add('Overview', 'flavor', versions.map(v => v.flavor));
  add('Overview', 'derived from', versions.map(v => v.derived_from ?? ''));
  add('Overview', 'files', versions.map(v => v.files.map(f => f.path).join(', ')));
  add('Overview', 'size', versions.map(v => formatSize(v.size)));
  // a reference profile (thousands of numbers) by what it was made from
  for (const [key, summary] of Object.entries(SUMMARISED)) {
    if (versions.some(v => props(v)[key] !== undefined)) {
      add('Properties', key, versions.map(v => summary(props(v)[key])));
    }
  }
  // Reports (nested objects) compare key by key: "equivalence.passed", "conversion.opsets".
  // a report only some versions have: one row, not one per key
  const partial = keys(props).filter(
    key =>
      !(key in SUMMARISED) &&
      !isTiming(key) &&
      key !== 'metrics' &&
      key !== 'evaluation' &&
      versions.some(v => isReport(props(v)[key])) &&
      versions.some(v => props(v)[key] === undefined)
  );
  for (const key of partial) {
    add('Properties', key, versions.map(v => reportSummary(key, props(v)[key])));
  }
  const flat = versions.map(v => {
    const own = { ...props(v) };
    partial.forEach(key => delete own[key]);
    Object.keys(SUMMARISED).forEach(key => delete own[key]);
    delete own.metrics;
    Object.keys(topNumbers(v)).forEach(key => delete own[key]);
    if (own.evaluation !== undefined) {
      // its metrics are in Metrics; what they were measured on stays here
      const measuredOn = { ...objectAt(own.evaluation) };
      delete measuredOn.metrics;
      own.evaluation = measuredOn;
      if (Object.keys(measuredOn).length === 0) {
        delete own.evaluation;
      }
    }
    return new Map(flatten(own));
  });
  const propertyKeys = Array.from(new Set(flat.flatMap(m => Array.from(m.keys())))).filter(Boolean);
  const timings: string[] = [];
  const shownAs = (key: string, value: unknown) =>
    /(^|[._])(size|bytes)$/.test(key) && typeof value === 'number' ? formatSize(value) : cellText(value);
  for (const key of propertyKeys.sort()) {
    if (isTiming(key)) {
      timings.push(key);
    } else {
      add('Properties', key, flat.map(m => (m.has(key) ? shownAs(key, m.get(key)) : '')));
    }
  }
  for (const key of keys(v => v.tags)) {
    add('Tags', key, versions.map(v => (v.tags ?? {})[key] ?? ''));
  }
  for (const side of ['inputs', 'outputs'] as const) {
    const names = Array.from(
      new Set(versions.flatMap(v => (v.signature?.[side] ?? []).map(t => t.name)))
    );
    for (const name of names) {
      add(
        side === 'inputs' ? 'Inputs' : 'Outputs',
        name,
        versions.map(v => {
          const spec = (v.signature?.[side] ?? []).find(t => t.name === name);
          return spec ? `${spec.dtype} [${(spec.shape ?? []).join(', ')}]` : '';
        })
      );
    }
  }
  add(TIMINGS, 'registered', versions.map(v => v.created_time));
  for (const key of timings) {
    add(TIMINGS, key, flat.map(m => (m.has(key) ? cellText(m.get(key)) : '')));
  }
  return rows;
}
