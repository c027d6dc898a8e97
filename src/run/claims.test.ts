import { test } from 'node:test';
import assert from 'node:assert/strict';
import { paperChecks, rankings, type ClaimRow } from './claims';

const row = (arch: string, values: number[], test = 'tcp', better: 'higher' | 'lower' = 'higher'): ClaimRow => ({
  arch,
  path: 'inter-node',
  test,
  params: {},
  better,
  values: values.map((value, i) => ({ value, round: i + 1, at: i })),
});

test('a ranking step is resolved only when the same-round ratio excludes 1', () => {
  // a is 10% above b in every round although both drift by 2× between rounds: resolved.
  // b and c swap places round to round: indistinguishable.
  const [r] = rankings([
    row('host', [20, 10, 40]),
    row('a', [11, 5.5, 22]),
    row('b', [10, 5, 20]),
    row('c', [9.5, 5.4, 19]),
  ]);
  assert.deepEqual(r!.order, ['a', 'b', 'c']);
  assert.deepEqual(
    r!.steps.map((s) => `${s.a}/${s.b} ${s.verdict}`),
    ['a/b better', 'b/c indistinguishable'],
  );
  assert.ok(Math.abs(r!.steps[0]!.ratio.geomean - 1.1) < 1e-3);
});

test('lower is better for latency: the lower row ranks first and is "better"', () => {
  const [r] = rankings([row('x', [30, 31, 29], 'latency', 'lower'), row('y', [40, 41, 39], 'latency', 'lower')]);
  assert.deepEqual(r!.order, ['x', 'y']);
  assert.equal(r!.steps[0]!.verdict, 'better');
});

test("the paper's orderings: holds, reversed, not resolved, not measured", () => {
  const checks = paperChecks([
    row('kuryr-ovs-vxlan', [5, 5.1, 4.9]),
    row('flannel-udp', [1, 1.1, 0.9]),
    row('kuryr-ovs-vlan', [4, 4.1, 3.9]),
    row('macvlan', [10, 8, 12]),
    row('flannel-vxlan', [9, 12, 8]),
  ]);
  assert.deepEqual(
    checks.map((c) => `${c.figure} ${c.higher}/${c.lower}: ${c.verdict}`),
    [
      'Fig. 4 kuryr-ovs-vxlan/flannel-udp: holds',
      'Fig. 5 kuryr-ovs-vlan/kuryr-ovs-vxlan: reversed',
      'Fig. 5 macvlan/flannel-vxlan: not resolved',
    ],
  );
  assert.equal(paperChecks([row('macvlan', [1, 1, 1])])[2]!.verdict, 'not measured');
});
