// Unit tests of the panel's state: the hub (one poll on the events feed,
// reloading only the sections the events concern), the Models and Endpoints
// sections, and the pure helpers (formatting, metrics windows, compare rows),
// against a fake API client. Run with `jlpm test` (compiles src/ to CommonJS
// in lib/test-cjs, then `node --test`).
'use strict';

const { test, mock } = require('node:test');
const assert = require('node:assert/strict');

const { ModelHubModel, POLL_INTERVAL, MAX_POLL_BACKOFF } = require('../lib/test-cjs/model.js');
const { ACTIVITY_INTERVAL } = require('../lib/test-cjs/components/activity/model.js');
const { ENDPOINT_INTERVAL } = require('../lib/test-cjs/components/endpoints/model.js');
const { compareRows } = require('../lib/test-cjs/components/models/compare.js');
const { windowFigures, percentile, latencyLabel } = require('../lib/test-cjs/metrics.js');
const { ModelHubError, errorFromResponse } = require('../lib/test-cjs/errors.js');
const {
  tagLabels,
  aliasLabels,
  relativeTime,
  formatSize,
  formatSpeedup,
  conversionSummary,
  trafficLabel,
  formatDuration
} = require('../lib/test-cjs/format.js');
const { operation, flush } = require('./fixtures.js');

function summary(name, extra = {}) {
  return {
    name,
    description: '',
    latest_version: 1,
    version_count: 1,
    flavor: 'custom',
    tags: {},
    aliases: {},
    created_time: '2026-11-26T06:30:00Z',
    updated_time: '2026-11-26T06:30:00Z',
    ...extra
  };
}

function version(name, number, extra = {}) {
  return {
    name,
    version: number,
    ref: `${name}:${number}`,
    flavor: 'sklearn',
    description: '',
    tags: {},
    properties: {},
    signature: null,
    input_example: null,
    files: [{ path: 'model.joblib', size: 10, sha256: 'ab' }],
    size: 10,
    created_time: '2026-11-26T06:30:00Z',
    created_by: 'root',
    source_notebook: null,
    derived_from: null,
    archived: false,
    aliases: [],
    ...extra
  };
}

function endpoint(name, extra = {}) {
  return {
    name,
    url: 'http://127.0.0.1:8901',
    port: 8901,
    auth: 'none',
    traffic: { blue: 100 },
    mirror: {},
    state: 'healthy',
    deployments: [
      { name: 'blue', model: 'churn', version: 1, ref: 'churn:1', requested: 'churn:1', flavor: 'sklearn',
        state: 'healthy', reason: '', restarts: 0, instances: 1 }
    ],
    created_time: '2026-11-26T06:30:00Z',
    ...extra
  };
}

/** A fake client: records calls; answers come from fields the tests change. */
function fakeClient() {
  const client = {
    calls: [],
    models: [summary('churn')],
    versions: { churn: [version('churn', 1)] },
    matching: null,
    lastId: 0,
    newEvents: [],
    eventsImpl: null,
    endpoints: [],
    operations: [],
    metrics: null,
    async listModels(query) {
      client.calls.push(['listModels', query]);
      return { models: client.models, total: client.models.length, page: 1, per_page: 50 };
    },
    async listVersions(name, query) {
      client.calls.push(['listVersions', name, query]);
      let versions = client.versions[name] ?? [];
      if (query.filter && client.matching) {
        versions = versions.filter(v => client.matching.includes(v.version));
      }
      return { versions, total: versions.length, page: 1, per_page: 50 };
    },
    async getVersion(name, number) {
      client.calls.push(['getVersion', name, number]);
      return client.versions[name].find(v => v.version === number);
    },
    async events(after) {
      client.calls.push(['events', after]);
      if (client.eventsImpl) {
        return client.eventsImpl(after);
      }
      return { events: after === undefined ? [] : client.newEvents, last_id: client.lastId };
    },
    async listEndpoints() {
      client.calls.push(['listEndpoints']);
      return { endpoints: client.endpoints };
    },
    async listOperations(query) {
      client.calls.push(['listOperations', query]);
      let ops = client.operations;
      if (query.status) {
        ops = ops.filter(op => query.status.includes(op.status));
      }
      return { operations: ops, total: ops.length, page: 1, per_page: 50 };
    },
    async listImages() {
      client.calls.push(['listImages']);
      return { images: [] };
    },
    async listBatchEndpoints() {
      client.calls.push(['listBatchEndpoints']);
      return { batch_endpoints: [] };
    },
    async listJobs() {
      client.calls.push(['listJobs']);
      return { jobs: client.jobs ?? [], total: 0, page: 1, per_page: 10 };
    },
    async listEnvironments() {
      client.calls.push(['listEnvironments']);
      return { environments: [] };
    },
    async setTraffic(name, request) {
      client.calls.push(['setTraffic', name, request]);
      if (client.trafficError) {
        throw new ModelHubError(client.trafficError, 400, 'invalid');
      }
      return endpoint(name);
    },
    async endpointMetrics(name) {
      client.calls.push(['endpointMetrics', name]);
      return client.metrics;
    },
    async deploymentLog(name, deployment, tail) {
      client.calls.push(['deploymentLog', name, deployment, tail]);
      return 'line 1\nline 2';
    },
    async invoke(name, body) {
      client.calls.push(['invoke', name, body]);
      return { endpoint: name, status: 200, answer: [1, 0], latency_ms: 3.2, deployment: 'blue' };
    },
    async updateVersion(name, number, change) {
      client.calls.push(['updateVersion', name, number, change]);
      if (change.archived && client.archiveRefusal) {
        throw new ModelHubError(client.archiveRefusal, 409, 'conflict');
      }
      return version(name, number, change);
    },
    async getOperation(id) {
      return client.operations.find(op => op.id === id);
    }
  };
  return client;
}

