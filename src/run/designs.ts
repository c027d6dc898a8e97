/**
 * The designs compared (pure): pairs of architectures that differ in one design choice — eBPF host
 * routing against a bridge and routes, against VXLAN, against MACVLAN; Calico's per-pod routes
 * (no bridge) against flannel's bridge, routed or over VXLAN — judged on three metrics by
 * the same-round ratio a/b, as the rankings are: throughput (tcp), latency (latency, p50) and host
 * CPU per Gbit (tcp, per sample). A metric is "better" only when the interval of a/b excludes 1.
 * Only pairs whose two architectures the run measured on the path are reported.
 */
import type { ClaimRow, Judge, PairClaim, PairVerdict } from './claims';
import type { PathName } from '../arch/vocabulary';
import { DESIGN_METRICS, type TestName } from './results-schema';

export interface DesignComparison {
  /** What the pair isolates, in words. */
  readonly design: string;
  readonly a: string;
  readonly b: string;
  readonly path: PathName;
}

/** The pairs: the eBPF data path against each design it replaces (docs/ebpf.md says why these); Calico's against flannel's (docs/calico.md). */
export const DESIGN_COMPARISONS: readonly DesignComparison[] = [
  {
    design: 'eBPF host routing against a bridge and routes',
    a: 'ebpf-native',
    b: 'flannel-host-gw',
    path: 'inter-node',
  },
  {
    design: "bpf_redirect_peer against the node's bridge, between pods of one node",
    a: 'ebpf-native',
    b: 'flannel-host-gw',
    path: 'intra-node',
  },
  {
    design: 'bpf_redirect_peer against a bridge (the reference bridge plugin), between pods of one node',
    a: 'ebpf-native',
    b: 'bridge',
    path: 'intra-node',
  },
  { design: 'eBPF routing against MACVLAN', a: 'ebpf-native', b: 'macvlan', path: 'inter-node' },
  { design: 'eBPF native routing against eBPF over VXLAN', a: 'ebpf-native', b: 'ebpf-vxlan', path: 'inter-node' },
  {
    design: 'eBPF into the VXLAN device against a bridge and VXLAN (same VXLAN parameters)',
    a: 'ebpf-vxlan',
    b: 'flannel-vxlan',
    path: 'inter-node',
  },
  {
    design: 'per-pod routes learnt by BGP, no bridge, against a bridge and routes from the lease store',
    a: 'calico-bgp',
    b: 'flannel-host-gw',
    path: 'inter-node',
  },
  {
    design: 'a /32 route per pod, no bridge, against a bridge, between pods of one node',
    a: 'calico-bgp',
    b: 'flannel-host-gw',
    path: 'intra-node',
  },
  {
    design: "Calico's VXLAN (routes per block, no bridge) against a bridge and VXLAN",
    a: 'calico-vxlan',
    b: 'flannel-vxlan',
    path: 'inter-node',
  },
];

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
  readonly metrics: DesignMetricCheck[];
}

/** The comparisons the rows allow; with several underlay MTUs, once per MTU. */
export function designChecks(rows: readonly ClaimRow[], judge: Judge): DesignCheck[] {
  const mtus = [...new Set(rows.map((r) => r.mtu))];
  return mtus.flatMap((mtu) =>
    DESIGN_COMPARISONS.flatMap((d): DesignCheck[] => {
      const find = (arch: string, test: string): ClaimRow | undefined =>
        rows.find((r) => r.arch === arch && r.path === d.path && r.test === test && r.mtu === mtu);
      const measured = (arch: string) => rows.some((r) => r.arch === arch && r.path === d.path && r.mtu === mtu);
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
      return [{ ...d, ...(mtu === undefined ? {} : { underlayMtu: mtu }), metrics }];
    }),
  );
}
