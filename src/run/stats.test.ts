import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, summarize } from './stats';

test('median of odd and even counts; summary', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
  assert.deepEqual(summarize([9.5, 9.1, 9.3]), { median: 9.3, min: 9.1, max: 9.5 });
});
