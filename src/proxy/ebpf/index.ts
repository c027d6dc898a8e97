/**
 * Proxy mode `ebpf`: Cilium-style Service translation in eBPF at each pod's host-side veth, per
 * packet (bpf/service.c; docs/proxy-ebpf.md). A sync loads and pins the object once in the mode's
 * folder (on a bpffs), attaches the tc programs to every pod-facing interface that lacks them,
 * and writes only the map entries that changed, in batches.
 *
 * What the maps hold is cached per folder after a sync, so the next finds the ids of the Service
 * ports without walking the map; a process that has none (an agent restarted) reads the map.
 */
import { performance } from 'node:perf_hooks';
import { run } from '../../lib/exec';
import type { ProxyMode, ProxyNode, SyncReport } from '../mode';
import type { ProxyInput } from '../model';
import { applyPlan, readHeld } from './apply';
import { attachAll, detachAll, proxyFilters } from './attach';
import { attachCgroup, cgroupPrograms, detachCgroup, nodeCgroup } from './cgroup';
import { loadService, removePins, servicePins } from './load';
import { planSync, planSize, type Plan } from './plan';

const cache = new Map<string, Plan['after']>();

/** Loads (once), then writes the maps to match `input`; `attach` adds the mode's hooks. */
export async function syncMaps(
  node: ProxyNode,
  input: ProxyInput,
  previous: ProxyInput | undefined,
  attach: () => Promise<number>,
): Promise<SyncReport> {
  const started = performance.now();
  const fresh = (await loadService(node.dir)) === 'loaded';
  if (fresh) cache.delete(node.dir);
  const attached = await attach();
  const held = cache.get(node.dir) ?? readHeld(node.dir);
  const partial = previous !== undefined && !fresh;
  const plan = planSync(held, input.services, partial ? previous.services : undefined);
  cache.delete(node.dir); // a write that fails half-way leaves the map to be read again
  applyPlan(node.dir, plan);
  cache.set(node.dir, plan.after);
  return { kind: partial ? 'partial' : 'full', ms: performance.now() - started, written: planSize(plan) + attached };
}

export async function bpftoolVersion(): Promise<string> {
  const r = await run('bpftool', ['version'], { check: false }).catch(() => undefined);
  return r?.code === 0 ? (/^bpftool v\S+/m.exec(r.stdout)?.[0] ?? 'bpftool') : 'bpftool (not installed)';
}

export const ebpfProxy: ProxyMode = {
  name: 'ebpf',
  translates: 'ebpf',
  summary: "eBPF on the pods' veths (tc): each packet to a ClusterIP DNATed to an endpoint, replies reverse-NATed",
  requires: ['ebpf'],
  pins: true,
  sync: (node, input, previous) => syncMaps(node, input, previous, () => attachAll(node.netns, node.dir)),
  async cleanup(node) {
    await detachAll(node.netns);
    removePins(node.dir);
    cache.delete(node.dir);
  },
  backend: bpftoolVersion,
  async leftovers(node) {
    return [...(await proxyFilters(node.netns)).map((f) => `tc filter ${f}`), ...servicePins(node.dir)];
  },
};

/**
 * Proxy mode `ebpf-sock`: the same maps, translated at connect() and sendmsg() by programs on the
 * node's pods' cgroup (cgroup.ts) — a socket talks to the backend itself, no packet is rewritten;
 * recvmsg() and getpeername() show the ClusterIP. A Service port without endpoints: connect()
 * fails at once (EPERM).
 */
export const ebpfSockProxy: ProxyMode = {
  name: 'ebpf-sock',
  translates: 'ebpf',
  summary: "eBPF on the pods' cgroup: connect() and sendmsg() to a ClusterIP go to an endpoint, no packet translated",
  requires: ['ebpf'],
  pins: true,
  sync: (node, input, previous) => syncMaps(node, input, previous, () => attachCgroup(node.netns, node.dir)),
  async cleanup(node) {
    await detachCgroup(node.netns);
    removePins(node.dir);
    cache.delete(node.dir);
  },
  backend: bpftoolVersion,
  async leftovers(node) {
    const cg = nodeCgroup(node.netns);
    return [
      ...(await cgroupPrograms(cg)).map((a) => `cgroup ${cg} ${a.attach_type} ${a.name}`),
      ...servicePins(node.dir),
    ];
  },
};
