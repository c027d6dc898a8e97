import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labOrder, prng, roundOrder, shuffle } from './schedule';

const rows = ['a', 'b', 'c', 'd'].flatMap((lab) => [
  { lab, tool: 'iperf3', key: `${lab} tcp` },
  { lab, tool: 'sockperf', key: `${lab} latency` },
]);
const keys = (xs: readonly { key: string }[]): string[] => xs.map((x) => x.key);
const tool = (r: { tool: string }): string => r.tool;

test('a round takes every row once, a tool’s rows together', () => {
  for (let round = 1; round <= 20; round++) {
    const o = roundOrder(rows, 7, round, tool);
    assert.deepEqual([...keys(o)].sort(), [...keys(rows)].sort());
    const tools = o.map((r) => r.tool);
    const switches = tools.filter((t, i) => i > 0 && t !== tools[i - 1]).length;
    assert.equal(switches, 1, `round ${round}: ${tools.join(' ')}`);
  }
});

test('the order varies with the round and the seed, and the same seed gives the same order', () => {
  const seen = new Set<string>();
  for (let round = 1; round <= 10; round++) seen.add(keys(roundOrder(rows, 7, round, tool)).join());
  assert.ok(seen.size >= 8, `only ${seen.size} distinct orders in 10 rounds`);
  assert.notDeepEqual(keys(roundOrder(rows, 7, 1, tool)), keys(roundOrder(rows, 8, 1, tool)));
  assert.deepEqual(keys(roundOrder(rows, 7, 3, tool)), keys(roundOrder(rows, 7, 3, tool)));
  // Both tool blocks come first in some rounds.
  const firsts = new Set(Array.from({ length: 20 }, (_, i) => roundOrder(rows, 7, i + 1, tool)[0]!.tool));
  assert.deepEqual([...firsts].sort(), ['iperf3', 'sockperf']);
});

test('every row is equally likely first (no position bias)', () => {
  const first = new Map<string, number>();
  for (let round = 1; round <= 4000; round++) {
    const o = roundOrder(
      rows.filter((r) => r.tool === 'iperf3'),
      11,
      round,
      tool,
    );
    first.set(o[0]!.key, (first.get(o[0]!.key) ?? 0) + 1);
  }
  for (const [k, n] of first) assert.ok(n > 850 && n < 1150, `${k} first ${n} of 4000`);
});

test('shuffle leaves its input alone; prng is reproducible; labs in first-named order', () => {
  const xs = [1, 2, 3];
  shuffle(xs, prng(1));
  assert.deepEqual(xs, [1, 2, 3]);
  const [a, b] = [prng(42), prng(42)];
  assert.deepEqual([a(), a(), a()], [b(), b(), b()]);
  assert.deepEqual(labOrder(rows), ['a', 'b', 'c', 'd']);
});
