/**
 * Path geometry, in one place: which pods (or nodes) a path joins in a topology, and which
 * namespaces its packets cross, in order — the stops whose interfaces' counters make the hops view.
 *   intra-node  two pods on the first compute node;
 *   inter-node  the first pod of the first and of the second compute node (nodes, for the baseline);
 *   routed      "A to C via B": a pod on the first compute node to a pod on the last, through the
 *               router of a control plane that has one (its node and the switch crossed twice);
 *   service     the inter-node pods, the client dialling the ClusterIP of the lab's run Service
 *               (proxied.ts), which the proxy on the client's node turns into the server pod.
 */
import type { Architecture } from '../arch/architecture';
import type { PathName } from '../arch/vocabulary';
import { nodeNetns, podNetns, switchNetns } from '../lab/names';
import type { LabState } from '../lab/state';
import type { Topology } from '../topology/schema';
import { CnilabError } from '../lib/errors';
import type { PathStop } from './hops';
import { RUN_SERVICE, SERVICE_PORT_SHIFT } from './proxied';

export interface Endpoints {
  /** Pod name, or node name for an architecture without pods. */
  readonly client: string;
  readonly server: string;
}

/** Why an architecture whose control plane has no router has no routed path. */
export const ROUTED_NEEDS =
  'one pod network and no router: the routed path (pods on two networks through a router on a third node) ' +
  'needs a kind that has one';

/** Why `arch` cannot carry `path` by design (no news in a run: the docs say which has which), or undefined. */
export function designedOut(arch: Architecture, path: PathName): string | undefined {
  return path === 'routed' && !arch.control.router ? ROUTED_NEEDS : undefined;
}

/** Client and server of a path in this topology, or why it has none. */
export function endpointsFor(topology: Topology, arch: Architecture, path: PathName): Endpoints | string {
  const compute = topology.nodes.filter((n) => n.role === 'compute');
  if (!arch.control.attachesPods) {
    return compute.length < 2 ? 'needs two compute nodes' : { client: compute[0]!.name, server: compute[1]!.name };
  }
  const podsOn = (node: string): string[] => topology.pods.filter((p) => p.node === node).map((p) => p.name);
  if (path === 'routed') {
    if (compute.length < 3) return 'needs three compute nodes: pod A, router B, pod C';
    const [a, c] = [podsOn(compute[0]!.name)[0], podsOn(compute[compute.length - 1]!.name)[0]];
    return a && c
      ? { client: a, server: c }
      : `needs a pod on ${compute[0]!.name} and on ${compute[compute.length - 1]!.name}`;
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

/** A path in a running lab: the namespaces of its ends, the server's address, the stops between. */
export interface PathInLab {
  readonly client: string;
  readonly server: string;
  /** What the client dials: the server's address, or (service path) the Service's ClusterIP. */
  readonly serverIp: string;
  /** Where the servers listen, when not at serverIp: the server pod's own address (service path). */
  readonly bindIp?: string;
  /** How far above the tools' ports the servers listen (the Service's targetPorts; service path). */
  readonly portShift?: number;
  readonly mtu: number;
  readonly stops: readonly PathStop[];
  /** The nodes whose data-path processes carry it. */
  readonly nodes: readonly string[];
}

export function pathInLab(lab: LabState, arch: Architecture, path: PathName, ends: Endpoints): PathInLab {
  const { client, server } = ends;
  const sw: PathStop = { netns: switchNetns(lab.lab), label: 'switch', side: 'middle' };
  if (!arch.control.attachesPods) {
    const node = lab.topology.nodes.find((n) => n.name === server)!;
    return {
      client: nodeNetns(lab.lab, client),
      server: nodeNetns(lab.lab, server),
      // Node to node in the lab's first family: IPv6 over the underlay's IPv6 addresses.
      serverIp: lab.topology.ipFamilies?.[0] === 6 ? node.underlayIp6 : node.underlayIp,
      mtu: lab.topology.underlay.mtu,
      stops: [
        { netns: nodeNetns(lab.lab, client), label: `node ${client}`, side: 'client' },
        sw,
        { netns: nodeNetns(lab.lab, server), label: `node ${server}`, side: 'server' },
      ],
      nodes: [client, server],
    };
  }
  const pod = (name: string) => lab.pods.find((p) => p.name === name)!;
  const [a, b] = [pod(client), pod(server)];
  const first: PathStop = { netns: podNetns(lab.lab, client), label: `pod ${client}`, side: 'client' };
  const last: PathStop = { netns: podNetns(lab.lab, server), label: `pod ${server}`, side: 'server' };
  const node = (n: string, side: PathStop['side']): PathStop => ({
    netns: nodeNetns(lab.lab, n),
    label: `node ${n}`,
    side,
  });
  const ends2 = { client: first.netns, server: last.netns, serverIp: b.ip, mtu: a.mtu };
  if (path === 'routed') {
    const router = arch.control.router!(lab);
    // A to C via B: B's node and the switch are crossed twice, once per network.
    const stops: PathStop[] = [
      first,
      node(a.node, 'client'),
      { ...sw, exclude: [b.node] },
      { ...node(router.node, 'middle'), order: 'in', excludeSegmentOf: router.legTo(b.ip) },
      { netns: router.netns, label: `router on ${router.node}`, side: 'middle' },
      { ...node(router.node, 'middle'), order: 'out', excludeSegmentOf: router.legTo(a.ip) },
      { ...sw, exclude: [a.node] },
      node(b.node, 'server'),
      last,
    ];
    return { ...ends2, stops, nodes: [a.node, router.node, b.node] };
  }
  if (path === 'service') {
    const service = lab.topology.services?.list.find((x) => x.name === RUN_SERVICE);
    if (!service?.clusterIp)
      throw new CnilabError(
        'INVALID_INPUT',
        `lab ${lab.lab} holds no Service ${RUN_SERVICE}: it was not built with --proxy`,
      );
    return {
      ...ends2,
      serverIp: service.clusterIp,
      bindIp: b.ip,
      portShift: SERVICE_PORT_SHIFT,
      stops: [first, node(a.node, 'client'), sw, node(b.node, 'server'), last],
      nodes: [a.node, b.node],
    };
  }
  const stops =
    a.node === b.node
      ? [first, node(a.node, 'middle'), last]
      : [first, node(a.node, 'client'), sw, node(b.node, 'server'), last];
  return { ...ends2, stops, nodes: [a.node, b.node] };
}
