/**
 * The proxy modes, one line each: what --proxy names and the agent looks up. A mode is a folder of
 * src/proxy/ implementing ProxyMode (mode.ts); modes import no other mode's folder, except as
 * declared in layers.cjs (PROXY_BUILDS_ON: ipvs on the iptables mode's tables).
 */
import { Registry } from '../lib/registry';
import type { ProxyMode } from './mode';
import { iptablesMode } from './iptables/mode';
import { nftablesMode } from './nftables/mode';
import { ipvsMode } from './ipvs/mode';
import { ebpfProxy } from './ebpf';

export const proxyModes = new Registry<ProxyMode>('proxy mode');
// ebpf-sock (./ebpf) is not listed yet: it needs the pods' processes in the cgroup it attaches to,
// which the lab's runner does not do (docs/proxy-ebpf.md).
for (const mode of [iptablesMode, nftablesMode, ipvsMode, ebpfProxy]) proxyModes.register(mode.name, mode);
