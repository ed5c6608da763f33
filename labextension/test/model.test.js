// Unit tests of the panel's state logic (ModelHubModel) and pure helpers,
// against a fake API client. Run with `jlpm test` (compiles src/ to CommonJS
// in lib/test-cjs, then `node --test`).
'use strict';

const { test, mock } = require('node:test');
const assert = require('node:assert/strict');

const { ModelHubModel, POLL_INTERVAL, ENDPOINT_INTERVAL } = require('../lib/test-cjs/model.js');
const { FOLLOW_INTERVAL } = require('../lib/test-cjs/operations.js');
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

/** A fake client: records calls; answers come from overridable functions. */
function fakeClient() {
  const client = {
    calls: [],
    models: [summary('churn')],
    lastId: 0,
    newEvents: [],
    listModelsImpl: null,
    eventsImpl: null,
    endpoints: [],
    endpointsImpl: null,
    convertImpl: null,
    getOperationImpl: null,
    operations: [],
    async listModels(query) {
      client.calls.push(['listModels', query]);
      if (client.listModelsImpl) {
        return client.listModelsImpl(query);
      }
      return { models: client.models, total: client.models.length, page: 1, per_page: 50 };
    },
    async listVersions(name, options) {
      client.calls.push(['listVersions', name, options]);
      return { versions: [{ name, version: 1, tags: {}, aliases: [] }], total: 1, page: 1, per_page: 50 };
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
      if (client.endpointsImpl) {
        return client.endpointsImpl();
      }
      return { endpoints: client.endpoints };
    },
    async convertVersion(name, version) {
      client.calls.push(['convertVersion', name, version]);
      return client.convertImpl(name, version);
    },
    async getOperation(id) {
      client.calls.push(['getOperation', id]);
      return client.getOperationImpl(id);
    },
    async listOperations(query) {
      client.calls.push(['listOperations', query]);
      const wanted = query.status ? query.status : null;
      const operations = client.operations.filter(op => !wanted || wanted.includes(op.status));
      return { operations, total: operations.length, page: 1, per_page: query.per_page };
    },
    async operationLog(id, tail) {
      client.calls.push(['operationLog', id, tail]);
      return '';
    },
    async cancelOperation(id) {
      client.calls.push(['cancelOperation', id]);
      throw errorFromResponse(409, { message: `Operation ${id} already succeeded.`, reason: 'conflict' });
    }
  };
  return client;
}

const count = (client, kind) => client.calls.filter(c => c[0] === kind).length;

test('first poll learns the event position, then loads the list', async () => {
  const client = fakeClient();
  client.lastId = 7;
  const model = new ModelHubModel(client);
  await model.pollOnce();
  assert.deepEqual(client.calls[0], ['events', undefined]);
  assert.equal(count(client, 'listModels'), 1);
  assert.equal(model.loaded, true);
  assert.deepEqual(model.models.map(m => m.name), ['churn']);

  // Nothing new: no reload.
  await model.pollOnce();
  assert.deepEqual(client.calls.at(-1), ['events', 7]);
  assert.equal(count(client, 'listModels'), 1);

  // A new event: reload.
  client.lastId = 8;
  client.newEvents = [{ id: 8, time: '', kind: 'version_registered', model: 'fraud', version: 1 }];
  client.models = [summary('fraud'), summary('churn')];
  await model.pollOnce();
  assert.equal(count(client, 'listModels'), 2);
  assert.deepEqual(model.models.map(m => m.name), ['fraud', 'churn']);
  client.newEvents = [];
  await model.pollOnce();
  assert.deepEqual(client.calls.at(-1), ['events', 8]);
  model.dispose();
});

