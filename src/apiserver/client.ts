/**
 * The lab's side of the API server: requests as the administrator over the controller's Unix
 * socket (controlRequest), an answer other than 2xx thrown as the CnilabError its status means,
 * and a controller that does not mount the API server named as such.
 */
import { CnilabError, type ErrorCode } from '../lib/errors';
import { controlRequest, controlRequestAnswered } from '../lab/processes';
import type { ProcessState } from '../lab/state';
import type { Labels, Pod, ServiceSpec, ServiceView } from './model';

const CODES: Readonly<Record<number, ErrorCode>> = {
  400: 'INVALID_INPUT',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'BODY_TOO_LARGE',
};

/**
 * For the lab's own idempotent requests (a pod's PUT or DELETE during a join): asked again while
 * the controller does not answer or answers 5xx — it may be restarting — as long as `controller`
 * (its process record) lives or was restarted (lab/processes.ts `controlRequestAnswered`).
 */
export interface AskAgain {
  readonly controller?: readonly ProcessState[];
  readonly signal?: AbortSignal;
}

/** `method path` of lab `lab`'s API server, as the administrator; its JSON answer, or the error it means. */
export async function apiRequest<T>(
  lab: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
  o: AskAgain = {},
): Promise<T> {
  const ask = async <U>(m: typeof method, p: string, b?: unknown) => {
    try {
      return o.controller
        ? await controlRequestAnswered<U & { error?: string }>(lab, m, p, b, o.controller, o.signal)
        : await controlRequest<U & { error?: string }>(lab, m, p, b);
    } catch (e) {
      throw new CnilabError(
        'NOT_FOUND',
        `lab ${lab}: no controller answers (its architecture runs none, or it is down)`,
        {
          cause: e,
        },
      );
    }
  };
  const r = await ask<T>(method, path, body);
  if (r.status < 300) return r.body;
  if (r.status === 404 && (await ask<unknown>('GET', '/api/services')).status === 404)
    throw new CnilabError('NOT_FOUND', `lab ${lab}: its controller does not serve the API server (/api)`);
  throw new CnilabError(CODES[r.status] ?? 'INTERNAL', r.body.error ?? `${method} ${path}: HTTP ${r.status}`);
}

/** Registers `pods` (their labels beside the two every pod gets) with lab `lab`'s API server. */
export async function registerPods(
  lab: string,
  pods: readonly { name: string; node: string; ip: string; labels?: Labels }[],
  o: AskAgain = {},
): Promise<Pod[]> {
  const done: Pod[] = [];
  for (const p of pods)
    done.push(
      await apiRequest<Pod>(lab, 'PUT', `/api/pods/${p.name}`, { node: p.node, ip: p.ip, labels: p.labels ?? {} }, o),
    );
  return done;
}

/** Creates `specs` in lab `lab`'s API server, all or none (one batch: at most 64 KiB of JSON). */
export async function createServices(lab: string, specs: readonly ServiceSpec[]): Promise<ServiceView[]> {
  if (specs.length === 0) return [];
  return (await apiRequest<{ services: ServiceView[] }>(lab, 'POST', '/api/services', { services: specs })).services;
}

/**
 * Deletes Services `names` from lab `lab`'s API server: a batch per 64 KiB of JSON, each all or
 * none at one revision (the API server's batch DELETE). Returns the API server's revision after.
 */
export async function deleteServices(lab: string, names: readonly string[]): Promise<number | undefined> {
  let revision: number | undefined;
  let batch: string[] = [];
  let size = 16;
  const send = async (): Promise<void> => {
    revision = (await apiRequest<{ revision: number }>(lab, 'DELETE', '/api/services', { names: batch })).revision;
    batch = [];
    size = 16;
  };
  for (const n of names) {
    if (batch.length > 0 && size + n.length + 3 > 60 * 1024) await send();
    batch.push(n);
    size += n.length + 3;
  }
  if (batch.length > 0) await send();
  return revision;
}
