// Unit tests of the Activity section's state (ActivityModel) and of the
// operation helpers, against a fake API client. Run with `jlpm test`.
'use strict';

const { test, mock } = require('node:test');
const assert = require('node:assert/strict');

const {
  ActivityModel,
  RECENT_OPERATIONS,
  LOG_TAIL
} = require('../lib/test-cjs/components/activity/model.js');
const {
  followOperation,
  progressView,
  queueLabel,
  ordinal,
  failureMessage,
  linkLabel
} = require('../lib/test-cjs/operations.js');
const { ModelHubError, errorFromResponse } = require('../lib/test-cjs/errors.js');
const { operation, flush } = require('./fixtures.js');

/** A fake server holding `operations` (newest last is fine: it answers newest first). */
function fakeClient(operations = []) {
  const client = {
    calls: [],
    operations,
    logs: {},
    listImpl: null,
    cancelImpl: null,
    async listOperations(query) {
      client.calls.push(['listOperations', query]);
      if (client.listImpl) {
        return client.listImpl(query);
      }
      let ops = [...client.operations].sort((a, b) => b.id - a.id);
      if (query.status) {
        ops = ops.filter(op => query.status.includes(op.status));
      }
      const total = ops.length;
      ops = ops.slice(0, query.per_page ?? 50);
      return { operations: ops, total, page: 1, per_page: query.per_page ?? 50 };
    },
    async operationLog(id, tail) {
      client.calls.push(['operationLog', id, tail]);
      return client.logs[id] ?? '';
    },
    async cancelOperation(id) {
      client.calls.push(['cancelOperation', id]);
      return client.cancelImpl(id);
    },
    set(op) {
      client.operations = client.operations.filter(o => o.id !== op.id).concat([op]);
    }
  };
  return client;
}

const count = (client, kind) => client.calls.filter(c => c[0] === kind).length;

test('refresh lists every active operation and the newest others, newest first', async () => {
  const client = fakeClient();
  // An old conversion still running, then more recent finished ones than are shown.
  client.set(operation({ id: 1, status: 'running' }));
  for (let id = 2; id <= 9; id++) {
    client.set(operation({ id, status: 'succeeded' }));
  }
  client.set(operation({ id: 10, status: 'queued', queue_position: 1 }));
  const activity = new ActivityModel(client);
  assert.equal(activity.loaded, false);
  await activity.refresh();
  assert.deepEqual(client.calls, [
    ['listOperations', { status: ['queued', 'running'], per_page: 50 }],
    ['listOperations', { per_page: RECENT_OPERATIONS }]
  ]);
  assert.equal(activity.loaded, true);
  assert.deepEqual(activity.operations.map(op => op.id), [10, 9, 8, 7, 6, 1]);
  assert.equal(activity.activeCount, 2);

  // The same answer again: no re-render.
  let changes = 0;
  activity.changed.connect(() => changes++);
  await activity.refresh();
  assert.equal(changes, 0);

  // Progress moves: one re-render.
  client.set(operation({ id: 1, status: 'running', progress: { done: 3, total: 5, unit: 'steps', message: 'timing' } }));
  await activity.refresh();
  assert.equal(changes, 1);
  assert.equal(activity.operations.at(-1).progress.message, 'timing');
  activity.dispose();
});

test('a failed reload keeps what was shown and says why', async () => {
  const client = fakeClient([operation({ id: 1, status: 'succeeded' })]);
  const activity = new ActivityModel(client);
  await activity.refresh();
  client.listImpl = () => {
    throw new ModelHubError('Cannot reach the Jupyter server. Is it still running?', 0);
  };
  await activity.refresh();
  assert.match(activity.error, /Cannot reach/);
  assert.deepEqual(activity.operations.map(op => op.id), [1]);
  client.listImpl = null;
  await activity.refresh();
  assert.equal(activity.error, null);
  activity.dispose();
});

