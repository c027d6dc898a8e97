/**
 * Moderated intervals (pure): many rows, few rounds. A run measures dozens of rows of one test on
 * one machine, each a handful of times; each row's own variance from 2 or 3 samples is a poor
 * estimate (a t interval with 2 degrees of freedom multiplies the spread by 4.3). Empirical Bayes,
 * as limma's moderated t does it (Smyth 2004): the rows' variances of the log-ratios are taken as
 * draws from a scaled inverse χ² prior — s0² with d0 degrees of freedom, fitted to them by the
 * method of moments on log variances — and each row's variance is shrunk towards it:
 *
 *   s̃² = (d0·s0² + d·s²) / (d0 + d),  with d0 + d degrees of freedom.
 *
 * Noise groups, by the data: a row far noisier than the prior fitted to the other rows (its
 * s²/s0² beyond F(d, d0)'s 1% tail — a user-space data path among kernel ones) is set apart, the
 * least likely first, until none is (or three rows are left). The rows set apart get a prior of their own when there
 * are at least three;
 * one or two keep their plain per-row variance (no borrowing for them). d0 is capped at what the
 * rows that fitted it know: the degrees of freedom of one variance as precise as the mean of
 * their log variances (and at most Σd) — a prior cannot know more than its data.
 *
 * Then the run-level component (Kalibera & Jones): what moves between runs but not within one.
 * Its variance is taken as a share κ of the row's: var(mean log) = s̃²·(1/n + κ). κ is estimated
 * from the run's split halves (the drift between a row's first and second half of rounds beyond
 * what s̃² explains, pooled over rows by a trimmed mean) and never below a floor measured across
 * independent runs (bench/stability.ts; docs/measurements.md gives the figures): 0.05 for the main
 * group, 0.15 for rows set apart as noisier.
 */
import { mean, variance } from './stats';
import { fUpperTail, digamma, t975Real, trigamma, trigammaInverse } from './special';

/** A prior fitted to variances: s0² (of the logs) with d0 degrees of freedom. */
export interface Prior {
  readonly s02: number;
  readonly d0: number;
}

/** κ's floors: the run-level share of a row's variance, for the main group and the noisier rows set apart. */
export const KAPPA_FLOOR = { main: 0.05, noisy: 0.15 } as const;

/** Below this F tail a row is far noisier than its group's prior and set apart. */
export const OUTLIER_ALPHA = 0.01;

/**
 * The least variance of a log ratio a row is taken to have: (0.1%)² per sample. No tool here
 * measures finer than that (iperf3 reports a UDP goodput at its paced rate), and without a floor
 * identical ratios would give a zero-width interval and a certain verdict.
 */
export const VAR_FLOOR = 1e-6;

/**
 * Smyth's method-of-moments fit of a scaled inverse χ² prior to sample variances `v` with `d`
 * degrees of freedom each; undefined below three rows. Variances are taken at least VAR_FLOOR.
 * d0 is capped where ψ′(d0/2) = var(ē) = mean ψ′(d/2) / k, and at Σd.
 */
export function fitPrior(rows: readonly { readonly v: number; readonly d: number }[]): Prior | undefined {
  const ok = rows.filter((r) => r.d >= 1 && Number.isFinite(r.v));
  if (ok.length < 3) return undefined;
  const e = ok.map((r) => Math.log(Math.max(r.v, VAR_FLOOR)) - digamma(r.d / 2) + Math.log(r.d / 2));
  const eMean = mean(e);
  const tri = ok.map((r) => trigamma(r.d / 2));
  const excess = variance(e) - mean(tri);
  // The prior knows σ² no better than ē does: var(ē) = mean ψ′(d/2) / k, which a single variance
  // of d0 degrees of freedom matches when ψ′(d0/2) equals it (and never more than Σd).
  const cap = Math.min(
    ok.reduce((n, r) => n + r.d, 0),
    2 * trigammaInverse(mean(tri) / ok.length),
  );
  let d0 = excess > 0 ? 2 * trigammaInverse(excess) : Infinity;
  if (!(d0 <= cap)) d0 = cap;
  // s0² = exp(ē + ψ(d0/2) − ln(d0/2)); with d0 capped the same formula holds at the cap.
  return { s02: Math.exp(eMean + digamma(d0 / 2) - Math.log(d0 / 2)), d0 };
}

/** Which prior a row's variance was moderated with: its group's, the noisier rows' own, or none. */
export type NoiseGroup = 'main' | 'noisy' | 'plain';

export interface ModeratedVariance {
  readonly n: number;
  /** Mean of the logs. */
  readonly m: number;
  /** The row's own sample variance of the logs (0 below 2 values). */
  readonly v: number;
  /** The moderated variance s̃² and its degrees of freedom d0 + d. */
  readonly v2: number;
  readonly df: number;
  readonly group: NoiseGroup;
}

export interface GroupFit {
  readonly main?: Prior;
  readonly noisy?: Prior;
  /** Indices of the rows set apart as far noisier than the main prior. */
  readonly setApart: number[];
}

/**
 * The moderated variance of each row's logs (rows with fewer than 2 values get none: df 0). The
 * rows are one noise group to start with; outliers are set apart one at a time (the least likely
 * first, each judged against the prior of the rows but itself) while more than three rows remain.
 */
