/**
 * The API server's answer to a proxy: every Service port (proxy/model.ts's ProxyService, the unit a
 * proxy mode programs) with its endpoints resolved — each a pod behind the Service, at the port's
 * targetPort — or only those changed since the revision the proxy saw, and those removed.
 */
import type { ProxyService } from '../proxy/model';
import type { ApiConfig, ServiceView } from './model';

export interface ProxyAnswer {
  /** The store's revision this answer is at: ask `since` it next. */
  readonly revision: number;
  /** True: `services` is everything (replace what you hold); false: only what changed after `since`. */
  readonly full: boolean;
  readonly clusterCidr: string;
  readonly serviceCidr: string;
  /** Sorted by name, then portName; a changed Service comes with all its ports. */
  readonly services: readonly ProxyService[];
  /** Service ports removed after `since` (none when full). */
  readonly removed: readonly { readonly name: string; readonly portName: string }[];
}

/** Each port of each Service of `views` as a ProxyService. */
export function proxyServices(views: readonly ServiceView[]): ProxyService[] {
  const out: ProxyService[] = [];
  for (const s of views)
    for (const p of s.ports)
      out.push({
        name: s.name,
        portName: p.name,
        clusterIp: s.clusterIp,
        port: p.port,
        protocol: p.protocol,
        ...(s.affinitySeconds ? { affinitySeconds: s.affinitySeconds } : {}),
        endpoints: s.endpoints.map((e) => ({ ip: e.ip, port: p.targetPort, node: e.node, pod: e.pod })),
      });
  return out.sort((a, b) => cmp(a.name, b.name) || cmp(a.portName, b.portName));
}

export function proxyAnswer(
  config: ApiConfig,
  revision: number,
  full: boolean,
  views: readonly ServiceView[],
  removed: readonly { name: string; portName: string }[],
): ProxyAnswer {
  return {
    revision,
    full,
    clusterCidr: config.clusterCidr,
    serviceCidr: config.serviceCidr,
    services: proxyServices(views),
    removed: [...removed].sort((a, b) => cmp(a.name, b.name) || cmp(a.portName, b.portName)),
  };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
