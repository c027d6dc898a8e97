/**
 * The controller's routes as the API fuzzer knows them: each template with how to fill its path,
 * query and a valid body, given who sends it and what exists (the model). Kept beside the services'
 * own tables (src/…/api.ts); a route missing here is still hit by the unknown-path requests.
 */
import { matchPath } from '../../src/controller/auth/rules';
import type { Model } from './model';
import type { Rng } from './rng';
import { HOSTILE_SEGMENTS, randomCidr, randomIp, randomMac, randomName } from './values';

/** What a generator sees: the choices, the sender (a node's name, or undefined for the administrator), what exists. */
export interface Gen {
  readonly rng: Rng;
  readonly self: string | undefined;
  readonly nodes: readonly string[];
  readonly model: Model;
}

export interface RouteSpec {
  readonly method: string;
  /** The path, `:name` for each parameter: /v1/leases/:node. */
  readonly template: string;
  /** How often, relative to the others. */
  readonly weight: number;
  readonly params?: Readonly<Record<string, (g: Gen) => string>>;
  readonly query?: (g: Gen) => string;
  readonly body?: (g: Gen) => unknown;
}

const hostile = (g: Gen): string => g.rng.pick(HOSTILE_SEGMENTS);

/** A node name: mostly the sender's own, else another node's, an unknown one, or a hostile segment. */
function node(g: Gen): string {
  return g.rng.weighted<() => string>([
    [g.self ? 6 : 0, () => g.self!],
    [3, () => g.rng.pick(g.nodes)],
    [1, () => randomName(g.rng, 'stranger')],
    [2, () => hostile(g)],
  ])();
}

/** An ID (or name) of what exists of a kind, else an unknown or hostile one. */
const ref =
  (kind: 'networks' | 'subnets' | 'ports' | 'routers') =>
  (g: Gen): string => {
    const known = g.model.refs(kind);
    if (known.length && g.rng.chance(0.75)) return g.rng.pick(known);
    return g.rng.chance(0.5) ? '00000000-0000-4000-8000-000000000000' : hostile(g);
  };

/** A long-poll query that never waits long: ?index with a short (or a bad) wait. */
function pollQuery(g: Gen): string {
  return g.rng.pick([
    '',
    '',
    '?index=0',
    `?index=${g.rng.int(1, 5000)}&wait=0.01`,
    '?index=1e20&wait=0.02',
    '?index=-1',
    '?index=abc&wait=0',
    '?index=1.5&wait=0',
    '?index=3&wait=-3',
    '?index=3&wait=abc',
    '?index=3&wait=',
    '?index=99999&wait=1e-9',
    '?wait=1e999',
    '?index=%zz&wait=0',
  ]);
}

const nodeBodyIpam = (g: Gen): unknown => ({
  ip: randomIp(g.rng),
  ...(g.rng.chance(0.5) ? { vtepMac: randomMac(g.rng), vtepIp: `10.96.${g.rng.int(0, 15)}.0` } : {}),
});
const handle = (g: Gen): string => `net/c${g.rng.int(0, 40)}/eth0`;
const knownOr = (g: Gen, kind: 'networks' | 'subnets'): string => ref(kind)(g);

/** A pod's container, mostly; sometimes what only the network may own (a router's leg, a DHCP port). */
function deviceOf(g: Gen): { deviceOwner: string; deviceId: string } {
  return g.rng.weighted<() => { deviceOwner: string; deviceId: string }>([
    [8, () => ({ deviceOwner: 'compute:kuryr', deviceId: `c${g.rng.int(0, 99)}` })],
    [1, () => ({ deviceOwner: 'network:router_interface', deviceId: ref('routers')(g) })],
    [1, () => ({ deviceOwner: g.rng.pick(['network:dhcp', '', 'compute:nova']), deviceId: `d${g.rng.int(0, 9)}` })],
  ])();
}

/** A requested address: a subnet's gateway (the .1 of the seed subnet), any address near the random subnets. */
const address = (g: Gen): string =>
  g.rng.chance(0.3) ? '10.110.0.1' : `10.${g.rng.int(100, 103)}.${g.rng.int(0, 7)}.${g.rng.int(0, 255)}`;

const LEASES: RouteSpec[] = [
  { method: 'GET', template: '/v1/config', weight: 1 },
  { method: 'GET', template: '/v1/leases', weight: 2, query: pollQuery },
  {
    method: 'PUT',
    template: '/v1/leases/:node',
    weight: 6,
    params: { node },
    body: (g) => ({ publicIp: randomIp(g.rng), backendType: 'vxlan', backendData: { vtepMac: randomMac(g.rng) } }),
  },
  { method: 'DELETE', template: '/v1/leases/:node', weight: 2, params: { node } },
];

