/**
 * What the Service hop costs (pure): in each lab with a proxy (a `--proxy` variant), every row of
 * the service path against the same test's row of the inter-node path — the same two pods, the
 * client dialling the ClusterIP instead of the pod — by the same-round ratio service/direct, judged
 * as every pair of the run is (claims.ts). "worse" means the hop costs something the interval
 * resolves; "equivalent", that it costs less than the equivalence margin.
 */
import { judged, type ClaimRow, type Judge, type PairClaim, type PairVerdict } from './claims';

export interface ServiceHop {
  /** The variant, <arch>+<mode>. */
  readonly arch: string;
  readonly test: string;
  readonly params: object;
  readonly underlayMtu?: number;
  /** service against inter-node. */
  readonly verdict: PairVerdict;
  readonly ratio: PairClaim['ratio'];
  readonly moreRounds?: number | null;
}

/** Each service row that has its inter-node partner in the same lab, judged against it. */
export function serviceHops(rows: readonly ClaimRow[], judge: Judge): ServiceHop[] {
  const same = (a: ClaimRow, b: ClaimRow): boolean =>
    a.arch === b.arch &&
    a.test === b.test &&
    a.mtu === b.mtu &&
    a.ipFamily === b.ipFamily &&
    JSON.stringify(a.params) === JSON.stringify(b.params);
  return rows
    .filter((r) => r.path === 'service' && r.metric === undefined)
    .flatMap((s): ServiceHop[] => {
      const direct = rows.find((d) => d.path === 'inter-node' && d.metric === undefined && same(s, d));
      const c = direct && judge(s, direct);
      if (!c) return [];
      return [
        {
          arch: s.arch,
          test: s.test,
          params: s.params,
          ...(s.mtu === undefined ? {} : { underlayMtu: s.mtu }),
          ...(s.ipFamily === undefined ? {} : { ipFamily: s.ipFamily }),
          ...judged(c),
        },
      ];
    });
}
