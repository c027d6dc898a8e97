/**
 * The join test's plan (pure): one lab per architecture whose nodes can join and leave while it
 * runs, with a pod on two compute nodes or more to ping from; the others are skipped, saying why.
 */
import { cellOf, measurable, type AfterCell, type AfterPlanContext } from '../after/test';
import type { Skipped } from '../results-schema';

export interface JoinSettings {
  /** Nodes joined (and removed) per architecture (default 5). */
  readonly samples: number;
}

export const JOIN_DEFAULTS: JoinSettings = { samples: 5 };
export const JOIN_MAX_SAMPLES = 100;
/** Planned seconds of one sample (node add, pings, node remove) on this 2-core machine, with a margin. */
export const JOIN_PLAN_SEC = 3;

export type JoinCell = AfterCell;

export function planJoin(ctx: AfterPlanContext): { cells: JoinCell[]; skipped: Skipped[] } {
  const cells: JoinCell[] = [];
  const skipped: Skipped[] = [];
  const withPods = new Set(ctx.topology.pods.map((p) => p.node)).size;
  for (const arch of [...new Set(ctx.archs)]) {
    const m = arch.control.membership;
    if (typeof m === 'string') skipped.push({ arch: arch.name, test: 'join', reason: m });
    else if (!measurable(ctx, arch))
      continue; // the run says why elsewhere
    else if (withPods < 1)
      skipped.push({ arch: arch.name, test: 'join', reason: 'no pod on a compute node to ping the new node from' });
    else cells.push(cellOf(arch, ctx));
  }
  return { cells, skipped };
}
