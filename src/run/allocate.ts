/**
 * Which rows the next round holds (pure). After the minimum rounds a row whose moderated interval
 * is within the precision, on 3 ratios or more, leaves the rounds — unless it decides an open claim (a paper ordering
 * or
 * a design pair that more rounds of this run could still decide): "samples where a claim is still
 * open". The baseline row of a test stays while any row of it is sampled (a ratio pairs with the
 * same round's baseline). When the budget cannot hold every row that wants another sample, the
 * rows go in order of need: the open claims' rows first (the nearest to a decision first), then
 * rows of open ranking steps, then the other open rows; the round holds what fits.
 */
import type { ClaimRow } from './claims';
import { moderateRows, withinPrecision, type RatioOptions, type SampledRow } from './row-ratios';
import { judgeClaims } from './verdicts';

/** The fewest paired ratios a row leaves the rounds with. */
export const MIN_RATIOS_TO_LEAVE = 3;

export interface AllocationInput {
  readonly rows: readonly SampledRow[];
  /** The claim rows of `rows`, in the same order (assemble.ts builds them). */
  readonly claimRows: readonly ClaimRow[];
  readonly ratio: RatioOptions;
  readonly precisionPct: number;
  readonly equivalencePct: number;
  /** Seconds left for measuring, and how many seconds a planned second has taken so far. */
  readonly remainingSec: number;
  readonly pace: number;
  /** Seconds a block of a pausing tool adds once per round (sockperf's first pause). */
  readonly pauseSec: (test: string) => number;
  /** The most rounds the run may take (--max-rounds). */
  readonly maxRounds?: number;
}

export interface Allocation {
  /** Indices into rows, in plan order. */
  readonly next: number[];
  /** Rows within the precision held because an open claim needs them. */
  readonly forClaims: number[];
  /** Open rows the budget could not hold. */
  readonly cut: number[];
  /** Rows not within the precision (the baseline never counts). */
  readonly open: number[];
  /** Whether any named claim is open and decidable within what is left of the budget. */
  readonly claimsOpen: boolean;
  /**
   * The open rows that `maxRounds` rounds would leave beyond the precision, by this run's
   * moderated spread: how many (of the open rows), and the half-width (%) of the nearest of them.
   */
  readonly reach?: { readonly pct: number; readonly rows: number; readonly open: number };
}

type Open = { readonly verdict: string; readonly moreRounds?: number | null };
const openClaim = (c: Open): boolean => c.verdict === 'not resolved' && typeof c.moreRounds === 'number';

/**
 * The rows (indices) of the claims still open, the named claims nearest to a decision first
 * (`more`: the rounds they need; IPv6 against its IPv4 twin among them), then the ranking steps (`more` Infinity: they order open rows,
 * they keep no resolved row in).
 */
function claimNeeds(input: AllocationInput): { idx: number[]; more: number }[] {
  const c = judgeClaims(input.claimRows, input.equivalencePct, input.ratio.baseline);
  const at = (arch: string, path: string, test: string, mtu?: number, ipFamily?: number): number =>
    input.claimRows.findIndex(
      (r) => r.arch === arch && r.path === path && r.test === test && r.mtu === mtu && r.ipFamily === ipFamily,
    );
  const needs: { idx: number[]; more: number }[] = [];
  for (const p of c.paper)
    if (openClaim(p))
      needs.push({
        idx: [
          at(p.higher, p.path, p.test, p.underlayMtu, p.ipFamily),
          at(p.lower, p.path, p.test, p.underlayMtu, p.ipFamily),
        ],
        more: p.moreRounds!,
      });
  for (const d of c.designs)
    for (const m of d.metrics)
      if (openClaim(m))
        needs.push({
          idx: [at(d.a, d.path, m.test, d.underlayMtu, d.ipFamily), at(d.b, d.path, m.test, d.underlayMtu, d.ipFamily)],
          more: m.moreRounds!,
        });
  for (const f of c.families)
    if (openClaim(f))
      needs.push({
        idx: [at(f.arch, f.path, f.test, f.underlayMtu, 6), at(f.arch, f.path, f.test, f.underlayMtu, 4)],
        more: f.moreRounds!,
      });
  const steps = c.rankings.flatMap((g) =>
    g.steps.filter(openClaim).map((s) => ({
      idx: [at(s.a, g.path, g.test, g.underlayMtu, g.ipFamily), at(s.b, g.path, g.test, g.underlayMtu, g.ipFamily)],
      more: Infinity,
    })),
  );
  return [...needs.sort((x, y) => x.more - y.more), ...steps].map((n) => ({ ...n, idx: n.idx.filter((i) => i >= 0) }));
}