test('the query is passed verbatim; a 4xx shows the server message as a query error', async () => {
  const client = fakeClient();
  const model = new ModelHubModel(client);
  client.listModelsImpl = query => {
    if (query.filter === 'team=') {
      throw errorFromResponse(400, { message: "Malformed tag filter 'team='", reason: 'invalid' });
    }
    return { models: [summary('churn')], total: 1, page: 1, per_page: 50 };
  };
  await model.setQuery({ filter: 'team=' });
  assert.deepEqual(client.calls.at(-1), [
    'listModels',
    { q: '', filter: 'team=', flavor: '', page: 1, per_page: 50 }
  ]);
  assert.equal(model.queryError, "Malformed tag filter 'team='");
  assert.equal(model.error, null);
  assert.equal(model.models.length, 0);

  await model.setQuery({ filter: 'team=growth  stage!=dev owner', search: 'chu', flavor: 'sklearn' });
  assert.deepEqual(client.calls.at(-1)[1], {
    q: 'chu',
    filter: 'team=growth  stage!=dev owner',
    flavor: 'sklearn',
    page: 1,
    per_page: 50
  });
  assert.equal(model.queryError, null);
  assert.equal(model.hasQuery, true);
  model.dispose();
});

test('a server that cannot be reached is an error, not a query error', async () => {
  const client = fakeClient();
  const model = new ModelHubModel(client);
  client.listModelsImpl = () => {
    throw new ModelHubError('Cannot reach the Jupyter server.', 0);
  };
  await model.refresh();
  assert.equal(model.error, 'Cannot reach the Jupyter server.');
  assert.equal(model.queryError, null);

  // The next successful poll reloads while an error is shown.
  client.listModelsImpl = null;
  await model.pollOnce(); // learns position and reloads
  assert.equal(model.error, null);
  assert.equal(model.loaded, true);
  model.dispose();
});

test('a stale answer does not overwrite a newer one', async () => {
  const client = fakeClient();
  const model = new ModelHubModel(client);
  const pending = [];
  client.listModelsImpl = query =>
    new Promise(resolve => pending.push(() => resolve({
      models: [summary(query.q || 'all')], total: 1, page: 1, per_page: 50
    })));
  const first = model.setQuery({ search: 'old' });
  const second = model.setQuery({ search: 'new' });
  pending[1]();
  await second;
  pending[0]();
  await first;
  assert.deepEqual(model.models.map(m => m.name), ['new']);
  assert.equal(model.loading, false);
  model.dispose();
});

test('expanding loads versions; refresh reloads expanded models', async () => {
  const client = fakeClient();
  const model = new ModelHubModel(client);
  await model.refresh();
  model.toggle('churn');
  assert.equal(model.isExpanded('churn'), true);
  await new Promise(resolve => setImmediate(resolve));
  assert.deepEqual(client.calls.at(-1), ['listVersions', 'churn', { archived: true, per_page: 50 }]);
  assert.equal(model.versions('churn').versions.length, 1);
  await model.refresh();
  await new Promise(resolve => setImmediate(resolve));
  assert.equal(count(client, 'listVersions'), 2);
  model.toggle('churn');
  assert.equal(model.isExpanded('churn'), false);
  model.dispose();
});

test('polling runs every POLL_INTERVAL while started, and stops', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const client = fakeClient();
    const model = new ModelHubModel(client);
    let changes = 0;
    model.changed.connect(() => changes++);
    model.startPolling();
    mock.timers.tick(0);
    await new Promise(resolve => setImmediate(resolve));
    assert.equal(count(client, 'events'), 1);
    mock.timers.tick(POLL_INTERVAL);
    await new Promise(resolve => setImmediate(resolve));
    assert.equal(count(client, 'events'), 2);
    model.stopPolling();
    mock.timers.tick(POLL_INTERVAL * 5);
    await new Promise(resolve => setImmediate(resolve));
    assert.equal(count(client, 'events'), 2);
    assert.ok(changes > 0);

    // Restarting resumes from the last position; dispose stops for good.
    model.startPolling();
    mock.timers.tick(0);
    await new Promise(resolve => setImmediate(resolve));
    assert.equal(count(client, 'events'), 3);
    model.dispose();
    mock.timers.tick(POLL_INTERVAL * 5);
    await new Promise(resolve => setImmediate(resolve));
    assert.equal(count(client, 'events'), 3);
    assert.equal(model.isPolling, false);
  } finally {
    mock.timers.reset();
  }
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
      { name: 'blue', ref: 'churn:1', requested: 'churn:1', flavor: 'sklearn', state: 'healthy',
        reason: '', restarts: 0, instances: 1 }
    ],
    created_time: '2026-11-26T06:30:00Z',
    ...extra
  };
}

