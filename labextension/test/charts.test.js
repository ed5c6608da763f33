// Unit tests of the geometry of the endpoint page's charts over time (src/metrics.ts): a step the
// server did not watch breaks the line rather than joining across it, a lone point is a dot, and
// the y axis ends on a round number.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { linePath, niceMax, axisNumber } = require('../lib/test-cjs/metrics.js');

test('a line breaks over a gap and where a value is missing; lone points come back as dots', () => {
  const drawn = linePath(
    [
      { x: 0, y: 10 },
      { x: 10, y: 20 },
      { x: 40, y: 5 }, // 30 after the last: past the gap of 15, a new line (here a lone point)
      { x: 50, y: null }, // no requests in the step: no latency, the line stops
      { x: 60, y: 1 },
      { x: 70, y: 2 }
    ],
    15
  );
  assert.equal(drawn.d, 'M0.0,10.0L10.0,20.0M60.0,1.0L70.0,2.0');
  assert.deepEqual(drawn.dots, [[40, 5]]);
  assert.deepEqual(linePath([], 15), { d: '', dots: [] });
});

test('the y axis ends on 1, 2 or 5 times a power of ten at or above the largest value', () => {
  assert.equal(niceMax(0), 1);
  assert.equal(niceMax(0.83), 1);
  assert.equal(niceMax(1), 1);
  assert.equal(niceMax(1.2), 2);
  assert.equal(niceMax(8.6), 10);
  assert.equal(niceMax(340), 500);
  assert.equal(axisNumber(0.5), '0.5');
  assert.equal(axisNumber(2500), '2.5k');
});