const count = (client, kind) => client.calls.filter(c => c[0] === kind).length;

test('first round learns the event position and loads every section; later rounds only what events concern', async () => {
  const client = fakeClient();
  client.lastId = 7;
  const hub = new ModelHubModel(client);
  await hub.pollOnce();
  assert.deepEqual(client.calls[0], ['events', undefined]);
  assert.equal(count(client, 'listModels'), 1);
  assert.equal(count(client, 'listEndpoints'), 1);
  assert.equal(count(client, 'listOperations'), 2);
  assert.deepEqual(hub.models.models.map(m => m.name), ['churn']);

  // Nothing new: nothing reloads (the endpoints are not due yet).
  await hub.pollOnce();
  assert.deepEqual(client.calls.at(-1), ['events', 7]);
  assert.equal(count(client, 'listModels'), 1);
  assert.equal(count(client, 'listEndpoints'), 1);
  assert.equal(count(client, 'listOperations'), 2);

  // A registration: the Models section only.
  client.lastId = 8;
  client.newEvents = [{ id: 8, time: '', kind: 'version_registered', model: 'fraud', version: 1 }];
  client.models = [summary('fraud'), summary('churn')];
  let modelsChanged = 0;
  let activityChanged = 0;
  hub.models.changed.connect(() => modelsChanged++);
  hub.activity.changed.connect(() => activityChanged++);
  await hub.pollOnce();
  assert.equal(count(client, 'listModels'), 2);
  assert.deepEqual(hub.models.models.map(m => m.name), ['fraud', 'churn']);
  assert.equal(count(client, 'listOperations'), 2);
  assert.ok(modelsChanged > 0);
  assert.equal(activityChanged, 0);

  // An operation event: the Activity section only.
  client.lastId = 9;
  client.newEvents = [{ id: 9, time: '', kind: 'operation', model: 'churn:1', version: null, operation: 1 }];
  await hub.pollOnce();
  assert.equal(count(client, 'listModels'), 2);
  assert.equal(count(client, 'listOperations'), 4);

  // The Batch section, once open, reloads with operation events only.
  hub.batch.toggle();
  await flush();
  const jobs = count(client, 'listJobs');
  assert.equal(jobs, 1);
  client.newEvents = [];
  await hub.pollOnce();
  assert.equal(count(client, 'listJobs'), jobs);
  client.lastId = 11;
  client.newEvents = [{ id: 11, time: '', kind: 'operation', model: 'scorer:1', version: null, operation: 2 }];
  await hub.pollOnce();
  assert.equal(count(client, 'listJobs'), jobs + 1);

  // A deploy: the endpoints.
  client.lastId = 12;
  client.newEvents = [{ id: 12, time: '', kind: 'deployed', model: 'churn', version: 1 }];
  client.endpoints = [endpoint('scoring')];
  await hub.pollOnce();
  assert.equal(count(client, 'listEndpoints'), 2);
  assert.deepEqual(hub.endpoints.endpoints.map(e => e.name), ['scoring']);
  hub.dispose();
});

