/**
 * What IPv6 costs (pure): in a run that measured both families (--ip-family 4,6), every IPv6 row
 * against its IPv4 twin — the same architecture, path, test and parameters, in the lab of the other
 * family — by the same-round ratio v6/v4, judged as every pair of the run is (claims.ts): "worse"
 * means IPv6 loses something the interval resolves, "equivalent" that the two are within the
 * margin.
 */
import { judged, type ClaimRow, type Judge, type PairClaim, type PairVerdict } from './claims';

export interface FamilyTwin {
  readonly arch: string;
  readonly path: string;
  readonly test: string;
  readonly params: object;
  readonly underlayMtu?: number;
  /** IPv6 against IPv4. */
  readonly verdict: PairVerdict;
  readonly ratio: PairClaim['ratio'];
  readonly moreRounds?: number | null;
}

/** Each IPv6 row that has its IPv4 twin, judged against it. */
export function familyTwins(rows: readonly ClaimRow[], judge: Judge): FamilyTwin[] {
  const twins = (a: ClaimRow, b: ClaimRow): boolean =>
    a.arch === b.arch &&
    a.path === b.path &&
    a.test === b.test &&
    a.mtu === b.mtu &&
    a.metric === b.metric &&
    JSON.stringify(a.params) === JSON.stringify(b.params);
  return rows
    .filter((r) => r.ipFamily === 6 && r.metric === undefined)
    .flatMap((v6): FamilyTwin[] => {
      const v4 = rows.find((r) => r.ipFamily === 4 && twins(v6, r));
      const c = v4 && judge(v6, v4);
      if (!c) return [];
      return [
        {
          arch: v6.arch,
          path: v6.path,
          test: v6.test,
          params: v6.params,
          ...(v6.mtu === undefined ? {} : { underlayMtu: v6.mtu }),
          ...judged(c),
        },
      ];
    });
}
