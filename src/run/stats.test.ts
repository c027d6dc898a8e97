import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describe, median, medianCiRank, percentile, t975, unstable, verdict } from './stats';

test('median of odd and even counts', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test('percentiles interpolate between sorted samples, the one definition (not nearest rank)', () => {
  assert.equal(percentile([3, 1, 2], 50), 2);
  assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
  assert.equal(percentile([10, 20], 99), 19.9);
  assert.equal(percentile([7], 99), 7);
  // 40 latencies: nearest rank gave the largest sample as p99 (21.7); interpolated, 99% of the way to it.
  const xs = [...Array.from({ length: 38 }, (_, i) => 12 + i * 0.1), 18.3, 21.7];
  assert.equal(Math.round(percentile(xs, 99) * 1000) / 1000, 20.374);
  assert.throws(() => percentile([], 50));
});

test('order-statistic ranks match the binomial tables (95%, two-sided)', () => {
  // n ≤ 5: no pair of order statistics covers 95% (n = 5: 1 − 2/32 = 93.75%).
  for (const n of [1, 2, 3, 4, 5]) assert.equal(medianCiRank(n), 0, `n=${n}`);
  assert.equal(medianCiRank(6), 1); // 96.9%
  assert.equal(medianCiRank(8), 1); // k = 2 would be 93.0%
  assert.equal(medianCiRank(9), 2); // 96.1%
  assert.equal(medianCiRank(20), 6); // 95.9%; k = 7 would be 88.5%
});

test('t quantiles: table and the large-df expansion', () => {
  assert.equal(t975(4), 2.776);
  assert.ok(Math.abs(t975(60) - 2.0003) < 0.001);
  assert.ok(Math.abs(t975(1000) - 1.9623) < 0.001);
});

test('describe: t interval below 6 samples, order statistics from 6', () => {
  const a = describe([10, 11, 12]);
  assert.equal(a.median, 11);
  assert.equal(a.sd, 1);
  assert.equal(a.ci95.method, 't');
  // 11 ± 4.303 · 1/√3
  assert.equal(a.ci95.low, 8.516);
  assert.equal(a.ci95.high, 13.484);
  assert.equal(a.covPct, 9.09);

  const b = describe([5, 1, 4, 2, 6, 3, 9, 8, 7]);
  assert.equal(b.ci95.method, 'order-statistics');
  assert.deepEqual([b.ci95.low, b.ci95.high], [2, 8]);
  assert.deepEqual(b.samples, [5, 1, 4, 2, 6, 3, 9, 8, 7], 'samples keep their order');

  const one = describe([7]);
  assert.deepEqual(one.ci95, { low: 7, high: 7, method: 'none' });
  assert.equal(one.covPct, 0);
  assert.throws(() => describe([]), /no samples/);
});

test('unstable above the CoV threshold; verdicts need disjoint intervals', () => {
  assert.equal(unstable(describe([10, 10.1, 9.9]), 5), false);
  assert.equal(unstable(describe([10, 12, 8]), 5), true);
  const a = describe([10, 10.1, 9.9]);
  assert.equal(verdict(a, describe([12, 12.1, 11.9])), 'higher');
  assert.equal(verdict(a, describe([8, 8.1, 7.9])), 'lower');
  assert.equal(verdict(a, describe([10.05, 10.2, 9.7])), 'within noise');
});

test('a t interval of non-negative samples does not go below zero', () => {
  const s = describe([0.1, 2, 0.2]);
  assert.equal(s.ci95.method, 't');
  assert.equal(s.ci95.low, 0);
  assert.ok(s.ci95.high > 2);
});
