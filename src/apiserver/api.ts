/**
 * The API server's HTTP API, served by the controller under /api (see controller/server.ts):
 *   GET    /api/pods                     {revision, pods}
 *   PUT    /api/pods/NAME                {node, ip, labels?} → the pod (labels absent: kept)
 *   DELETE /api/pods/NAME                → {name}
 *   PUT    /api/pods/NAME/labels         {labels} → the pod (replaces; the CLI merges)
 *   GET    /api/services                 {revision, services} (each with its endpoints)
 *   GET    /api/services/NAME            the Service with its endpoints
 *   POST   /api/services                 a Service spec → 201 the Service; {services: [...]} → 201
 *                                        {revision, services}, all or none
 *   DELETE /api/services/NAME            → {name}
 *   DELETE /api/services                 {names: [...]} → {revision, names}: all or none, one revision
 *   GET    /api/proxy?since=R&wait=S     what a proxy programs (proxy-view.ts): waits (≤ S s, at most
 *                                        60) for a revision above R; everything when R is 0 or too old
 *   GET    /api/policies                 {revision, policies} (NetworkPolicies, validated and defaulted)
 *   PUT    /api/policies                 {items: [NetworkPolicy documents]} → {revision, applied: [{key,
 *                                        outcome}]}: kubectl apply's create-or-replace, all or none
 *   DELETE /api/policies                 {keys: ["namespace/name"…]} → {revision, deleted}, all or none
 *   GET    /api/policy/NODE?since=R&wait=S  what NODE's policy agent programs (policy/model.ts's
 *                                        PolicyInput), once the revision is above R (≤ S s)
 * A bad body or parameter gets 400 naming the field; a name or ClusterIP taken, 409. Who may call
 * each route: API_RULES (pods: the owning node; Services: read by every node, written by the
 * administrator).
 */
import { z } from 'zod';
import type { RouteRule } from '../controller/auth/rules';
import type { ServiceRequest } from '../controller/service';
import { CnilabError, messageOf } from '../lib/errors';
import { toPolicy } from '../policy/spec';
import { firstIssue, labelsBody, nodeName, podBody, podName, serviceSpecSchema } from './model';
import type { ApiStore } from './store';

const OWN_PODS = 'a node registers, labels and removes only its own pods';
const SERVICES_ADMIN = 'Services are the administrator’s';
const READS = 'every node reads the Services and their endpoints';
const POLICIES_ADMIN = 'NetworkPolicies are the administrator’s';

/** The nodes owning pod `name`: its node now, and for a PUT the node the body names. */
function podOwners(store: ApiStore, withBody: boolean) {
  return async (q: ServiceRequest, p: Readonly<Record<string, string>>): Promise<string[]> => {
    const owners = [store.pod(p.name!)?.node];
    if (withBody) {
      const body = await q.readBody().catch(() => undefined);
      const parsed = podBody.safeParse(body);
      if (parsed.success) owners.push(parsed.data.node);
    }
    return owners.filter((o): o is string => o !== undefined);
  };
}

/** Who may call each route of the API (the administrator may call every one). */
export function apiRules(store: ApiStore): readonly RouteRule[] {
  return [
    { method: 'GET', path: '/pods', may: 'nodes', rule: 'every node reads the pods' },
    { method: 'PUT', path: '/pods/:name', may: podOwners(store, true), rule: OWN_PODS },
    { method: 'DELETE', path: '/pods/:name', may: podOwners(store, false), rule: OWN_PODS },
    { method: 'PUT', path: '/pods/:name/labels', may: podOwners(store, false), rule: OWN_PODS },
    { method: 'GET', path: '/services', may: 'nodes', rule: READS },
    { method: 'GET', path: '/services/:name', may: 'nodes', rule: READS },
    { method: 'POST', path: '/services', may: 'admin', rule: SERVICES_ADMIN },
    { method: 'DELETE', path: '/services', may: 'admin', rule: SERVICES_ADMIN },
    { method: 'DELETE', path: '/services/:name', may: 'admin', rule: SERVICES_ADMIN },
    { method: 'GET', path: '/proxy', may: 'nodes', rule: 'every node reads what its proxy programs' },
    { method: 'GET', path: '/policies', may: 'nodes', rule: 'every node reads the NetworkPolicies' },
    { method: 'PUT', path: '/policies', may: 'admin', rule: POLICIES_ADMIN },
    { method: 'DELETE', path: '/policies', may: 'admin', rule: POLICIES_ADMIN },
    {
      method: 'GET',
      path: '/policy/:node',
      may: (_q, p) => Promise.resolve([p.node!]),
      rule: 'a node reads only its own share of the policies',
    },
  ];
}

const batchBody = z.strictObject({ services: z.array(z.unknown()).min(1).max(100_000) });
const namesBody = z.strictObject({ names: z.array(z.string()).min(1).max(100_000) });
const itemsBody = z.strictObject({ items: z.array(z.unknown()).min(1).max(100_000) });
const keysBody = z.strictObject({ keys: z.array(z.string()).min(1).max(100_000) });

