import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lostRanges } from './ping-loss';

test('lost pings as ranges of seconds since the first request, one at 10/s', () => {
  assert.deepEqual(lostRanges(new Set([1, 2, 3])), []);
  assert.deepEqual(lostRanges(new Set([1, 3, 4, 8])), ['0.1 s', '0.4–0.6 s']);
  assert.deepEqual(lostRanges(new Set([2])), ['0.0 s']);
  assert.deepEqual(lostRanges(new Set()), []);
});
