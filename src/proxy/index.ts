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

export const proxyModes = new Registry<ProxyMode>('proxy mode');
for (const mode of [iptablesMode, nftablesMode, ipvsMode]) proxyModes.register(mode.name, mode);