export function moderateVariances(series: readonly (readonly number[])[]): {
  rows: ModeratedVariance[];
  fit: GroupFit;
} {
  const base = series.map((s) => ({
    n: s.length,
    m: s.length ? mean(s) : NaN,
    v: s.length > 1 ? Math.max(variance(s), VAR_FLOOR) : 0,
    d: s.length - 1,
  }));
  let main = base.flatMap((r, i) => (r.d >= 1 ? [i] : []));
  const setApart: number[] = [];
  // Each row against the prior of the others (left out, an outlier cannot widen its own yardstick).
  while (main.length > 3) {
    const tails = main.map((i) => {
      const p = fitPrior(main.filter((j) => j !== i).map((j) => base[j]!))!;
      return { i, p: fUpperTail(base[i]!.v / p.s02, base[i]!.d, p.d0) };
    });
    const worst = tails.reduce((a, b) => (b.p < a.p ? b : a));
    if (worst.p >= OUTLIER_ALPHA) break;
    setApart.push(worst.i);
    main = main.filter((i) => i !== worst.i);
  }
  const prior = fitPrior(main.map((i) => base[i]!));
  const noisy = fitPrior(setApart.map((i) => base[i]!));
  const rows = base.map((r, i): ModeratedVariance => {
    const apart = setApart.includes(i);
    const pr = apart ? noisy : prior;
    if (r.d < 1) return { n: r.n, m: r.m, v: r.v, v2: NaN, df: 0, group: pr ? (apart ? 'noisy' : 'main') : 'plain' };
    if (!pr) return { n: r.n, m: r.m, v: r.v, v2: r.v, df: r.d, group: 'plain' };
    return {
      n: r.n,
      m: r.m,
      v: r.v,
      v2: (pr.d0 * pr.s02 + r.d * r.v) / (pr.d0 + r.d),
      df: pr.d0 + r.d,
      group: apart ? 'noisy' : 'main',
    };
  });
  return { rows, fit: { ...(prior ? { main: prior } : {}), ...(noisy ? { noisy } : {}), setApart } };
}

/**
 * κ: the run-level share of a row's variance, from split halves — for each row of at least 3
 * values, (D² − s̃²(1/n1 + 1/n2)) / (2·s̃²), D the difference of its halves' mean logs; pooled by a
 * mean with the highest and lowest fifth left out; never below `floor`.
 */
export function runLevelShare(
  rows: readonly { readonly logs: readonly number[]; readonly v2: number }[],
  floor: number,
): number {
  const shares: number[] = [];
  for (const r of rows) {
    const n = r.logs.length;
    if (n < 3 || !(r.v2 > 0)) continue;
    const n1 = Math.floor(n / 2);
    const d = mean(r.logs.slice(0, n1)) - mean(r.logs.slice(n1));
    shares.push((d * d - r.v2 * (1 / n1 + 1 / (n - n1))) / (2 * r.v2));
  }
  if (shares.length === 0) return floor;
  const sorted = shares.sort((a, b) => a - b);
  const cut = Math.floor(sorted.length / 5);
  const kept = sorted.slice(cut, sorted.length - cut);
  return Math.max(floor, mean(kept));
}

export interface ModeratedInterval {
  /** exp of the mean log: the geometric mean. */
  readonly center: number;
  readonly ci95: { readonly low: number; readonly high: number };
  /** Half the interval, % of the center. */
  readonly halfWidthPct: number;
  /** Half the interval in log units, and the standard error behind it (run-level part included). */
  readonly halfLog: number;
  readonly se: number;
  readonly df: number;
  readonly group: NoiseGroup;
  readonly kappa: number;
}

/**
 * The 95% interval of a row's geometric mean from its moderated variance and the run-level share κ; undefined without
 * one.
 */
export function moderatedInterval(r: ModeratedVariance, kappa: number): ModeratedInterval | undefined {
  if (r.df <= 0 || !Number.isFinite(r.v2)) return undefined;
  const se = Math.sqrt(r.v2 * (1 / r.n + kappa));
  const h = t975Real(r.df) * se;
  const [low, high, c] = [Math.exp(r.m - h), Math.exp(r.m + h), Math.exp(r.m)];
  return {
    center: c,
    ci95: { low, high },
    halfWidthPct: ((high - low) / 2 / c) * 100,
    halfLog: h,
    se,
    df: r.df,
    group: r.group,
    kappa,
  };
}

/** The κ floor of a row's group. */
export const kappaFloor = (g: NoiseGroup): number => (g === 'main' ? KAPPA_FLOOR.main : KAPPA_FLOOR.noisy);

/**
 * Rows of one run, moderated per group of rows (`groupOf`: the caller's grouping, e.g. the test),
 * then κ over all of them: each row's interval, in the order given.
 */
export function moderateAll(
  series: readonly (readonly number[])[],
  groupOf: (i: number) => string,
): {
  intervals: (ModeratedInterval | undefined)[];
  kappa: { main: number; noisy: number };
  fits: Map<string, GroupFit>;
} {
  const groups = new Map<string, number[]>();
  series.forEach((_, i) => groups.set(groupOf(i), [...(groups.get(groupOf(i)) ?? []), i]));
  const mv: ModeratedVariance[] = new Array<ModeratedVariance>(series.length);
  const fits = new Map<string, GroupFit>();
  for (const [g, idx] of groups) {
    const { rows, fit } = moderateVariances(idx.map((i) => series[i]!));
    idx.forEach((i, k) => (mv[i] = rows[k]!));
    fits.set(g, { ...fit, setApart: fit.setApart.map((k) => idx[k]!) });
  }
  const share = (main: boolean): number =>
    runLevelShare(
      series.flatMap((logs, i) => ((mv[i]!.group === 'main') === main ? [{ logs, v2: mv[i]!.v2 }] : [])),
      main ? KAPPA_FLOOR.main : KAPPA_FLOOR.noisy,
    );
  const kappa = { main: share(true), noisy: share(false) };
  return {
    intervals: mv.map((r) => moderatedInterval(r, r.group === 'main' ? kappa.main : kappa.noisy)),
    kappa,
    fits,
  };
}
