/**
 * The ebpf architectures' control plane: flannel's (the lease store hands each node its pod
 * subnet; an agent per node leases it and programs the routes to the peers — host-gw's in native
 * mode, flannel's VXLAN device and entries in tunnel mode), plus the eBPF data path: the lab
 * mounts a bpffs in its run folder, each agent loads the programs and maps into its node's folder
 * of it and attaches them to its devices, and pods are attached by the `ebpf` CNI plugin.
 * NetworkPolicy: the `ebpf` design (src/ebpf/policy/), in the same programs, on the same pins.
 *
 * IPv6 and dual-stack (docs/ipv6.md): flannel's IPv6 leases (host-gw routes via the peers' IPv6
 * underlay addresses, or flannel-v6.1), the programs' IPv6 paths, the pods' IPv6 addresses from
 * host-local on the node's FLANNEL_IPV6_SUBNET. NetworkPolicy and Services stay IPv4: the ebpf
 * policy design is IPv4 only (an IPv6 lab gets none by default and refuses it by name: see
 * src/lab/policy.ts), and a lab with IPv6 refuses a proxy here (its translation is IPv4 only).
 */
import { proxyModes } from '../proxy';
import { join } from 'node:path';
import type { ControlPlane } from '../arch/architecture';
import type { Topology } from '../topology/schema';
import { NETWORK_NAME } from '../arch/architecture';
import { flannelControlPlane, type ConflistContext } from '../flannel/control-plane';
import type { BackendConfig } from '../flannel/subnet/model';
import type { NetConfList } from '../cni/types';
import { addressAt, cidrSize, formatAddr, formatCidr, formatIPv4, lastOf, parseCidr, parsePrefix } from '../lib/ip';
import { familyOf, networkOf } from '../cni/plugins/flannel/subnet-env';
import { CnilabError } from '../lib/errors';
import { mountBpffs } from '../lib/mounts';
import { ebpfProbe, netkitProbe } from './probe';
import { runDir } from '../lab/names';
import { legacyProgramMeters, ProgramMeter } from './meter';
import { ebpfPolicy } from './policy/design';

/** The lab's bpffs, in its run folder (never the host's /sys/fs/bpf). */
export const bpffsDir = (lab: string): string => join(runDir(lab), 'bpf');
/** A node's folder in it: progs/ and maps/ (src/cni/plugins/ebpf/maps.ts). */
export const nodeBpfDir = (lab: string, node: string): string => join(bpffsDir(lab), node);

/**
 * One host-local range on the node's leased subnet of a family (subnet.env writes it as its gateway
 * address, e.g. 10.244.1.1/24, fd00:10:244:1::1/64): its second address to the last but one. No
 * gateway: the pods' is link-local (common/l3-pod.ts).
 */
function leaseRange(leased: string): Record<string, string> {
  if (!leased.includes(':')) {
    const subnet = parseCidr(leased);
    return {
      subnet: formatCidr(subnet),
      rangeStart: formatIPv4(addressAt(subnet, 2)),
      rangeEnd: formatIPv4(addressAt(subnet, cidrSize(subnet) - 2)),
    };
  }
  const p = parsePrefix(networkOf(leased))!;
  const at = (value: bigint): string => formatAddr({ family: 6, value });
  return { subnet: networkOf(leased), rangeStart: at(p.base + 2n), rangeEnd: at(lastOf(p) - 1n) };
}

/**
 * A node's pods: the `ebpf` plugin, host-local with one range per family of the topology, in its
 * order (the first is the pods' primary address), each on the node's leased subnet of that family.
 */
