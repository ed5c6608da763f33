/**
 * A conversion's reports and a version's input example as the notebook shows
 * them (jupyter_modelhub/display/conversion.py): the same headings, columns and
 * words, computed here as plain rows for the React tables. Pure: unit-tested in
 * plain Node.
 *
 * Not here: the layout (EquivalenceReport.tsx, SpeedReport.tsx, InputExample.tsx).
 */
import type { ITensorSpec } from '../../api';
import { cellText, formatFactor, formatMs, plural } from '../../format';

/** One output of the equivalence report, as its notebook table row. */
export interface IEquivalenceRow {
  output: string;
  kind: string;
  /** "agreement / max diff": "100.00%" for labels, "3.2e-07" for scores. */
  measure: string;
  failingRows: string;
  within: boolean;
}

export interface IEquivalenceView {
  passed: boolean;
  /** "on 5 rows, tolerance 0.0001 (float32)" */
  summary: string;
  from: string;
  rule: string;
  rows: IEquivalenceRow[];
}

/** The equivalence report of a conversion; null when it does not have the report's shape. */
export function equivalenceView(report: unknown, conversion?: unknown): IEquivalenceView | null {
  const eq = asObject(report);
  if (!eq || !Array.isArray(eq.outputs)) {
    return null;
  }
  const rows = (eq.outputs as unknown[]).map(asObject).filter(isObject).map(out => {
    const label = out.kind === 'label';
    const measure = label
      ? typeof out.agreement === 'number'
        ? `${(out.agreement * 100).toFixed(2)}%`
        : ''
      : typeof out.max_abs_diff === 'number'
        ? Number(out.max_abs_diff.toPrecision(2)).toString()
        : '0';
    return {
      output: String(out.name ?? ''),
      kind: String(out.kind ?? ''),
      measure,
      failingRows: cellText(out.failing_rows ?? 0),
      within: !!out.passed
    };
  });
  const count = typeof eq.rows === 'number' ? plural(eq.rows, 'row') : '? rows';
  const tolerance = typeof eq.tolerance === 'number' ? Number(eq.tolerance.toPrecision(6)).toString() : '?';
  return {
    passed: !!eq.passed,
    summary: `on ${count}, tolerance ${tolerance}${eq.dtype ? ` (${String(eq.dtype)})` : ''}`,
    from: String(asObject(conversion)?.from ?? 'the original'),
    rule: typeof eq.rule === 'string' ? eq.rule : '',
    rows
  };
}

/** One measure of the speed report: the original's figure, the ONNX one's, the speed-up. */
export interface ISpeedRow {
  measure: string;
  original: string;
  onnx: string;
  speedup: string;
}

export interface ISpeedView {
  /** The runtimes compared: "scikit-learn 1.6.1", "onnxruntime 1.20.1". */
  original: string;
  onnx: string;
  rows: ISpeedRow[];
  /** Bars for the chart: [label, original ms, onnx ms]. */
  bars: [string, number, number][];
  /** How it was measured: "budget 0.1 s, 2 CPUs, load 1.3". */
  conditions: string;
}

/** The speed report of a conversion; null when it does not have the report's shape. */
export function speedView(report: unknown): ISpeedView | null {
  const sp = asObject(report);
  const o = asObject(sp?.original);
  const n = asObject(sp?.onnx);
  const s = asObject(sp?.speedup) ?? {};
  if (!sp || !o || !n) {
    return null;
  }
  const ol = asObject(o.latency) ?? {};
  const nl = asObject(n.latency) ?? {};
  const ob = asObject(o.batch) ?? {};
  const nb = asObject(n.batch) ?? {};
  const rows: ISpeedRow[] = [];
  const bars: [string, number, number][] = [];
  if (typeof ol.median_ms === 'number' && typeof nl.median_ms === 'number') {
    rows.push({
      measure: 'single row, median',
      original: formatMs(ol.median_ms),
      onnx: formatMs(nl.median_ms),
      speedup: formatFactor(num(s.latency))
    });
    bars.push(['1 row', ol.median_ms, nl.median_ms]);
  }
  if (typeof ol.p99_ms === 'number' && typeof nl.p99_ms === 'number') {
    rows.push({
      measure: 'single row, p99',
      original: formatMs(ol.p99_ms),
      onnx: formatMs(nl.p99_ms),
      speedup: formatFactor(num(s.latency_p99))
    });
  }
  if (typeof ob.median_s === 'number' && typeof nb.median_s === 'number') {
    const batchRows = typeof ob.rows === 'number' ? ob.rows : 10_000;
    const label = plural(batchRows, 'row');
    rows.push({
      measure: label,
      original: formatMs(ob.median_s * 1000),
      onnx: formatMs(nb.median_s * 1000),
      speedup: formatFactor(num(s.throughput))
    });
    bars.push([label, ob.median_s * 1000, nb.median_s * 1000]);
  }
  const machine = asObject(sp.machine) ?? {};
  const conditions = [
    typeof sp.budget_s === 'number' ? `measured within ${sp.budget_s} s` : '',
    typeof machine.cpus === 'number' ? plural(machine.cpus, 'CPU') : '',
    typeof machine.load_average === 'number' ? `load average ${machine.load_average}` : ''
  ].filter(Boolean);
  return {
    original: String(o.runtime ?? 'original'),
    onnx: String(n.runtime ?? 'onnx'),
    rows,
    bars,
    conditions: conditions.join(', ')
  };
}

/** The first rows of an input example, with its columns, and how many more there are. */
export interface IExampleTable {
  columns: string[];
  rows: string[][];
  /** Rows not shown ("and 95 more"). */
  more: number;
}

/** Rows of an input example shown before "and N more". */
export const EXAMPLE_ROWS = 5;

/**
 * An input example as a table: `{"columns", "data"}` (a DataFrame's) or a list
 * of rows (an array's), its columns named by the example, else by the signature
 * (one input per column, or `input[0]`, `input[1]`... for one 2-D input), else
 * numbered. Null for an example of another shape (shown as text).
 */
export function exampleTable(
  example: unknown,
  inputs: readonly ITensorSpec[] = [],
  limit: number = EXAMPLE_ROWS,
  columnNames: readonly string[] = []
): IExampleTable | null {
  let columns: string[] = [];
  let data: unknown[];
  const framed = asObject(example);
  if (framed && Array.isArray(framed.columns) && Array.isArray(framed.data)) {
    columns = framed.columns.map(String);
    data = framed.data;
  } else if (Array.isArray(example)) {
    data = example;
  } else {
    return null;
  }
  const rows = data.map(row => (Array.isArray(row) ? row : [row]));
  const width = Math.max(columns.length, ...rows.map(r => r.length), 0);
  if (columns.length < width) {
    if (columnNames.length === width) {
      columns = [...columnNames];
    } else if (inputs.length === width && width > 1) {
      columns = inputs.map(i => i.name);
    } else if (inputs.length === 1) {
      const name = inputs[0].name;
      columns = width === 1 ? [name] : Array.from({ length: width }, (_, i) => `${name}[${i}]`);
    } else {
      columns = Array.from({ length: width }, (_, i) => String(i));
    }
  }
  return {
    columns,
    rows: rows.slice(0, limit).map(row => columns.map((_, i) => cell(row[i]))),
    more: Math.max(0, rows.length - limit)
  };
}

function cell(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  return cellText(value);
}

type Obj = { [key: string]: unknown };

function asObject(value: unknown): Obj | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : null;
}

function isObject(value: Obj | null): value is Obj {
  return value !== null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}
