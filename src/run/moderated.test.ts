import { test } from 'node:test';
import assert from 'node:assert/strict';
import { digamma, fUpperTail, t975Real, tetragamma, trigamma, trigammaInverse } from './special';
import { fitPrior, moderateAll, moderatedInterval, moderateVariances, runLevelShare, KAPPA_FLOOR } from './moderated';

const close = (a: number, b: number, rel = 1e-6, what = ''): void =>
  assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${what} ${a} ≠ ${b}`);

// Reference values: scipy.special (digamma, polygamma), scipy.stats (t.ppf, f.sf), and Smyth's
// formulas written out in numpy (limma's fitFDist, without its covariate trend).
test('special functions against scipy', () => {
  close(digamma(0.3), -3.502524222200133);
  close(digamma(2.5), 0.7031566406452432);
  close(digamma(1), -0.5772156649015329);
  close(trigamma(0.3), 12.245364546107734);
  close(trigamma(7.7), 0.13866710857111128);
  close(trigamma(1), Math.PI ** 2 / 6);
  close(tetragamma(0.7), -6.434992874190923);
  close(tetragamma(9.1), -0.013475474109794069);
  close(trigammaInverse(0.5), 2.459952948352313);
  close(trigammaInverse(3), 0.6754781052813652);
  close(trigamma(trigammaInverse(0.0123)), 0.0123);
  close(t975Real(2.5), 3.5746548420036817, 1e-5);
  close(t975Real(7.3), 2.345066736547703, 1e-5);
  close(t975Real(12), 2.1788128296672284, 1e-5);
  close(t975Real(45.2), 2.0138574421734745, 1e-5);
  close(fUpperTail(3, 2, 7.5), 0.11033876174442436, 1e-6);
});

test('fitPrior: Smyth’s method of moments on a dispersed set (d0 from the trigamma inverse)', () => {
  const v = [0.0001, 0.003, 0.0002, 0.01, 0.0005, 0.002, 0.00005, 0.004];
  const d = [2, 2, 3, 3, 2, 4, 2, 3];
  const p = fitPrior(v.map((x, i) => ({ v: x, d: d[i]! })))!;
  close(p.s02, 0.0005961642545730552, 1e-6, 's0²');
  close(p.d0, 1.6572098578058092, 1e-6, 'd0');
  // The row of 0.0001 (2 df) moderated: (d0·s0² + 2·0.0001) / (d0 + 2).
  const { rows } = moderateVariances([
    [0.01, 0.01 + Math.sqrt(0.0002), 0.01 - Math.sqrt(0.0002)].map((x) => x), // s² = 0.0002
  ]);
  assert.equal(rows[0]!.group, 'plain', 'one row alone fits no prior');
});

test('fitPrior: variances more alike than χ² allows — d0 capped at what the mean of their logs knows', () => {
  // The cap: ψ′(d0/2) = mean ψ′(d/2) / k — for 5 rows of 2 df, ψ′(1)/5 — below Σd = 10.
  const p = fitPrior([0.0004, 0.0009, 0.0006, 0.0012, 0.0005].map((v) => ({ v, d: 2 })))!;
  close(p.d0, 7.025444689956881, 1e-5, 'd0');
  close(p.s02, 0.0010197063211129227, 1e-5, 's0²');
  // Rows of two samples (1 df each) borrow the same way, from a prior worth only 3.3 df.
  const q = fitPrior([0.0002, 0.0011, 0.0005, 0.0007, 0.0003, 0.0009].map((v) => ({ v, d: 1 })))!;
  close(q.d0, 3.3065391859026643, 1e-5, 'd0');
  close(q.s02, 0.0013402624180135672, 1e-5, 's0²');
  assert.equal(
    fitPrior([
      { v: 1, d: 2 },
      { v: 2, d: 2 },
    ]),
    undefined,
    'two rows: no prior',
  );
});

test('moderateVariances: a row far noisier than the others is set apart, judged against the others’ prior', () => {
  // Four kernel-like rows (spread ~2%) and one user-space-like row (spread ~18%), 3 rounds each.
  const rows = [
    [0.01, -0.02, 0.005],
    [0.0, 0.03, -0.01],
    [-0.015, 0.0, 0.02],
    [0.02, 0.01, -0.01],
    [0.2, -0.15, 0.05],
  ];
  const { rows: mv, fit } = moderateVariances(rows);
  assert.deepEqual(fit.setApart, [4]);
  assert.equal(mv[4]!.group, 'plain', 'one row set apart keeps its own variance');
  assert.equal(mv[4]!.df, 2);
  close(mv[4]!.v2, 0.03083333333333334);
  assert.equal(mv[0]!.group, 'main');
  close(fit.main!.s02, 0.0004446332329694809, 1e-5);
  close(fit.main!.d0, 5.79676600796529, 1e-5);
  close(mv[0]!.v2, 0.0003968442139208597, 1e-5);
  close(mv[0]!.df, 7.79676600796529, 1e-5);
  // Its interval: t(0.975, 7.8) · √(s̃² (1/3 + κ)) around the mean log (worked out in numpy).
  const iv = moderatedInterval(mv[0]!, 0.05)!;
  close(iv.ci95.low, 0.9702144800201443, 1e-5);
  close(iv.ci95.high, 1.0272699867701724, 1e-5);
  // The plain t interval of the same row (2 df) is wider, and the noisy row's stays as wide as its own.
  const plainHalf = 4.303 * Math.sqrt(mv[0]!.v / 3) * 100;
  assert.ok(iv.halfWidthPct < plainHalf, `${iv.halfWidthPct} vs ${plainHalf}`);
});

test('moderateVariances: rows with 2 samples get an interval from the prior; one sample gets none', () => {
  const rows = [[0.01, -0.01], [0.0, 0.02], [0.015, -0.005], [0.0, 0.01], [0.03]];
  const { rows: mv } = moderateVariances(rows);
  for (const r of mv.slice(0, 4)) assert.ok(r.df > 1 && r.group === 'main', JSON.stringify(r));
  assert.equal(mv[4]!.df, 0);
  assert.equal(moderatedInterval(mv[4]!, 0.05), undefined);
});

test('runLevelShare: drift between halves beyond the spread raises κ; none leaves the floor', () => {
  // No drift: the halves agree.
  assert.equal(runLevelShare([{ logs: [0.01, -0.01, 0.01, -0.01], v2: 0.0001 }], 0.05), 0.05);
  // A step of 0.1 between halves with s̃² = 0.0001: (0.01 − 0.0001·(1/2 + 1/2)) / 0.0002 = 49.5.
  close(runLevelShare([{ logs: [0, 0, 0.1, 0.1], v2: 0.0001 }], 0.05), 49.5);
});

test('moderateAll: groups are the caller’s; κ never below its floor', () => {
  const logs = [
    [0.01, -0.02, 0.005],
    [0.0, 0.03, -0.01],
    [-0.015, 0.0, 0.02],
    [0.02, 0.01, -0.01],
  ];
  const out = moderateAll([...logs, ...logs.map((l) => l.map((x) => x * 5))], (i) => (i < 4 ? 'tcp' : 'latency'));
  assert.ok(out.kappa.main >= KAPPA_FLOOR.main);
  assert.equal(out.fits.size, 2);
  // The latency rows (5× the spread) are judged against their own group's prior, not set apart.
  assert.deepEqual(out.fits.get('latency')!.setApart, []);
  const [a, b] = [out.intervals[0]!, out.intervals[4]!];
  assert.ok(b.halfWidthPct > 4 * a.halfWidthPct);
});

test('identical ratios: the variance floor keeps an interval, never a zero-width certainty', () => {
  const { rows } = moderateVariances([
    [0.01, 0.01],
    [0.02, 0.02, 0.02],
    [0.0, 0.0],
    [0.03, 0.03],
  ]);
  for (const r of rows) assert.ok(r.v2 >= 1e-6 && r.df > 0, JSON.stringify(r));
  const iv = moderatedInterval(rows[0]!, 0.05)!;
  assert.ok(iv.halfWidthPct > 0.1, `${iv.halfWidthPct}`);
});
