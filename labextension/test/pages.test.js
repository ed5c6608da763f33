// Unit tests of the pure helpers behind the version, image and job pages
// (issue 23, defects 4 and 5): the conversion's reports as the notebook words
// them, the input example as a table, compare rows with timings apart, the
// mini-batch "why", and which cells are numbers. Run with `jlpm test`.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { equivalenceView, speedView, exampleTable } = require('../lib/test-cjs/components/models/reports.js');
const { compareRows, isTiming, TIMINGS } = require('../lib/test-cjs/components/models/compare.js');
const { whyText, rowError, triedAgain } = require('../lib/test-cjs/components/batch/model.js');
const { formatMs, formatFactor, isNumeric, plural } = require('../lib/test-cjs/format.js');

const SPEED = {
  original: { runtime: 'scikit-learn 1.6.1', latency: { median_ms: 0.923378, p99_ms: 2.5 }, batch: { rows: 10000, median_s: 0.0123 } },
  onnx: { runtime: 'onnxruntime 1.20.1', latency: { median_ms: 0.0452, p99_ms: 0.08 }, batch: { rows: 10000, median_s: 0.001 } },
  speedup: { latency: 20.43, latency_p99: 31.25, throughput: 12.3 },
  budget_s: 0.1,
  elapsed_s: 0.31,
  machine: { cpus: 2, load_average: 1.3 }
};

const EQUIVALENCE = {
  passed: true,
  tolerance: 0.0001,
  dtype: 'float32',
  rule: '|onnx - original| <= tolerance * max(1, |original|)',
  rows: 5,
  outputs: [
    { name: 'label', kind: 'label', rows: 5, failing_rows: 0, passed: true, agreement: 1 },
    { name: 'probabilities', kind: 'probabilities', rows: 5, failing_rows: 0, passed: true, max_abs_diff: 7.52e-8 }
  ]
};

test('format: milliseconds, factors, plurals and numbers as the notebook says them', () => {
  assert.equal(formatMs(0.0452), '45.2 µs');
  assert.equal(formatMs(0.923378), '0.92 ms');
  assert.equal(formatMs(2410), '2.41 s');
  assert.equal(formatMs(null), '');
  assert.equal(formatFactor(20.43), '20.4x');
  assert.equal(plural(1, 'row'), '1 row');
  assert.equal(plural(10000, 'row'), '10,000 rows');
  assert.equal(plural(3, 'mini-batch'), '3 mini-batches');
  for (const text of ['0.93', '-4', '1,200', '1.9 KB', '45.2 µs', '12.3x', '98%', '3.2e-7']) {
    assert.ok(isNumeric(text), text);
  }
  for (const text of ['label', 'succeeded', 'model.onnx', 'v2', '', 'input[0]', 'sha256:abc']) {
    assert.ok(!isNumeric(text), text);
  }
});

test('reports: the equivalence report as its verdict and one row per output', () => {
  const view = equivalenceView(EQUIVALENCE, { from: 'churn:1' });
  assert.equal(view.passed, true);
  assert.equal(view.from, 'churn:1');
  assert.equal(view.summary, 'on 5 rows, tolerance 0.0001 (float32)');
  assert.deepEqual(view.rows, [
    { output: 'label', kind: 'label', measure: '100.00%', failingRows: '0', within: true },
    { output: 'probabilities', kind: 'probabilities', measure: '7.5e-8', failingRows: '0', within: true }
  ]);
  assert.equal(equivalenceView({ passed: true }), null); // not the report's shape: shown as a table of keys
});

test('reports: the speed report as measures, runtimes and speed-ups, never raw keys', () => {
  const view = speedView(SPEED);
  assert.equal(view.original, 'scikit-learn 1.6.1');
  assert.equal(view.onnx, 'onnxruntime 1.20.1');
  assert.deepEqual(view.rows, [
    { measure: 'single row, median', original: '0.92 ms', onnx: '45.2 µs', speedup: '20.4x' },
    { measure: 'single row, p99', original: '2.50 ms', onnx: '80.0 µs', speedup: '31.3x' },
    { measure: '10,000 rows', original: '12.30 ms', onnx: '1.00 ms', speedup: '12.3x' }
  ]);
  assert.equal(view.conditions, 'measured within 0.1 s, 2 CPUs, load average 1.3');
  assert.ok(!JSON.stringify(view).includes('median_ms'));
});

