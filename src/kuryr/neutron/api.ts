/**
 * The port controller's HTTP API, shaped as Neutron's v2.0 (resources wrapped in their name, e.g.
 * `{"network": {…}}` in and out), with cnilab's camelCase field names:
 *
 *   GET|POST      /v2.0/networks            GET|DELETE /v2.0/networks/ID (ID or name)
 *   GET|POST      /v2.0/subnets             GET|DELETE /v2.0/subnets/ID
 *   GET|POST      /v2.0/ports[?deviceId=&hostId=&networkId=]
 *   GET           /v2.0/ports/ID[?status=ACTIVE&wait=S]   waits (≤ S s) for the status
 *   PUT|DELETE    /v2.0/ports/ID            PUT binds: {"port": {"hostId": …}}
 *   GET           /v2.0/agents              PUT /v2.0/agents/HOST   an agent's report
 *   GET|POST      /v2.0/routers             GET|DELETE /v2.0/routers/ID
 *   PUT           /v2.0/routers/ID/add_router_interface|remove_router_interface  {"subnetId": …}
 *   GET           /v2.0/state[?index=N&wait=S]   everything an agent wires from; long-polls
 *
 * Every body is validated; a bad one gets a 400 naming the field, a clash 409, an unknown ID 404
 * (the store's CnilabError codes, mapped to statuses by lib/errors). Who may call each route:
 * neutronRules (a node reads everything, writes only the ports bound to it and its agent's report;
 * networks, subnets and routers are the administrator's).
 */
import { z } from 'zod';
import type { RouteRule } from '../../controller/auth/rules';
import { isIPv4, isStrictCidr } from '../../lib/ip';
import type { NeutronStore } from './store';
import { CnilabError } from '../../lib/errors';
import type { ServiceRequest } from '../../controller/service';

const ipv4 = z.string().refine(isIPv4, 'must be an IPv4 address');
const cidr = z.string().refine(isStrictCidr, 'must be an IPv4 CIDR with no host bits set, like 10.244.1.0/24');
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/, 'must be 1–63 letters, digits, _ . : or -');
const host = z.string().regex(/^[a-z][a-z0-9-]{0,14}$/, 'must be a node name');
const id = z.string().min(1).max(64);
const mac = z
  .string()
  .regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, 'must be a lowercase MAC like fa:16:3e:00:00:01')
  .refine((m) => (parseInt(m.slice(0, 2), 16) & 1) === 0, 'must be a unicast MAC');

const bodies = {
  network: z.strictObject({
    network: z.strictObject({
      name,
      segmentationType: z.enum(['vxlan', 'vlan']),
      segmentationId: z.number().int().optional(),
      mtu: z.number().int().optional(),
    }),
  }),
  subnet: z.strictObject({
    subnet: z.strictObject({
      networkId: id,
      cidr,
      name: name.optional(),
      gatewayIp: ipv4.optional(),
      allocationPools: z
        .array(z.strictObject({ start: ipv4, end: ipv4 }))
        .min(1)
        .max(16)
        .optional(),
    }),
  }),
  port: z.strictObject({
    port: z.strictObject({
      networkId: id,
      name: z.string().max(128).optional(),
      deviceOwner: z.string().max(64).optional(),
      deviceId: z.string().max(128).optional(),
      hostId: host.optional(),
      subnetId: id.optional(),
      ipAddress: ipv4.optional(),
      macAddress: mac.optional(),
    }),
  }),
  portUpdate: z.strictObject({
    port: z.strictObject({ hostId: host.optional(), name: z.string().max(128).optional() }),
  }),
  agent: z.strictObject({
    agent: z.strictObject({
      driver: z.enum(['openvswitch', 'linuxbridge']),
      underlayIp: ipv4,
      datapath: z.string().max(128),
      wiredNetworks: z.array(id).max(4096),
    }),
  }),
  router: z.strictObject({ router: z.strictObject({ name, host }) }),
  routerInterface: z.strictObject({ subnetId: id }),
};

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const i = r.error.issues[0]!;
  throw new CnilabError('INVALID_INPUT', `${i.path.join('.') || 'body'}: ${i.message}`);
}

function numberParam(url: URL, key: string, fallback: number, max: number): number {
  const raw = url.searchParams.get(key);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (raw === '' || !Number.isFinite(n) || n < 0)
    throw new CnilabError('INVALID_INPUT', `${key}: must be a non-negative number`);
  return Math.min(n, max);
}

