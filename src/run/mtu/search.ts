/**
 * The largest payload a path carries with DF set, by probes (pure: the probe is given). A binary search between a
 * payload known to cross and the largest the sender's device takes, helped by what a loud failure says (an ICMP
 * frag-needed or ping's EMSGSIZE names an MTU: its payload is tried next). A lost packet looks like a black hole, so a
 * silent failure just above the answer is probed again before it is believed.
 */
import { ICMP_ECHO_OVERHEAD, type ProbeOutcome } from './ping-outcome';

/** One probe: an ICMP echo of `payload` bytes (ping -s) with DF set, and what came back. */
export type Probe = (payload: number) => Promise<ProbeOutcome>;

export interface SearchResult {
  /** The largest ICMP payload (ping -s) that crossed. */
  readonly largestPayload: number;
  /** What one byte more met: the failure the search ends on. */
  readonly above: ProbeOutcome;
  /** Probes sent. */
  readonly probes: number;
}

export interface SearchOptions {
  /** A payload that crossed already (the reachability check). */
  readonly floor: number;
  /** The largest payload the sender's device takes (its MTU less 28). */
  readonly ceiling: number;
  /** Probes again of a silent failure just above the answer (default 1). */
  readonly retries?: number;
}

/** The size to try between `lo` (crossed) and `hi` (failed): what hi's failure names, else the middle. */
export function nextSize(lo: number, hi: number, atHi: ProbeOutcome | undefined, tried: ReadonlySet<number>): number {
  const mtu = atHi && (atHi.kind === 'frag-needed' || atHi.kind === 'emsgsize') ? atHi.mtu : undefined;
  if (mtu !== undefined) {
    const named = mtu - ICMP_ECHO_OVERHEAD;
    if (named > lo && named < hi && !tried.has(named)) return named;
    if (named === lo && lo + 1 < hi && !tried.has(lo + 1)) return lo + 1;
  }
  return Math.floor((lo + hi) / 2);
}

export async function searchLargest(probe: Probe, o: SearchOptions): Promise<SearchResult> {
  const seen = new Map<number, ProbeOutcome>();
  const at = async (n: number): Promise<ProbeOutcome> => {
    const r = await probe(n);
    seen.set(n, r);
    return r;
  };
  let probes = 0;
  const counted = async (n: number): Promise<ProbeOutcome> => (probes++, at(n));
  let lo = o.floor;
  let hi = o.ceiling + 1;
  if ((await counted(o.ceiling)).kind === 'reply') lo = o.ceiling;
  else hi = o.ceiling;
  let retries = o.retries ?? 1;
  for (;;) {
    if (!seen.has(hi)) await counted(hi);
    while (hi - lo > 1) {
      const n = nextSize(lo, hi, seen.get(hi), new Set(seen.keys()));
      if ((await counted(n)).kind === 'reply') lo = n;
      else hi = n;
    }
    if (seen.get(hi)!.kind !== 'silent' || retries-- <= 0) break;
    if ((await counted(hi)).kind !== 'reply') continue;
    // It crossed after all: a lost packet. Search on above it, up to the smallest size that failed loudly or the top.
    lo = hi;
    hi = Math.min(o.ceiling + 1, ...[...seen].filter(([n, r]) => n > lo && r.kind !== 'reply').map(([n]) => n));
  }
  return { largestPayload: lo, above: seen.get(hi)!, probes };
}
