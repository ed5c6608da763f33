// Unit tests of what a deploy from the panel will do (src/components/deploy/plan.ts) and of the
// server's rules in plain words (src/rules.ts, on the OpenAPI document the server serves).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const plan = require('../lib/test-cjs/components/deploy/plan.js');
const { ServerRules } = require('../lib/test-cjs/rules.js');

function endpoint(traffic, refs) {
  return {
    name: 'churn-ep',
    traffic,
    deployments: Object.entries(refs).map(([name, ref]) => ({ name, ref, model: 'churn' }))
  };
}

const LIVE = endpoint({ blue: 100 }, { blue: 'churn:3' });

function form(extra = {}) {
  return {
    endpoint: 'churn-ep', deployment: 'green', model: 'churn:2', target: 'process', traffic: '0',
    optimize: false, allowContractChange: false, instances: '', environment: '', auth: 'key', cpu: '',
    memory: '', gpu: false, image: '', maxInstances: '', kserve: false, namespace: '', kubeContext: '',
    ...extra
  };
}

test('a new endpoint gets blue at 100%; an endpoint that serves gets an unused name at 0%', () => {
  assert.equal(plan.defaultDeploymentName(undefined), 'blue');
  assert.equal(plan.defaultTraffic(undefined, 'blue'), 100);
  assert.equal(plan.defaultDeploymentName(LIVE), 'green');
  assert.equal(plan.defaultTraffic(LIVE, 'green'), 0);
  assert.equal(plan.defaultTraffic(LIVE, 'blue'), 100); // replacing keeps its share
});

test('a canary at 0% sends no traffic: the live split is left as it is', () => {
  const request = plan.deployRequest(form(), LIVE);
  assert.deepEqual(request, { model: 'churn:2', deployment: 'green', target: 'process' });
});

test('a share for the new deployment is taken from the others in proportion', () => {
  const two = endpoint({ blue: 75, red: 25 }, { blue: 'churn:3', red: 'churn:1' });
  assert.deepEqual(plan.trafficAfter(two, 'green', 20), { green: 20, blue: 60, red: 20 });
  assert.deepEqual(plan.deployRequest(form({ traffic: '10' }), LIVE).traffic, { green: 10, blue: 90 });
  assert.equal(plan.trafficText({ green: 10, blue: 90 }), 'blue 90%, green 10%');
});

test('what is replaced is said with the version and share it has', () => {
  assert.equal(
    plan.replacement(LIVE, 'blue', 'churn:2'),
    'Replaces deployment blue (churn:3, 100% of traffic) with churn:2'
  );
  assert.equal(plan.replacement(LIVE, 'green', 'churn:2'), null);
});

test('target options go only with their target', () => {
  const docker = plan.deployRequest(form({ target: 'docker', cpu: '0.5', memory: '512M', environment: 'x' }), LIVE);
  assert.deepEqual(docker, { model: 'churn:2', deployment: 'green', target: 'docker', cpu: 0.5, memory: '512M' });
});

test('the server rules, from its OpenAPI document, in plain words', async () => {
  const python = process.env.MODELHUB_PYTHON || path.resolve(__dirname, '../../.venv/bin/python');
  let document;
  try {
    const script = 'import json; from jupyter_modelhub.api.openapi import openapi_document; print(json.dumps(openapi_document()))';
    document = JSON.parse(execFileSync(python, ['-c', script], { cwd: path.resolve(__dirname, '../..') }).toString());
  } catch (error) {
    if (process.env.CI) {
      throw error;
    }
    return; // no Python with the package here: the browser tests check the same
  }
  const rules = new ServerRules({ openapi: async () => document });
  assert.equal(await rules.load(), true);
  const labels = { traffic: 'Live traffic', deployment: 'Deployment name' };
  assert.deepEqual(rules.check('DeployRequest', { model: 'churn:2', traffic: { green: 150 } }, labels), {
    'traffic.green': 'Live traffic must be at most 100.'
  });
  assert.deepEqual(rules.check('DeployRequest', { model: 'churn:2', deployment: '1x' }, labels), {
    deployment: 'Deployment name must start with a letter and hold only letters, digits, - and _.'
  });
  assert.deepEqual(rules.check('ConvertRequest', { opset: 3 }), { opset: 'Opset must be at least 7.' });
  assert.deepEqual(rules.bounds('DeployRequest', 'instances'), { min: 1, max: 8 });
  assert.equal(
    rules.checkParameter('/endpoints/{name}/deployments', 'post', 'name', 'a b', 'Endpoint name'),
    'Endpoint name must start with a letter and hold only letters, digits, - and _.'
  );
});
