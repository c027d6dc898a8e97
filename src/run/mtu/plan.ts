/**
 * The mtu test's plan (pure): every architecture that attaches pods (overlay, native, l3 — the encrypted ones among
 * them; the baseline has no pods) and has an inter-node path, in the lab of every underlay MTU of the run. The native
 * ones cost two pings and are the reference: what a path without a tunnel carries. A probe goes from the inter-node
 * path's client pod (first compute node) to its server pod (second).
 */
import { cellOf, measurable, type AfterCell, type AfterPlanContext } from '../after/test';
import { endpointsFor } from '../paths';
import type { Skipped } from '../results-schema';

/** The mtu test takes no settings. */
export type MtuSettings = Readonly<Record<string, never>>;

export interface MtuCell extends AfterCell {
  /** The pod the probes leave from, and the one they go to (on another compute node). */
  readonly client: string;
  readonly server: string;
  /** The underlay MTU of its lab. */
  readonly underlayMtu: number;
}

/** Seconds planned per lab: a few pings, more where a black hole makes the search wait (on this 2-core machine). */
export const MTU_PLAN_SEC = 2;

export function planMtu(ctx: AfterPlanContext): { cells: MtuCell[]; skipped: Skipped[] } {
  const cells: MtuCell[] = [];
  const skipped: Skipped[] = [];
  for (const arch of [...new Set(ctx.archs)].filter((a) => measurable(ctx, a))) {
    const no = arch.unsupported?.['inter-node'];
    const ep = no ?? endpointsFor(ctx.topology, arch, 'inter-node');
    if (typeof ep === 'string') {
      skipped.push({ arch: arch.name, test: 'mtu', reason: `the probe needs an inter-node path: ${ep}` });
      continue;
    }
    // The probe's sizes are IPv4's (a 28-byte IPv4 and ICMP header): in a lab whose pods are IPv6 it does not run.
    const cell = cellOf(arch, ctx);
    if ((cell.ipFamily ?? ctx.topology.ipFamilies[0]) === 6) {
      skipped.push({ arch: arch.name, test: 'mtu', reason: 'the probe is IPv4 (its sizes count an IPv4 header)' });
      continue;
    }
    for (const mtu of ctx.mtus ?? [undefined])
      cells.push({ ...cellOf(arch, ctx, { mtu }), ...ep, underlayMtu: mtu ?? ctx.topology.underlay.mtu });
  }
  return { cells, skipped };
}
