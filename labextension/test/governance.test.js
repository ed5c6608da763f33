// Unit tests of the governance views' state (GovernanceModel) and of the
// notifications of ended operations (Notifier), against a fake API client.
// Run with `jlpm test`.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { GovernanceModel, valueText, trafficText } = require('../lib/test-cjs/components/governance/model.js');
const { withoutProbes } = require('../lib/test-cjs/components/endpoints/model.js');
const { Notifier, notice, alertNotice } = require('../lib/test-cjs/notifications.js');
const { ModelHubError } = require('../lib/test-cjs/errors.js');
const { operation, flush } = require('./fixtures.js');

function entry(extra) {
  return { id: 1, at: '2026-12-01T10:00:00Z', user: 'alice', client: 'panel', model: 'churn', endpoint: null, version: null, old: null, new: null, subject: '', action: '', ...extra };
}

/** A fake server with one model, churn, whose production alias moved v1 -> v2. */
function fakeClient() {
  const client = {
    calls: [],
    grantImpl: null,
    grants: [],
    async permissions(name) {
      client.calls.push(['permissions', name]);
      return { model: name, creator: 'alice', grants: client.grants, admins: [], default_permission: 'read', managers: ['alice'], yours: 'manage' };
    },
    async grant(name, request) {
      client.calls.push(['grant', name, request]);
      if (client.grantImpl) {
        return client.grantImpl(name, request);
      }
      client.grants = [{ principal: request.principal, permission: request.permission, granted_by: 'alice', granted_time: '2026-12-01T10:00:00Z' }];
      return client.permissions(name);
    },
    async modelHistory(name, query) {
      client.calls.push(['modelHistory', name, query]);
      const entries = [
        entry({ id: 3, action: 'alias.moved', subject: 'churn@production', old: 1, new: 2, user: 'bob' }),
        entry({ id: 2, action: 'permission.changed', subject: 'churn group:risk', old: null, new: 'read' }),
        entry({ id: 1, action: 'alias.moved', subject: 'churn@staging', old: null, new: 1 })
      ];
      return { entries: query.action ? entries.filter(e => e.action === query.action) : entries, more: false, state: null };
    },
    async endpointHistory(name, query) {
      client.calls.push(['endpointHistory', name, query]);
      return {
        entries: [entry({ id: 9, action: 'traffic.changed', subject: name, old: { traffic: { blue: 100 }, mirror: {} }, new: { traffic: { blue: 90, green: 10 }, mirror: {} } })],
        more: false,
        state: query.at ? { endpoint: name, at: query.at, traffic: { blue: 100 }, deployments: [] } : null
      };
    },
    async listModels() {
      return { models: [{ name: 'churn', aliases: { production: 2, staging: 1 } }, { name: 'churn2', aliases: {} }], total: 2 };
    },
    async rollbackAlias(name, alias) {
      client.calls.push(['rollbackAlias', name, alias]);
      return { ref: `${name}:1` };
    },
    async rollbackTraffic(name) {
      return { traffic: { blue: 100 } };
    },
    async promotion(name, version) {
      return { ref: `${name}:${version}`, aliases: [], evidence: [] };
    },
    async approve() {
      throw new ModelHubError('alice registered churn:2 and so cannot approve it; someone else must.', 403, 'forbidden');
    }
  };
  return client;
}

test('a model view loads its permissions, aliases and what a rollback returns to', async () => {
  const governance = new GovernanceModel(fakeClient());
  governance.watch('model:churn');
  await flush();
  assert.equal(governance.permissions('churn').data.yours, 'manage');
  assert.deepEqual(governance.aliases('churn'), { production: 2, staging: 1 });
  const back = governance.aliasRollbackTarget('churn', 'production');
  assert.equal(back.from, 2);
  assert.equal(back.to, 1);
  assert.equal(back.entry.user, 'bob');
  // created by its only move: nothing to return to
  assert.equal(governance.aliasRollbackTarget('churn', 'staging').to, null);
  assert.equal(governance.history('model:churn').data.entries.length, 3);
});

test('a filter reloads the history with it; the rollback target ignores the filter', async () => {
  const client = fakeClient();
  const governance = new GovernanceModel(client);
  governance.watch('model:churn');
  await flush();
  governance.setFilter('model:churn', { action: 'permission.changed', user: 'alice' });
  await flush();
  const asked = client.calls.filter(c => c[0] === 'modelHistory' && c[2].action !== 'alias.moved').pop()[2];
  assert.equal(asked.user, 'alice');
  assert.deepEqual(governance.history('model:churn').data.entries.map(e => e.id), [2]);
  assert.equal(governance.aliasRollbackTarget('churn', 'production').to, 1);
});