test('one Poll: every POLL_INTERVAL, faster while an operation is active, backoff on errors, standby while hidden', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const client = fakeClient();
    const hub = new ModelHubModel(client);
    hub.show();
    await flush();
    mock.timers.tick(0);
    await flush();
    assert.equal(count(client, 'events'), 1);
    mock.timers.tick(POLL_INTERVAL);
    await flush();
    assert.equal(count(client, 'events'), 2);

    // An active operation: rounds every ACTIVITY_INTERVAL, each reloading the activity.
    client.operations = [operation({ id: 1, status: 'running' })];
    await hub.activity.refresh();
    mock.timers.tick(POLL_INTERVAL);
    await flush();
    assert.equal(hub.poll.frequency.interval, ACTIVITY_INTERVAL);
    const before = count(client, 'events');
    mock.timers.tick(ACTIVITY_INTERVAL);
    await flush();
    assert.equal(count(client, 'events'), before + 1);
    client.operations = [operation({ id: 1, status: 'succeeded' })];
    mock.timers.tick(ACTIVITY_INTERVAL);
    await flush();
    assert.equal(hub.poll.frequency.interval, POLL_INTERVAL);

    // Hidden: no requests at all.
    hub.hide();
    const hidden = client.calls.length;
    mock.timers.tick(POLL_INTERVAL * 10);
    await flush();
    assert.equal(client.calls.length, hidden);
    hub.show();
    await flush();
    mock.timers.tick(0);
    await flush();
    assert.ok(count(client, 'events') > 0 && client.calls.length > hidden);

    // The server is down: an error to show, and the poll backs off.
    client.eventsImpl = async () => {
      throw new ModelHubError('Cannot reach the Jupyter server. Is it still running?', 0);
    };
    mock.timers.tick(POLL_INTERVAL);
    await flush();
    assert.match(hub.error, /Cannot reach/);
    assert.equal(hub.poll.state.phase, 'rejected');
    assert.ok(hub.poll.state.interval > POLL_INTERVAL && hub.poll.state.interval <= MAX_POLL_BACKOFF);
    client.eventsImpl = null;
    hub.retry();
    await flush();
    mock.timers.tick(0);
    await flush();
    assert.equal(hub.error, null);
    hub.dispose();
    const calls = client.calls.length;
    mock.timers.tick(POLL_INTERVAL * 5);
    await flush();
    assert.equal(client.calls.length, calls);
  } finally {
    mock.timers.reset();
  }
});

test('endpoints reload every ENDPOINT_INTERVAL with the rounds; what they serve changing reloads the versions', async () => {
  mock.timers.enable({ apis: ['Date'] });
  try {
    const client = fakeClient();
    client.endpoints = [endpoint('scoring')];
    const hub = new ModelHubModel(client);
    await hub.pollOnce();
    hub.models.toggleModel('churn');
    await flush();
    const versionLoads = count(client, 'listVersions');
    await hub.pollOnce();
    assert.equal(count(client, 'listEndpoints'), 1);
    mock.timers.tick(ENDPOINT_INTERVAL);
    await hub.pollOnce();
    assert.equal(count(client, 'listEndpoints'), 2);
    assert.equal(count(client, 'listVersions'), versionLoads); // same deployments: versions not reloaded
    client.endpoints = [];
    mock.timers.tick(ENDPOINT_INTERVAL);
    await hub.pollOnce();
    await flush();
    assert.ok(count(client, 'listVersions') > versionLoads, 'an undeploy changes what may be deleted');
    hub.dispose();
  } finally {
    mock.timers.reset();
  }
});

test('an endpoint that is updating is reloaded every round until it settles', async () => {
  mock.timers.enable({ apis: ['Date'] });
  try {
    const client = fakeClient();
    client.endpoints = [endpoint('scoring', { state: 'updating' })];
    const hub = new ModelHubModel(client);
    await hub.pollOnce();
    assert.equal(count(client, 'listEndpoints'), 1);
    await hub.pollOnce(); // no event, well within ENDPOINT_INTERVAL: still reloaded while it updates
    assert.equal(count(client, 'listEndpoints'), 2);
    client.endpoints = [endpoint('scoring', { state: 'healthy' })];
    await hub.pollOnce();
    assert.equal(hub.endpoints.endpoints[0].state, 'healthy');
    await hub.pollOnce(); // settled: back to every ENDPOINT_INTERVAL
    assert.equal(count(client, 'listEndpoints'), 3);
    hub.dispose();
  } finally {
    mock.timers.reset();
  }
});

test('a filter marks the versions that matched, from the server\'s answer', async () => {
  const client = fakeClient();
  client.versions.churn = [version('churn', 2), version('churn', 1)];
  client.matching = [1];
  const hub = new ModelHubModel(client);
  await hub.models.setQuery({ filter: 'team=growth' });
  hub.models.toggleModel('churn');
  await flush();
  const state = hub.models.versions('churn');
  assert.deepEqual(state.versions.map(v => v.version), [2, 1]);
  assert.deepEqual(Array.from(state.matched), [1]);
  const filtered = client.calls.filter(c => c[0] === 'listVersions' && c[2].filter === 'team=growth');
  assert.equal(filtered.length, 1);
  await hub.models.setQuery({ filter: '' });
  await flush();
  assert.equal(hub.models.versions('churn').matched, null);
  hub.dispose();
});

