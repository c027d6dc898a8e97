import { test } from 'node:test';
import assert from 'node:assert/strict';
import { samplePairs } from './reach';
import type { PodState } from './state';

const pods: PodState[] = Array.from({ length: 40 }, (_, i) => ({
  name: `node${(i % 4) + 1}-p${Math.floor(i / 4) + 1}`,
  node: `node${(i % 4) + 1}`,
  netns: `ns${i}`,
  ip: `10.0.${i % 4}.${i + 2}`,
  mtu: 1450,
  containerId: `c${i}`,
}));

test('sampled pairs cross nodes, cover many pods, and repeat for the same seed', () => {
  const pairs = samplePairs(pods, 100, 7);
  assert.equal(pairs.length, 100);
  assert.ok(pairs.every((p) => p.from.node !== p.to.node));
  assert.ok(new Set(pairs.flatMap((p) => [p.from.name, p.to.name])).size > 30);
  assert.deepEqual(samplePairs(pods, 100, 7), pairs);
  assert.deepEqual(samplePairs(pods.slice(0, 1), 10), [], 'one node: no pair crosses nodes');
});
