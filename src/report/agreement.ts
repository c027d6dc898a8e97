/**
 * Do runs of the same code agree, and what did one run answer? Pure; bench/stability.ts measures
 * the runs and prints what these functions find.
 *
 *   - agreement (coverage): two runs' ratios to host of one row agree when
 *     |ln g_a − ln g_b| ≤ 1.96·√(se_a² + se_b²), z = (ln g_a − ln g_b)/√(se_a² + se_b²), each se
 *     read off that run's 95% interval (moderated or plain) — honest intervals agree in about 95%
 *     of (pair, row)s and give a median |z| of 0.67;
 *   - reversals: a claim (ranking step, paper ordering, design) decided one way in one run and the
 *     other way in the other — better against worse, or equivalent against better or worse;
 *   - answered: a row resolved within the precision, or whose every ranking step is decided;
 *   - the paper's orderings the kernel runs natively, and whether each was decided.
 */
import { noiseFloor, pairRatios, ratioStat, type Pairing, type TimedValue } from '../run/paired';
import type { ResultRow, RunResults } from '../run/results-schema';
import { median } from '../run/stats';
import { rowKey } from './compare';
import { BASELINE_ARCH } from '../arch/vocabulary';

export interface Interval {
  readonly low: number;
  readonly high: number;
}

/** What agreement reads of a row (results v6 rows are ones). */
export interface AgreementRow {
  readonly arch: string;
  readonly path: ResultRow['path'];
  readonly test: ResultRow['test'];
  readonly params: ResultRow['params'];
  readonly underlayMtu?: number;
  readonly resolved?: boolean;
  /** % of host: the median of the paired ratios × 100. */
  readonly baselinePct?: number | null;
  readonly ratio: {
    readonly geomean: number;
    readonly ci95: Interval;
    readonly halfWidthPct: number | null;
    readonly moderated?: { readonly ci95: Interval; readonly halfWidthPct: number } | null;
  } | null;
}

export type IntervalKind = 'moderated' | 'plain';

/** Two runs agree on a row when |z| is at most this: the 95% point of the normal. */
export const Z95 = 1.96;

export const agreementKey = (r: AgreementRow): string =>
  `${rowKey(r)}${r.underlayMtu === undefined ? '' : ` mtu ${r.underlayMtu}`}`;

/** A row's interval of the kind, with its half-width (% of the ratio); undefined when the run has none. */
function intervalOf(r: AgreementRow, kind: IntervalKind): { ci: Interval; halfWidthPct: number } | undefined {
  const x = r.ratio;
  if (!x) return undefined;
  if (kind === 'moderated')
    return x.moderated ? { ci: x.moderated.ci95, halfWidthPct: x.moderated.halfWidthPct } : undefined;
  return x.halfWidthPct === null ? undefined : { ci: x.ci95, halfWidthPct: x.halfWidthPct };
}

/**
 * The standard error (log units) a 95% interval stands for: its half-width in log space over 1.96
 * — the interval taken at its word as ±1.96 se of a normal — not over the t quantile it was built
 * with (which would give a smaller se and a stricter test for intervals of few degrees of freedom).
 */
export const seOf = (ci: Interval): number => Math.log(ci.high / ci.low) / 2 / Z95;

/** z of two runs' ratios of one row; undefined when either run has no interval of the kind. */
export function agreementZ(a: AgreementRow, b: AgreementRow, kind: IntervalKind): number | undefined {
  const [ia, ib] = [intervalOf(a, kind), intervalOf(b, kind)];
  if (!ia || !ib || !a.ratio || !b.ratio) return undefined;
  const diff = Math.log(a.ratio.geomean) - Math.log(b.ratio.geomean);
  const se = Math.sqrt(seOf(ia.ci) ** 2 + seOf(ib.ci) ** 2);
  return se > 0 ? diff / se : diff === 0 ? 0 : Math.sign(diff) * Infinity;
}

