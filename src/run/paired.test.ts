import { test } from 'node:test';
import assert from 'node:assert/strict';
import { converged, holm, noiseFloor, pairRatios, ratioStat, sideOfOne, tTwoSidedP } from './paired';

const tv = (value: number, round: number, at = round * 10) => ({ value, round, at });

test('pairRatios: by round, each sample over the same round’s baseline; by time, the nearest', () => {
  const base = [tv(10, 1, 5), tv(20, 2, 15), tv(40, 3, 25)];
  const row = [tv(5, 1, 14), tv(10, 2, 16), tv(20, 3, 26)];
  assert.deepEqual(pairRatios(row, base, 'round'), [0.5, 0.5, 0.5]);
  // At 14 s the nearest baseline sample is round 2's (15 s), not round 1's (5 s).
  assert.deepEqual(pairRatios(row, base, 'nearest'), [0.25, 0.5, 0.5]);
  assert.deepEqual(pairRatios([tv(5, 4)], base, 'round'), [], 'no partner, no ratio');
});

test('ratioStat: a worked example — t on the logs around the geometric mean', () => {
  // logs: ln 0.8, ln 1, ln 1.25 = −0.2231, 0, 0.2231: mean 0, sd 0.2231; t(0.975, 2) = 4.303.
  const s = ratioStat([0.8, 1, 1.25]);
  assert.equal(s.n, 3);
  assert.equal(s.median, 1);
  assert.equal(s.geomean, 1);
  const h = (4.303 * 0.22314) / Math.sqrt(3);
  assert.ok(Math.abs(s.ci95.low - Math.exp(-h)) < 1e-3, `${s.ci95.low}`);
  assert.ok(Math.abs(s.ci95.high - Math.exp(h)) < 1e-3, `${s.ci95.high}`);
  assert.ok(Math.abs(s.halfWidthPct - ((Math.exp(h) - Math.exp(-h)) / 2) * 100) < 0.01);
  assert.equal(converged(s, 5), false);
  assert.equal(sideOfOne(s), 0);
});

test('ratioStat: identical ratios converge at once; one ratio has no interval', () => {
  const s = ratioStat([0.9, 0.9, 0.9]);
  assert.deepEqual(s.ci95, { low: 0.9, high: 0.9 });
  assert.equal(converged(s, 5), true);
  assert.equal(sideOfOne(s), -1);
  const one = ratioStat([1.2]);
  assert.equal(one.halfWidthPct, Infinity);
  assert.equal(converged(one, 50), false);
  assert.equal(sideOfOne(one), 0, 'one round claims nothing');
});

test('tTwoSidedP matches tables', () => {
  assert.ok(Math.abs(tTwoSidedP(2.776, 4) - 0.05) < 1e-3);
  assert.ok(Math.abs(tTwoSidedP(12.706, 1) - 0.05) < 1e-3);
  assert.ok(Math.abs(tTwoSidedP(1.96, 10000) - 0.05) < 1e-3);
  assert.ok(Math.abs(tTwoSidedP(0, 5) - 1) < 1e-9);
  assert.ok(tTwoSidedP(50, 3) < 1e-4);
});

test('Holm: step-down, each p against alpha over the hypotheses left', () => {
  // Sorted: 0.01 ≤ 0.05/4, 0.015 ≤ 0.05/3, 0.03 > 0.05/2 → stop: the last two stand.
  assert.deepEqual(holm([0.03, 0.01, 0.2, 0.015]), [false, true, false, true]);
  assert.deepEqual(holm([0.04]), [true]);
  assert.deepEqual(holm([0.04, 0.04]), [false, false]);
  assert.deepEqual(holm([]), []);
});

test('noiseFloor: no drift between halves gives 0; a step between halves shows', () => {
  assert.equal(noiseFloor([[1, 1.01, 0.99, 1, 1.01, 0.99]]), 0);
  const f = noiseFloor([
    [1, 1, 1, 1.2, 1.2, 1.2],
    [0.5, 0.5, 0.5, 0.6, 0.6, 0.6],
  ]);
  // Halves differ by ln 1.2 = 0.182 with no spread inside: τ = 0.182 / √2.
  assert.ok(Math.abs(f - Math.log(1.2) / Math.SQRT2) < 1e-4, `${f}`);
  assert.equal(noiseFloor([[1, 2]]), 0, 'rows of fewer than 3 rounds say nothing');
});