test('refresh loads the endpoints too; unchanged answers do not re-render', async () => {
  const client = fakeClient();
  const model = new ModelHubModel(client);
  assert.equal(model.endpoints.loaded, false);
  await model.refresh();
  await new Promise(resolve => setImmediate(resolve));
  assert.equal(count(client, 'listEndpoints'), 1);
  assert.equal(model.endpoints.loaded, true);
  assert.deepEqual(model.endpoints.endpoints, []);

  client.endpoints = [endpoint('scoring')];
  await model.loadEndpoints();
  assert.deepEqual(model.endpoints.endpoints.map(e => e.name), ['scoring']);

  let changes = 0;
  model.changed.connect(() => changes++);
  client.endpoints = [endpoint('scoring')];
  await model.loadEndpoints();
  assert.equal(changes, 0);

  // A crash changes the state without an event: the next load shows it.
  client.endpoints = [endpoint('scoring', { state: 'failed' })];
  await model.loadEndpoints();
  assert.equal(changes, 1);
  assert.equal(model.endpoints.endpoints[0].state, 'failed');

  // A failure keeps what was shown and reports the error.
  client.endpointsImpl = () => {
    throw new ModelHubError('Cannot reach the Jupyter server. Is it still running?', 0);
  };
  await model.loadEndpoints();
  assert.equal(model.endpoints.endpoints.length, 1);
  assert.match(model.endpoints.error, /Cannot reach/);

  assert.equal(model.endpointsExpanded, true);
  model.toggleEndpoints();
  assert.equal(model.endpointsExpanded, false);
  model.dispose();
});

test('endpoints reload every ENDPOINT_INTERVAL while polling, and stop', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const client = fakeClient();
    const model = new ModelHubModel(client);
    model.startPolling();
    mock.timers.tick(0);
    for (let i = 0; i < 5; i++) {
      await new Promise(resolve => setImmediate(resolve));
    }
    assert.equal(count(client, 'listEndpoints'), 1); // with the first list load
    // Events show nothing new, yet the endpoints are reloaded on their own timer.
    for (let round = 0; round < 2; round++) {
      mock.timers.tick(ENDPOINT_INTERVAL);
      for (let i = 0; i < 5; i++) {
        await new Promise(resolve => setImmediate(resolve));
      }
    }
    assert.equal(count(client, 'listEndpoints'), 3);
    assert.equal(count(client, 'listModels'), 1);
    model.stopPolling();
    mock.timers.tick(ENDPOINT_INTERVAL * 5);
    await new Promise(resolve => setImmediate(resolve));
    assert.equal(count(client, 'listEndpoints'), 3);
    model.dispose();
  } finally {
    mock.timers.reset();
  }
});

const CONVERTED = {
  version: { name: 'churn', version: 2, ref: 'churn:2', flavor: 'onnx', existing: false },
  equivalence: { passed: true, rows: 5 },
  speed: { speedup: { latency: 23.1, throughput: 2.4 } },
  conversion: {}
};

