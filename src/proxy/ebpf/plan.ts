/**
 * What a sync writes to the proxy's maps, worked out before anything is written (pure, so the
 * unit tests see it): from what the maps hold (each Service port's id and backend count) and the
 * Service ports wanted, the entries to write and to delete — in the order that never shows the
 * programs a count larger than the backend slots written:
 *
 *   1. backend slots 0..n-1 of every Service port added or changed
 *   2. the Service ports' entries (id, count n, affinity)
 *   3. removed Service ports' entries
 *   4. slots n..old count-1 of shrunk ports, and every slot of removed ones
 *
 * An id is a Service port's for as long as it is in the map; a removed port's id is given to a
 * port added by a later sync, never the same one (its old slots are deleted after the new written).
 */
import type { ProxyService } from '../model';
import { serviceId, type Addr, type ServiceKey, type ServiceValue } from './maps';

/** What the maps hold for one Service port. */
export type Programmed = ServiceValue;

export interface Plan {
  readonly backendWrites: readonly { readonly id: number; readonly slot: number; readonly addr: Addr }[];
  readonly serviceWrites: readonly { readonly key: ServiceKey; readonly value: ServiceValue }[];
  readonly serviceDeletes: readonly ServiceKey[];
  readonly backendDeletes: readonly { readonly id: number; readonly slot: number }[];
  /** What the maps hold once the plan is written. */
  readonly after: ReadonlyMap<string, { readonly key: ServiceKey; readonly value: Programmed }>;
}

export const keyOf = (s: ProxyService): ServiceKey => ({ ip: s.clusterIp, port: s.port, protocol: s.protocol });

/** Whether two versions of a Service port program the same entries. */
export function sameEntries(a: ProxyService, b: ProxyService): boolean {
  return (
    (a.affinitySeconds ?? 0) === (b.affinitySeconds ?? 0) &&
    a.endpoints.length === b.endpoints.length &&
    a.endpoints.every((e, i) => e.ip === b.endpoints[i]!.ip && e.port === b.endpoints[i]!.port)
  );
}

/**
 * The plan from `held` (the maps now, by serviceId) to `wanted`. With `previous` (what the last
 * sync programmed) only the ports that differ from it are written; without, every one is.
 */
export function planSync(
  held: ReadonlyMap<string, { readonly key: ServiceKey; readonly value: Programmed }>,
  wanted: readonly ProxyService[],
  previous?: readonly ProxyService[],
): Plan {
  if (previous) {
    // The agent hands a port that did not change as the same object: only the others are keyed and
    // compared, so one change among 30,000 ports costs two set walks, not four maps of them all.
    const now = new Set(wanted);
    const was = new Set(previous);
    return planChanges(
      held,
      wanted.filter((s) => !was.has(s)),
      previous.filter((s) => !now.has(s)),
    );
  }
  return planChanges(held, wanted, undefined);
}

/**
 * The plan for `changed` ports (added or changed; with `gone`, the last sync's versions of the
 * ports changed or removed) — or, without `gone`, for `changed` as every port wanted, anything
 * else `held` deleted.
 */
function planChanges(
  held: ReadonlyMap<string, { readonly key: ServiceKey; readonly value: Programmed }>,
  changed: readonly ProxyService[],
  gone: readonly ProxyService[] | undefined,
): Plan {
  const previous = gone;
  const before = new Map((gone ?? []).map((s) => [serviceId(keyOf(s)), s]));
  const want = new Map(changed.map((s) => [serviceId(keyOf(s)), s]));
  // What goes: every held port not wanted (a full plan), or the gone ones not wanted again (partial).
  const leaving = gone
    ? [...before.keys()].filter((id) => !want.has(id) && held.has(id))
    : [...held.keys()].filter((id) => !want.has(id));
  const used = new Set([...held.values()].map((h) => h.value.id));
  let next = 1;
  const newId = (): number => {
    while (used.has(next)) next++;
    used.add(next);
    return next;
  };
  const backendWrites: { id: number; slot: number; addr: Addr }[] = [];
  const serviceWrites: { key: ServiceKey; value: ServiceValue }[] = [];
  const serviceDeletes: ServiceKey[] = [];
  const backendDeletes: { id: number; slot: number }[] = [];
  const after = new Map(held);
  for (const id of leaving) {
    const h = held.get(id)!;
    serviceDeletes.push(h.key);
    for (let slot = 0; slot < h.value.count; slot++) backendDeletes.push({ id: h.value.id, slot });
    after.delete(id);
  }
  for (const [sid, s] of want) {
    const h = held.get(sid);
    const old = before.get(sid);
    // The same object as last time is unchanged (the agent's view keeps it); else compare the entries.
    if (h && old && previous && (old === s || sameEntries(old, s))) continue;
    const value: ServiceValue = {
      id: h?.value.id ?? newId(),
      count: s.endpoints.length,
      affinitySeconds: s.affinitySeconds ?? 0,
    };
    s.endpoints.forEach((e, slot) => backendWrites.push({ id: value.id, slot, addr: { ip: e.ip, port: e.port } }));
    serviceWrites.push({ key: keyOf(s), value });
    for (let slot = value.count; slot < (h?.value.count ?? 0); slot++) backendDeletes.push({ id: value.id, slot });
    after.set(sid, { key: keyOf(s), value });
  }
  return { backendWrites, serviceWrites, serviceDeletes, backendDeletes, after };
}

/** How many map entries a plan writes or deletes: a SyncReport's `written`. */
export const planSize = (p: Plan): number =>
  p.backendWrites.length + p.serviceWrites.length + p.serviceDeletes.length + p.backendDeletes.length;
