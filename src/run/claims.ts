/**
 * What a run may claim (pure). Within a run, architecture A ranks above B on a path only when the
 * interval of their same-round ratio A/B excludes 1; A and B are *equivalent* within ±m% when
 * that interval lies inside [1/(1+m), 1+m] (two one-sided tests at 2.5% each: the same 95%
 * interval the figures show); otherwise the comparison is *not resolved*, with an estimate of the
 * rounds that would decide it. The intervals are moderated (moderated.ts): all the pairs a run
 * judges are judged together, each pair's spread shrunk toward that of the pairs of its test.
 * The paper's orderings (declared in arch/claims.ts) are checked the same way: holds, reversed,
 * equivalent, or not resolved.
 */
import { moderateAll, type ModeratedInterval } from './moderated';
import { pairRatios, ratioStat, type TimedValue } from './paired';
import { mean, roundSig } from './stats';
import { t975Real } from './special';
import { PAPER_ORDERINGS, type PaperOrdering } from '../arch/claims';
import { BASELINE_ARCH } from '../arch/vocabulary';
import type { Family } from '../lib/ip';

export interface ClaimRow {
  readonly arch: string;
  readonly path: string;
  /** The underlay MTU, when the run measured several: rows of different MTUs are never compared. */
  readonly mtu?: number;
  /** The IP family, when the run measured several: rows of different families are compared only as twins. */
  readonly ipFamily?: Family;
  readonly test: string;
  readonly params: object;
  /**
   * What the values are when not the test's primary metric (e.g. cpuPerGbit): pairs of one metric are moderated
   * together.
   */
  readonly metric?: string;
  readonly better: 'higher' | 'lower';
  readonly values: readonly TimedValue[];
  /** Throughput rows: each sample's host CPU per Gbit (core-seconds per Gbit), when measured. */
  readonly cpuPerGbit?: readonly TimedValue[];
}

export type PairVerdict = 'better' | 'worse' | 'equivalent' | 'not resolved';

/** The margin of equivalence (--equivalence), % either way. */
export const DEFAULT_EQUIVALENCE_PCT = 3;

export interface PairClaim {
  readonly a: string;
  readonly b: string;
  /** Same-round ratio of the metric, a / b: its moderated 95% interval, and the plain t interval beside it. */
  readonly ratio: {
    readonly n: number;
    readonly geomean: number;
    readonly ci95: { readonly low: number; readonly high: number };
    readonly plainCi95?: { readonly low: number; readonly high: number };
  };
  /** a against b, by the metric's direction. */
  readonly verdict: PairVerdict;
  /**
   * Not resolved: about how many more rounds would decide it; null when one run cannot (its run-level noise alone is
   * wider).
   */
  readonly moreRounds?: number | null;
}

/** A judged pair's verdict, ratio and (when not resolved) the rounds it needs: the fields every pair claim records. */
export const judged = (c: PairClaim): Pick<PairClaim, 'verdict' | 'ratio' | 'moreRounds'> => ({
  verdict: c.verdict,
  ratio: c.ratio,
  ...(c.moreRounds !== undefined ? { moreRounds: c.moreRounds } : {}),
});

/** How a comparison is judged: the run's judge sees every pair of the run (judgeClaims). */
export type Judge = (a: ClaimRow, b: ClaimRow) => PairClaim | undefined;

export interface Ranking {
  readonly path: string;
  readonly underlayMtu?: number;
  readonly ipFamily?: Family;
  readonly test: string;
  readonly params: object;
  /** Best first, by the geometric mean of the row's values. */
  readonly order: string[];
  /** Each neighbour pair of the order: is the one above really above? */
  readonly steps: PairClaim[];
}

const pairKey = (r: ClaimRow): string =>
  `${r.arch} ${r.path} ${r.test} ${JSON.stringify(r.params)} ${r.mtu ?? ''} ${r.ipFamily ?? ''} ${r.metric ?? ''}`;

