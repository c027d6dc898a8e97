/**
 * The service-scale test's plan (pure): one lab per architecture the run gives a Service proxy
 * (`--proxy`: a variant with `proxied`), holding a client pod on one compute node and two pods on
 * another to be the probed Service's backends; every other architecture with pods is skipped
 * saying it needs `--proxy`. The Service counts are checked against the topology's ClusterIP range
 * and against what this machine was measured to hold.
 */
import { missingReason } from '../../doctor/features';
import { DEFAULT_SERVICE_CIDR } from '../../topology/services';
import { CnilabError } from '../../lib/errors';
import { cidrSize, parseCidr } from '../../lib/ip';
import { proxyModes } from '../../proxy';
import type { Topology } from '../../topology/schema';
import { cellOf, measurable, type AfterCell, type AfterPlanContext } from '../after/test';
import type { Skipped } from '../results-schema';

export interface ServiceScaleSettings {
  /** N: the Services in the lab when the probed one is measured, ascending. */
  readonly counts: readonly number[];
  /** Fresh connections for first-packet latency, and again for the connection rate. */
  readonly connections: number;
  /** Endpoint changes timed for programming latency, per lab and N. */
  readonly changes: number;
}

/**
 * 1, 1,000 and 5,000 Services: a sweep a run can afford. iptables-nft loads its rules in time
 * quadratic in the Services (docs/services.md: 10,000 in 26 s), so 10,000 and 30,000 — the blog's
 * sweep — are the benchmark's (bench/service.ts), not a run's default.
 */
export const SERVICE_SCALE_DEFAULTS: ServiceScaleSettings = { counts: [1, 1000, 5000], connections: 1000, changes: 10 };

/**
 * The most Services a run may ask for: 30,000, what docs/services.md measured every mode loading on
 * this 2-core, 24 GiB machine (nftables' full sync 16 s, iptables-legacy 10.9 s, ebpf 371 ms); more
 * has not been measured to fit, in memory or in time.
 */
export const SERVICE_SCALE_MAX = 30_000;

/** A range's ClusterIPs a test may take: its host addresses but the first (the `kubernetes` Service's). */
export function clusterIpsOf(t: Pick<Topology, 'services'>): number {
  return cidrSize(parseCidr(t.services?.cidr ?? DEFAULT_SERVICE_CIDR)) - 3;
}

/**
 * The Service counts, checked against the topology: every N at most SERVICE_SCALE_MAX and within
 * the ClusterIPs its range has left beside the topology's own Services. One line naming the flag.
 */
export function checkServiceCounts(t: Pick<Topology, 'services'>, counts: readonly number[]): number[] {
  const cidr = t.services?.cidr ?? DEFAULT_SERVICE_CIDR;
  const free = clusterIpsOf(t) - (t.services?.list.length ?? 0);
  const most = Math.min(free, SERVICE_SCALE_MAX);
  const over = counts.find((n) => n > most);
  if (over !== undefined)
    throw new CnilabError(
      'INVALID_INPUT',
      free < SERVICE_SCALE_MAX
        ? `--service-counts: ${over} Services do not fit the ClusterIP range ${cidr}: it has ${free} addresses ` +
            `free; give at most ${most}, or a larger services.cidr`
        : `--service-counts: ${over} is more than this machine was measured to hold (${SERVICE_SCALE_MAX} Services: ` +
            `memory and load time, docs/services.md); give at most ${SERVICE_SCALE_MAX}`,
    );
  return [...new Set(counts)].sort((a, b) => a - b);
}

/** A lab the test runs in: its proxy mode, the client pod and the probed Service's two backends. */
export interface ServiceScaleCell extends AfterCell {
  readonly proxy: string;
  readonly client: string;
  readonly backends: readonly [string, string];
}

/** The proxies a run can measure on this machine, for the skip reason's fix. */
const PROXIES_HINT = 'iptables,nftables,ebpf';

/** The client (the first pod of the first compute node with one) and two pods of another node. */
export function podsFor(t: Topology): { client: string; backends: [string, string] } | undefined {
  const nodes = [...new Set(t.pods.map((p) => p.node))];
  for (const c of nodes)
    for (const b of nodes.filter((n) => n !== c)) {
      const on = t.pods.filter((p) => p.node === b);
      if (on.length >= 2)
        return { client: t.pods.find((p) => p.node === c)!.name, backends: [on[0]!.name, on[1]!.name] };
    }
  return undefined;
}

export function planServiceScale(ctx: AfterPlanContext): { cells: ServiceScaleCell[]; skipped: Skipped[] } {
  const cells: ServiceScaleCell[] = [];
  const skipped: Skipped[] = [];
  const skip = (arch: string, reason: string): number => skipped.push({ arch, test: 'service-scale', reason });
  const pods = podsFor(ctx.topology);
  for (const arch of [...new Set(ctx.archs)]) {
    if (!arch.control.attachesPods) skip(arch.name, 'no pods: no Service to measure');
    else if (!arch.proxied) skip(arch.name, `needs a Service proxy: add --proxy ${PROXIES_HINT}`);
    else if (!measurable(ctx, arch))
      continue; // the run says why elsewhere
    else if (!proxyModes.has(arch.proxied.proxy)) skip(arch.name, `proxy ${arch.proxied.proxy}: no such mode`);
    else if (missingReason(ctx.features, proxyModes.get(arch.proxied.proxy).requires))
      skip(
        arch.name,
        `proxy ${arch.proxied.proxy}: ${missingReason(ctx.features, proxyModes.get(arch.proxied.proxy).requires)}`,
      );
    else if (!pods)
      skip(arch.name, 'needs a pod on one compute node and two on another (the client, the probed backends)');
    else cells.push({ ...cellOf(arch, ctx), proxy: arch.proxied.proxy, ...pods });
  }
  return { cells, skipped };
}

/**
 * Planned seconds of one lab at N Services on this machine, with a margin: filling and syncing
 * (iptables-nft quadratic, 10,000 in 26 s; the others about linear, nftables 30,000 in 16 s), the
 * connections, the changes, the removal (one DELETE a Service).
 */
export function serviceScalePlannedSec(proxy: string, n: number, s: ServiceScaleSettings): number {
  const load = proxy === 'iptables' ? 3e-7 * n * n : 6e-4 * n;
  return 5 + 2 * load + (s.connections * 2) / 500 + s.changes * 1.5 + n / 1000;
}
