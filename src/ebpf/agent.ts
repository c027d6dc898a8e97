/**
 * The node agent's eBPF duties (Cilium's agent's, in small), run beside flannel's agent by the
 * ebpf architectures' agent process (agent-main.ts): load or reuse the data path's pinned programs and
 * maps, attach from_netdev to the underlay device's tc ingress (and from_tunnel to the VXLAN
 * device's), and keep the endpoint map in step with the pods: an endpoint whose veth is gone (its
 * pod's namespace deleted without a CNI DEL) is removed within a second.
 */
import { closeSync } from 'node:fs';
import { BpfMap, objGet } from '../lib/bpf';
import { sleep } from '../lib/exec';
import { withRtnl } from '../lib/netlink/rtnl';
import { attachBpf } from '../lib/netlink/tc';
import { encodeKey, pins, readEndpoints, type ProgramName } from '../cni/plugins/ebpf/maps';
import { loadDatapath } from './load';

export interface EbpfAgentOptions {
  /** The node's folder in the lab's bpffs. */
  readonly dir: string;
  /** The node's underlay device: from_netdev goes on its ingress. */
  readonly underlay: string;
  /** The VXLAN device in tunnel mode: from_tunnel goes on its ingress. */
  readonly tunnel?: string;
  readonly log: (line: string) => void;
}

/** Attaches the pinned `program` to `dev`'s tc ingress (replacing the one there, in one step). */
export function attachPinned(dir: string, dev: string, program: ProgramName): void {
  const fd = objGet(pins(dir).progs[program]);
  try {
    withRtnl(undefined, (nl) => attachBpf(nl, nl.index(dev), dev, 'ingress', fd, program));
  } finally {
    closeSync(fd);
  }
}

/** Removes the endpoints whose veth no longer exists in this namespace; returns how many. */
export function sweepEndpoints(dir: string): number {
  return BpfMap.with(pins(dir).endpoints, (m) => {
    // the map first, then the links: a pod being added has its veth before its endpoint
    const endpoints = readEndpoints(m);
    if (endpoints.size === 0) return 0;
    const live = new Set(withRtnl(undefined, (nl) => nl.links()).map((l) => l.ifindex));
    let removed = 0;
    for (const [ip, e] of endpoints) if (!live.has(e.ifindex) && m.delete(encodeKey(ip))) removed++;
    return removed;
  });
}

/** Loads (or reuses) and attaches the data path; the returned promise runs the sweep until `signal`. */
export async function startEbpf(o: EbpfAgentOptions, signal: AbortSignal): Promise<{ sweeping: Promise<void> }> {
  const how = await loadDatapath(o.dir);
  attachPinned(o.dir, o.underlay, 'from_netdev');
  if (o.tunnel) attachPinned(o.dir, o.tunnel, 'from_tunnel');
  o.log(
    `eBPF data path ${how === 'reused' ? 'reused from its pins' : 'loaded'} in ${o.dir}; from_netdev on ` +
      `${o.underlay}${o.tunnel ? `, from_tunnel on ${o.tunnel}` : ''}`,
  );
  const sweeping = (async () => {
    while (!signal.aborted) {
      await sleep(1000, signal).catch(() => undefined);
      if (signal.aborted) return;
      try {
        const n = sweepEndpoints(o.dir);
        if (n) o.log(`removed ${n} endpoint(s) whose veth is gone`);
      } catch (e) {
        o.log(`endpoint sweep failed: ${String(e)}`);
      }
    }
  })();
  return { sweeping };
}
