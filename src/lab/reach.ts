/**
 * Reachability of a lab, by real traffic: pairs of pods on different nodes, and a ping from each
 * pair's first pod's namespace to the second's address until it is answered (or a deadline).
 * What the scale benchmark and tests use to say "every pod reaches every other node's pods".
 */
import { CnilabError } from '../lib/errors';
import { runIn } from '../lib/netns';
import { Pool } from '../lib/pool';
import { settleAll } from '../lib/settle';
import type { PodState } from './state';

export interface PodPair {
  readonly from: PodState;
  readonly to: PodState;
}

/** `count` pairs of pods on different nodes, spread over all pods, the same for the same seed (pure). */
export function samplePairs(pods: readonly PodState[], count: number, seed = 1): PodPair[] {
  let s = seed >>> 0 || 1;
  const rand = (n: number): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  if (new Set(pods.map((p) => p.node)).size < 2) return [];
  const pairs: PodPair[] = [];
  while (pairs.length < count) {
    const from = pods[rand(pods.length)]!;
    const to = pods[rand(pods.length)]!;
    if (from.node !== to.node) pairs.push({ from, to });
  }
  return pairs;
}

/**
 * Pings every pair (8 at a time) until each is answered once; throws TRAFFIC_FAILED naming the
 * pairs still unanswered after `timeoutMs` (default 30 s).
 */
export async function untilReachable(
  pairs: readonly PodPair[],
  o: { readonly timeoutMs?: number; readonly signal?: AbortSignal } = {},
): Promise<void> {
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  const pool = new Pool(8);
  const failed: PodPair[] = [];
  await settleAll(
    pairs.map((pair) =>
      pool.run(async () => {
        for (;;) {
          o.signal?.throwIfAborted();
          const r = await runIn({ name: pair.from.netns }, 'ping', ['-n', '-q', '-c', '1', '-W', '1', pair.to.ip], {
            check: false,
            signal: o.signal,
          });
          if (r.code === 0) return;
          if (Date.now() > deadline) return void failed.push(pair);
        }
      }),
    ),
  );
  if (failed.length > 0)
    throw new CnilabError(
      'TRAFFIC_FAILED',
      `${failed.length} of ${pairs.length} pod pairs unreachable, e.g. ${failed
        .slice(0, 3)
        .map((p) => `${p.from.name} → ${p.to.name} (${p.to.ip})`)
        .join(', ')}`,
    );
}
