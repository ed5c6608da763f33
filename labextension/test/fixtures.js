// Shared test data for the panel's unit tests (not a test file: node --test
// runs only files named *.test.js).
'use strict';

/** An operation as `GET operations/{id}` answers, with `extra` fields overriding. */
function operation(extra = {}) {
  const status = extra.status ?? 'running';
  return {
    id: 1,
    kind: 'convert',
    subject: 'churn:1',
    status,
    progress: { done: 0, total: null, unit: 'steps', message: '' },
    queue_position: null,
    created_time: '2026-12-01T10:00:00Z',
    started_time: status === 'queued' ? null : '2026-12-01T10:00:01Z',
    ended_time: ['succeeded', 'failed', 'cancelled'].includes(status) ? '2026-12-01T10:00:05Z' : null,
    created_by: 'root',
    result: null,
    link: null,
    error: null,
    active: status === 'queued' || status === 'running',
    ...extra
  };
}

/** Let pending promise callbacks run (setImmediate is not faked by mock.timers here). */
async function flush(rounds = 10) {
  for (let i = 0; i < rounds; i++) {
    await new Promise(resolve => setImmediate(resolve));
  }
}

module.exports = { operation, flush };
