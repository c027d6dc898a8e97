/**
 * flannel's subnet API, served by the control node's process (see controller/server.ts):
 *   GET    /v1/config                 network configuration
 *   GET    /v1/leases?index=N&wait=S  all leases; with index, waits (long-poll, ≤ S s) for a newer index
 *   PUT    /v1/leases/NODE            acquire or renew {publicIp, publicIpv6?, backendType, backendData}
 *   DELETE /v1/leases/NODE            release
 * Every request body is validated; a bad one gets a 400 naming the field. Who may call each route:
 * LEASE_RULES (a node reads every lease, writes only its own).
 */
import { z } from 'zod';
import type { RouteRule } from '../../controller/auth/rules';
import { longPoll, type ServiceRequest } from '../../controller/service';
import { ipFamily, isIPv4 } from '../../lib/ip';
import type { LeaseStore } from './lease-store';

const leaseBody = z.strictObject({
  publicIp: z.string().refine(isIPv4, 'must be an IPv4 address'),
  publicIpv6: z
    .string()
    .refine((s) => ipFamily(s) === 6 && !s.includes('%'), 'must be an IPv6 address')
    .optional(),
  backendType: z.string().regex(/^[a-z][a-z0-9-]{0,15}$/, 'must be a backend name'),
  backendData: z
    .record(z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,31}$/, 'keys must be short identifiers'), z.string().max(256))
    .optional(),
});

const NODE = /^[a-z][a-z0-9-]{0,14}$/;

const OWN_LEASE = 'a node writes only its own lease';
/** Who may call each route of the lease API (the administrator may call every one). */
export const LEASE_RULES: readonly RouteRule[] = [
  { method: 'GET', path: '/config', may: 'nodes', rule: 'every node reads the network’s configuration' },
  { method: 'GET', path: '/leases', may: 'nodes', rule: 'every node reads every lease: its peers' },
  { method: 'PUT', path: '/leases/:node', may: (_q, p) => [p.node!], rule: OWN_LEASE },
  { method: 'DELETE', path: '/leases/:node', may: (_q, p) => [p.node!], rule: OWN_LEASE },
];

/** Answers a request under /v1; false when the path is none of the lease API's. */
export async function handleLeases(
  store: LeaseStore,
  { req, res, url, parts, readBody, send }: ServiceRequest,
): Promise<boolean> {
  if (req.method === 'GET' && url.pathname === '/v1/config') return (send(res, 200, store.config), true);
  if (req.method === 'GET' && url.pathname === '/v1/leases') {
    await longPoll(url, (n, ms) => store.waitForChange(n, ms));
    return (send(res, 200, store.snapshot()), true);
  }
  if (parts.length === 2 && parts[0] === 'leases') {
    const node = parts[1]!;
    if (!NODE.test(node)) return (send(res, 400, { error: `node: ${JSON.stringify(node)} is not a node name` }), true);
    if (req.method === 'PUT') {
      const parsed = leaseBody.safeParse(await readBody());
      if (!parsed.success) {
        const i = parsed.error.issues[0]!;
        return (send(res, 400, { error: `${i.path.join('.') || 'body'}: ${i.message}` }), true);
      }
      return (send(res, 200, store.acquire({ node, ...parsed.data })), true);
    }
    if (req.method === 'DELETE') return (send(res, store.release(node) ? 200 : 404, { node }), true);
  }
  return false;
}