test('a stale answer does not overwrite a newer one', async () => {
  const client = fakeClient();
  const pending = [];
  client.listImpl = query => {
    const id = pending.length + 1;
    return new Promise(resolve => pending.push(() => resolve({
      operations: [operation({ id, status: 'succeeded' })],
      total: 1, page: 1, per_page: query.per_page
    })));
  };
  const activity = new ActivityModel(client);
  const first = activity.refresh(); // answers 1 and 2
  const second = activity.refresh(); // answers 3 and 4
  pending[2]();
  pending[3]();
  await second;
  pending[0]();
  pending[1]();
  await first;
  assert.deepEqual(activity.operations.map(op => op.id), [4, 3]);
  activity.dispose();
});

test('the log tail loads when opened, follows a running operation, and is read once more when it ends', async () => {
  const client = fakeClient([operation({ id: 7, status: 'running' })]);
  client.logs[7] = 'building the environment\n';
  const activity = new ActivityModel(client);
  await activity.refresh();
  activity.toggleLog(7);
  assert.equal(activity.isLogOpen(7), true);
  assert.equal(activity.log(7).loading, true);
  await flush();
  assert.deepEqual(client.calls.at(-1), ['operationLog', 7, LOG_TAIL]);
  assert.equal(activity.log(7).text, 'building the environment\n');

  client.logs[7] += 'installed 12 packages\n';
  await activity.refresh();
  await flush();
  assert.equal(activity.log(7).text, 'building the environment\ninstalled 12 packages\n');

  client.set(operation({ id: 7, status: 'succeeded' }));
  client.logs[7] += 'done\n';
  await activity.refresh();
  await flush();
  assert.match(activity.log(7).text, /done\n$/);
  const reads = count(client, 'operationLog');
  await activity.refresh();
  await flush();
  assert.equal(count(client, 'operationLog'), reads); // complete: not read again

  activity.toggleLog(7);
  assert.equal(activity.isLogOpen(7), false);
  assert.equal(activity.log(7), undefined);
  activity.dispose();
});

test('a log that cannot be read shows why', async () => {
  const client = fakeClient([operation({ id: 3, status: 'failed' })]);
  client.operationLog = async () => {
    throw errorFromResponse(404, { message: 'Operation 3 has no log.', reason: 'not_found' });
  };
  const activity = new ActivityModel(client);
  await activity.refresh();
  activity.toggleLog(3);
  await flush();
  assert.equal(activity.log(3).error, 'Operation 3 has no log.');
  activity.dispose();
});

test("cancel: the server's answer replaces the operation; a refusal keeps its message", async () => {
  const client = fakeClient([operation({ id: 4, status: 'running' }), operation({ id: 5, status: 'running' })]);
  const activity = new ActivityModel(client);
  await activity.refresh();

  let finish;
  client.cancelImpl = id =>
    new Promise(resolve => {
      finish = () => {
        const cancelled = operation({ id, status: 'cancelled', error: { message: 'Cancelled by root.', reason: 'cancelled' } });
        client.set(cancelled);
        resolve(cancelled);
      };
    });
  const done = activity.cancel(4);
  assert.equal(activity.cancelState(4).busy, true);
  await activity.cancel(4); // a second click while busy does nothing
  assert.equal(count(client, 'cancelOperation'), 1);
  finish();
  await done;
  assert.equal(activity.cancelState(4), undefined);
  assert.equal(activity.operations.find(op => op.id === 4).status, 'cancelled');
  assert.equal(activity.activeCount, 1);

  // It had succeeded in the meantime: the server says so, and the row shows it.
  client.cancelImpl = async id => {
    client.set(operation({ id, status: 'succeeded' }));
    throw errorFromResponse(409, {
      message: `Operation ${id} already succeeded; there is nothing to cancel.`,
      reason: 'conflict'
    });
  };
  await activity.cancel(5);
  assert.deepEqual(activity.cancelState(5), {
    busy: false,
    error: 'Operation 5 already succeeded; there is nothing to cancel.'
  });
  assert.equal(activity.operations.find(op => op.id === 5).status, 'succeeded');
  activity.dispose();
});

test('the section opens and closes; dispose stops everything', async () => {
  const activity = new ActivityModel(fakeClient());
  assert.equal(activity.expanded, true);
  activity.toggle();
  assert.equal(activity.expanded, false);
  activity.dispose();
  assert.equal(activity.isDisposed, true);
  await activity.refresh(); // no-op
});