export function allocate(input: AllocationInput): Allocation {
  const { rows, ratio } = input;
  const mod = moderateRows(rows, ratio);
  const isBase = (i: number): boolean => rows[i]!.row.cell.arch.name === ratio.baseline;
  // A row leaves only on 3 ratios or more: with 2, one degree of freedom of its own, a row noisier
  // than its group cannot yet be told from one that is not (its s² tests nothing at 1 df).
  const open = rows.flatMap((_, i) =>
    !isBase(i) && (mod.logs[i]!.length < MIN_RATIOS_TO_LEAVE || !withinPrecision(mod.intervals[i], input.precisionPct))
      ? [i]
      : [],
  );
  const keyOf = (i: number): string => {
    const r = rows[i]!.row;
    return `${r.test} ${JSON.stringify(r.params)} ${r.cell.mtu ?? ''} ${r.cell.ipFamily ?? ''}`;
  };
  const baseOf = new Map(rows.flatMap((_, i) => (isBase(i) ? [[keyOf(i), i] as const] : [])));
  // A claim is worth holding rows for only when the rounds it needs fit what is left of the budget.
  const roundSecOf = (idx: readonly number[]): number => {
    const all = new Set(idx.flatMap((i) => [i, baseOf.get(keyOf(i))].filter((x): x is number => x !== undefined)));
    const tests = new Set([...all].map((i) => rows[i]!.row.test));
    return (
      [...all].reduce((n, i) => n + rows[i]!.row.plannedSec, 0) + [...tests].reduce((n, t) => n + input.pauseSec(t), 0)
    );
  };
  const needs = claimNeeds(input).map((n) =>
    Number.isFinite(n.more) && n.more * roundSecOf(n.idx) * input.pace > input.remainingSec
      ? { ...n, more: Infinity }
      : n,
  );
  const held = new Set<number>();
  const want: number[] = [];
  const add = (i: number): void => {
    if (!want.includes(i)) want.push(i);
  };
  // Claims first, nearest to a decision first; a ranking step, or a claim beyond the budget, adds only its open rows.
  for (const n of needs)
    for (const i of n.idx)
      if (Number.isFinite(n.more)) {
        add(i);
        if (!open.includes(i)) held.add(i);
      } else if (open.includes(i)) add(i);
  for (const i of open) add(i);
  // What fits the budget, each row with its baseline partner and its block's pause.
  const next = new Set<number>();
  const blocks = new Set<string>();
  let cost = 0;
  const cut: number[] = [];
  for (const i of want) {
    const extra = [i, baseOf.get(keyOf(i))].filter((x): x is number => x !== undefined && !next.has(x));
    const test = rows[i]!.row.test;
    const sec = extra.reduce((n, x) => n + rows[x]!.row.plannedSec, 0) + (blocks.has(test) ? 0 : input.pauseSec(test));
    if ((cost + sec) * input.pace > input.remainingSec) {
      if (open.includes(i)) cut.push(i);
      continue;
    }
    cost += sec;
    blocks.add(test);
    for (const x of extra) next.add(x);
  }
  // What the most rounds could reach: t·√(s̃²(1/N + κ)) as a % half-width, for the open rows.
  const reach = open.flatMap((i) => {
    const iv = mod.intervals[i];
    if (!iv || input.maxRounds === undefined) return [];
    const n = mod.logs[i]!.length;
    const v2 = iv.se ** 2 / (1 / n + iv.kappa);
    const h = (iv.halfLog / iv.se) * Math.sqrt(v2 * (1 / input.maxRounds + iv.kappa));
    return [Math.sinh(h) * 100];
  });
  const beyond = reach.filter((h) => h > input.precisionPct);
  return {
    ...(beyond.length ? { reach: { pct: Math.min(...beyond), rows: beyond.length, open: reach.length } } : {}),
    next: [...next].sort((a, b) => a - b),
    forClaims: [...held].filter((i) => next.has(i)).sort((a, b) => a - b),
    cut,
    open,
    claimsOpen: needs.some((n) => Number.isFinite(n.more)),
  };
}