/** The object `key` of a JSON body, or undefined. */
async function objectIn(q: ServiceRequest, key: string): Promise<Record<string, unknown> | undefined> {
  const body = await q.readBody();
  const v = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[key] : undefined;
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
}

/**
 * Who may call each route of the port API (the administrator may call every one). A port is owned
 * by the host it is bound to (binding:host_id); an unbound one ('') is the administrator's, and so
 * is one whose device owner is the network's (`network:dhcp`, …), wherever it is bound.
 */
export function neutronRules(store: NeutronStore): readonly RouteRule[] {
  const reads = ['/networks', '/networks/:id', '/subnets', '/subnets/:id', '/ports', '/ports/:id', '/agents']
    .concat(['/routers', '/routers/:id', '/state'])
    .map((path): RouteRule => ({ method: 'GET', path, may: 'nodes', rule: 'every node reads the topology' }));
  const layout = 'networks, subnets and routers are the administrator’s';
  const admin = (method: RouteRule['method'], path: string): RouteRule => ({
    method,
    path,
    may: 'admin',
    rule: layout,
  });
  // The node a port is bound to owns it; a `network:*` port (a router's leg, …) is the administrator's ('').
  const hostOf = (id: string): string[] => {
    try {
      const port = store.port(id);
      return [port.deviceOwner.startsWith('network:') ? '' : port.hostId];
    } catch {
      return []; // an unknown port: the handler answers 404
    }
  };
  const ownPort = 'a node creates, binds and deletes only ports bound to itself';
  return [
    ...reads,
    admin('POST', '/networks'),
    admin('DELETE', '/networks/:id'),
    admin('POST', '/subnets'),
    admin('DELETE', '/subnets/:id'),
    admin('POST', '/routers'),
    admin('DELETE', '/routers/:id'),
    admin('PUT', '/routers/:id/add_router_interface'),
    admin('PUT', '/routers/:id/remove_router_interface'),
    {
      method: 'POST',
      path: '/ports',
      may: async (q) => {
        const port = await objectIn(q, 'port');
        if (!port) return []; // the handler refuses the body
        // Neutron's policy: a `network:*` device owner (a DHCP port, a router's leg) is the administrator's.
        if (typeof port.deviceOwner === 'string' && port.deviceOwner.startsWith('network:')) return [''];
        return [typeof port.hostId === 'string' ? port.hostId : ''];
      },
      rule: ownPort,
    },
    {
      method: 'PUT',
      path: '/ports/:id',
      may: async (q, p) => {
        const host = (await objectIn(q, 'port'))?.hostId;
        return [...hostOf(p.id!), ...(typeof host === 'string' ? [host] : [])];
      },
      rule: ownPort,
    },
    { method: 'DELETE', path: '/ports/:id', may: (_q, p) => hostOf(p.id!), rule: ownPort },
    { method: 'PUT', path: '/agents/:host', may: (_q, p) => [p.host!], rule: 'a node reports only its own agent' },
  ];
}

/** One request to a resource: its method, the ID and action after the resource's name, and how to answer. */
interface ApiRequest {
  readonly store: NeutronStore;
  readonly m: string | undefined;
  readonly key: string | undefined;
  readonly action: string | undefined;
  readonly url: URL;
  readonly readBody: () => Promise<unknown>;
  readonly ok: (body: unknown, status?: number) => true;
}

/** /v2.0/networks[/ID]; returns false when the method and path are none of its routes. */
async function networks({ store, m, key, action, readBody, ok }: ApiRequest): Promise<boolean> {
  if (!key && m === 'GET') return ok({ networks: store.networks() });
  if (!key && m === 'POST')
    return ok({ network: store.createNetwork(parse(bodies.network, await readBody()).network) }, 201);
  if (key && !action && m === 'GET') return ok({ network: store.network(key) });
  if (key && !action && m === 'DELETE') return (store.deleteNetwork(key), ok({ deleted: key }));
  return false;
}

/** /v2.0/subnets[/ID]; returns false when the method and path are none of its routes. */
async function subnets({ store, m, key, action, readBody, ok }: ApiRequest): Promise<boolean> {
  if (!key && m === 'GET') return ok({ subnets: store.subnets() });
  if (!key && m === 'POST')
    return ok({ subnet: store.createSubnet(parse(bodies.subnet, await readBody()).subnet) }, 201);
  if (key && !action && m === 'GET') return ok({ subnet: store.subnet(key) });
  if (key && !action && m === 'DELETE') return (store.deleteSubnet(key), ok({ deleted: key }));
  return false;
}

