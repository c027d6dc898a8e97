/**
 * The kernel state a node agent keeps equal to its controller's: routes to the peers' pod subnets,
 * and on a VXLAN device the permanent neighbour and forwarding entries that replace learning. Each
 * `…Changes` function compares what the kernel holds with what is wanted and returns only the
 * difference, as `ip -batch` lines, so a restarted agent leaves alone what is already right.
 * flannel's backends and Calico's agent program their peers through these.
 */
import { writeFileSync } from 'node:fs';
import { ipBatch, ipJson, runIn } from '../lib/netns';

/** Routes cnilab's agents install carry this protocol number, so stale ones can be found. */
export const ROUTE_PROTO = '250';

/** A change set for `ip -batch`: deletions (may already be gone) and additions. */
export interface Changes {
  readonly del: string[][];
  readonly add: string[][];
}

export interface WantedRoute {
  readonly dst: string;
  readonly via: string;
  readonly onlink?: boolean;
}

/** The routes of `family` (default IPv4) on `dev` this agent installed (tagged with its protocol number). */
export function readRoutes(dev: string, family: 4 | 6 = 4): Promise<{ dst: string; gateway?: string }[]> {
  return ipJson<{ dst: string; gateway?: string }[]>(undefined, [
    `-${family}`,
    'route',
    'show',
    'proto',
    ROUTE_PROTO,
    'dev',
    dev,
  ]);
}

/** What turns the agent's routes on `dev` into exactly `wanted`; routes already right are left alone. */
export function routeChanges(
  dev: string,
  current: readonly { dst: string; gateway?: string }[],
  wanted: readonly WantedRoute[],
): Changes {
  const want = new Map(wanted.map((w) => [w.dst, w]));
  const have = new Map(current.map((c) => [c.dst, c.gateway]));
  return {
    del: current
      .filter((c) => want.get(c.dst)?.via !== c.gateway)
      .map((c) => ['route', 'del', c.dst, 'dev', dev, 'proto', ROUTE_PROTO]),
    add: wanted
      .filter((w) => have.get(w.dst) !== w.via)
      .map((w) => [
        'route',
        'replace',
        w.dst,
        'via',
        w.via,
        ...(w.onlink ? ['onlink'] : []),
        'dev',
        dev,
        'proto',
        ROUTE_PROTO,
      ]),
  };
}

/** The neighbour entries on `dev`. */
export function readNeighbours(dev: string): Promise<{ dst: string; lladdr?: string }[]> {
  return ipJson<{ dst: string; lladdr?: string }[]>(undefined, ['neigh', 'show', 'dev', dev]);
}

/** The forwarding entries on `dev`. */
export async function readFdb(dev: string): Promise<{ mac: string; dst?: string }[]> {
  const r = await runIn(undefined, 'bridge', ['-json', 'fdb', 'show', 'dev', dev]);
  return JSON.parse(r.stdout.trim() || '[]') as { mac: string; dst?: string }[];
}

/** Permanent ARP entries on the VXLAN device `dev`: exactly gateway → VTEP MAC. */
export function neighbourChanges(
  dev: string,
  current: readonly { dst: string; lladdr?: string }[],
  wanted: ReadonlyMap<string, string>,
): Changes {
  const have = new Map(current.map((c) => [c.dst, c.lladdr]));
  return {
    del: current.filter((c) => wanted.get(c.dst) !== c.lladdr).map((c) => ['neigh', 'del', c.dst, 'dev', dev]),
    add: [...wanted]
      .filter(([dst, mac]) => have.get(dst) !== mac)
      .map(([dst, mac]) => ['neigh', 'replace', dst, 'lladdr', mac, 'dev', dev, 'nud', 'permanent']),
  };
}

/** Forwarding entries on the VXLAN device `dev`: exactly VTEP MAC → peer underlay address. */
export function fdbChanges(
  dev: string,
  current: readonly { mac: string; dst?: string }[],
  wanted: ReadonlyMap<string, string>,
): Changes {
  const tunnelled = current.filter((e) => e.dst !== undefined);
  const have = new Map(tunnelled.map((e) => [e.mac, e.dst]));
  return {
    del: tunnelled
      .filter((e) => wanted.get(e.mac) !== e.dst)
      .map((e) => ['fdb', 'del', e.mac, 'dev', dev, 'dst', e.dst!]),
    add: [...wanted]
      .filter(([mac, dst]) => have.get(mac) !== dst)
      .map(([mac, dst]) => ['fdb', 'replace', mac, 'dev', dev, 'dst', dst, 'self', 'permanent']),
  };
}

/**
 * What a VXLAN device `dev` must hold for its peers: routes via their gateways, gateway → VTEP MAC, VTEP MAC →
 * underlay address.
 */
export interface VxlanPeers {
  readonly routes: readonly WantedRoute[];
  readonly neighbours: ReadonlyMap<string, string>;
  readonly fdb: ReadonlyMap<string, string>;
}

/**
 * Programs `dev` for exactly `wanted`, with `also` (route changes on other devices) in the same
 * batches. Stale entries go first, and a route is added only after the neighbour and forwarding
 * entries it needs, so no packet is sent towards a gateway the device cannot yet resolve.
 */
export async function syncVxlanPeers(
  dev: string,
  wanted: VxlanPeers,
  also: Changes = { del: [], add: [] },
  family: 4 | 6 = 4,
): Promise<void> {
  const [neigh, routes, fdb] = await Promise.all([readNeighbours(dev), readRoutes(dev, family), readFdb(dev)]);
  const n = neighbourChanges(dev, neigh, wanted.neighbours);
  const r = routeChanges(dev, routes, wanted.routes);
  const f = fdbChanges(dev, fdb, wanted.fdb);
  await ipBatch(undefined, [...r.del, ...n.del, ...also.del], { force: true });
  await ipBatch(undefined, f.del, { tool: 'bridge', force: true });
  await ipBatch(undefined, f.add, { tool: 'bridge' });
  await ipBatch(undefined, [...n.add, ...r.add, ...also.add]);
}

/**
 * IPv4 forwarding on, and IPv6's too when `ipv6`. The agent runs inside its node's namespace: this is
 * the node's setting, never the host's.
 */
export function enableForwarding(ipv6 = false): void {
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
  if (ipv6) writeFileSync('/proc/sys/net/ipv6/conf/all/forwarding', '1');
}
