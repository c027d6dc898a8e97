import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ratioStat } from '../src/run/paired';
import { authCost, costVerdict, roundLabs, signedPct } from './control-auth-stats';

test('authCost: medians of the rounds’ medians; the ratio on/off per round, paired t on its logs', () => {
  // ratios 0.8, 1, 1.25: logs −0.2231, 0, 0.2231 — geometric mean 1, t(0.975, 2) = 4.303.
  const c = authCost([
    { on: 8, off: 10 },
    { on: 20, off: 20 },
    { on: 50, off: 40 },
  ]);
  assert.equal(c.onMs, 20);
  assert.equal(c.offMs, 20);
  assert.deepEqual(c.ratio.ratios, [0.8, 1, 1.25]);
  assert.equal(c.ratio.geomean, 1);
  const h = (4.303 * 0.22314) / Math.sqrt(3);
  assert.ok(Math.abs(c.ratio.ci95.low - Math.exp(-h)) < 1e-3);
  assert.ok(Math.abs(c.ratio.ci95.high - Math.exp(h)) < 1e-3);
  assert.equal(c.verdict, "within the run's intervals");
  assert.throws(() => authCost([]), /no rounds/);
});

test('costVerdict: the cost in % with its interval when the interval lies off 1, either side', () => {
  assert.equal(costVerdict(ratioStat([1.1, 1.1, 1.1])), 'the checks cost +10.0% (+10.0% to +10.0%, 95%)');
  const slower = ratioStat([1.04, 1.05, 1.06, 1.05]);
  assert.ok(slower.ci95.low > 1);
  assert.match(costVerdict(slower), /^the checks cost \+5\.0% \(\+\d\.\d% to \+\d\.\d%, 95%\)$/);
  assert.match(costVerdict(ratioStat([0.9, 0.92, 0.91])), /^the checks save -9\.0% \(-\d+\.\d% to -\d\.\d%, 95%\)$/);
  assert.match(costVerdict(ratioStat([1.2])), /^not measured/);
  // an interval ending exactly on 1 holds it
  assert.equal(costVerdict({ ...ratioStat([1, 1.1]), ci95: { low: 1, high: 1.2 } }), "within the run's intervals");
});

test('signedPct: one decimal, signed; 1 is ±0.0%', () => {
  assert.equal(signedPct(1.031), '+3.1%');
  assert.equal(signedPct(0.996), '-0.4%');
  assert.equal(signedPct(1), '±0.0%');
  assert.equal(signedPct(1.0004), '±0.0%');
});

test('roundLabs: on first in odd rounds, off first in even ones', () => {
  assert.deepEqual(
    [1, 2, 3, 4].map((k) => roundLabs(k, 'on', 'off')),
    [
      ['on', 'off'],
      ['off', 'on'],
      ['on', 'off'],
      ['off', 'on'],
    ],
  );
});
