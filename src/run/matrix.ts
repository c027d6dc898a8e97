/** Which (architecture, path) cells a run measures, and which it skips with a reason (pure). */
import { hasPods, type Architecture, type PathName } from '../arch/architecture';
import { missingReason, type FeatureReport } from '../doctor/features';
import type { Topology } from '../topology/schema';
import type { Skipped } from './results-schema';

export interface Endpoints {
  /** Pod name, or node name for host. */
  readonly client: string;
  readonly server: string;
}

export interface Cell {
  readonly arch: Architecture;
  readonly path: PathName;
  readonly endpoints: Endpoints;
}

/** Client and server of a path in this topology, or why it has none. */
export function endpointsFor(topology: Topology, arch: Architecture, path: PathName): Endpoints | string {
  const compute = topology.nodes.filter((n) => n.role === 'compute');
  if (!hasPods(arch)) {
    return compute.length < 2 ? 'needs two compute nodes' : { client: compute[0]!.name, server: compute[1]!.name };
  }
  const podsOn = (node: string): string[] => topology.pods.filter((p) => p.node === node).map((p) => p.name);
  if (path === 'routed') {
    // A on the first compute node, C on the last, the router on the second: "A to C via B".
    if (compute.length < 3) return 'needs three compute nodes: pod A, router B, pod C';
    const [a, c] = [podsOn(compute[0]!.name)[0], podsOn(compute[compute.length - 1]!.name)[0]];
    return a && c ? { client: a, server: c } : `needs a pod on ${compute[0]!.name} and on ${compute[compute.length - 1]!.name}`;
  }
  if (path === 'intra-node') {
    const pods = podsOn(compute[0]!.name);
    return pods.length < 2 ? `needs two pods on ${compute[0]!.name}` : { client: pods[0]!, server: pods[1]! };
  }
  if (compute.length < 2) return 'needs two compute nodes';
  const a = podsOn(compute[0]!.name)[0];
  const b = podsOn(compute[1]!.name)[0];
  return a && b ? { client: a, server: b } : `needs a pod on ${compute[0]!.name} and on ${compute[1]!.name}`;
}

/** Why an architecture without Kuryr's networks and router has no routed path. */
export const ROUTED_NEEDS = 'one pod network and no router: the routed path (pods on two networks through a router on a third node) is the Kuryr architectures\'';

export function planCells(topology: Topology, archs: readonly Architecture[], paths: readonly PathName[], features: FeatureReport): { cells: Cell[]; skipped: Skipped[] } {
  const cells: Cell[] = [];
  const skipped: Skipped[] = [];
  for (const arch of archs) {
    const missing = missingReason(features, arch.requires);
    if (missing) {
      skipped.push({ arch: arch.name, reason: missing });
      continue;
    }
    for (const path of paths) {
      const why = arch.unsupported?.[path] ?? (path === 'routed' && !arch.kuryr ? ROUTED_NEEDS : undefined);
      if (why) {
        // The baseline is one row, and only Kuryr has two networks and a router: asking for a path
        // an architecture does not have by design is no news (the docs say which has which).
        if (hasPods(arch) && !(path === 'routed' && !arch.kuryr)) skipped.push({ arch: arch.name, path, reason: why });
        continue;
      }
      const ep = endpointsFor(topology, arch, path);
      if (typeof ep === 'string') skipped.push({ arch: arch.name, path, reason: ep });
      else cells.push({ arch, path, endpoints: ep });
    }
  }
  return { cells, skipped };
}
