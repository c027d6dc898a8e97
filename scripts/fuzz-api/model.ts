/**
 * What the API fuzzer expects the controller to hold, kept from the answers it got: each lease,
 * IPAM node and allocation, network, subnet, port, router and agent a 2xx created and no 2xx removed.
 * After the run the stores must hold exactly this (nothing changed that no answer owned up to), and
 * every write a node's credential made must have touched only that node's objects (`ownership`).
 */
import { resolveRoute } from './routes';

/** One answered request, as the model reads it. */
export interface Exchange {
  readonly method: string;
  /** The path as the server saw it (normalised, no query). */
  readonly pathname: string;
  /** The node whose credential it carried; undefined for the administrator. */
  readonly node: string | undefined;
  /** The request body parsed as JSON; undefined when it was none or not JSON. */
  readonly body: unknown;
  readonly status: number;
  /** The answer parsed as JSON; undefined when it was not JSON. */
  readonly answer: unknown;
}

interface PortInfo {
  hostId: string;
  networkId: string;
  subnetId: string;
  deviceId: string;
  deviceOwner: string;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export class Model {
  readonly leases = new Set<string>();
  readonly ipamNodes = new Set<string>();
  /** `node handle` of each allocation. */
  readonly allocations = new Set<string>();
  readonly networks = new Map<string, string>();
  readonly subnets = new Map<string, string>();
  readonly ports = new Map<string, PortInfo>();
  readonly routers = new Map<string, string>();
  readonly agents = new Set<string>();

  /**
   * IDs and names of what exists of a kind, in the order it was created: the same seed then picks the same
   * objects again, though the controller gives them other random IDs in another run.
   */
  refs(kind: 'networks' | 'subnets' | 'ports' | 'routers'): string[] {
    if (kind === 'networks') return [...this.networks.keys(), ...this.networks.values()];
    if (kind === 'routers') return [...this.routers.keys(), ...this.routers.values()];
    return [...(kind === 'subnets' ? this.subnets : this.ports).keys()];
  }

  /**
   * Why exchange `x` (a 2xx to a node) wrote what is not that node's, or undefined. Checked before `apply`,
   * against what the model held when the request was sent.
   */
  ownership(x: Exchange): string | undefined {
    if (x.node === undefined || x.status < 200 || x.status > 299) return undefined;
    const r = resolveRoute(x.method, x.pathname);
    if (!r) return x.method === 'GET' || x.method === 'HEAD' ? undefined : `a node's ${x.method} answered ${x.status}`;
    const t = `${r.spec.method} ${r.spec.template}`;
    const p = r.params;
    const owner = ((): string | string[] | undefined => {
      switch (t) {
        case 'PUT /v1/leases/:node':
        case 'DELETE /v1/leases/:node':
        case 'PUT /v3/nodes/:node':
        case 'DELETE /v3/nodes/:node':
          return p.node;
        case 'PUT /v2.0/agents/:host':
          return p.host;
        case 'POST /v3/ipam/assign':
          return str(obj(x.answer).node);
        case 'POST /v3/ipam/gc':
          return str(obj(x.body).node);
        case 'GET /v3/ipam/allocations':
          return (obj(x.answer).allocations as unknown[] | undefined)?.map((a) => str(obj(a).node)) ?? [];
        case 'POST /v2.0/ports':
          // Neutron's policy: device owners `network:*` are the administrator's (a router's leg, a DHCP port).
          if (str(obj(obj(x.answer).port).deviceOwner).startsWith('network:')) return '(the administrator)';
          return str(obj(obj(x.answer).port).hostId);
        case 'PUT /v2.0/ports/:id':
          return [this.ports.get(p.id!)?.hostId ?? '?', str(obj(obj(x.answer).port).hostId)];
        case 'DELETE /v2.0/ports/:id':
          return this.ports.get(p.id!)?.hostId ?? '?';
        default:
          return r.spec.method === 'GET' || t === 'POST /v3/ipam/release' ? undefined : '(the administrator)';
      }
    })();
    if (owner === undefined) return undefined;
    const others = [owner].flat().filter((o) => o !== x.node);
    return others.length ? `node ${x.node}'s ${t} (${x.status}) touched ${others.join(', ')}'s` : undefined;
  }

  /** Takes in what a 2xx (or the 404 of a node's removal, which still frees its blocks) changed. */
  apply(x: Exchange): void {
    const r = resolveRoute(x.method, x.pathname);
    if (!r) return;
    const t = `${r.spec.method} ${r.spec.template}`;
    if (t === 'DELETE /v3/nodes/:node' && x.status === 404) return this.dropIpamNode(r.params.node!);
    if (x.status < 200 || x.status > 299) return;
    const p = r.params;
    const a = obj(x.answer);
    const b = obj(x.body);
    const port = obj(a.port);
    switch (t) {
      case 'PUT /v1/leases/:node':
        return void this.leases.add(p.node!);
      case 'DELETE /v1/leases/:node':
        return void this.leases.delete(p.node!);
      case 'PUT /v3/nodes/:node':
        return void this.ipamNodes.add(p.node!);
      case 'DELETE /v3/nodes/:node':
        return this.dropIpamNode(p.node!);
      case 'POST /v3/ipam/assign':
        return void this.allocations.add(`${str(a.node)} ${str(a.handle)}`);
      case 'POST /v3/ipam/release':
        for (const k of [...this.allocations])
          if (k.slice(k.indexOf(' ') + 1) === str(b.handle) && (x.node === undefined || k.startsWith(`${x.node} `)))
            this.allocations.delete(k);
        return;
      case 'POST /v3/ipam/gc':
        for (const h of (a.released as unknown[] | undefined) ?? [])
          this.allocations.delete(`${str(b.node)} ${str(h)}`);
        return;
      case 'POST /v2.0/networks':
        return void this.networks.set(str(obj(a.network).id), str(obj(a.network).name));
      case 'DELETE /v2.0/networks/:id': {
        const id = this.idOf(this.networks, p.id!);
        for (const [s, net] of [...this.subnets]) if (net === id) this.subnets.delete(s);
        return void this.networks.delete(id);
      }
      case 'POST /v2.0/subnets':
        return void this.subnets.set(str(obj(a.subnet).id), str(obj(a.subnet).networkId));
      case 'DELETE /v2.0/subnets/:id':
        return void this.subnets.delete(p.id!);
      case 'POST /v2.0/ports':
      case 'PUT /v2.0/ports/:id':
      case 'PUT /v2.0/routers/:id/add_router_interface':
        return void this.ports.set(str(port.id), {
          hostId: str(port.hostId),
          networkId: str(port.networkId),
          subnetId: str(port.subnetId),
          deviceId: str(port.deviceId),
          deviceOwner: str(port.deviceOwner),
        });
      case 'DELETE /v2.0/ports/:id':
        return void this.ports.delete(p.id!);
      case 'PUT /v2.0/agents/:host':
        return void this.agents.add(p.host!);
      case 'POST /v2.0/routers':
        return void this.routers.set(str(obj(a.router).id), str(obj(a.router).name));
      case 'DELETE /v2.0/routers/:id':
      case 'PUT /v2.0/routers/:id/remove_router_interface': {
        const id = this.idOf(this.routers, p.id!);
        for (const [k, v] of [...this.ports])
          if (v.deviceId === id && v.deviceOwner === 'network:router_interface')
            if (t.startsWith('DELETE') || v.subnetId === str(b.subnetId)) this.ports.delete(k);
        if (t.startsWith('DELETE')) this.routers.delete(id);
        return;
      }
    }
  }

  private dropIpamNode(node: string): void {
    this.ipamNodes.delete(node);
    for (const k of [...this.allocations]) if (k.startsWith(`${node} `)) this.allocations.delete(k);
  }

  /** The ID of `key` (an ID or a name) in `m` (ID → name). */
  private idOf(m: Map<string, string>, key: string): string {
    if (m.has(key)) return key;
    for (const [id, name] of m) if (name === key) return id;
    return key;
  }
}