const NETWORK_READS = ['/networks', '/subnets', '/agents', '/routers'].map((p): RouteSpec => ({
  method: 'GET',
  template: `/v2.0${p}`,
  weight: 1,
}));
const PORTS: RouteSpec[] = [
  ...NETWORK_READS,
  { method: 'GET', template: '/v2.0/networks/:id', weight: 1, params: { id: ref('networks') } },
  { method: 'GET', template: '/v2.0/subnets/:id', weight: 1, params: { id: ref('subnets') } },
  { method: 'GET', template: '/v2.0/routers/:id', weight: 1, params: { id: ref('routers') } },
  { method: 'GET', template: '/v2.0/state', weight: 1, query: pollQuery },
  {
    method: 'GET',
    template: '/v2.0/ports',
    weight: 1,
    query: (g) => g.rng.pick(['', `?hostId=${g.self ?? 'node1'}`, '?deviceId=x&networkId=%00', '?hostId=&hostId=a']),
  },
  {
    method: 'GET',
    template: '/v2.0/ports/:id',
    weight: 2,
    params: { id: ref('ports') },
    query: (g) =>
      g.rng.pick(['', '?status=ACTIVE&wait=0.01', '?status=DOWN&wait=0', '?status=UP', '?status=ACTIVE&wait=-1']),
  },
  {
    method: 'POST',
    template: '/v2.0/networks',
    weight: 2,
    body: (g) => ({
      network: {
        name: randomName(g.rng, 'net'),
        segmentationType: g.rng.pick(['vxlan', 'vlan']),
        ...(g.rng.chance(0.3) ? { segmentationId: g.rng.int(1, 4094) } : {}),
        ...(g.rng.chance(0.3) ? { mtu: g.rng.int(1200, 1500) } : {}),
      },
    }),
  },
  { method: 'DELETE', template: '/v2.0/networks/:id', weight: 1, params: { id: ref('networks') } },
  {
    method: 'POST',
    template: '/v2.0/subnets',
    weight: 2,
    body: (g) => ({
      subnet: {
        networkId: knownOr(g, 'networks'),
        cidr: randomCidr(g.rng),
        ...(g.rng.chance(0.3) ? { name: randomName(g.rng, 'sub') } : {}),
      },
    }),
  },
  { method: 'DELETE', template: '/v2.0/subnets/:id', weight: 1, params: { id: ref('subnets') } },
  {
    method: 'POST',
    template: '/v2.0/ports',
    weight: 6,
    body: (g) => ({
      port: {
        networkId: knownOr(g, 'networks'),
        ...deviceOf(g),
        ...(g.rng.chance(0.9) ? { hostId: g.self ?? g.rng.pick(g.nodes) } : {}),
        ...(g.rng.chance(0.2) ? { ipAddress: address(g) } : {}),
        ...(g.rng.chance(0.2) ? { macAddress: randomMac(g.rng) } : {}),
        ...(g.rng.chance(0.2) ? { subnetId: knownOr(g, 'subnets') } : {}),
      },
    }),
  },
  {
    method: 'PUT',
    template: '/v2.0/ports/:id',
    weight: 3,
    params: { id: ref('ports') },
    body: (g) => ({ port: { hostId: node(g), ...(g.rng.chance(0.5) ? { name: randomName(g.rng, 'p') } : {}) } }),
  },
  { method: 'DELETE', template: '/v2.0/ports/:id', weight: 3, params: { id: ref('ports') } },
  {
    method: 'PUT',
    template: '/v2.0/agents/:host',
    weight: 3,
    params: { host: node },
    body: (g) => ({
      agent: {
        driver: g.rng.pick(['openvswitch', 'linuxbridge']),
        underlayIp: randomIp(g.rng),
        datapath: 'fuzz',
        wiredNetworks: g.model.refs('networks').filter(() => g.rng.chance(0.5)),
      },
    }),
  },
  {
    method: 'POST',
    template: '/v2.0/routers',
    weight: 1,
    body: (g) => ({ router: { name: randomName(g.rng, 'r'), host: g.rng.pick(g.nodes) } }),
  },
  { method: 'DELETE', template: '/v2.0/routers/:id', weight: 1, params: { id: ref('routers') } },
  ...['add_router_interface', 'remove_router_interface'].map((action): RouteSpec => ({
    method: 'PUT',
    template: `/v2.0/routers/:id/${action}`,
    weight: 1,
    params: { id: ref('routers') },
    body: (g) => ({ subnetId: knownOr(g, 'subnets') }),
  })),
];

const IPAM: RouteSpec[] = [
  { method: 'GET', template: '/v3/state', weight: 2, query: pollQuery },
  { method: 'PUT', template: '/v3/nodes/:node', weight: 4, params: { node }, body: nodeBodyIpam },
  { method: 'DELETE', template: '/v3/nodes/:node', weight: 1, params: { node } },
  { method: 'POST', template: '/v3/ipam/assign', weight: 8, body: (g) => ({ handle: handle(g), node: node(g) }) },
  { method: 'POST', template: '/v3/ipam/release', weight: 3, body: (g) => ({ handle: handle(g) }) },
  {
    method: 'POST',
    template: '/v3/ipam/gc',
    weight: 1,
    body: (g) => ({ node: node(g), prefix: g.rng.pick(['net/', 'net/c1', '', 'zzz']), keep: [handle(g)] }),
  },
  {
    method: 'GET',
    template: '/v3/ipam/allocations',
    weight: 2,
    query: (g) => g.rng.pick(['', `?node=${node(g)}`, `?node=${g.self ?? 'node1'}`, '?node=']),
  },
];

/** The controller's own: the administrator's. Never the fuzzer's own nodes (a new token would lock them out). */
const scratch = (g: Gen): string => (g.rng.chance(0.7) ? randomName(g.rng, 'scratch') : hostile(g));
const CREDENTIALS: RouteSpec[] = [
  { method: 'GET', template: '/credentials', weight: 1 },
  { method: 'PUT', template: '/credentials/:node', weight: 1, params: { node: scratch } },
  { method: 'DELETE', template: '/credentials/:node', weight: 1, params: { node: scratch } },
];

export const ROUTES: readonly RouteSpec[] = [...LEASES, ...PORTS, ...IPAM, ...CREDENTIALS];

/** The route `method path` (a path as the server normalises it) is, with its parameters; undefined for none. */
export function resolveRoute(
  method: string,
  pathname: string,
): { spec: RouteSpec; params: Record<string, string> } | undefined {
  const parts = pathname.split('/').filter(Boolean);
  for (const spec of ROUTES) {
    const params = spec.method === method ? matchPath(spec.template, parts) : undefined;
    if (params) return { spec, params };
  }
  return undefined;
}