/** /v2.0/ports[/ID]; returns false when the method and path are none of its routes. */
async function ports({ store, m, key, action, url, readBody, ok }: ApiRequest): Promise<boolean> {
  if (!key && m === 'GET') {
    const q = (k: string): string | undefined => url.searchParams.get(k) ?? undefined;
    return ok({
      ports: store.ports({
        deviceId: q('deviceId'),
        hostId: q('hostId'),
        networkId: q('networkId'),
        deviceOwner: q('deviceOwner'),
      }),
    });
  }
  if (!key && m === 'POST') return ok({ port: store.createPort(parse(bodies.port, await readBody()).port) }, 201);
  if (key && !action && m === 'GET') {
    const status = url.searchParams.get('status');
    if (status === null) return ok({ port: store.port(key) });
    if (status !== 'ACTIVE' && status !== 'DOWN')
      throw new CnilabError('INVALID_INPUT', 'status: must be ACTIVE or DOWN');
    return ok({ port: await store.waitForStatus(key, status, numberParam(url, 'wait', 30, 60) * 1000) });
  }
  if (key && !action && m === 'PUT')
    return ok({ port: store.updatePort(key, parse(bodies.portUpdate, await readBody()).port) });
  if (key && !action && m === 'DELETE') return (store.deletePort(key), ok({ deleted: key }));
  return false;
}

/** /v2.0/agents[/HOST]; returns false when the method and path are none of its routes. */
async function agents({ store, m, key, action, readBody, ok }: ApiRequest): Promise<boolean> {
  if (!key && m === 'GET') return ok({ agents: store.agents() });
  if (key && !action && m === 'PUT') {
    const h = parse(host, key);
    return ok({ agent: store.reportAgent({ host: h, ...parse(bodies.agent, await readBody()).agent }) });
  }
  return false;
}

/** /v2.0/routers[/ID[/ACTION]]; returns false when the method and path are none of its routes. */
async function routers({ store, m, key, action, readBody, ok }: ApiRequest): Promise<boolean> {
  if (!key && m === 'GET') return ok({ routers: store.routers() });
  if (!key && m === 'POST') {
    const r = parse(bodies.router, await readBody()).router;
    return ok({ router: store.createRouter(r.name, r.host) }, 201);
  }
  if (key && !action && m === 'GET')
    return ok({ router: store.router(key), ports: store.ports({ deviceId: store.router(key).id }) });
  if (key && !action && m === 'DELETE') return (store.deleteRouter(key), ok({ deleted: key }));
  if (key && action === 'add_router_interface' && m === 'PUT')
    return ok({ port: store.addRouterInterface(key, parse(bodies.routerInterface, await readBody()).subnetId) });
  if (key && action === 'remove_router_interface' && m === 'PUT')
    return (store.removeRouterInterface(key, parse(bodies.routerInterface, await readBody()).subnetId), ok({}));
  return false;
}

/** /v2.0/state, long-polled with index and wait; returns false when the method and path are not its route. */
async function state({ store, m, key, url, ok }: ApiRequest): Promise<boolean> {
  if (!key && m === 'GET') {
    const index = url.searchParams.get('index');
    if (index !== null) {
      const n = Number(index);
      if (!Number.isInteger(n) || n < 0)
        throw new CnilabError('INVALID_INPUT', 'index: must be a non-negative integer');
      await store.waitForChange(n, numberParam(url, 'wait', 30, 60) * 1000);
    }
    return ok(store.state());
  }
  return false;
}

/** The handler of each resource, by its name in the path. */
const resources = new Map<string, (q: ApiRequest) => Promise<boolean>>([
  ['networks', networks],
  ['subnets', subnets],
  ['ports', ports],
  ['agents', agents],
  ['routers', routers],
  ['state', state],
]);

/** Serves /v2.0/…; returns false when the path is not the API's. */
export async function handleNeutron(
  store: NeutronStore,
  { req, res, url, parts, readBody, send }: ServiceRequest,
): Promise<boolean> {
  const [kind, key, action] = parts;
  const m = req.method;
  const ok = (body: unknown, status = 200): true => (send(res, status, body), true);
  const handler = kind === undefined ? undefined : resources.get(kind);
  if (handler && (await handler({ store, m, key, action, url, readBody, ok }))) return true;
  throw new CnilabError('NOT_FOUND', `no route ${m ?? ''} ${url.pathname}`);
}