test('a refused grant keeps the server words to show, prefixed as a refusal', async () => {
  const client = fakeClient();
  client.grantImpl = () => {
    throw new ModelHubError("bob has read on 'churn'; granting needs manage: ask alice.", 403, 'forbidden');
  };
  const governance = new GovernanceModel(client);
  const done = await governance.grant('churn', { principal: 'group:risk', permission: 'read' });
  assert.equal(done, false);
  assert.equal(governance.change('grant:churn').error, "Not allowed: bob has read on 'churn'; granting needs manage: ask alice.");
  governance.dismiss('grant:churn');
  assert.equal(governance.change('grant:churn'), undefined);
});

test('a grant that succeeds says so and tells the panel the registry changed', async () => {
  const governance = new GovernanceModel(fakeClient());
  let changed = 0;
  governance.onChanged = () => changed++;
  assert.equal(await governance.grant('churn', { principal: 'group:risk', permission: 'read' }), true);
  assert.equal(governance.change('grant:churn').message, 'group:risk now has read on churn.');
  assert.equal(governance.permissions('churn').data.grants[0].principal, 'group:risk');
  assert.equal(changed, 1);
});

test('an endpoint history asked "at" a time sends it in UTC and keeps what served then', async () => {
  const client = fakeClient();
  const governance = new GovernanceModel(client);
  governance.watch('endpoint:ep');
  await flush();
  assert.deepEqual(governance.trafficRollbackTarget('ep').traffic, { blue: 100 });
  governance.setFilter('endpoint:ep', { at: '2026-12-01T14:00' });
  await flush();
  const asked = client.calls.filter(c => c[0] === 'endpointHistory' && !c[2].action?.startsWith('traffic')).pop()[2];
  assert.equal(asked.at, new Date('2026-12-01T14:00').toISOString());
  assert.deepEqual(governance.history('endpoint:ep').data.state.traffic, { blue: 100 });
});

test('old and new values read as words', () => {
  assert.equal(valueText(2), 'v2');
  assert.equal(valueText(null), '—');
  assert.equal(valueText({ traffic: { blue: 90, green: 10 }, mirror: { deployment: 'green', percent: 5 } }), 'blue 90%, green 10%; mirror 5% to green');
  assert.equal(trafficText({}), 'no live traffic');
});

test('hide probes keeps the clients\' requests and drops health, readiness and metrics', () => {
  const log = [
    '2026-12-01T10:00:00.000Z [w0] 127.0.0.1 "GET /v2/health/ready" 200 0.10ms',
    '2026-12-01T10:00:00.100Z [w0] 127.0.0.1 "POST /score" 200 1.20ms',
    '2026-12-01T10:00:00.200Z [w0] 127.0.0.1 "GET /metrics" 200 0.30ms',
    '2026-12-01T10:00:00.300Z [w0] 127.0.0.1 "GET /" 200 0.05ms',
    'model loaded'
  ].join('\n');
  assert.equal(withoutProbes(log), ['2026-12-01T10:00:00.100Z [w0] 127.0.0.1 "POST /score" 200 1.20ms', 'model loaded'].join('\n'));
});

test('an operation started from the panel notifies once when it ends, with links', () => {
  const told = [];
  const notifier = new Notifier(n => told.push(n));
  notifier.track(operation({ id: 7, status: 'running' }));
  assert.equal(told.length, 0);
  const ended = operation({ id: 7, status: 'succeeded', link: { type: 'version', model: 'churn', version: 2, ref: 'churn:2' } });
  notifier.track(ended);
  notifier.seen(ended);
  assert.equal(told.length, 1);
  assert.equal(told[0].message, 'Conversion of churn:1 finished: churn:2.');
  assert.deepEqual(told[0].actions.map(a => a.label), ['Open churn:2', 'Show operation 7']);
});

test('a failure notifies with the server words; others\' work does not notify', () => {
  const told = [];
  const notifier = new Notifier(n => told.push(n));
  notifier.user = 'alice';
  notifier.running(operation({ id: 8, created_by: 'bob' }));
  notifier.seen(operation({ id: 8, status: 'failed', created_by: 'bob' }));
  assert.equal(told.length, 0);
  notifier.running(operation({ id: 9, kind: 'batch', subject: 'churn@production', created_by: 'alice' }));
  notifier.seen(
    operation({ id: 9, kind: 'batch', subject: 'churn@production', status: 'failed', created_by: 'alice', error: { message: 'input.csv: no column f3', type: 'InvalidInput' } })
  );
  assert.equal(told.length, 1);
  assert.equal(told[0].failed, true);
  assert.equal(told[0].message, 'Batch job of churn@production failed: input.csv: no column f3');
  assert.equal(notice(operation({ id: 3, status: 'cancelled' })).message, 'Conversion of churn:1 was cancelled.');
});

test("a saved monitor's alert notifies with links to the endpoint and to the run", () => {
  const told = alertNotice('churn-ep', 12);
  assert.equal(told.message, 'Monitor of churn-ep crossed an alert rule.');
  assert.deepEqual(
    told.actions.map(a => [a.label, a.link]),
    [
      ['Open churn-ep', { type: 'endpoint', name: 'churn-ep' }],
      ['Show operation 12', { type: 'operation', id: 12 }]
    ]
  );
});
