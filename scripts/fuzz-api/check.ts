/**
 * The API fuzzer's checks on the stores after a run, read from their files with the stores' own
 * classes once the controller stopped: each store is consistent in itself (leases inside the network
 * and apart, IPAM blocks inside the pool and apart, each address once and in a block of its node,
 * each port's address a host address of its subnet, MACs unique, status as its host's agent says),
 * and holds exactly what the fuzzer's model (model.ts) expects from the answers it got.
 */
import { IpamStore } from '../../src/calico/ipam/store';
import { LeaseStore } from '../../src/flannel/subnet/lease-store';
import { NeutronStore } from '../../src/kuryr/neutron/store';
import { cidrSize, containsIPv4, overlaps, parseCidr, parseIPv4, type Cidr } from '../../src/lib/ip';
import { LEASES, POOL, type FuzzController } from './controller';
import type { Model } from './model';

/** The problems found, one line each; empty when every check holds. */
export function checkStores(files: FuzzController['files'], model: Model): string[] {
  const problems: string[] = [];
  const leases = new LeaseStore(files.leases, LEASES);
  try {
    problems.push(
      ...leaseProblems(leases),
      ...sameSet(
        'leases',
        model.leases,
        leases.snapshot().leases.map((l) => l.node),
      ),
    );
  } finally {
    leases.close();
  }
  const ipam = new IpamStore(files.ipam, POOL);
  try {
    problems.push(...ipamProblems(ipam, model));
  } finally {
    ipam.close();
  }
  const ports = new NeutronStore(files.ports);
  try {
    problems.push(...neutronProblems(ports, model));
  } finally {
    ports.close();
  }
  return problems;
}

/** `what` differs between the model's `want` and the store's `got`: one line naming a few of each side. */
function sameSet(what: string, want: Iterable<string>, got: Iterable<string>): string[] {
  const [w, g] = [new Set(want), new Set(got)];
  const missing = [...w].filter((x) => !g.has(x));
  const extra = [...g].filter((x) => !w.has(x));
  if (!missing.length && !extra.length) return [];
  const few = (xs: string[]): string => xs.slice(0, 3).join(', ') + (xs.length > 3 ? ` (+${xs.length - 3})` : '');
  return [
    `${what}: the store ${missing.length ? `lacks ${few(missing)} that answers created` : ''}` +
      `${missing.length && extra.length ? ' and ' : ''}${extra.length ? `holds ${few(extra)} no answer created` : ''}`,
  ];
}

/** Pairs of CIDRs that overlap, as lines. */
function overlapping(what: string, cidrs: readonly string[]): string[] {
  const parsed = cidrs.map((c) => [c, parseCidr(c)] as [string, Cidr]);
  const out: string[] = [];
  for (let i = 0; i < parsed.length; i++)
    for (let j = i + 1; j < parsed.length; j++)
      if (overlaps(parsed[i]![1], parsed[j]![1])) out.push(`${what}: ${parsed[i]![0]} overlaps ${parsed[j]![0]}`);
  return out;
}

function leaseProblems(store: LeaseStore): string[] {
  const { leases } = store.snapshot();
  const network = parseCidr(LEASES.network);
  const out = overlapping(
    'leases',
    leases.map((l) => l.subnet ?? ''),
  );
  for (const l of leases) {
    const s = parseCidr(l.subnet ?? '');
    if (s.prefix !== LEASES.subnetLength || !containsIPv4(network, s.base))
      out.push(`lease of ${l.node}: ${l.subnet} is not a /${LEASES.subnetLength} of ${LEASES.network}`);
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(l.backendData.vtepMac ?? ''))
      out.push(`lease of ${l.node}: no VTEP MAC in ${JSON.stringify(l.backendData)}`);
  }
  if (new Set(leases.map((l) => l.publicIp)).size !== leases.length) out.push('leases: a public IP is leased twice');
  return out;
}

