/**
 * ADD retried as kubelet retries a pod's sandbox: only when the plugin said "try again later" (CNI
 * error 11 — its controller is down or restarting), and each time DEL first, so what a half ADD
 * left (an address held, a port created before the controller died) is cleaned, idempotently,
 * before the next ADD. The pauses double from `firstMs` up to `maxMs`; once they would pass
 * `totalMs` the last error is thrown, saying how long it was retried. Any other error is final.
 * Giving up after a half ADD, it DELs once more (best effort), so no address or port stays held.
 */
import { sleep } from '../lib/exec';
import type { CniRuntime, RuntimeConf } from './runtime';
import { CniCode, CniError, type NetConfList, type Result } from './types';

export interface BackOff {
  /** The first pause, ms. Default: 200. */
  readonly firstMs: number;
  /** The longest pause, ms. Default: 3,200. */
  readonly maxMs: number;
  /** The pauses in all stay within this, ms. Default: 60,000. */
  readonly totalMs: number;
}

export const DEFAULT_BACK_OFF: BackOff = { firstMs: 200, maxMs: 3200, totalMs: 60_000 };

/** The pauses before each retry: doubling from firstMs, capped at maxMs, their sum at most totalMs. */
export function backOffSchedule(b: BackOff = DEFAULT_BACK_OFF): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let d = b.firstMs; sum + d <= b.totalMs; d = Math.min(d * 2, b.maxMs)) {
    out.push(d);
    sum += d;
  }
  return out;
}

/** One retry about to wait: which, how long, and the error that caused it. */
export interface RetryEvent {
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: CniError;
}

export interface RetryOptions {
  readonly signal?: AbortSignal;
  /** Default: DEFAULT_BACK_OFF. */
  readonly backOff?: BackOff;
  /** Told before each pause (progress: "waiting for the controller"). Default: nothing. */
  readonly onRetry?: (e: RetryEvent) => void;
}

export const isTryAgainLater = (e: unknown): e is CniError =>
  e instanceof CniError && e.code === CniCode.TRY_AGAIN_LATER;

/**
 * `attempt` until it succeeds, after a pause and `cleanup` each time it fails with error 11; a
 * cleanup that fails with 11 too (the controller still down) skips that round's attempt (one that
 * fails otherwise does not: DEL of what never was may fail). The runtime-free core of `addWithRetry`.
 */
export async function retryTransient<T>(
  attempt: () => Promise<T>,
  cleanup: () => Promise<void>,
  o: RetryOptions = {},
): Promise<T> {
  const schedule = backOffSchedule(o.backOff);
  let last: CniError | undefined;
  let waited = 0;
  try {
    for (let i = 0; ; i++) {
      const cleaned =
        i === 0 ||
        (await cleanup().then(
          () => true,
          (e: unknown) => !isTryAgainLater(e),
        ));
      if (cleaned) {
        try {
          return await attempt();
        } catch (e) {
          if (!isTryAgainLater(e)) throw e;
          last = e;
        }
      }
      const delayMs = schedule[i];
      if (delayMs === undefined || o.signal?.aborted)
        throw new CniError(
          last!.code,
          `${last!.message} (retried ${i} times over ${(waited / 1000).toFixed(1)} s)`,
          last!.details,
        );
      o.onRetry?.({ attempt: i + 1, delayMs, error: last! });
      await sleep(delayMs, o.signal);
      waited += delayMs;
    }
  } catch (e) {
    // Given up (out of time, aborted, or a final error after a half ADD): what a half ADD left goes
    // too, as far as a DEL can take it now — the error stays the ADD's.
    if (last) await cleanup().catch(() => undefined);
    throw e;
  }
}

/** ADD through the chain, retried on error 11 with DEL first (kubelet's way), bounded by `o.backOff`. */
export function addWithRetry(
  runtime: CniRuntime,
  list: NetConfList,
  rt: RuntimeConf,
  o: RetryOptions = {},
): Promise<Result> {
  return retryTransient(
    () => runtime.addNetworkList(list, rt, o.signal),
    () => runtime.delNetworkList(list, rt, o.signal),
    o,
  );
}