export interface Coverage {
  readonly kind: IntervalKind;
  /** (pair of runs, row)s compared. */
  readonly compared: number;
  /** Share of them whose |z| ≤ 1.96, %. */
  readonly consistentPct: number;
  readonly medianAbsZ: number;
  /** Median over (run, row) of the interval's half-width, % of the ratio. */
  readonly medianHalfWidthPct: number;
  /** The (pair, row)s that disagree: the row, the runs (0-based), z. */
  readonly disagree: readonly { readonly row: string; readonly runs: readonly [number, number]; readonly z: number }[];
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

/** Every pair of runs, every row but the baseline's both have an interval for: do they agree? */
export function coverage(
  runs: readonly { readonly rows: readonly AgreementRow[] }[],
  kind: IntervalKind,
  baseline = BASELINE_ARCH,
): Coverage {
  const zs: { row: string; runs: [number, number]; z: number }[] = [];
  const widths: number[] = [];
  const byKey = runs.map((r) => new Map(r.rows.filter((x) => x.arch !== baseline).map((x) => [agreementKey(x), x])));
  byKey.forEach((m) =>
    m.forEach((x) => widths.push(...(intervalOf(x, kind) ? [intervalOf(x, kind)!.halfWidthPct] : []))),
  );
  for (let i = 0; i < runs.length; i++)
    for (let j = i + 1; j < runs.length; j++)
      for (const [k, a] of byKey[i]!) {
        const b = byKey[j]!.get(k);
        const z = b && agreementZ(a, b, kind);
        if (z !== undefined) zs.push({ row: k, runs: [i, j], z });
      }
  const abs = zs.map((x) => Math.abs(x.z));
  return {
    kind,
    compared: zs.length,
    consistentPct: zs.length ? r2((abs.filter((z) => z <= Z95).length / zs.length) * 100) : NaN,
    medianAbsZ: zs.length ? r2(median(abs)) : NaN,
    medianHalfWidthPct: widths.length ? r2(median(widths)) : NaN,
    disagree: zs.filter((x) => Math.abs(x.z) > Z95).map((x) => ({ ...x, z: r2(x.z) })),
  };
}

/**
 * Each row but the baseline's: its ratio to host (geometric mean) in each run, null where a run
 * lacks it, and the median over the runs of its moderated and plain half-widths (% of the ratio).
 */
export function ratiosByRow(runs: readonly { readonly rows: readonly AgreementRow[] }[], baseline = BASELINE_ARCH) {
  const keys = [...new Set(runs.flatMap((r) => r.rows.filter((x) => x.arch !== baseline).map(agreementKey)))];
  return keys.map((row) => {
    const found = runs.map((r) => r.rows.find((x) => agreementKey(x) === row));
    const half = (kind: IntervalKind): number => {
      const hs = found.flatMap((x) => (x && intervalOf(x, kind) ? [intervalOf(x, kind)!.halfWidthPct] : []));
      return hs.length ? r2(median(hs)) : NaN;
    };
    return {
      row,
      ratios: found.map((x) => x?.ratio?.geomean ?? null),
      halfWidthPct: { moderated: half('moderated'), plain: half('plain') },
    };
  });
}

/** The largest |% of host (A) − % of host (B)| over the rows `pick` keeps, in points. */
export function largestPointDiff(
  a: readonly AgreementRow[],
  b: readonly AgreementRow[],
  pick: (r: AgreementRow) => boolean,
): { readonly row: string; readonly points: number; readonly a: number; readonly b: number } | undefined {
  const inB = new Map(b.map((x) => [agreementKey(x), x]));
  let worst: { row: string; points: number; a: number; b: number } | undefined;
  for (const x of a.filter(pick)) {
    const y = inB.get(agreementKey(x));
    if (typeof x.baselinePct !== 'number' || typeof y?.baselinePct !== 'number') continue;
    const points = r2(Math.abs(x.baselinePct - y.baselinePct));
    if (!worst || points > worst.points) worst = { row: agreementKey(x), points, a: x.baselinePct, b: y.baselinePct };
  }
  return worst;
}

/** What reversal detection reads of a run's claims (results v6 `claims` is one). */
export interface AgreementClaims {
  readonly rankings: readonly {
    readonly path: ResultRow['path'];
    readonly underlayMtu?: number;
    readonly test: ResultRow['test'];
    readonly params: ResultRow['params'];
    readonly steps: readonly { readonly a: string; readonly b: string; readonly verdict: string }[];
  }[];
  readonly paper: readonly {
    readonly figure: string;
    readonly higher: string;
    readonly lower: string;
    readonly path: string;
    readonly underlayMtu?: number;
    readonly test: string;
    readonly verdict: string;
  }[];
  readonly designs?: readonly {
    readonly design: string;
    readonly a: string;
    readonly b: string;
    readonly path: string;
    readonly underlayMtu?: number;
    readonly metrics: readonly { readonly metric: string; readonly verdict: string }[];
  }[];
}

type Decided = 'better' | 'worse' | 'equivalent';
const flip = (v: Decided): Decided => (v === 'better' ? 'worse' : v === 'worse' ? 'better' : v);
const stable = (o: object): string =>
  JSON.stringify(Object.fromEntries(Object.entries(o).sort(([x], [y]) => x.localeCompare(y))));
const mtuOf = (m: number | undefined): string => (m === undefined ? '' : ` mtu ${m}`);

/**
 * A run's decided claims, each under one key with its pair of architectures in name order (the
 * verdict turned round when they were the other way): ranking steps, paper orderings (holds =
 * better, reversed = worse), designs.
 */
export function decidedClaims(c: AgreementClaims): Map<string, Decided> {
  const out = new Map<string, Decided>();
  // The claim's words with its pair in name order in place of PAIR.
  const put = (what: string, a: string, b: string, verdict: string): void => {
    const v: Decided | undefined =
      verdict === 'holds'
        ? 'better'
        : verdict === 'reversed'
          ? 'worse'
          : (['better', 'worse', 'equivalent'] as const).find((x) => x === verdict);
    if (!v) return;
    out.set(what.replace('PAIR', a < b ? `${a}/${b}` : `${b}/${a}`), a < b ? v : flip(v));
  };
  for (const g of c.rankings)
    for (const s of g.steps) put(`${rowKey({ ...g, arch: 'PAIR' })}${mtuOf(g.underlayMtu)}`, s.a, s.b, s.verdict);
  for (const p of c.paper)
    put(`paper ${p.figure}: PAIR ${p.path} ${p.test}${mtuOf(p.underlayMtu)}`, p.higher, p.lower, p.verdict);
  for (const d of c.designs ?? [])
    for (const m of d.metrics)
      put(`design ${d.design}: PAIR ${d.path} ${m.metric}${mtuOf(d.underlayMtu)}`, d.a, d.b, m.verdict);
  return out;
}

/** Claims both runs decided, in opposite ways or one equivalent and the other not: "KEY: A-verdict / B-verdict". */
export function reversals(a: AgreementClaims, b: AgreementClaims): string[] {
  const [ma, mb] = [decidedClaims(a), decidedClaims(b)];
  return [...ma].flatMap(([k, va]) => {
    const vb = mb.get(k);
    return vb && vb !== va ? [`${k}: ${va} / ${vb}`] : [];
  });
}

/** The answers of one run: rows resolved within the precision, rows answered, by the run's rankings. */
export function answered(
  rows: readonly AgreementRow[],
  claims: Pick<AgreementClaims, 'rankings'>,
  baseline = BASELINE_ARCH,
): {
  readonly rows: number;
  readonly resolvedPct: number;
  readonly answeredPct: number;
  readonly unanswered: string[];
} {
  const measured = rows.filter((r) => r.arch !== baseline);
  const isAnswered = (r: AgreementRow): boolean => {
    if (r.resolved) return true;
    const steps = claims.rankings
      .filter(
        (g) =>
          g.path === r.path &&
          g.test === r.test &&
          stable(g.params) === stable(r.params) &&
          g.underlayMtu === r.underlayMtu,
      )
      .flatMap((g) => g.steps.filter((s) => s.a === r.arch || s.b === r.arch));
    return steps.length > 0 && steps.every((s) => ['better', 'worse', 'equivalent'].includes(s.verdict));
  };
  const share = (n: number): number => (measured.length ? r2((n / measured.length) * 100) : NaN);
  const unanswered = measured.filter((r) => !isAnswered(r)).map(agreementKey);
  return {
    rows: measured.length,
    resolvedPct: share(measured.filter((r) => r.resolved).length),
    answeredPct: share(measured.length - unanswered.length),
    unanswered,
  };
}

/**
 * The paper's orderings whose two architectures the run measured and the kernel runs natively
 * (neither's datapath is a user-space one: /user ?space/), each with its verdict; `decided` when
 * every one of them holds, is reversed or is equivalent.
 */
export function nativePaper(
  claims: Pick<AgreementClaims, 'paper'>,
  architectures: readonly { readonly name: string; readonly datapath?: string }[],
): { readonly orderings: { readonly claim: string; readonly verdict: string }[]; readonly decided: boolean } {
  const native = new Set(
    architectures.filter((a) => !(a.datapath && /user ?space/.test(a.datapath))).map((a) => a.name),
  );
  const orderings = claims.paper
    .filter((p) => p.verdict !== 'not measured' && native.has(p.higher) && native.has(p.lower))
    .map((p) => ({
      claim: `${p.figure} ${p.higher} > ${p.lower} ${p.path} ${p.test}${mtuOf(p.underlayMtu)}`,
      verdict: p.verdict,
    }));
  return { orderings, decided: orderings.every((o) => ['holds', 'reversed', 'equivalent'].includes(o.verdict)) };
}

// The measures of the earlier benchmark (bench/stability.ts --interleaving): pairing designs,
// noise floors, correlation with host, a cold first round.

const r1 = (x: number): number => Math.round(x * 10) / 10;
const legacyKey = (r: ResultRow): string => `${r.arch} ${r.path} ${r.test}`;

/** The primary metric's samples of a row with their round and time. */
const timed = (r: ResultRow): TimedValue[] =>
  r.metrics[r.primary]!.samples.map((value, i) => ({
    value,
    round: r.rounds[i]!.round,
    at: (r.rounds[i]!.startSec + r.rounds[i]!.endSec) / 2,
  }));

const hostOf = (res: RunResults, r: ResultRow): ResultRow | undefined =>
  res.rows.find(
    (x) => x.arch === BASELINE_ARCH && x.test === r.test && JSON.stringify(x.params) === JSON.stringify(r.params),
  );

/**
 * Per pairing design: the share of rows whose interval in one run covers the other run's ratio (both ways), and the
 * median half-width.
 */
export function pairingCoverage(a: RunResults, b: RunResults, pairing: Pairing) {
  const ratio = (res: RunResults, r: ResultRow) => {
    const base = hostOf(res, r);
    const rs = base ? pairRatios(timed(r), timed(base), pairing) : [];
    return rs.length > 1 ? ratioStat(rs) : undefined;
  };
  let [covered, total] = [0, 0];
  const widths: number[] = [];
  for (const ra of a.rows.filter((r) => r.arch !== BASELINE_ARCH)) {
    const rb = b.rows.find((x) => legacyKey(x) === legacyKey(ra));
    const [sa, sb] = [ratio(a, ra), rb && ratio(b, rb)];
    if (!sa || !sb) continue;
    total += 2;
    widths.push(sa.halfWidthPct, sb.halfWidthPct);
    if (sa.ci95.low <= sb.geomean && sb.geomean <= sa.ci95.high) covered++;
    if (sb.ci95.low <= sa.geomean && sa.geomean <= sb.ci95.high) covered++;
  }
  return { coveredPct: total ? r1((covered / total) * 100) : NaN, medianHalfWidthPct: r1(median(widths)) };
}

/** A run's noise floor as this code estimates it (% of a ratio), from its rows' paired ratios. */
export const floorOf = (r: RunResults): number =>
  r1((Math.exp(noiseFloor(r.rows.flatMap((x) => (x.ratio ? [x.ratio.ratios] : [])))) - 1) * 100);

/**
 * Median over `rows` (the kernel-path rows) of the round-by-round correlation of the logs of a
 * row's samples and host's: near 0 the noise is per sample and pairing cannot cancel it.
 */
export function pairCorrelation(r: RunResults, rows: readonly ResultRow[]): number {
  const cs = rows.flatMap((row) => {
    const base = hostOf(r, row);
    if (!base || base === row) return [];
    const a = row.metrics[row.primary]!.samples.map(Math.log);
    const b = base.metrics[base.primary]!.samples.map(Math.log);
    const n = Math.min(a.length, b.length);
    if (n < 3) return [];
    const [ma, mb] = [a.slice(0, n).reduce((s, x) => s + x, 0) / n, b.slice(0, n).reduce((s, x) => s + x, 0) / n];
    let [sab, saa, sbb] = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      sab += (a[i]! - ma) * (b[i]! - mb);
      saa += (a[i]! - ma) ** 2;
      sbb += (b[i]! - mb) ** 2;
    }
    return saa && sbb ? [sab / Math.sqrt(saa * sbb)] : [];
  });
  return r2(median(cs));
}

/** Round 1 against the later rounds: the median over rows of (round-1 value / median of the others). */
export function coldStart(r: RunResults): number {
  const q = r.rows.flatMap((row) => {
    const s = row.metrics[row.primary]!.samples;
    return s.length < 3 ? [] : [s[0]! / median(s.slice(1))];
  });
  return Math.round(median(q) * 1000) / 1000;
}