/** The verdict an interval of a/b supports, by the metric's direction, with a margin of equivalence. */
export function verdictOf(
  ci: { readonly low: number; readonly high: number },
  better: 'higher' | 'lower',
  equivalencePct: number,
): PairVerdict {
  if (ci.low > 1 || ci.high < 1) return ci.low > 1 === (better === 'higher') ? 'better' : 'worse';
  const m = 1 + equivalencePct / 100;
  return ci.low >= 1 / m && ci.high <= m ? 'equivalent' : 'not resolved';
}

/**
 * Rounds that would decide an open comparison, from its interval: the half-width (log units) that
 * would exclude 1, or fit inside the band, whichever is nearer, solved for n in
 * t·√(s̃²(1/n + κ)); null when even infinitely many rounds of one run would not get there.
 */
export function moreRounds(iv: ModeratedInterval, n: number, equivalencePct: number): number | null {
  const c = Math.abs(Math.log(iv.center));
  const need = Math.max(c, Math.log(1 + equivalencePct / 100) - c);
  const v2 = iv.se ** 2 / (1 / n + iv.kappa);
  const inv = (need / t975Real(iv.df)) ** 2 / v2 - iv.kappa;
  if (!(inv > 0)) return null;
  return Math.max(1, Math.ceil(1 / inv) - n);
}

/**
 * The judge of a run: every pair it will be asked about, judged together — their same-round log
 * ratios moderated within pairs of the same test and metric. A pair asked the other way round
 * gets the inverse ratio.
 */
export function pairJudge(pairs: readonly (readonly [ClaimRow, ClaimRow])[], equivalencePct: number): Judge {
  const canon = new Map<string, readonly [ClaimRow, ClaimRow]>();
  for (const [a, b] of pairs) {
    const [ka, kb] = [pairKey(a), pairKey(b)];
    const [x, y] = ka < kb ? [a, b] : [b, a];
    canon.set(`${pairKey(x)}|${pairKey(y)}`, [x, y]);
  }
  const list = [...canon.values()];
  const ratios = list.map(([a, b]) => pairRatios(a.values, b.values, 'round'));
  const { intervals } = moderateAll(
    ratios.map((r) => r.map(Math.log)),
    (i) => `${list[i]![0].test} ${list[i]![0].metric ?? ''} ${list[i]![0].path}`,
  );
  type Interval = { readonly low: number; readonly high: number };
  const judged = new Map<string, { n: number; g: number; ci: Interval; plain?: Interval; iv?: ModeratedInterval }>();
  list.forEach(([a, b], i) => {
    if (ratios[i]!.length === 0) return;
    const s = ratioStat(ratios[i]!);
    const iv = intervals[i];
    judged.set(`${pairKey(a)}|${pairKey(b)}`, {
      n: s.n,
      g: Math.exp(mean(ratios[i]!.map(Math.log))),
      ci: iv ? iv.ci95 : s.ci95,
      ...(s.n > 1 ? { plain: s.ci95 } : {}),
      ...(iv ? { iv } : {}),
    });
  });
  // A pair asked the other way round: the inverse of the unrounded interval; rounding comes last.
  const inverse = (x: Interval): Interval => ({ low: 1 / x.high, high: 1 / x.low });
  const out = (x: Interval): Interval => ({ low: roundSig(x.low), high: roundSig(x.high) });
  return (a, b) => {
    const fwd = judged.get(`${pairKey(a)}|${pairKey(b)}`);
    const back = fwd ? undefined : judged.get(`${pairKey(b)}|${pairKey(a)}`);
    const j = fwd ?? back;
    if (!j) return undefined;
    const turn = (x: Interval): Interval => (back ? inverse(x) : x);
    const ci = turn(j.ci);
    // The verdict is taken on the unrounded interval: at the edge of the band, rounding decides nothing.
    const verdict: PairVerdict = j.iv && j.n > 1 ? verdictOf(ci, a.better, equivalencePct) : 'not resolved';
    const more = verdict === 'not resolved' && j.iv ? { moreRounds: moreRounds(j.iv, j.n, equivalencePct) } : {};
    const ratio = {
      n: j.n,
      geomean: roundSig(back ? 1 / j.g : j.g),
      ci95: out(ci),
      ...(j.plain ? { plainCi95: out(turn(j.plain)) } : {}),
    };
    return { a: a.arch, b: b.arch, ratio, verdict, ...more };
  };
}

