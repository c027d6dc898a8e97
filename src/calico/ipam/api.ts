/**
 * The Calico IPAM and node API, served by the control node's process (see controller/server.ts):
 *   GET    /v3/state?index=N&wait=S   pool, nodes and blocks; with index, long-polls (≤ S s) for a newer index
 *   PUT    /v3/nodes/NODE             register or update {ip, ip6?, vtepMac?, vtepIp?, wireguardPublicKey?, wireguardIp?}
 *   DELETE /v3/nodes/NODE             a node leaves: its blocks and addresses are freed
 *   POST   /v3/ipam/assign            {handle, node, family?: 4|6} → the handle's address of that family (default
 *                                      4; a block claimed if needed)
 *   POST   /v3/ipam/release           {handle} → how many addresses were freed
 *   POST   /v3/ipam/gc                {node, prefix, keep: [handle]} → the handles released
 *   GET    /v3/ipam/allocations?node=NODE
 * Every body is validated; a bad one gets a 400 naming the field. Who may call each route:
 * ipamRules (a node reads the state, writes only its own node, addresses and handles).
 */
import { z } from 'zod';
import type { RouteRule } from '../../controller/auth/rules';
import { longPoll, type ServiceRequest } from '../../controller/service';
import { ipFamily, isIPv4 } from '../../lib/ip';
import type { IpamStore } from './store';

const NODE = /^[a-z][a-z0-9-]{0,14}$/;
const nodeName = z.string().regex(NODE, 'must be a node name');
const handle = z.string().min(1).max(256);
const bodies = {
  node: z.strictObject({
    ip: z.string().refine(isIPv4, 'must be an IPv4 address'),
    ip6: z
      .string()
      .refine((s) => ipFamily(s) === 6 && !s.includes('%'), 'must be an IPv6 address')
      .optional(),
    vtepMac: z
      .string()
      .regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, 'must be a MAC address like 0a:1b:2c:3d:4e:5f')
      .optional(),
    vtepIp: z.string().refine(isIPv4, 'must be an IPv4 address').optional(),
    wireguardPublicKey: z
      .string()
      .regex(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/, 'must be a WireGuard public key (32 bytes in base64)')
      .optional(),
    wireguardIp: z.string().refine(isIPv4, 'must be an IPv4 address').optional(),
  }),
  assign: z.strictObject({ handle, node: nodeName, family: z.union([z.literal(4), z.literal(6)]).optional() }),
  release: z.strictObject({ handle }),
  gc: z.strictObject({ node: nodeName, prefix: z.string().max(256), keep: z.array(handle).max(100_000) }),
};

/** The string `key` of a JSON body, or undefined: a body without it is the handler's to refuse (400). */
async function field(q: ServiceRequest, key: string): Promise<string | undefined> {
  const body = await q.readBody();
  const v = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' ? v : undefined;
}

const own = (v: string | undefined): string[] => (v === undefined ? [] : [v]);

/**
 * Who may call each route of the IPAM API (the administrator may call every one). A release names
 * only a handle: its owners are the nodes holding addresses for it, looked up in the store, and
 * the write is scoped to the caller.
 */
export function ipamRules(store: IpamStore): readonly RouteRule[] {
  const self = 'a node registers and removes only itself';
  return [
    { method: 'GET', path: '/state', may: 'nodes', rule: 'every node reads the pool, the nodes and the blocks' },
    { method: 'PUT', path: '/nodes/:node', may: (_q, p) => [p.node!], rule: self },
    { method: 'DELETE', path: '/nodes/:node', may: (_q, p) => [p.node!], rule: self },
    {
      method: 'POST',
      path: '/ipam/assign',
      may: async (q) => own(await field(q, 'node')),
      rule: 'a node takes addresses only from its own blocks',
    },
    {
      method: 'POST',
      path: '/ipam/release',
      may: async (q) => {
        const h = await field(q, 'handle');
        const owners = h === undefined ? [] : store.handleOwners(h);
        // A handle the caller holds is its to release, even if another node took the same name: the
        // release is scoped to the caller (handleIpam), so the other's addresses stay.
        return q.caller !== undefined && owners.includes(q.caller) ? [q.caller] : owners;
      },
      rule: 'a node releases only the addresses it holds',
    },
    {
      method: 'POST',
      path: '/ipam/gc',
      may: async (q) => own(await field(q, 'node')),
      rule: 'a node collects only its own handles',
    },
    {
      method: 'GET',
      path: '/ipam/allocations',
      may: (q) => [q.url.searchParams.get('node') ?? ''],
      rule: 'a node lists only its own allocations (?node=NODE)',
    },
  ];
}

async function parse<T>(schema: z.ZodType<T>, readBody: () => Promise<unknown>): Promise<T | string> {
  const parsed = schema.safeParse(await readBody());
  if (parsed.success) return parsed.data;
  const i = parsed.error.issues[0]!;
  return `${i.path.join('.') || 'body'}: ${i.message}`;
}

/** Answers a request under /v3; false when the path is none of this API's. */
export async function handleIpam(
  store: IpamStore,
  { req, res, url, parts, readBody, send, caller }: ServiceRequest,
): Promise<boolean> {
  const route =
    `${req.method} /${parts.slice(0, 1).join('/')}` +
    `${parts.length > 1 && parts[0] === 'ipam' ? `/${parts[1]}` : ''}`;
  const bad = (msg: string): boolean => (send(res, 400, { error: msg }), true);
  switch (route) {
    case 'GET /state': {
      await longPoll(url, (n, ms) => store.waitForChange(n, ms));
      return (send(res, 200, store.snapshot()), true);
    }
    case 'PUT /nodes':
    case 'DELETE /nodes': {
      const name = parts[1] ?? '';
      if (parts.length !== 2 || !NODE.test(name)) return bad(`node: ${JSON.stringify(name)} is not a node name`);
      if (req.method === 'DELETE') return (send(res, store.deleteNode(name) ? 200 : 404, { node: name }), true);
      const body = await parse(bodies.node, readBody);
      if (typeof body === 'string') return bad(body);
      return (send(res, 200, store.putNode({ name, ...body })), true);
    }
    case 'POST /ipam/assign': {
      const body = await parse(bodies.assign, readBody);
      if (typeof body === 'string') return bad(body);
      return (send(res, 200, store.assign(body.handle, body.node, body.family ?? 4)), true);
    }
    case 'POST /ipam/release': {
      const body = await parse(bodies.release, readBody);
      if (typeof body === 'string') return bad(body);
      // The rule checked the handle's owners before; scoped to the caller, a handle another node took
      // since is not released either.
      return (send(res, 200, { released: store.release(body.handle, caller) }), true);
    }
    case 'POST /ipam/gc': {
      const body = await parse(bodies.gc, readBody);
      if (typeof body === 'string') return bad(body);
      return (send(res, 200, { released: store.gc(body.node, body.prefix, body.keep) }), true);
    }
    case 'GET /ipam/allocations':
      return (send(res, 200, { allocations: store.allocations(url.searchParams.get('node') ?? undefined) }), true);
    default:
      return false;
  }
}
