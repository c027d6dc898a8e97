/**
 * The store's in-memory view, for what must not cost a scan: which pods a Service selects, and
 * which Services a pod's change touches. Three indexes, all kept on every change:
 *   - pods by label pair ("k=v" → pods): a selector's endpoints are the intersection of its pairs'
 *     sets, walked from the smallest;
 *   - selector Services by their first pair: a pod can only match a Service indexed under one of
 *     its own pairs, so the candidates of a pod are a few lookups, not every Service;
 *   - list Services by the pods they name.
 * A pod change marks exactly the Services whose endpoints differ between before and after:
 * matched on one side only, or on both with another address or node (an endpoint carries both).
 */
import { parseAddr } from '../lib/ip';

/** An address's place in order: IPv4's below IPv6's, each by value. */
function addressKey(ip: string): bigint {
  const a = parseAddr(ip);
  return a === undefined ? -1n : a.family === 4 ? a.value : (1n << 32n) + a.value;
}
import type { EndpointPod, Labels, Pod, Service } from './model';

const pair = (k: string, v: string): string => `${k}=${v}`;

function addTo(index: Map<string, Set<string>>, key: string, value: string): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom(index: Map<string, Set<string>>, key: string, value: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}

/** Whether `labels` hold every pair of `selector`. */
export function selects(selector: Labels, labels: Labels): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export class Selection {
  readonly pods = new Map<string, Pod>();
  readonly services = new Map<string, Service>();
  private readonly podsByPair = new Map<string, Set<string>>();
  private readonly bySelectorPair = new Map<string, Set<string>>();
  private readonly byPodName = new Map<string, Set<string>>();

  setPod(p: Pod): void {
    this.removePod(p.name);
    this.pods.set(p.name, p);
    for (const [k, v] of Object.entries(p.labels)) addTo(this.podsByPair, pair(k, v), p.name);
  }

  removePod(name: string): void {
    const old = this.pods.get(name);
    if (!old) return;
    for (const [k, v] of Object.entries(old.labels)) removeFrom(this.podsByPair, pair(k, v), name);
    this.pods.delete(name);
  }

  addService(s: Service): void {
    this.services.set(s.name, s);
    if (s.selector) addTo(this.bySelectorPair, firstPair(s.selector), s.name);
    for (const p of s.pods ?? []) addTo(this.byPodName, p, s.name);
  }

  removeService(name: string): void {
    const s = this.services.get(name);
    if (!s) return;
    if (s.selector) removeFrom(this.bySelectorPair, firstPair(s.selector), name);
    for (const p of s.pods ?? []) removeFrom(this.byPodName, p, name);
    this.services.delete(name);
  }

  /** Whether Service `s` has pod `p` among its endpoints. */
  matches(s: Service, p: Pod): boolean {
    return s.selector ? selects(s.selector, p.labels) : (s.pods ?? []).includes(p.name);
  }

  /** The pods behind `s`, sorted by address (then name). */
  endpoints(s: Service): EndpointPod[] {
    const names = s.selector ? this.selected(s.selector) : (s.pods ?? []).filter((n) => this.pods.has(n));
    return (
      names
        .map((n) => this.pods.get(n)!)
        // IPv4 before IPv6 (an IPv6-only lab's pods are addressed in IPv6), each by value.
        .map(({ name, node, ip }) => ({ pod: name, node, ip, n: addressKey(ip) }))
        .sort((a, b) => (a.n < b.n ? -1 : a.n > b.n ? 1 : a.pod.localeCompare(b.pod)))
        .map(({ pod, node, ip }) => ({ pod, node, ip }))
    );
  }

  /** The Services whose endpoints differ between pod `before` and pod `after` (either may be absent). */
  affected(before: Pod | undefined, after: Pod | undefined): string[] {
    const candidates = new Set<string>();
    for (const p of [before, after]) {
      if (!p) continue;
      for (const [k, v] of Object.entries(p.labels))
        for (const s of this.bySelectorPair.get(pair(k, v)) ?? []) candidates.add(s);
      for (const s of this.byPodName.get(p.name) ?? []) candidates.add(s);
    }
    const moved = before && after && (before.ip !== after.ip || before.node !== after.node);
    return [...candidates].filter((name) => {
      const s = this.services.get(name)!;
      const was = before !== undefined && this.matches(s, before);
      const is = after !== undefined && this.matches(s, after);
      return was !== is || (was && is && moved);
    });
  }

  private selected(selector: Labels): string[] {
    const sets = Object.entries(selector).map(([k, v]) => this.podsByPair.get(pair(k, v)) ?? new Set<string>());
    sets.sort((a, b) => a.size - b.size);
    const [smallest, ...rest] = sets;
    return [...smallest!].filter((n) => rest.every((s) => s.has(n)));
  }
}

/** The pair a selector Service is indexed under: its first key in sorted order. */
function firstPair(selector: Labels): string {
  const k = Object.keys(selector).sort()[0]!;
  return pair(k, selector[k]!);
}
