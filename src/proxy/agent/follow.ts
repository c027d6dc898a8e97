/**
 * The proxy agent's view of the cluster's Services: it long-polls the API server's /api/proxy for
 * the changes since the revision it holds (the whole set the first time, or when it fell behind)
 * and keeps every Service port by name, as kube-proxy keeps its ServicePortName maps.
 */
import type { ProxyInput, ProxyService } from '../model';

/** One answer of GET /api/proxy?since=R. */
export interface ProxyChanges {
  readonly revision: number;
  /** true: `services` is every Service port, and what the agent held before is gone. */
  readonly full: boolean;
  readonly services: readonly ProxyService[];
  readonly removed: readonly { readonly name: string; readonly portName: string }[];
  readonly clusterCidr: string;
  readonly serviceCidr: string;
}

const keyOf = (s: { readonly name: string; readonly portName: string }): string => `${s.name}:${s.portName}`;

const byName = (a: ProxyService, b: ProxyService): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : a.portName < b.portName ? -1 : a.portName > b.portName ? 1 : 0;

/** The Service ports a node's proxy knows, moved on by each answer. */
export class ServiceView {
  private readonly ports = new Map<string, ProxyService>();
  private cidrs = { clusterCidr: '', serviceCidr: '' };
  /** The ports' keys in name order, kept until a port comes or goes (a change in place keeps it). */
  private order: string[] | undefined;
  revision = 0;

  /** Takes an answer in: false when it brings nothing new (the long poll ended without a change). */
  apply(c: ProxyChanges): boolean {
    if (c.revision === this.revision && !c.full) return false;
    if (c.full || c.removed.length > 0) this.order = undefined;
    if (c.full) this.ports.clear();
    for (const r of c.removed) this.ports.delete(keyOf(r));
    for (const s of c.services) {
      const k = keyOf(s);
      if (!this.ports.has(k)) this.order = undefined;
      this.ports.set(k, s);
    }
    this.cidrs = { clusterCidr: c.clusterCidr, serviceCidr: c.serviceCidr };
    this.revision = c.revision;
    return true;
  }

  /**
   * What the node's proxy must program now, in name order. A port that did not change is the same
   * object as in the last input (a mode may skip it by identity); sorting 30,000 ports again is
   * left for when one comes or goes.
   */
  input(node: string): ProxyInput {
    this.order ??= [...this.ports.values()].sort(byName).map(keyOf);
    return { node, ...this.cidrs, services: this.order.map((k) => this.ports.get(k)!) };
  }
}
