/**
 * The rows of the compare view: for two or more versions of a model, each
 * property, metric, signature input and output, flavor and tag side by side,
 * marked where the versions differ. Pure: unit-tested in plain Node.
 */
import type { IVersion } from '../../api';
import { cellText, flatten } from '../../format';

export interface ICompareRow {
  /** "Overview", "Properties", "Tags", "Inputs", "Outputs". */
  group: string;
  key: string;
  /** One cell per version, '' where it has none. */
  values: string[];
  differs: boolean;
}

/** Properties compared by a one-line summary rather than key by key. */
const SUMMARISED: { [key: string]: (value: unknown) => string } = {
  reference: value => {
    const profile = value as { rows?: number; source?: string } | undefined;
    return profile ? `profile of ${profile.rows ?? '?'} rows${profile.source ? ` (${profile.source})` : ''}` : '';
  }
};

export function compareRows(versions: readonly IVersion[]): ICompareRow[] {
  const rows: ICompareRow[] = [];
  const add = (group: string, key: string, values: string[]) => {
    rows.push({ group, key, values, differs: new Set(values).size > 1 });
  };
  const keys = (pick: (v: IVersion) => { [key: string]: unknown } | null | undefined) =>
    Array.from(new Set(versions.flatMap(v => Object.keys(pick(v) ?? {})))).sort();

  add('Overview', 'flavor', versions.map(v => v.flavor));
  add('Overview', 'derived from', versions.map(v => v.derived_from ?? ''));
  add('Overview', 'files', versions.map(v => v.files.map(f => f.path).join(', ')));
  add('Overview', 'size', versions.map(v => String(v.size)));
  // Reports (nested objects) compare key by key: "equivalence.passed", "speed.speedup.latency";
  // a reference profile (thousands of numbers) by what it was made from.
  for (const [key, summary] of Object.entries(SUMMARISED)) {
    if (versions.some(v => v.properties?.[key] !== undefined)) {
      add('Properties', key, versions.map(v => summary(v.properties?.[key])));
    }
  }
  const flat = versions.map(v => {
    const own = { ...(v.properties ?? {}) };
    Object.keys(SUMMARISED).forEach(key => delete own[key]);
    return new Map(flatten(own));
  });
  const propertyKeys = Array.from(new Set(flat.flatMap(m => Array.from(m.keys())))).filter(Boolean);
  for (const key of propertyKeys.sort()) {
    add('Properties', key, flat.map(m => (m.has(key) ? cellText(m.get(key)) : '')));
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
  return rows;
}