const geomean = (vs: readonly TimedValue[]): number =>
  Math.exp(vs.reduce((n, v) => n + Math.log(v.value), 0) / (vs.length || 1));

/** For each path and test row, the architectures best first and whether each step of that order is resolved. */
export function rankings(rows: readonly ClaimRow[], judge: Judge, baseline = BASELINE_ARCH): Ranking[] {
  const groups = new Map<string, ClaimRow[]>();
  for (const r of rows) {
    if (r.arch === baseline || r.values.length === 0) continue;
    const k = `${r.path} ${r.test} ${JSON.stringify(r.params)} ${r.mtu ?? ''} ${r.ipFamily ?? ''}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()]
    .filter((g) => g.length > 1)
    .map((g) => {
      const sign = g[0]!.better === 'higher' ? -1 : 1;
      const sorted = [...g].sort((x, y) => sign * (geomean(x.values) - geomean(y.values)));
      const steps = sorted.slice(1).flatMap((b, i) => judge(sorted[i]!, b) ?? []);
      const { path, mtu, ipFamily, test, params } = g[0]!;
      return {
        path,
        ...(mtu === undefined ? {} : { underlayMtu: mtu }),
        ...(ipFamily === undefined ? {} : { ipFamily }),
        test,
        params,
        order: sorted.map((r) => r.arch),
        steps,
      };
    });
}

export interface PaperCheck extends PaperOrdering {
  readonly underlayMtu?: number;
  readonly ipFamily?: Family;
  /**
   * holds or reversed when resolved either way; equivalent when the two are within the margin (the ordering does not
   * hold).
   */
  readonly verdict: 'holds' | 'reversed' | 'equivalent' | 'not resolved' | 'not measured';
  readonly ratio?: PairClaim['ratio'];
  readonly moreRounds?: number | null;
}

/** The run's variants: each underlay MTU and IP family measured (one undefined pair without the dimensions). */
export function variantsOf(
  rows: readonly Pick<ClaimRow, 'mtu' | 'ipFamily'>[],
): { mtu: number | undefined; ipFamily: Family | undefined }[] {
  const seen = new Map<string, { mtu: number | undefined; ipFamily: Family | undefined }>();
  for (const r of rows) seen.set(`${r.mtu ?? ''} ${r.ipFamily ?? ''}`, { mtu: r.mtu, ipFamily: r.ipFamily });
  return seen.size ? [...seen.values()] : [{ mtu: undefined, ipFamily: undefined }];
}

/** The paper's orderings checked; with several underlay MTUs or IP families, once per each. */
export function paperChecks(rows: readonly ClaimRow[], judge: Judge): PaperCheck[] {
  return variantsOf(rows).flatMap(({ mtu, ipFamily }) =>
    PAPER_ORDERINGS.map((p): PaperCheck => {
      const at = {
        ...(mtu === undefined ? {} : { underlayMtu: mtu }),
        ...(ipFamily === undefined ? {} : { ipFamily }),
      };
      const find = (arch: string): ClaimRow | undefined =>
        rows.find(
          (r) => r.arch === arch && r.path === p.path && r.test === p.test && r.mtu === mtu && r.ipFamily === ipFamily,
        );
      const [h, l] = [find(p.higher), find(p.lower)];
      const c = h && l ? judge(h, l) : undefined;
      if (!c) return { ...p, ...at, verdict: 'not measured' };
      const verdict = c.verdict === 'better' ? 'holds' : c.verdict === 'worse' ? 'reversed' : c.verdict;
      return {
        ...p,
        ...at,
        verdict,
        ratio: c.ratio,
        ...(c.moreRounds !== undefined ? { moreRounds: c.moreRounds } : {}),
      };
    }),
  );
}
