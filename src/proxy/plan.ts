/**
 * What a sync must write, shared by the modes: everything (the first sync, after a failure, or
 * when the cluster's ranges changed), or only the Service ports that differ from the last sync —
 * kube-proxy's partial sync. A Service port is known by its ServicePortName and protocol, the
 * string kube-proxy hashes into its chain names.
 */
import { servicePortName, type ProxyInput, type ProxyService } from './model';

/** A Service port's identity across syncs: "default/NAME:PORT" + protocol. */
export const serviceKey = (s: ProxyService): string => `${servicePortName(s)}${s.protocol}`;

export type SyncPlan =
  | { readonly kind: 'full' }
  | {
      readonly kind: 'partial';
      /** Keys of the Service ports added or changed since the last sync: their rules are rewritten. */
      readonly changed: ReadonlySet<string>;
      /** The last sync's version of every Service port changed or removed: what may have to go. */
      readonly stale: readonly ProxyService[];
    };

/** Same content: the model is plain data, sorted (model.ts), so its JSON is canonical. */
const same = (a: ProxyService, b: ProxyService): boolean => JSON.stringify(a) === JSON.stringify(b);

export function planSync(input: ProxyInput, previous: ProxyInput | undefined): SyncPlan {
  if (
    previous === undefined ||
    previous.clusterCidr !== input.clusterCidr ||
    previous.serviceCidr !== input.serviceCidr ||
    previous.node !== input.node
  )
    return { kind: 'full' };
  const before = new Map(previous.services.map((s) => [serviceKey(s), s]));
  const changed = new Set<string>();
  const stale: ProxyService[] = [];
  for (const s of input.services) {
    const key = serviceKey(s);
    const old = before.get(key);
    before.delete(key);
    if (old !== undefined && same(old, s)) continue;
    changed.add(key);
    if (old !== undefined) stale.push(old);
  }
  stale.push(...before.values());
  return { kind: 'partial', changed, stale };
}