export function ebpfConflist(ctx: ConflistContext, device: PodDevice = 'veth'): NetConfList {
  const ranges = ctx.ipFamilies.map((f) => {
    const fam = familyOf(ctx.subnetEnv, f);
    if (!fam)
      throw new CnilabError(
        'INVALID_INPUT',
        `subnet.env: node ${ctx.node} has no IPv${f} subnet (FLANNEL_${f === 6 ? 'IPV6_' : ''}SUBNET missing)`,
      );
    return [leaseRange(fam.subnet)];
  });
  return {
    cniVersion: '1.0.0',
    name: NETWORK_NAME,
    plugins: [
      {
        type: 'ebpf',
        mtu: ctx.subnetEnv.mtu,
        bpfDir: nodeBpfDir(ctx.lab, ctx.node),
        ...(device === 'veth' ? {} : { device }),
        // the topology's ipv6Dad, as flannel's bridge delegate gets it
        ...(ctx.ipv6Dad ? { enabledad: true } : {}),
        ...(ctx.bigTcp ? { bigTcp: true } : {}),
        ipam: {
          type: 'host-local',
          ranges,
          dataDir: ctx.ipamDir,
        },
      },
    ],
  };
}

export const EBPF_DATAPATH =
  'kernel, past the IP stack: tc eBPF programs (bpf_redirect_peer to local pods; bpf_fib_lookup + ' +
  'bpf_redirect/bpf_redirect_neigh to other nodes)';

/** What a pod's pair is: a veth, or a netkit pair (ebpf-netkit). */
export type PodDevice = 'veth' | 'netkit';

export function ebpfControlPlane(
  backend: BackendConfig,
  { device = 'veth' }: { readonly device?: PodDevice } = {},
): ControlPlane & { readonly kind: 'ebpf'; readonly backend: BackendConfig } {
  const base = flannelControlPlane(backend, (ctx) => ebpfConflist(ctx, device), {
    prepare: (topology) => mountBpffs(bpffsDir(topology.name)),
    agentMain: join(__dirname, 'agent-main.js'),
    agentArgs: (lab, node) => ['--ebpf-dir', nodeBpfDir(lab, node)],
  });
  return {
    ...base,
    kind: 'ebpf',
    ipFamilies: [4, 6],
    datapath: () => EBPF_DATAPATH,
    meters: (lab, nodes) => new ProgramMeter([...new Set(nodes)].map((node) => ({ node, dir: nodeBpfDir(lab, node) }))),
    legacyMeters: { rowField: 'ebpf', pathField: 'programs', read: legacyProgramMeters },
    probes: [ebpfProbe, netkitProbe],
    policy: { designs: [ebpfPolicy], stateDir: nodeBpfDir },
    refuse: (topology) =>
      base.refuse?.(topology) ??
      (device === 'netkit' ? netkitProxyRefused(topology.proxy) : proxyRefused(topology.proxy)) ??
      proxyRefusedInIPv6(topology),
  };
}

/**
 * A proxy in a lab with IPv6 pods: the eBPF Service proxy translates IPv4 only (docs/ipv6.md), and
 * its program sits before this data path's on every pod; refused rather than left to look at IPv6
 * packets it does not understand. (A lab whose first family is IPv6 is refused any Service anyway.)
 */
function proxyRefusedInIPv6(t: Topology): string | undefined {
  if (t.proxy === undefined || !t.ipFamilies.includes(6)) return undefined;
  return (
    `proxy: ${t.proxy} translates IPv4 only, and this lab's pods have ipFamilies [${t.ipFamilies.join(', ')}] ` +
    '(docs/ipv6.md): measure Services on the ebpf architectures in an IPv4 lab'
  );
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

/**
 * Why a netkit pair's pods cannot have a Service proxy here: every proxy mode translates where a
 * netkit pod's packets never pass — netfilter (past the node's stack, as for the veth pods) or the
 * eBPF proxy's program on a veth host end's tc ingress (a netkit pod's packets are its pair's own
 * program's, which redirects them before any tc hook).
 */
function netkitProxyRefused(mode: string | undefined): string | undefined {
  if (mode === undefined || mode === 'none') return undefined;
  return (
    `proxy: ${mode} cannot translate for ebpf-netkit's pods (their packets are carried by the netkit pair's own ` +
    "program, before any tc hook and past the node's IP stack): measure Services on ebpf-native (--proxy ebpf)"
  );
}
