/**
 * Paired ratios (pure): a row's sample of one round divided by the baseline's sample of the same
 * round (or the one nearest in time), so that what drifts on a shared machine between rounds
 * divides out. A ratio's interval is Student's t on the logarithms of the paired ratios — ratios
 * are multiplicative, and a log interval never crosses 0 — around their geometric mean; the
 * median of the ratios is reported beside it. Also: a run's noise floor (what one run's
 * intervals do not capture) and Holm's step-down correction for many comparisons at once.
 */
import { mean, median, round, roundSig, t975, variance } from './stats';

/** One kept sample of a row: its value, the round it belongs to, and when it was taken. */
export interface TimedValue {
  readonly value: number;
  readonly round: number;
  /** Seconds from the start of measuring to the middle of the sample. */
  readonly at: number;
}

/** How a row's samples find their baseline sample: the same round's, or the one nearest in time. */
export type Pairing = 'round' | 'nearest';
export const PAIRINGS: readonly Pairing[] = ['round', 'nearest'];

/** The ratios row / baseline, one per sample of the row that has a baseline partner. */
export function pairRatios(row: readonly TimedValue[], base: readonly TimedValue[], pairing: Pairing): number[] {
  const out: number[] = [];
  for (const s of row) {
    const b =
      pairing === 'round'
        ? base.find((x) => x.round === s.round)
        : base.reduce<TimedValue | undefined>(
            (best, x) => (!best || Math.abs(x.at - s.at) < Math.abs(best.at - s.at) ? x : best),
            undefined,
          );
    if (b && b.value > 0 && s.value > 0) out.push(s.value / b.value);
  }
  return out;
}

export interface RatioStat {
  readonly n: number;
  readonly median: number;
  readonly geomean: number;
  /** 95% interval of the geometric mean: t on the logs (none below 2 ratios). */
  readonly ci95: { readonly low: number; readonly high: number };
  /** Half the interval's width, % of the geometric mean (Infinity below 2 ratios). */
  readonly halfWidthPct: number;
  /** Standard deviation of the logs: the round-to-round spread. */
  readonly sdLog: number;
  readonly ratios: number[];
}

const sdOf = (xs: readonly number[]): number => Math.sqrt(variance(xs));

export function ratioStat(ratios: readonly number[]): RatioStat {
  const n = ratios.length;
  if (n === 0) throw new Error('ratioStat: no ratios');
  const logs = ratios.map(Math.log);
  const m = mean(logs);
  const sd = sdOf(logs);
  const h = n > 1 ? (t975(n - 1) * sd) / Math.sqrt(n) : Infinity;
  const g = Math.exp(m);
  const low = n > 1 ? Math.exp(m - h) : g;
  const high = n > 1 ? Math.exp(m + h) : g;
  return {
    n,
    median: round(median(ratios), 4),
    geomean: round(g, 4),
    ci95: { low: roundSig(low), high: roundSig(high) },
    halfWidthPct: n > 1 ? round(((high - low) / 2 / g) * 100, 2) : Infinity,
    sdLog: round(sd, 5),
    ratios: ratios.map((r) => round(r, 4)),
  };
}

/** Whether a ratio is known to within ±precisionPct of itself. */
export const converged = (s: RatioStat, precisionPct: number): boolean => s.n > 1 && s.halfWidthPct <= precisionPct;

/** Whether a ratio's interval lies wholly above 1 (1), wholly below (-1), or holds it (0). */
export const sideOfOne = (s: RatioStat): 1 | -1 | 0 => (s.n < 2 ? 0 : s.ci95.low > 1 ? 1 : s.ci95.high < 1 ? -1 : 0);

/**
 * A run's noise floor, in log units: the drift between its first and second half of rounds that
 * the rounds' own spread does not explain, pooled over rows. It stands for what changes between
 * runs (the machine's state, the moment) as far as one run shows it; `cnilab compare` adds it
 * to each run's standard error. Split-half: with halves of n1 and n2 rounds, the difference of
 * their mean logs D has E[D²] = σ²(1/n1 + 1/n2) + 2τ², σ the round-to-round spread and τ the drift.
 * Pooled by a trimmed mean over rows (the highest and lowest fifth left out), so that one wild row
 * (a UDP flood's loss) does not set it — a median would sit low: D² is a scaled χ²₁, whose median
 * is under half its mean. What changes between runs but stays constant within one (the machine on
 * another day) no split of one run can see: `bench/stability.ts` compares the floor with two runs.
 */
export function noiseFloor(rows: readonly (readonly number[])[]): number {
  const excess: number[] = [];
  for (const ratios of rows) {
    const logs = ratios.map(Math.log);
    const n = logs.length;
    if (n < 3) continue;
    const n1 = Math.floor(n / 2);
    const d = mean(logs.slice(0, n1)) - mean(logs.slice(n1));
    const within = (sdOf(logs.slice(0, n1)) ** 2 * (n1 - 1) + sdOf(logs.slice(n1)) ** 2 * (n - n1 - 1)) / (n - 2);
    excess.push((d * d - within * (1 / n1 + 1 / (n - n1))) / 2);
  }
  if (excess.length === 0) return 0;
  const sorted = excess.sort((a, b) => a - b);
  const cut = Math.floor(sorted.length / 5);
  const kept = sorted.slice(cut, sorted.length - cut);
  return round(Math.sqrt(Math.max(0, mean(kept))), 5);
}

/** ln Γ(x), Lanczos (g = 7, 9 terms): plenty for the incomplete beta below. */
function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised incomplete beta I_x(a, b), by its continued fraction (Lentz). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const front = Math.exp(Math.log(x) * a + Math.log(1 - x) * b - (lnGamma(a) + lnGamma(b) - lnGamma(a + b))) / a;
  const tiny = 1e-300;
  let f = 1;
  let c = 1;
  let d = 0;
  for (let i = 0; i <= 300; i++) {
    const m = Math.floor(i / 2);
    let num: number;
    if (i === 0) num = 1;
    else if (i % 2 === 0) num = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    else num = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + num * d;
    d = Math.abs(d) < tiny ? tiny : d;
    d = 1 / d;
    c = 1 + num / c;
    c = Math.abs(c) < tiny ? tiny : c;
    const cd = c * d;
    f *= cd;
    if (Math.abs(1 - cd) < 1e-12) break;
  }
  return front * (f - 1);
}

/** Two-sided p-value of a t statistic with `df` degrees of freedom. */
export function tTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** Holm's step-down procedure: which of the p-values are rejected with family-wise error ≤ alpha. */
export function holm(pValues: readonly number[], alpha = 0.05): boolean[] {
  const order = pValues.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
  const rejected = pValues.map(() => false);
  for (const [rank, [p, i]] of order.entries()) {
    if (p > alpha / (pValues.length - rank)) break;
    rejected[i] = true;
  }
  return rejected;
}