function parse<S extends z.ZodType>(schema: S, body: unknown, prefix = ''): z.output<S> {
  const r = schema.safeParse(body);
  if (!r.success) throw new CnilabError('INVALID_INPUT', firstIssue(r.error, prefix));
  return r.data;
}

function name(value: string, what: string): string {
  return parse(podName, value, what);
}

/** A non-negative integer query parameter, `fallback` when absent. */
function count(url: URL, key: string, fallback: number): number {
  const v = url.searchParams.get(key);
  if (v === null) return fallback;
  const n = Number(v);
  if (v === '' || !Number.isInteger(n) || n < 0)
    throw new CnilabError('INVALID_INPUT', `${key}: ${JSON.stringify(v)} must be a non-negative integer`);
  return n;
}

/** POST /api/services: one spec, or a batch {services: [...]}. */
async function create(store: ApiStore, q: ServiceRequest): Promise<void> {
  const body = await q.readBody();
  if (body !== null && typeof body === 'object' && 'services' in body) {
    const { services } = parse(batchBody, body);
    const specs = services.map((s, i) => parse(serviceSpecSchema, s, `services.${i}`));
    const made = store.createServices(specs, (i) => `services.${i}`);
    return q.send(q.res, 201, { revision: store.index, services: made.map((s) => store.service(s.name)) });
  }
  const [made] = store.createServices([parse(serviceSpecSchema, body)]);
  q.send(q.res, 201, store.service(made!.name));
}

/** Answers a request under /api; false when the path is none of the API's. */
export async function handleApi(store: ApiStore, q: ServiceRequest): Promise<boolean> {
  const { req, res, url, parts, send } = q;
  const [what, id, sub] = parts;
  const m = req.method;
  if (what === 'proxy' && parts.length === 1 && m === 'GET') {
    const since = count(url, 'since', 0);
    const wait = Math.min(count(url, 'wait', 0), 60);
    if (since > 0) await store.waitForChange(since, wait * 1000);
    return (send(res, 200, store.proxy(since)), true);
  }
  if (what === 'policies' || what === 'policy') return handlePolicies(store, q);
  if (what === 'pods') {
    if (parts.length === 1 && m === 'GET') return (send(res, 200, store.pods()), true);
    if (parts.length === 2 && m === 'PUT') {
      const body = parse(podBody, await q.readBody());
      return (send(res, 200, store.putPod(name(id!, 'name'), body, q.caller)), true);
    }
    if (parts.length === 2 && m === 'DELETE') {
      if (!store.deletePod(name(id!, 'name'), q.caller))
        throw new CnilabError('POD_NOT_FOUND', `pod ${id}: no such pod`);
      return (send(res, 200, { name: id }), true);
    }
    if (parts.length === 3 && sub === 'labels' && m === 'PUT') {
      const { labels } = parse(labelsBody, await q.readBody());
      return (send(res, 200, store.setLabels(name(id!, 'name'), labels, q.caller)), true);
    }
  }
  if (what === 'services') {
    if (parts.length === 1 && m === 'GET') return (send(res, 200, store.services()), true);
    if (parts.length === 1 && m === 'POST') return (await create(store, q), true);
    if (parts.length === 1 && m === 'DELETE') {
      const { names } = parse(namesBody, await q.readBody());
      const gone = store.deleteServices(names);
      return (send(res, 200, { revision: store.index, names: gone }), true);
    }
    if (parts.length === 2 && m === 'GET') {
      const s = store.service(id!);
      return (send(res, s ? 200 : 404, s ?? { error: `Service ${id}: no such Service` }), true);
    }
    if (parts.length === 2 && m === 'DELETE') {
      if (!store.deleteService(id!)) throw new CnilabError('NOT_FOUND', `Service ${id}: no such Service`);
      return (send(res, 200, { name: id }), true);
    }
  }
  return false;
}

/** The policy routes; false when the path is none of theirs. */
async function handlePolicies(store: ApiStore, q: ServiceRequest): Promise<boolean> {
  const { req, res, url, parts, send } = q;
  const [what, id] = parts;
  const m = req.method;
  if (what === 'policy' && parts.length === 2 && m === 'GET') {
    const node = parse(nodeName, id, 'node');
    const since = count(url, 'since', 0);
    const wait = Math.min(count(url, 'wait', 0), 60);
    if (since > 0) await store.waitForChange(since, wait * 1000);
    return (send(res, 200, store.policies.input(node, store.pods().pods)), true);
  }
  if (what !== 'policies' || parts.length !== 1) return false;
  if (m === 'GET') return (send(res, 200, store.policies.list()), true);
  if (m === 'PUT') {
    const { items } = parse(itemsBody, await q.readBody());
    const policies = items.map((doc, i) => {
      try {
        return toPolicy(doc);
      } catch (e) {
        throw new CnilabError('INVALID_INPUT', `items[${i}].${messageOf(e)}`);
      }
    });
    return (send(res, 200, store.policies.apply(policies)), true);
  }
  if (m === 'DELETE') {
    const { keys } = parse(keysBody, await q.readBody());
    return (send(res, 200, store.policies.delete(keys)), true);
  }
  return false;
}
