/**
 * The node agent's eBPF duties (Cilium's agent's, in small), run beside flannel's agent by the
 * ebpf architectures' agent process (agent-main.ts): load or reuse the data path's pinned programs and
 * maps, attach from_netdev to the underlay device's tc ingress (and from_tunnel to each VXLAN
 * device's: flannel.1, and flannel-v6.1 with IPv6), and keep the endpoint maps (endpoints,
 * endpoints6) in step with the pods: an endpoint whose veth is gone (its pod's namespace deleted
 * without a CNI DEL) is removed within a second.
 */
import { closeSync, existsSync } from 'node:fs';
import { BpfMap, objGet } from '../lib/bpf';
import { sleep } from '../lib/exec';
import { withRtnl } from '../lib/netlink/rtnl';
import { attachBpf } from '../lib/netlink/tc';
import { endpointSlot, pins, readEndpoints, type ProgramName } from '../cni/plugins/ebpf/maps';
import { loadDatapath } from './load';

export interface EbpfAgentOptions {
  /** The node's folder in the lab's bpffs. */
  readonly dir: string;
  /** The node's underlay device: from_netdev goes on its ingress. */
  readonly underlay: string;
  /** The VXLAN devices in tunnel mode (one per family on): from_tunnel goes on their ingress. */
  readonly tunnels?: readonly string[];
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

/** Removes the endpoints (both families) whose veth no longer exists in this namespace; returns how many. */
export function sweepEndpoints(dir: string): number {
  const p = pins(dir);
  let removed = 0;
  for (const [map, family] of [
    [p.endpoints, 4],
    [p.endpoints6, 6],
  ] as const) {
    if (family === 6 && !existsSync(map)) continue; // pinned by an object older than IPv6
    removed += BpfMap.with(map, (m) => {
      // the map first, then the links: a pod being added has its veth before its endpoint
      const endpoints = readEndpoints(m, family);
      if (endpoints.size === 0) return 0;
      const live = new Set(withRtnl(undefined, (nl) => nl.links()).map((l) => l.ifindex));
      let n = 0;
      for (const [ip, e] of endpoints) if (!live.has(e.ifindex) && m.delete(endpointSlot(p, ip).key)) n++;
      return n;
    });
  }
  return removed;
}

/** Loads (or reuses) and attaches the data path; the returned promise runs the sweep until `signal`. */
export async function startEbpf(o: EbpfAgentOptions, signal: AbortSignal): Promise<{ sweeping: Promise<void> }> {
  const how = await loadDatapath(o.dir);
  attachPinned(o.dir, o.underlay, 'from_netdev');
  const tunnels = o.tunnels ?? [];
  for (const t of tunnels) attachPinned(o.dir, t, 'from_tunnel');
  o.log(
    `eBPF data path ${how === 'reused' ? 'reused from its pins' : 'loaded'} in ${o.dir}; from_netdev on ` +
      `${o.underlay}${tunnels.length ? `, from_tunnel on ${tunnels.join(' and ')}` : ''}`,
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