test('convert: follows the operation, busy meanwhile, a summary on success, then a refresh', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const client = fakeClient();
    const started = operation({ id: 3, subject: 'churn:1', status: 'queued', queue_position: 1 });
    const states = [
      operation({ id: 3, subject: 'churn:1', status: 'running',
        progress: { done: 2, total: 5, unit: 'steps', message: 'checking equivalence' } }),
      operation({ id: 3, subject: 'churn:1', status: 'succeeded', active: false, result: CONVERTED,
        link: { type: 'version', model: 'churn', version: 2, ref: 'churn:2' } })
    ];
    client.convertImpl = async () => started;
    client.getOperationImpl = async () => states.shift();
    const model = new ModelHubModel(client);
    const done = model.convert('churn', 1);
    await flush();
    assert.deepEqual(client.calls[0], ['convertVersion', 'churn', 1]);
    let state = model.conversion('churn:1');
    assert.equal(state.busy, true);
    assert.equal(state.operation.status, 'queued');
    // The Activity section has it at once, without waiting for a reload.
    assert.deepEqual(model.activity.operations.map(op => op.id), [3]);
    // A second click while busy does nothing.
    await model.convert('churn', 1);
    assert.equal(count(client, 'convertVersion'), 1);

    mock.timers.tick(FOLLOW_INTERVAL);
    await flush();
    state = model.conversion('churn:1');
    assert.equal(state.busy, true);
    assert.equal(state.operation.progress.message, 'checking equivalence');
    assert.equal(model.activity.operations[0].status, 'running');
    assert.equal(count(client, 'listModels'), 0);

    mock.timers.tick(FOLLOW_INTERVAL);
    await done;
    state = model.conversion('churn:1');
    assert.equal(state.busy, false);
    assert.equal(state.error, false);
    assert.equal(state.operation, null);
    assert.equal(state.message, 'churn:2 (onnx): equivalent on 5 rows, 23x faster per row');
    assert.equal(model.activity.operations[0].status, 'succeeded');
    assert.deepEqual(client.calls.filter(c => c[0] === 'getOperation'), [['getOperation', 3], ['getOperation', 3]]);
    assert.equal(count(client, 'listModels'), 1);

    model.dismissConversion('churn:1');
    assert.equal(model.conversion('churn:1'), undefined);
    model.dispose();
  } finally {
    mock.timers.reset();
  }
});

test("convert: a refused conversion (failed, with the report) shows the server's message, no refresh", async () => {
  const client = fakeClient();
  client.convertImpl = async () => operation({ id: 4, subject: 'churn:1' });
  client.getOperationImpl = async () =>
    operation({
      id: 4, subject: 'churn:1', status: 'failed', active: false,
      error: {
        message: 'The ONNX model is not equivalent: 3 of 5 rows differ.',
        reason: 'invalid',
        report: { passed: false, rows: 5 }
      }
    });
  const model = new ModelHubModel(client);
  await model.convert('churn', 1); // one real FOLLOW_INTERVAL wait
  const state = model.conversion('churn:1');
  assert.equal(state.busy, false);
  assert.equal(state.error, true);
  assert.equal(state.message, 'The ONNX model is not equivalent: 3 of 5 rows differ.');
  assert.equal(count(client, 'listModels'), 0);
  model.dispose();
});

test("convert: a refused request (4xx) shows the server's message", async () => {
  const client = fakeClient();
  client.convertImpl = async () => {
    throw errorFromResponse(400, {
      message: "Version churn:1 is 'onnx'; only scikit-learn versions convert to ONNX.",
      reason: 'invalid'
    });
  };
  const model = new ModelHubModel(client);
  await model.convert('churn', 1);
  const state = model.conversion('churn:1');
  assert.equal(state.busy, false);
  assert.equal(state.error, true);
  assert.match(state.message, /only scikit-learn versions/);
  assert.equal(count(client, 'getOperation'), 0);
  model.dispose();
});

test('convert: an unreachable server while following is asked again, the wait goes on', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const client = fakeClient();
    client.convertImpl = async () => operation({ id: 5, subject: 'churn:1' });
    let failures = 2;
    client.getOperationImpl = async () => {
      if (failures-- > 0) {
        throw new ModelHubError('Cannot reach the Jupyter server. Is it still running?', 0);
      }
      return operation({ id: 5, subject: 'churn:1', status: 'succeeded', active: false, result: CONVERTED });
    };
    const model = new ModelHubModel(client);
    const done = model.convert('churn', 1);
    // Backoff: 500, then 1000, then 2000 ms.
    for (const wait of [FOLLOW_INTERVAL, FOLLOW_INTERVAL * 2]) {
      await flush();
      mock.timers.tick(wait);
      await flush();
      assert.equal(model.conversion('churn:1').busy, true);
    }
    mock.timers.tick(FOLLOW_INTERVAL * 4);
    await done;
    assert.equal(count(client, 'getOperation'), 3);
    assert.equal(model.conversion('churn:1').error, false);
    model.dispose();
  } finally {
    mock.timers.reset();
  }
});

