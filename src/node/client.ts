/**
 * How a node agent talks to its controller: JSON calls, a first call retried while the controller
 * may still be starting, and `follow`, the watch loop. The controller's watched resources
 * (/v1/leases, /v2.0/state, /v3/state) answer `?index=N&wait=S` once their index passes N, or after
 * S seconds with the same index; `follow` applies every snapshot whose index moved, and after a
 * failure asks again for the index it last applied, so a lost answer is never a lost change.
 */
import { CnilabError, messageOf } from '../lib/errors';
import { sleep } from '../lib/exec';
import { httpJson, type HttpJsonOptions } from '../lib/http-json';

/** A JSON request; any status from 300 up throws AGENT_FAILED naming the request and the API's error. */
export async function call<T>(url: string, options: HttpJsonOptions = {}): Promise<T> {
  const res = await httpJson<T & { error?: string }>(url, options);
  if (res.status >= 300)
    throw new CnilabError('AGENT_FAILED', `${options.method ?? 'GET'} ${url}: ${res.status} ${res.body.error ?? ''}`);
  return res.body;
}

export interface RetryOptions {
  readonly signal: AbortSignal;
  /** Tries before the last failure is thrown. Default: 1500. */
  readonly tries?: number;
  /** Pause between tries. Default: 20 ms (1500 × 20 ms: the 30 s a lab gives its processes to start). */
  readonly everyMs?: number;
  /** Told of each failed try before the pause. */
  readonly onRetry?: (attempt: number, error: unknown) => void;
}

/** Runs `attempt` until it succeeds: the controller may be starting at the same moment as the agent. */
export async function untilUp<T>(attempt: () => Promise<T>, o: RetryOptions): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (e) {
      if (o.signal.aborted || i + 1 >= (o.tries ?? 1500)) throw e;
      o.onRetry?.(i, e);
      await sleep(o.everyMs ?? 20, o.signal);
    }
  }
}

export interface FollowOptions<S extends { readonly index: number }> {
  /** The watched resource, e.g. http://198.18.0.1:2379/v1/leases; `?index=N&wait=S` is added. */
  readonly url: string;
  readonly signal: AbortSignal;
  /** Makes the node equal to a snapshot whose index moved; a throw is logged and the change asked again. */
  apply(snapshot: S): Promise<void>;
  readonly log: (line: string) => void;
  /** The index already applied. Default: none, so the first answer comes at once. */
  readonly from?: number;
  /** Pause after a failure. Default: 200 ms. */
  readonly retryMs?: number;
  /** The node's credential file, read at each request (lib/credential.ts). Default: none sent. */
  readonly credential?: string;
}

/** Follows the resource until `signal` aborts. */
export async function follow<S extends { readonly index: number }>(o: FollowOptions<S>): Promise<void> {
  let index = o.from ?? -1;
  while (!o.signal.aborted) {
    try {
      const snap = await call<S>(`${o.url}?index=${Math.max(index, 0)}&wait=${index < 0 ? 0 : 30}`, {
        signal: o.signal,
        ...(o.credential ? { credential: o.credential } : {}),
      });
      if (snap.index === index) continue;
      await o.apply(snap);
      index = snap.index;
    } catch (e) {
      if (o.signal.aborted) break;
      o.log(`sync failed, retrying: ${messageOf(e)}`);
      await sleep(o.retryMs ?? 200, o.signal).catch(() => undefined);
    }
  }
}
