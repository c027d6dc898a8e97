/**
 * Pods: a namespace each, attached through the CNI runtime running "on" their node. Every attach
 * of this process takes a slot of one pool (`ATTACH_POOL`): 20 nodes attaching at once share it, so
 * a 1,000-pod lab runs a bounded number of plugins at a time, not 2 per node (40 processes
 * fighting for 2 cores). An ADD that fails with CNI error 11 (the controller is down or restarting)
 * is retried as kubelet retries it, DEL first, with bounded back-off (cni/add-retry.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { run } from '../lib/exec';
import { CNI_BIN_DIR } from '../lib/paths';
import { ipJson, netnsPath } from '../lib/netns';
import { CniRuntime } from '../cni/runtime';
import { addWithRetry, type RetryEvent } from '../cni/add-retry';
import { outOfCni, type NetConfList, type Result } from '../cni/types';
import { CnilabError } from '../lib/errors';
import { settleAll } from '../lib/settle';
import { Pool } from '../lib/pool';
import { POD_IF } from '../arch/architecture';
import type { PodSpec } from '../topology/schema';
import { labEnv } from './processes';
import { nodeNetns, podNetns, runDir } from './names';
import type { PodState } from './state';

/** The CNI runtime of one node: plugins run in the node's namespace, with the lab's minimal environment. */
export function runtimeFor(lab: string, node: string): CniRuntime {
  return new CniRuntime({
    cniPath: [CNI_BIN_DIR],
    cacheDir: join(runDir(lab), 'cni-cache', node),
    hostNetns: { name: nodeNetns(lab, node) },
    env: labEnv(),
  });
}

export function conflistFile(lab: string, node: string): string {
  return join(runDir(lab), 'nodes', node, 'cnilab.conflist');
}

export function writeConflist(lab: string, node: string, list: NetConfList): void {
  mkdirSync(join(runDir(lab), 'nodes', node), { recursive: true });
  writeFileSync(conflistFile(lab, node), JSON.stringify(list, null, 2) + '\n');
}

/** What the progress listener hears: a pod's ADD waiting to be retried. */
export interface AttachWait extends RetryEvent {
  readonly pod: string;
  readonly node: string;
}

let progress: ((w: AttachWait) => void) | undefined;

/** Tells `listener` of every ADD this process waits to retry (the CLI prints it); undefined: nobody. */
export function onAttachWait(listener: ((w: AttachWait) => void) | undefined): void {
  progress = listener;
}

/**
 * How many pods this process attaches at once: twice the CPUs (a plugin waits on the kernel and
 * on `ip` part of its time), at least 2. The lab is CPU-bound past that: docs/scale.md.
 */
export const ATTACH_POOL = new Pool(Math.max(2, 2 * availableParallelism()));

/** Creates the pods' namespaces, then runs CNI ADD for each with `list`, in ATTACH_POOL's slots. */
export async function attachPods(
  lab: string,
  pods: readonly PodSpec[],
  list: NetConfList,
  signal?: AbortSignal,
): Promise<PodState[]> {
  if (pods.length === 0) return [];
  await run('ip', ['-batch', '-'], {
    input: pods.map((p) => `netns add ${podNetns(lab, p.name)}`).join('\n') + '\n',
    signal,
  });
  return settleAll(pods.map((pod) => ATTACH_POOL.run(() => attachOne(lab, pod, list, signal), pod.node)));
}

async function attachOne(lab: string, pod: PodSpec, list: NetConfList, signal?: AbortSignal): Promise<PodState> {
  signal?.throwIfAborted();
  const ns = podNetns(lab, pod.name);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up'], { signal });
  const containerId = `${lab}-${pod.name}`;
  const t0 = performance.now();
  const rt = { containerId, netns: netnsPath({ name: ns }), ifName: POD_IF };
  const result = await addWithRetry(runtimeFor(lab, pod.node), list, rt, {
    signal,
    onRetry: (e) => progress?.({ ...e, pod: pod.name, node: pod.node }),
  }).catch((e: unknown) => {
    throw outOfCni(e, `pod ${pod.name} on ${pod.node}: `);
  });
  const addMs = performance.now() - t0;
  const [link] = await ipJson<{ mtu: number }[]>({ name: ns }, ['link', 'show', 'dev', POD_IF]);
  return {
    name: pod.name,
    node: pod.node,
    netns: ns,
    containerId,
    ...podAddresses(result, pod.name),
    mtu: link?.mtu ?? 0,
    addMs: Math.round(addMs * 10) / 10,
  };
}

/**
 * The pod's addresses from its ADD's result: the first is its `ip` (conflists list their ranges in the topology's
 * ipFamilies order, so it is the first family's), and all of them in `ips` when it has more than one (dual-stack).
 */
function podAddresses(result: Result, pod: string): Pick<PodState, 'ip' | 'ips'> {
  const all = (result.ips ?? []).map((i) => i.address.split('/')[0]!);
  if (!all[0]) throw new CnilabError('CNI_ERROR', `CNI ADD for pod ${pod} returned no IP address`);
  return { ip: all[0], ...(all.length > 1 ? { ips: all } : {}) };
}