test('followOperation asks until the operation ends; a refusal is thrown; stopped ends it', async () => {
  const states = [operation({ id: 8, status: 'running' }), operation({ id: 8, status: 'succeeded' })];
  const seen = [];
  const client = { getOperation: async () => states.shift() };
  const ended = await followOperation(client, operation({ id: 8, status: 'queued' }), {
    interval: 1,
    onUpdate: op => seen.push(op.status)
  });
  assert.equal(ended.status, 'succeeded');
  assert.deepEqual(seen, ['running', 'succeeded']);

  // Already ended: no request at all.
  const finished = operation({ id: 9, status: 'failed' });
  assert.equal(await followOperation({ getOperation: () => assert.fail('asked') }, finished), finished);

  const missing = {
    getOperation: async () => {
      throw errorFromResponse(404, { message: 'No operation 10.', reason: 'not_found' });
    }
  };
  await assert.rejects(followOperation(missing, operation({ id: 10 }), { interval: 1 }), /No operation 10/);

  let stopped = false;
  const running = { getOperation: async () => { stopped = true; return operation({ id: 11 }); } };
  assert.equal(
    await followOperation(running, operation({ id: 11 }), { interval: 1, stopped: () => stopped }),
    null
  );
});

test('operation helpers: progress, queue, failure, link', () => {
  assert.deepEqual(
    progressView(operation({ progress: { done: 2, total: 5, unit: 'steps', message: 'checking equivalence' } })),
    { value: 2, max: 5, amount: '2 of 5 steps', message: 'checking equivalence' }
  );
  // Unknown total: indeterminate.
  assert.deepEqual(
    progressView(operation({ progress: { done: 3, total: null, unit: '', message: 'resolving' } })),
    { value: null, max: null, amount: '', message: 'resolving' }
  );
  // Out of range is clamped.
  assert.equal(progressView(operation({ progress: { done: 9, total: 5, unit: '', message: '' } })).value, 5);

  assert.equal(queueLabel(operation({ status: 'queued', queue_position: 2 })), '2nd in line');
  assert.equal(queueLabel(operation({ status: 'queued', queue_position: null })), 'waiting for a free worker');
  assert.equal(queueLabel(operation({ status: 'running' })), '');
  assert.deepEqual([1, 2, 3, 4, 11, 12, 13, 21, 22, 101].map(ordinal),
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '101st']);

  assert.equal(
    failureMessage(operation({ status: 'failed', error: { message: 'Not equivalent.', reason: 'invalid' } })),
    'Not equivalent.'
  );
  assert.equal(failureMessage(operation({ id: 3, status: 'cancelled' })), 'Operation 3 was cancelled.');
  assert.equal(failureMessage(operation({ id: 3, status: 'failed' })), 'Operation 3 ended failed.');

  assert.equal(linkLabel(operation({ link: { type: 'version', model: 'churn', version: 2, ref: 'churn:2' } })), 'churn:2');
  assert.equal(linkLabel(operation({ link: { type: 'endpoint', name: 'churn-ep' } })), 'churn-ep');
  assert.equal(linkLabel(operation({ link: null })), '');
});

test('ended: emitted once for an operation seen active that has ended, not for ones ended before', async () => {
  const client = fakeClient([operation({ id: 1, status: 'succeeded' }), operation({ id: 2, status: 'running' })]);
  const activity = new ActivityModel(client);
  const ended = [];
  activity.ended.connect((_, op) => ended.push([op.id, op.status]));
  await activity.refresh();
  assert.deepEqual(ended, []);
  client.set(operation({ id: 2, status: 'failed' }));
  await activity.refresh();
  await activity.refresh();
  assert.deepEqual(ended, [[2, 'failed']]);
  // The answer to a POST or a follow-up counts too.
  activity.remember(operation({ id: 3, status: 'running' }));
  activity.remember(operation({ id: 3, status: 'succeeded' }));
  assert.deepEqual(ended, [[2, 'failed'], [3, 'succeeded']]);
  activity.dispose();
});
