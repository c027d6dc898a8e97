/**
 * The ebpf architectures' control plane: flannel's (the lease store hands each node its pod
 * subnet; an agent per node leases it and programs the routes to the peers — host-gw's in native
 * mode, flannel's VXLAN device and entries in tunnel mode), plus the eBPF data path: the lab
 * mounts a bpffs in its run folder, each agent loads the programs and maps into its node's folder
 * of it and attaches them to its devices, and pods are attached by the `ebpf` CNI plugin.
 * NetworkPolicy: the `ebpf` design (src/ebpf/policy/), in the same programs, on the same pins.
 */
import { proxyModes } from '../proxy';
import { join } from 'node:path';
import type { ControlPlane } from '../arch/architecture';
import { NETWORK_NAME } from '../arch/architecture';
import { flannelControlPlane, type ConflistContext } from '../flannel/control-plane';
import type { BackendConfig } from '../flannel/subnet/model';
import type { NetConfList } from '../cni/types';
import { addressAt, cidrSize, formatCidr, formatIPv4, parseCidr } from '../lib/ip';
import { ipv4Of } from '../cni/plugins/flannel/subnet-env';
import { mountBpffs } from '../lib/mounts';
import { ebpfProbe } from './probe';
import { runDir } from '../lab/names';
import { legacyProgramMeters, ProgramMeter } from './meter';
import { ebpfPolicy } from './policy/design';

/** The lab's bpffs, in its run folder (never the host's /sys/fs/bpf). */
export const bpffsDir = (lab: string): string => join(runDir(lab), 'bpf');
/** A node's folder in it: progs/ and maps/ (src/cni/plugins/ebpf/maps.ts). */
export const nodeBpfDir = (lab: string, node: string): string => join(bpffsDir(lab), node);

/** A node's pods: the `ebpf` plugin, host-local on the node's leased subnet (.2 to the last but one). */
function ebpfConflist(ctx: ConflistContext): NetConfList {
  const subnet = parseCidr(ipv4Of(ctx.subnetEnv).subnet);
  return {
    cniVersion: '1.0.0',
    name: NETWORK_NAME,
    plugins: [
      {
        type: 'ebpf',
        mtu: ctx.subnetEnv.mtu,
        bpfDir: nodeBpfDir(ctx.lab, ctx.node),
        ipam: {
          type: 'host-local',
          ranges: [
            [
              {
                subnet: formatCidr(subnet),
                rangeStart: formatIPv4(addressAt(subnet, 2)),
                rangeEnd: formatIPv4(addressAt(subnet, cidrSize(subnet) - 2)),
              },
            ],
          ],
          dataDir: ctx.ipamDir,
        },
      },
    ],
  };
}

export const EBPF_DATAPATH =
  'kernel, past the IP stack: tc eBPF programs (bpf_redirect_peer to local pods; bpf_fib_lookup + ' +
  'bpf_redirect/bpf_redirect_neigh to other nodes)';

export function ebpfControlPlane(
  backend: BackendConfig,
): ControlPlane & { readonly kind: 'ebpf'; readonly backend: BackendConfig } {
  const base = flannelControlPlane(backend, ebpfConflist, {
    prepare: (topology) => mountBpffs(bpffsDir(topology.name)),
    agentMain: join(__dirname, 'agent-main.js'),
    agentArgs: (lab, node) => ['--ebpf-dir', nodeBpfDir(lab, node)],
  });
  return {
    ...base,
    kind: 'ebpf',
    datapath: () => EBPF_DATAPATH,
    meters: (lab, nodes) => new ProgramMeter([...new Set(nodes)].map((node) => ({ node, dir: nodeBpfDir(lab, node) }))),
    legacyMeters: { rowField: 'ebpf', pathField: 'programs', read: legacyProgramMeters },
    probes: [ebpfProbe],
    policy: { designs: [ebpfPolicy], stateDir: nodeBpfDir },
    refuse: (topology) => base.refuse?.(topology) ?? proxyRefused(topology.proxy),
  };
}

/**
 * Why a netfilter proxy cannot run on this data path (docs/services.md): its programs move a pod's
 * packets past the node's IP stack, so netfilter never sees them, and a DNAT would never be undone
 * on the reply. Cilium's eBPF host routing likewise needs its kube-proxy replacement. A proxy that
 * translates in eBPF at the pod's interface (ebpf) runs before this data path's own programs.
 */
export const PROXY_REFUSED =
  "proxy: this data path's tc programs move pods' packets past the node's IP stack, where a netfilter proxy " +
  "translates (as Cilium's eBPF host routing needs its kube-proxy replacement): use --proxy ebpf here, or " +
  'flannel-vxlan or another architecture that routes through the node';

/** Why this data path refuses the proxy mode `mode`; undefined for none, or one that translates in eBPF. */
function proxyRefused(mode: string | undefined): string | undefined {
  if (mode === undefined || !proxyModes.has(mode)) return undefined;
  return proxyModes.get(mode).translates === 'ebpf' ? undefined : PROXY_REFUSED;
}
