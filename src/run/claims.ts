/**
 * What a run may claim (pure). Within a run, architecture A ranks above B on a path only when the
 * interval of their same-round ratio A/B excludes 1; otherwise they are indistinguishable here.
 * The paper's two orderings (Fig. 4: the OVS overlay beats Flannel UDP; Fig. 5: native VLAN beats
 * the overlay) are checked the same way: holds, reversed, or not resolved — with the interval.
 */
import { pairRatios, ratioStat, sideOfOne, type RatioStat, type TimedValue } from './paired';

export interface ClaimRow {
  readonly arch: string;
  readonly path: string;
  /** The underlay MTU, when the run measured several: rows of different MTUs are never compared. */
  readonly mtu?: number;
  readonly test: string;
  readonly params: object;
  readonly better: 'higher' | 'lower';
  readonly values: readonly TimedValue[];
  /** Throughput rows: each sample's host CPU per Gbit (core-seconds per Gbit), when measured. */
  readonly cpuPerGbit?: readonly TimedValue[];
}

export type PairVerdict = 'better' | 'worse' | 'indistinguishable';

export interface PairClaim {
  readonly a: string;
  readonly b: string;
  /** Same-round ratio of the primary metric, a / b. */
  readonly ratio: Pick<RatioStat, 'n' | 'geomean' | 'ci95'>;
  /** a against b, by the metric's direction. */
  readonly verdict: PairVerdict;
}

export interface Ranking {
  readonly path: string;
  readonly underlayMtu?: number;
  readonly test: string;
  readonly params: object;
  /** Best first, by the geometric mean of the row's values. */
  readonly order: string[];
  /** Each neighbour pair of the order: is the one above really above? */
  readonly steps: PairClaim[];
}

export const pairClaim = (a: ClaimRow, b: ClaimRow): PairClaim | undefined => {
  const ratios = pairRatios(a.values, b.values, 'round');
  if (ratios.length === 0) return undefined;
  const s = ratioStat(ratios);
  const side = sideOfOne(s);
  const verdict: PairVerdict =
    side === 0 ? 'indistinguishable' : (side === 1) === (a.better === 'higher') ? 'better' : 'worse';
  return { a: a.arch, b: b.arch, ratio: { n: s.n, geomean: s.geomean, ci95: s.ci95 }, verdict };
};

const geomean = (vs: readonly TimedValue[]): number =>
  Math.exp(vs.reduce((n, v) => n + Math.log(v.value), 0) / (vs.length || 1));

/** For each path and test row, the architectures best first and whether each step of that order is resolved. */
export function rankings(rows: readonly ClaimRow[], baseline = 'host'): Ranking[] {
  const groups = new Map<string, ClaimRow[]>();
  for (const r of rows) {
    if (r.arch === baseline || r.values.length === 0) continue;
    const k = `${r.path} ${r.test} ${JSON.stringify(r.params)} ${r.mtu ?? ''}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()]
    .filter((g) => g.length > 1)
    .map((g) => {
      const sign = g[0]!.better === 'higher' ? -1 : 1;
      const sorted = [...g].sort((x, y) => sign * (geomean(x.values) - geomean(y.values)));
      const steps = sorted.slice(1).flatMap((b, i) => pairClaim(sorted[i]!, b) ?? []);
      const { path, mtu, test, params } = g[0]!;
      return {
        path,
        ...(mtu === undefined ? {} : { underlayMtu: mtu }),
        test,
        params,
        order: sorted.map((r) => r.arch),
        steps,
      };
    });
}

export interface PaperOrdering {
  readonly figure: string;
  readonly claim: string;
  readonly higher: string;
  readonly lower: string;
  readonly path: string;
  readonly test: string;
}

/** The paper's orderings, as pairs of cnilab's architectures (docs/measurements.md says why these). */
export const PAPER_ORDERINGS: readonly PaperOrdering[] = [
  {
    figure: 'Fig. 4',
    claim: 'the OVS overlay (VXLAN) has higher throughput than Flannel UDP',
    higher: 'kuryr-ovs-vxlan',
    lower: 'flannel-udp',
    path: 'inter-node',
    test: 'tcp',
  },
  {
    figure: 'Fig. 5',
    claim: 'native VLAN on OVS beats the OVS VXLAN overlay',
    higher: 'kuryr-ovs-vlan',
    lower: 'kuryr-ovs-vxlan',
    path: 'inter-node',
    test: 'tcp',
  },
  {
    figure: 'Fig. 5',
    claim: 'native MACVLAN beats the Flannel VXLAN overlay',
    higher: 'macvlan',
    lower: 'flannel-vxlan',
    path: 'inter-node',
    test: 'tcp',
  },
];

export interface PaperCheck extends PaperOrdering {
  readonly underlayMtu?: number;
  readonly verdict: 'holds' | 'reversed' | 'not resolved' | 'not measured';
  readonly ratio?: PairClaim['ratio'];
}

/** The paper's orderings checked; with several underlay MTUs, once per MTU. */
export function paperChecks(rows: readonly ClaimRow[]): PaperCheck[] {
  const mtus = rows.length ? [...new Set(rows.map((r) => r.mtu))] : [undefined];
  return mtus.flatMap((mtu) =>
    PAPER_ORDERINGS.map((p): PaperCheck => {
      const at = mtu === undefined ? {} : { underlayMtu: mtu };
      const find = (arch: string): ClaimRow | undefined =>
        rows.find((r) => r.arch === arch && r.path === p.path && r.test === p.test && r.mtu === mtu);
      const [h, l] = [find(p.higher), find(p.lower)];
      const c = h && l ? pairClaim(h, l) : undefined;
      if (!c) return { ...p, ...at, verdict: 'not measured' };
      const verdict = c.verdict === 'better' ? 'holds' : c.verdict === 'worse' ? 'reversed' : 'not resolved';
      return { ...p, ...at, verdict, ratio: c.ratio };
    }),
  );
}