function ipamProblems(store: IpamStore, model: Model): string[] {
  const { nodes, blocks } = store.snapshot();
  const allocations = store.allocations();
  const pool = parseCidr(POOL.pool);
  const names = new Set(nodes.map((n) => n.name));
  const out = overlapping(
    'IPAM blocks',
    blocks.map((b) => b.cidr),
  );
  const blockOf = new Map(blocks.map((b) => [b.cidr, b]));
  for (const b of blocks) {
    const c = parseCidr(b.cidr);
    if (c.prefix !== POOL.blockSize || !containsIPv4(pool, c.base)) out.push(`block ${b.cidr}: not a /26 of the pool`);
    if (!names.has(b.node)) out.push(`block ${b.cidr}: affine to ${b.node}, no registered node`);
    if (b.allocated !== allocations.filter((a) => a.block === b.cidr).length) out.push(`block ${b.cidr}: bad count`);
  }
  const seen = new Set<string>();
  for (const a of allocations) {
    const b = blockOf.get(a.block);
    if (!b || !containsIPv4(parseCidr(b.cidr), parseIPv4(a.ip)))
      out.push(`allocation ${a.ip}: not inside its block ${a.block}`);
    else if (b.node !== a.node) out.push(`allocation ${a.ip} of ${a.node}: in block ${b.cidr} of ${b.node}`);
    if (seen.has(`${a.node} ${a.handle}`)) out.push(`handle ${a.handle}: two addresses on ${a.node}`);
    seen.add(`${a.node} ${a.handle}`);
  }
  if (new Set(nodes.map((n) => n.ip)).size !== nodes.length) out.push('IPAM nodes: an underlay IP is two nodes’');
  out.push(...sameSet('IPAM nodes', model.ipamNodes, names), ...sameSet('IPAM allocations', model.allocations, seen));
  return out;
}

function neutronProblems(store: NeutronStore, model: Model): string[] {
  const networks = store.networks();
  const subnets = store.subnets();
  const ports = store.ports();
  const agents = new Map(store.agents().map((a) => [a.host, a]));
  const out: string[] = [];
  for (const n of networks)
    out.push(
      ...overlapping(
        `subnets of ${n.name}`,
        subnets.filter((s) => s.networkId === n.id).map((s) => s.cidr),
      ),
    );
  const subnetOf = new Map(subnets.map((s) => [s.id, s]));
  const ipsInNetwork = new Set<string>();
  for (const p of ports) {
    const s = subnetOf.get(p.subnetId);
    const c = s && parseCidr(s.cidr);
    const ip = parseIPv4(p.ipAddress);
    if (!s || !c || s.networkId !== p.networkId) out.push(`port ${p.id}: subnet ${p.subnetId} is not of its network`);
    else if (!containsIPv4(c, ip) || ip === c.base || ip === c.base + cidrSize(c) - 1)
      out.push(`port ${p.id}: ${p.ipAddress} is not a host address of ${s.cidr}`);
    const key = `${p.networkId} ${p.ipAddress}`;
    if (ipsInNetwork.has(key)) out.push(`port ${p.id}: ${p.ipAddress} is taken twice in its network`);
    ipsInNetwork.add(key);
    const agent = agents.get(p.hostId);
    const status = agent && agent.wiredNetworks.includes(p.networkId) ? 'ACTIVE' : 'DOWN';
    if (p.status !== status) out.push(`port ${p.id}: ${p.status}, but its host's agent makes it ${status}`);
  }
  if (new Set(ports.map((p) => p.macAddress)).size !== ports.length) out.push('ports: a MAC is two ports’');
  out.push(...routerPortProblems(store));
  out.push(
    ...sameSet(
      'networks',
      model.networks.keys(),
      networks.map((n) => n.id),
    ),
    ...sameSet(
      'subnets',
      model.subnets.keys(),
      subnets.map((s) => s.id),
    ),
    ...sameSet(
      'ports',
      [...model.ports].map(([id, p]) => `${id}@${p.hostId}`),
      ports.map((p) => `${p.id}@${p.hostId}`),
    ),
    ...sameSet(
      'routers',
      model.routers.keys(),
      store.routers().map((r) => r.id),
    ),
    ...sameSet('agents', model.agents, agents.keys()),
  );
  return out;
}

/** Each router leg is a router's, on its host, holding its subnet's gateway; no other port holds a gateway. */
function routerPortProblems(store: NeutronStore): string[] {
  const routers = new Map(store.routers().map((r) => [r.id, r]));
  const gateways = new Map(store.subnets().map((s) => [s.id, s.gatewayIp]));
  const out: string[] = [];
  for (const p of store.ports()) {
    const gateway = gateways.get(p.subnetId);
    if (p.deviceOwner !== 'network:router_interface') {
      if (p.ipAddress === gateway)
        out.push(`port ${p.id} (${p.deviceOwner || 'no owner'}): holds the gateway ${gateway}`);
      continue;
    }
    const r = routers.get(p.deviceId);
    if (!r) out.push(`router leg ${p.id} (${p.hostId}): of ${p.deviceId}, no router`);
    else if (r.host !== p.hostId || p.ipAddress !== gateway)
      out.push(`router leg ${p.id}: ${p.ipAddress} on ${p.hostId}, not router ${r.name}'s gateway on ${r.host}`);
  }
  return out;
}
