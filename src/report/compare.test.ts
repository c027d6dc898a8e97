import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describe } from '../run/stats';
import { compareRuns, equivalenceP, logTest, type ComparableRow } from './compare';

/** A tcp row whose ratios to host are `ratios` (its samples ten times them). */
const row = (arch: string, ratios: number[]): ComparableRow => ({
  arch,
  path: 'inter-node',
  test: 'tcp',
  params: { streams: 1 },
  primary: 'gbps',
  metrics: { gbps: describe(ratios.map((r) => r * 10)) },
  ratio: { ratios },
});

/** Six ratios 1 − k, 1, 1 + k twice: their mean log is about 0, their spread grows with k. */
const spread = (k: number, at = 1): number[] => [1 - k, 1, 1 + k, 1 - k, 1, 1 + k].map((x) => x * at);

test('compare: equivalent when the 95% interval of B/A lies within ±m%; m from the option, else B, else 3', () => {
  const inside = compareRuns({ rows: [row('macvlan', spread(0.024))] }, { rows: [row('macvlan', spread(0.024))] });
  const c = inside.changes[0]!;
  assert.deepEqual([c.judgement, c.comparedChangePct, c.comparedCi95], ['equivalent', 0, { low: 0.9728, high: 1.028 }]);
  assert.ok(c.equivalenceP! < 0.025 && c.pValue === 1);
  assert.equal(inside.equivalencePct, 3);
  // The interval [0.9705, 1.0304] reaches past 1.03: not resolved.
  const wider = () => ({ rows: [row('macvlan', spread(0.026))] });
  const out = compareRuns(wider(), wider()).changes[0]!;
  assert.deepEqual([out.judgement, out.comparedCi95], ['not resolved', { low: 0.9705, high: 1.0304 }]);
  assert.ok(out.equivalenceP! > 0.025);
  // B's margin, and the option over it.
  assert.equal(compareRuns(wider(), { ...wider(), equivalencePct: 5 }).changes[0]!.judgement, 'equivalent');
  const opt = compareRuns(wider(), { ...wider(), equivalencePct: 5 }, { equivalencePct: 2 });
  assert.deepEqual([opt.equivalencePct, opt.changes[0]!.judgement], [2, 'not resolved']);
});

test("compare: Holm's procedure widens the equivalence intervals over many rows", () => {
  const names = ['a', 'b', 'c', 'd', 'e'];
  const run = (tight: string | undefined) => ({
    rows: names.map((n) => row(n, spread(n === tight ? 0.005 : 0.024))),
  });
  // Alone each row is equivalent (p < 2.5%), but five such rows need p < 2.5%/5 of the first.
  assert.deepEqual(
    compareRuns(run(undefined), run(undefined)).changes.map((c) => c.judgement),
    ['not resolved', 'not resolved', 'not resolved', 'not resolved', 'not resolved'],
  );
  // One far tighter row passes at 2.5%/5; the next then needs p < 2.5%/4, which the others miss.
  assert.deepEqual(
    compareRuns(run('c'), run('c')).changes.map((c) => c.judgement),
    ['not resolved', 'not resolved', 'equivalent', 'not resolved', 'not resolved'],
  );
});

test('compare: a change the test sees is better or worse even inside the band; fewer than two values: not resolved', () => {
  const a = { rows: [row('macvlan', spread(0.001)), row('flannel-udp', [0.3])] };
  const b = { rows: [row('macvlan', spread(0.001, 1.01)), row('flannel-udp', [0.3])] };
  const [up, one] = compareRuns(a, b).changes;
  assert.deepEqual([up!.judgement, up!.comparedChangePct], ['better', 1]);
  assert.ok(up!.comparedCi95!.low > 1 && up!.comparedCi95!.high < 1.03, 'within ±3%, and above 1');
  assert.deepEqual(
    [one!.judgement, one!.pValue, one!.equivalenceP, one!.comparedCi95],
    ['not resolved', null, null, null],
  );
  assert.equal(compareRuns(b, a).changes[0]!.judgement, 'worse');
});

test('equivalence p-value: the larger one-sided p, at most 2.5% exactly when the 95% interval is inside the band', () => {
  for (const k of [0.01, 0.02, 0.024, 0.026, 0.04]) {
    const t = logTest(spread(k), spread(k, 1.004), 0, 0);
    const half = Math.log(1.03);
    const h = (t.se ?? 0) * 2.2281; // t(0.975) at the Welch df of two equal samples of 6: 10
    assert.ok(Math.abs(t.df! - 10) < 1e-9);
    assert.equal(equivalenceP(t, 3)! <= 0.025, t.diff - h >= -half && t.diff + h <= half, `k = ${k}`);
  }
  assert.equal(equivalenceP({ diff: 0.01, p: 0, se: 0, df: 1 }, 3), 0, 'a point inside the band');
  assert.equal(equivalenceP({ diff: 0.05, p: 0, se: 0, df: 1 }, 3), 1, 'a point outside');
  assert.equal(equivalenceP({ diff: 0, p: null }, 3), null);
});

test('compare: an IPv6 row is compared only with an IPv6 row; two IPv4 runs match as before', () => {
  const v6 = (arch: string, ratios: number[]): ComparableRow => ({ ...row(arch, ratios), ipFamily: 6 });
  const v4 = (arch: string, ratios: number[]): ComparableRow => ({ ...row(arch, ratios), ipFamily: 4 });
  const a = { rows: [v4('macvlan', spread(0.01)), v6('macvlan', spread(0.01, 0.5))] };
  const b = { rows: [row('macvlan', spread(0.01)), v6('macvlan', spread(0.01, 0.5))] };
  const c = compareRuns(a, b).changes;
  assert.deepEqual(
    c.map((x) => [x.key.endsWith('IPv4') || x.key.endsWith('IPv6') ? x.key.slice(-4) : x.key, x.changePct]),
    [
      ['IPv4', 0],
      ['IPv6', 0],
    ],
    'a row without ipFamily (results before IPv6) counts as IPv4',
  );
  assert.equal(
    compareRuns(
      { rows: [row('macvlan', spread(0.01))] },
      { rows: [row('macvlan', spread(0.01))] },
    ).changes[0]!.key.includes('IPv'),
    false,
  );
});
