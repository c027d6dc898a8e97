/**
 * The designs compared (pure): pairs of architectures that differ in one design choice (declared
 * in arch/claims.ts), judged on three metrics by the same-round ratio a/b, as the rankings are:
 * throughput (tcp), latency (latency, p50) and host CPU per Gbit (tcp, per sample). A metric is "better" only when
 * the interval of a/b excludes 1.
 * Only pairs whose two architectures the run measured on the path are reported. Besides the pairs declared, each
 * `X+bigtcp` of a run's --big-tcp against its `X` on every path (run/big-tcp.ts).
 */
import { variantsOf, type ClaimRow, type Judge, type PairClaim, type PairVerdict } from './claims';
import type { Family } from '../lib/ip';
import { DESIGN_COMPARISONS, type DesignComparison } from '../arch/claims';
import { DESIGN_METRICS, type TestName } from './results-schema';
import { bigTcpComparisons } from './big-tcp';

export { DESIGN_METRICS };
export type DesignMetric = (typeof DESIGN_METRICS)[number];

/** Which row test a metric is read from, and how. */
const SOURCE: Record<DesignMetric, { test: TestName; read: (r: ClaimRow) => ClaimRow | undefined }> = {
  throughput: { test: 'tcp', read: (r) => r },
  latency: { test: 'latency', read: (r) => r },
  cpuPerGbit: {
    test: 'tcp',
    read: (r) =>
      r.cpuPerGbit?.length ? { ...r, metric: 'cpuPerGbit', better: 'lower', values: r.cpuPerGbit } : undefined,
  },
};

export interface DesignMetricCheck {
  readonly metric: DesignMetric;
  readonly test: TestName;
  /** a against b; "not measured" when either row (or its CPU) is missing. */
  readonly verdict: PairVerdict | 'not measured';
  readonly ratio?: PairClaim['ratio'];
  readonly moreRounds?: number | null;
}

export interface DesignCheck extends DesignComparison {
  readonly underlayMtu?: number;
  readonly ipFamily?: Family;
  readonly metrics: DesignMetricCheck[];
}

/** The comparisons the rows allow; with several underlay MTUs or IP families, once per each. */
export function designChecks(rows: readonly ClaimRow[], judge: Judge): DesignCheck[] {
  return (rows.length ? variantsOf(rows) : []).flatMap(({ mtu, ipFamily }) =>
    [...DESIGN_COMPARISONS, ...bigTcpComparisons(rows)].flatMap((d): DesignCheck[] => {
      const here = (r: ClaimRow): boolean => r.path === d.path && r.mtu === mtu && r.ipFamily === ipFamily;
      const find = (arch: string, test: string): ClaimRow | undefined =>
        rows.find((r) => r.arch === arch && r.test === test && here(r));
      const measured = (arch: string) => rows.some((r) => r.arch === arch && here(r));
      if (!measured(d.a) || !measured(d.b)) return [];
      const metrics = DESIGN_METRICS.map((metric): DesignMetricCheck => {
        const { test, read } = SOURCE[metric];
        const [ra, rb] = [find(d.a, test), find(d.b, test)];
        const [xa, xb] = [ra && read(ra), rb && read(rb)];
        const c = xa && xb ? judge(xa, xb) : undefined;
        if (!c) return { metric, test, verdict: 'not measured' };
        return {
          metric,
          test,
          verdict: c.verdict,
          ratio: c.ratio,
          ...(c.moreRounds !== undefined ? { moreRounds: c.moreRounds } : {}),
        };
      });
      return [
        {
          ...d,
          ...(mtu === undefined ? {} : { underlayMtu: mtu }),
          ...(ipFamily === undefined ? {} : { ipFamily }),
          metrics,
        },
      ];
    }),
  );
}