test("an action keeps the server's refusal as its message; a success reloads", async () => {
  const client = fakeClient();
  client.archiveRefusal = 'Cannot archive churn:1: it is used by alias churn@production.';
  const hub = new ModelHubModel(client);
  const v = version('churn', 1);
  await hub.models.setArchived(v, true);
  assert.deepEqual(
    { ...hub.models.actionState('churn:1'), operation: undefined },
    { action: 'archive', busy: false, message: client.archiveRefusal, error: true, operation: undefined }
  );
  const loads = count(client, 'listModels');
  await hub.models.setTags(v, { stage: 'prod' });
  assert.equal(hub.models.actionState('churn:1').message, 'Tags of churn:1 changed.');
  assert.equal(count(client, 'listModels'), loads + 1);
  assert.deepEqual(client.calls.find(c => c[0] === 'updateVersion' && c[3].tags), [
    'updateVersion', 'churn', 1, { tags: { stage: 'prod' } }
  ]);
  hub.dispose();
});

test('compare: picked versions side by side, rows that differ marked', () => {
  const a = version('churn', 1, { properties: { auc: 0.81, rows: 200 }, tags: { team: 'growth' } });
  const b = version('churn', 2, {
    flavor: 'onnx',
    derived_from: 'churn:1',
    properties: { auc: 0.81 },
    tags: { team: 'growth' },
    signature: { inputs: [{ name: 'X', dtype: 'float32', shape: [-1, 4] }], outputs: [] }
  });
  const rows = compareRows([a, b]);
  const row = key => rows.find(r => r.key === key);
  assert.deepEqual(row('flavor'), { group: 'Overview', key: 'flavor', values: ['sklearn', 'onnx'], differs: true });
  assert.equal(row('auc').differs, false);
  assert.deepEqual(row('rows').values, ['200', '']);
  assert.equal(row('team').differs, false);
  assert.deepEqual(row('X'), { group: 'Inputs', key: 'X', values: ['', 'float32 [-1, 4]'], differs: true });
});

test('compare: a reference profile is one row, not thousands of numbers', () => {
  const profile = { rows: 3000, source: 'X_train', features: [{ name: 'f0', quantiles: Array(51).fill(0.5) }] };
  const rows = compareRows([
    version('churn', 1, { properties: { reference: profile } }),
    version('churn', 2, { properties: {} })
  ]);
  assert.deepEqual(
    rows.filter(r => r.group === 'Properties').map(r => [r.key, r.values]),
    [['reference', ['profile of 3000 rows (X_train)', '']]]
  );
});

test('monitoring: requests, errors and p50/p99 over the window of reads; a restart counts from zero', () => {
  const read = (time, requests, errors, buckets, count) => ({
    time,
    metrics: {
      endpoint: 'scoring',
      time: '',
      deployments: {
        blue: { up: true, requests, errors, latency_count: count, latency_sum: 0, latency_buckets: buckets }
      }
    }
  });
  assert.equal(windowFigures([read(0, 1, 0, [], 1)], 'blue'), null);
  const figures = windowFigures(
    [
      read(0, 10, 1, [[0.001, 5], [0.01, 10]], 10),
      read(30000, 110, 3, [[0.001, 55], [0.01, 108]], 110)
    ],
    'blue'
  );
  assert.deepEqual(figures, { seconds: 30, requests: 100, errors: 2, p50: 1, p99: Infinity });
  const restarted = windowFigures(
    [read(0, 50, 0, [[0.001, 50]], 50), read(1000, 4, 0, [[0.001, 4]], 4)],
    'blue'
  );
  assert.equal(restarted.requests, 4);
  assert.equal(percentile([[0.005, 3]], 0, 0.5), null);
  assert.equal(latencyLabel(2.5), '\u2264 2.5 ms');
  assert.equal(latencyLabel(Infinity), '> 10 s');
});

