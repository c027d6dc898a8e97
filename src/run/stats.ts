/**
 * Statistics of repeated samples (pure): the median with a 95% confidence interval, the
 * coefficient of variation, and whether two summaries differ by more than their noise.
 *
 * The interval is distribution-free where the sample allows it: with 6 or more samples, the
 * order statistics X(k)..X(n+1-k) with the largest k whose binomial coverage is still ≥ 95%
 * bracket the median. Below 6 samples no pair of order statistics reaches 95%, so the interval is
 * Student's t on the mean — it assumes roughly normal samples, and `method` says which was used.
 */

export type CiMethod = 'order-statistics' | 't' | 'none';

export interface Stat {
  readonly n: number;
  readonly median: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  /** Sample standard deviation (n − 1). */
  readonly sd: number;
  /** Coefficient of variation, sd / mean, in percent. */
  readonly covPct: number;
  readonly ci95: { readonly low: number; readonly high: number; readonly method: CiMethod };
  readonly samples: number[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * The p-th percentile (0–100), interpolated linearly between the sorted values (numpy's default):
 * the one definition of the attach and join figures and the benchmarks. Nearest rank, which the
 * benchmarks used before, jumps from one sample to the next; this one moves smoothly between them.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const s = [...values].sort((a, b) => a - b);
  const at = (p / 100) * (s.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (at - lo);
}

export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Sample variance (n − 1); 0 below 2 values. */
export function variance(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1);
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** `digits` significant digits (a bound of 0.000012 stays 0.000012, not 0); 0 and non-finite values as they are. */
export const roundSig = (n: number, digits = 5): number =>
  n === 0 || !Number.isFinite(n) ? n : Number(n.toPrecision(digits));

/** Two-sided 95% quantiles of Student's t, t(0.975, df), for df = 1..30. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function t975(df: number): number {
  if (df < 1) return NaN;
  if (df <= 30) return T975[df - 1]!;
  // Beyond 30 the Cornish–Fisher expansion around the normal quantile is exact to 3 decimals.
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
}

/** P(Binomial(n, 1/2) ≤ k). */
function binomCdfHalf(n: number, k: number): number {
  let c = 1;
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    sum += c;
    c = (c * (n - i)) / (i + 1);
  }
  return sum / 2 ** n;
}

/** The rank k (1-based) of the order-statistic interval X(k)..X(n+1−k) for the median, or 0 when none covers 95%. */
export function medianCiRank(n: number): number {
  let best = 0;
  for (let k = 1; k <= Math.floor(n / 2); k++) {
    if (1 - 2 * binomCdfHalf(n, k - 1) >= 0.95) best = k;
    else break;
  }
  return best;
}

export function describe(values: readonly number[], digits = 3): Stat {
  const n = values.length;
  if (n === 0) throw new Error('describe: no samples');
  const s = [...values].sort((a, b) => a - b);
  const m = mean(s);
  const sd = Math.sqrt(variance(s));
  const med = median(s);
  let ci: Stat['ci95'];
  const k = medianCiRank(n);
  if (k > 0) ci = { low: s[k - 1]!, high: s[n - k]!, method: 'order-statistics' };
  else if (n > 1) {
    const h = (t975(n - 1) * sd) / Math.sqrt(n);
    // A quantity that cannot be negative (all of cnilab's) does not get a negative bound.
    ci = { low: s[0]! >= 0 ? Math.max(0, m - h) : m - h, high: m + h, method: 't' };
  } else ci = { low: med, high: med, method: 'none' };
  const r = (x: number): number => round(x, digits);
  return {
    n,
    median: r(med),
    mean: r(m),
    min: r(s[0]!),
    max: r(s[n - 1]!),
    sd: r(sd),
    covPct: m === 0 ? 0 : round((sd / Math.abs(m)) * 100, 2),
    ci95: { low: r(ci.low), high: r(ci.high), method: ci.method },
    samples: values.map(r),
  };
}

/** Whether a Stat is too noisy to lean on: its coefficient of variation is above the threshold. */
export function unstable(s: Stat, thresholdPct: number): boolean {
  return s.n > 1 && s.covPct > thresholdPct;
}

export type Verdict = 'higher' | 'lower' | 'within noise';

/**
 * B against A: higher or lower when the two 95% intervals do not overlap, else within noise.
 * Non-overlap is the conservative reading (it misses some real differences, it rarely invents one).
 */
export function verdict(a: Stat, b: Stat): Verdict {
  if (b.ci95.low > a.ci95.high) return 'higher';
  if (b.ci95.high < a.ci95.low) return 'lower';
  return 'within noise';
}
