// Unit tests of the Images section's push: the operation is started with the
// reference, followed until it ends, and its outcome (the pushed reference, or
// the server's one-line error) is kept per image; a success reloads the list.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { ImagesModel } = require('../lib/test-cjs/components/images/model.js');
const { operation } = require('./fixtures.js');

const PUSH = {
  reference: '127.0.0.1:5000/team/churn:2',
  digest: 'sha256:' + 'ab'.repeat(32),
  pinned: '127.0.0.1:5000/team/churn@sha256:' + 'ab'.repeat(32),
  pushed_time: '2026-12-07T13:00:00Z',
  pushed_by: 'root'
};

function image(extra = {}) {
  return { id: 3, tag: 'modelhub/churn:2', pushes: [], ...extra };
}

function client(ended) {
  const calls = [];
  return {
    calls,
    listImages: async () => {
      calls.push(['listImages']);
      return { images: [image({ pushes: ended.status === 'succeeded' ? [PUSH] : [] })] };
    },
    pushImage: async (id, reference) => {
      calls.push(['pushImage', id, reference]);
      return operation({ id: 9, kind: 'image_push', status: 'succeeded', active: false, ...ended });
    },
    getOperation: async () => operation({ id: 9, kind: 'image_push', ...ended })
  };
}

test('a push sends the trimmed reference, keeps the outcome and reloads the images', async () => {
  const fake = client({ status: 'succeeded', result: image({ pushes: [PUSH] }) });
  const images = new ImagesModel(fake);
  await images.push(image(), '  127.0.0.1:5000/team/churn  ');
  assert.deepEqual(fake.calls[0], ['pushImage', 3, '127.0.0.1:5000/team/churn']);
  const state = images.pushState(3);
  assert.equal(state.busy, false);
  assert.equal(state.error, false);
  assert.match(state.message, /^Pushed 127\.0\.0\.1:5000\/team\/churn:2 \(sha256:abab/);
  assert.ok(fake.calls.some(call => call[0] === 'listImages'), 'reloaded');
  assert.equal(images.images[0].pushes[0].pinned, PUSH.pinned);
  images.dismissPush(3);
  assert.equal(images.pushState(3), undefined);
});

test("a failed push keeps the server's message and reloads nothing", async () => {
  const message = 'The registry 127.0.0.1:1 cannot be reached from the Docker engine: connection refused.';
  const fake = client({ status: 'failed', error: { message, reason: 'unavailable' } });
  const images = new ImagesModel(fake);
  await images.push(image(), '127.0.0.1:1/team/churn');
  const state = images.pushState(3);
  assert.equal(state.error, true);
  assert.equal(state.message, message);
  assert.ok(!fake.calls.some(call => call[0] === 'listImages'));
});