test('deployment details follow the log and metrics; try it and traffic keep the server\'s answers', async () => {
  const client = fakeClient();
  client.endpoints = [endpoint('scoring')];
  client.metrics = { endpoint: 'scoring', time: '', deployments: {} };
  const hub = new ModelHubModel(client);
  await hub.pollOnce();
  hub.endpoints.watch('scoring', 'blue');
  await flush();
  assert.equal(hub.endpoints.watched('scoring', 'blue').log, 'line 1\nline 2');
  const logs = count(client, 'deploymentLog');
  await hub.pollOnce();
  assert.equal(count(client, 'deploymentLog'), logs + 1, 'each round follows an open detail');
  hub.endpoints.unwatch('scoring', 'blue');
  await hub.pollOnce();
  assert.equal(count(client, 'deploymentLog'), logs + 1);

  await hub.endpoints.tryIt('scoring', { data: [[1, 2]] });
  assert.equal(hub.endpoints.tryState('scoring').result.latency_ms, 3.2);

  client.trafficError = 'Traffic must add up to 100 (it adds up to 90).';
  await hub.endpoints.setTraffic('scoring', { traffic: { blue: 90 } });
  assert.equal(hub.endpoints.changeState('scoring').error, client.trafficError);
  client.trafficError = null;
  await hub.endpoints.setTraffic('scoring', { traffic: { blue: 100 } });
  assert.deepEqual(hub.endpoints.changeState('scoring'), { busy: false, error: null, message: 'Traffic changed.' });
  hub.dispose();
});

test('reveal: a version link opens its model and selects the version; an endpoint link the endpoint', async () => {
  const client = fakeClient();
  const hub = new ModelHubModel(client);
  await hub.pollOnce();
  hub.reveal({ type: 'version', model: 'churn', version: 1, ref: 'churn:1' });
  await flush();
  assert.equal(hub.models.isExpanded('churn'), true);
  assert.equal(hub.models.isSelected('churn', 1), true);
  hub.endpoints.toggle();
  hub.reveal({ type: 'endpoint', name: 'scoring' });
  assert.equal(hub.endpoints.expanded, true);
  assert.equal(hub.endpoints.isSelected('scoring'), true);
  hub.dispose();
});

test('format helpers', () => {
  assert.deepEqual(tagLabels({ team: 'growth', owner: '', a: 'b' }), ['a=b', 'owner', 'team=growth']);
  assert.deepEqual(tagLabels(null), []);
  assert.deepEqual(aliasLabels({ staging: 3, production: 2 }).map(a => a.label), [
    'production \u2192 v2',
    'staging \u2192 v3'
  ]);
  const now = Date.parse('2026-11-26T12:00:00Z');
  assert.equal(relativeTime('2026-11-26T11:59:50Z', now), 'just now');
  assert.match(relativeTime('2026-11-26T11:55:00Z', now), /5 minutes ago/);
  assert.match(relativeTime('2026-11-25T12:00:00Z', now), /yesterday|1 day ago/);
  assert.equal(relativeTime('not a time', now), 'not a time');
  assert.equal(formatSize(23), '23 B');
  assert.equal(formatSize(1536), '1.5 KB');
  assert.equal(errorFromResponse(404, null).status, 404);
  assert.match(errorFromResponse(502, null).message, /HTTP 502/);
});

test('conversion and endpoint format helpers', () => {
  assert.equal(formatSpeedup(23.1), '23x');
  assert.equal(formatSpeedup(1.43), '1.4x');
  assert.equal(formatSpeedup(2), '2x');
  assert.equal(formatSpeedup(null), '');
  assert.equal(
    conversionSummary({
      version: { ref: 'churn:2', flavor: 'onnx' },
      equivalence: { passed: true, rows: 1 },
      speed: { speedup: { latency: 0.5 } }
    }),
    'churn:2 (onnx): equivalent on 1 row, 2x slower per row'
  );
  assert.equal(
    conversionSummary({
      version: { ref: 'churn:2', flavor: 'onnx', existing: true },
      equivalence: { passed: true, rows: 5 },
      speed: { speedup: { latency: null } }
    }),
    'churn:2 (onnx): equivalent on 5 rows (already converted)'
  );
  assert.equal(trafficLabel({ blue: 90, green: 10 }, 'green'), '10%');
  assert.equal(trafficLabel({ blue: 100 }, 'green'), '0%');
  assert.equal(formatDuration('2026-12-01T10:00:00Z', '2026-12-01T10:00:00.250Z'), '250 ms');
  assert.equal(formatDuration('2026-12-01T10:00:00Z', '2026-12-01T10:00:04Z'), '4 s');
  assert.equal(formatDuration('2026-12-01T10:00:00Z', '2026-12-01T10:02:05Z'), '2 min 5 s');
  assert.equal(formatDuration('2026-12-01T10:00:00Z', '2026-12-01T11:03:00Z'), '1 h 3 min');
  assert.equal(formatDuration('2026-12-01T10:00:00Z', 'later'), '');
});