test('reports: an input example as a table under the signature\'s columns, and how many more rows', () => {
  const rows = Array.from({ length: 12 }, (_, i) => [i, i + 0.5, null]);
  const table = exampleTable(rows, [{ name: 'X', dtype: 'float64', shape: [-1, 3] }]);
  assert.deepEqual(table.columns, ['X[0]', 'X[1]', 'X[2]']);
  assert.equal(table.rows.length, 5);
  assert.deepEqual(table.rows[1], ['1', '1.5', 'null']);
  assert.equal(table.more, 7);
  const framed = exampleTable({ columns: ['age', 'plan'], data: [[31, 'pro']] }, []);
  assert.deepEqual(framed, { columns: ['age', 'plan'], rows: [['31', 'pro']], more: 0 });
  assert.deepEqual(exampleTable([[1, 2]], [{ name: 'a' }, { name: 'b' }]).columns, ['a', 'b']);
  assert.equal(exampleTable('text', []), null);
});

function version(number, extra = {}) {
  return {
    name: 'churn',
    version: number,
    ref: `churn:${number}`,
    flavor: 'sklearn',
    files: [{ path: 'model.joblib', size: 1985 }],
    size: 1985,
    tags: {},
    properties: {},
    signature: null,
    derived_from: null,
    created_time: `2026-12-0${number}T10:00:00Z`,
    ...extra
  };
}

test('compare: metrics first and marked, timings apart and never counted, a report one side lacks is one row', () => {
  const rows = compareRows([
    version(1, { properties: { metrics: { accuracy: 0.91 } } }),
    version(2, {
      flavor: 'onnx',
      size: 391,
      properties: {
        metrics: { accuracy: 0.92 },
        evaluation: { metrics: { auc: 0.95 }, data: 'X_test' },
        equivalence: EQUIVALENCE,
        speed: SPEED,
        conversion: { from: 'churn:1', converter: 'skl2onnx 1.20.0', size: 391 }
      }
    })
  ]);
  assert.equal(rows[0].group, 'Metrics');
  assert.deepEqual(rows[0], { group: 'Metrics', key: 'auc', values: ['', '0.95'], differs: true });
  assert.deepEqual(rows.find(r => r.key === 'accuracy').values, ['0.91', '0.92']);
  assert.deepEqual(rows.find(r => r.key === 'size').values, ['1.9 KB', '391 B']);
  assert.deepEqual(rows.find(r => r.key === 'equivalence').values, ['', 'passed on 5 rows']);
  assert.deepEqual(rows.find(r => r.key === 'conversion').values, ['', 'from churn:1 with skl2onnx 1.20.0']);
  assert.deepEqual(rows.find(r => r.key === 'evaluation.data').values, ['', 'X_test']);
  const timings = rows.filter(r => r.group === TIMINGS);
  assert.ok(timings.some(r => r.key === 'speed.original.latency.median_ms'));
  assert.ok(timings.some(r => r.key === 'registered' && r.varies));
  assert.ok(timings.every(r => !r.differs));
  assert.deepEqual(
    Array.from(new Set(rows.map(r => r.group))),
    ['Metrics', 'Overview', 'Properties', TIMINGS]
  );
  const differing = rows.filter(r => r.differs).map(r => r.key);
  assert.ok(!differing.some(key => key.startsWith('speed') || key.startsWith('equivalence.')), differing);
});

test('compare: which keys are timing internals', () => {
  for (const key of ['speed.speedup.latency', 'evaluation.elapsed_s', 'timings.fit', 'created_time', 'train.duration']) {
    assert.ok(isTiming(key), key);
  }
  for (const key of ['accuracy', 'equivalence.passed', 'conversion.size', 'metrics.f1']) {
    assert.ok(!isTiming(key), key);
  }
});

test('batch: the "why" of a mini-batch: its error, each failed file, why it was tried again', () => {
  const base = { index: 0, status: 'failed', files: ['/d/bad.csv'], retries: [], not_retried: null, error: null, failed_files: [] };
  assert.equal(rowError({ ...base, error: 'bad.csv has 2 columns' }), 'bad.csv has 2 columns');
  assert.equal(rowError({ ...base, failed_files: [{ file: '/d/bad.csv', error: 'no column a' }] }), 'bad.csv: no column a');
  assert.equal(triedAgain({ ...base, retries: ['timeout after 30 s'] }), 'timeout after 30 s');
  assert.equal(triedAgain({ ...base, not_retried: 'a schema error is not retried' }), 'a schema error is not retried');
  assert.equal(
    whyText({ ...base, error: 'bad.csv has 2 columns', not_retried: 'a schema error is not retried' }),
    'bad.csv has 2 columns (tried again: a schema error is not retried)'
  );
  assert.equal(whyText({ ...base, status: 'succeeded', retries: ['worker lost'] }), 'tried again: worker lost');
});
