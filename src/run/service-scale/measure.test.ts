import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CrrResult } from '../../traffic/crr/client';
import { blockSizes, mergeCrr } from './measure';

test('blocks: the connections and changes shared out, nearly equal, none empty', () => {
  assert.deepEqual(blockSizes(1000, 5), [200, 200, 200, 200, 200]);
  assert.deepEqual(blockSizes(12, 5), [2, 2, 3, 2, 3]);
  assert.deepEqual(blockSizes(3, 5), [1, 1, 1]);
  assert.equal(
    blockSizes(30, 5).reduce((a, b) => a + b, 0),
    30,
  );
});

test('several crr runs as one: answers, failures, tallies and times added, the rate from their sums', () => {
  const r = (ok: number, sec: number, ms: number[], failed: Record<string, number> = {}): CrrResult => ({
    ok,
    refused: 1,
    timedOut: 0,
    failed,
    servers: { a: ok },
    sources: { '10.244.1.2': ok },
    connectMs: ms,
    elapsedSec: sec,
    perSec: ok / sec,
  });
  const m = mergeCrr([r(10, 1, [0.1, 0.2], { ECONNRESET: 1 }), r(30, 2, [0.3], { ECONNRESET: 2, EHOSTUNREACH: 1 })]);
  assert.equal(m.ok, 40);
  assert.equal(m.refused, 2);
  assert.deepEqual(m.failed, { ECONNRESET: 3, EHOSTUNREACH: 1 });
  assert.deepEqual(m.servers, { a: 40 });
  assert.deepEqual(m.connectMs, [0.1, 0.2, 0.3]);
  assert.equal(m.perSec, 40 / 3);
  assert.equal(mergeCrr([]).perSec, 0);
});
