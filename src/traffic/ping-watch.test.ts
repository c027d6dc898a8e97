import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accountFor, answeredSeqs, lostRanges, lostWithin } from './ping-watch';

test('a ping accounted for: lost below the last answer, unanswered after it, as ranges of seconds', () => {
  const out = [1, 2, 4, 5, 9].map((s) => `64 bytes from 10.244.1.2: icmp_seq=${s} ttl=63 time=0.1 ms`).join('\n');
  const seen = answeredSeqs(out);
  assert.deepEqual([...seen], [1, 2, 4, 5, 9]);
  assert.deepEqual(accountFor(seen, 9), { answered: 5, lost: [3, 6, 7, 8], unanswered: 0 });
  assert.deepEqual(accountFor(seen, 12), { answered: 5, lost: [3, 6, 7, 8], unanswered: 3 }, 'the path died after 9');
  assert.deepEqual(lostRanges([3, 6, 7, 8]), ['0.2 s', '0.5–0.7 s']);
  assert.deepEqual(accountFor(new Set(), 0), { answered: 0, lost: [], unanswered: 0 });
});

test('lost pings within windows of seconds: sent between their bounds, both included', () => {
  assert.deepEqual(
    lostWithin(
      [3, 6, 7, 8, 430],
      [
        [0.5, 0.6],
        [42.9, 43],
      ],
    ),
    [6, 7, 430],
  );
  assert.deepEqual(lostWithin([3], []), []);
});