test('convert: an operation that ends cancelled says so', async () => {
  const client = fakeClient();
  client.convertImpl = async () => operation({ id: 6, subject: 'churn:1' });
  client.getOperationImpl = async () =>
    operation({ id: 6, subject: 'churn:1', status: 'cancelled', active: false, error: null });
  const model = new ModelHubModel(client);
  await model.convert('churn', 1);
  assert.equal(model.conversion('churn:1').message, 'Operation 6 was cancelled.');
  assert.equal(model.conversion('churn:1').error, true);
  model.dispose();
});

test('events: an "operation" event reloads the Activity section only; others the models only', async () => {
  const client = fakeClient();
  client.lastId = 10;
  const model = new ModelHubModel(client);
  await model.pollOnce(); // the first round loads everything
  await flush();
  assert.equal(count(client, 'listModels'), 1);
  assert.equal(count(client, 'listOperations'), 2); // active ones and the newest
  assert.equal(model.activity.loaded, true);

  client.lastId = 12;
  client.newEvents = [
    { id: 11, time: '', kind: 'operation', model: 'churn:1', version: null, operation: 3 },
    { id: 12, time: '', kind: 'operation', model: 'churn:1', version: null, operation: 3 }
  ];
  client.operations = [operation({ id: 3, subject: 'churn:1', status: 'running' })];
  await model.pollOnce();
  await flush();
  assert.equal(count(client, 'listModels'), 1);
  assert.equal(count(client, 'listEndpoints'), 1);
  assert.equal(count(client, 'listOperations'), 4);
  assert.deepEqual(model.activity.operations.map(op => op.status), ['running']);

  client.lastId = 13;
  client.newEvents = [{ id: 13, time: '', kind: 'version_registered', model: 'churn', version: 2 }];
  await model.pollOnce();
  await flush();
  assert.equal(count(client, 'listModels'), 2);
  assert.equal(count(client, 'listOperations'), 4);
  model.dispose();
});

test('reveal: a version link opens its model and selects the version; an endpoint link the endpoint', async () => {
  const client = fakeClient();
  const model = new ModelHubModel(client);
  await model.refresh();
  let changes = 0;
  model.changed.connect(() => changes++);
  model.reveal({ type: 'version', model: 'churn', version: 2, ref: 'churn:2' });
  assert.equal(model.isExpanded('churn'), true);
  assert.equal(model.isSelectedVersion('churn', 2), true);
  assert.equal(model.isSelectedVersion('churn', 1), false);
  assert.ok(changes > 0);
  await flush();
  assert.equal(count(client, 'listVersions'), 1);

  // Already open: stays open.
  model.reveal({ type: 'version', model: 'churn', version: 1, ref: 'churn:1' });
  assert.equal(model.isExpanded('churn'), true);
  assert.equal(model.isSelectedVersion('churn', 1), true);

  model.toggleEndpoints();
  assert.equal(model.endpointsExpanded, false);
  model.reveal({ type: 'endpoint', name: 'churn-ep' });
  assert.equal(model.endpointsExpanded, true);
  assert.equal(model.isSelectedEndpoint('churn-ep'), true);
  assert.equal(model.isSelectedVersion('churn', 1), false);
  model.dispose();
});

test('a deploy that ends reloads the endpoints at once; so does following a link to one', async () => {
  const client = fakeClient();
  client.operations = [operation({ id: 9, kind: 'deploy', subject: 'churn-ep', status: 'running' })];
  const model = new ModelHubModel(client);
  await model.activity.refresh();
  assert.equal(count(client, 'listEndpoints'), 0);
  client.operations = [operation({ id: 9, kind: 'deploy', subject: 'churn-ep', status: 'succeeded',
    link: { type: 'endpoint', name: 'churn-ep' } })];
  await model.activity.refresh();
  assert.equal(count(client, 'listEndpoints'), 1);
  model.reveal({ type: 'endpoint', name: 'churn-ep' });
  assert.equal(count(client, 'listEndpoints'), 2);
  model.dispose();
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
