/**
 * flannel's /run/flannel/subnet.env: what the node agent tells the CNI plugin about this node. Each
 * family the network has on gets its pair: FLANNEL_NETWORK and FLANNEL_SUBNET for IPv4,
 * FLANNEL_IPV6_NETWORK and FLANNEL_IPV6_SUBNET for IPv6 (an IPv6-only node writes only those).
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../../lib/fs';
import { CnilabError } from '../../../lib/errors';
import { formatAddr, formatCidr, parseCidr, parsePrefix } from '../../../lib/ip';

export interface SubnetEnv {
  /** FLANNEL_NETWORK: the whole IPv4 pod network, e.g. 10.244.0.0/16; absent with IPv4 off. */
  readonly network?: string;
  /** FLANNEL_SUBNET: this node's IPv4 subnet as its gateway address, e.g. 10.244.1.1/24; absent with IPv4 off. */
  readonly subnet?: string;
  /** FLANNEL_IPV6_NETWORK: the whole IPv6 pod network, e.g. fd00:10:244::/56; present with IPv6 on. */
  readonly ipv6Network?: string;
  /** FLANNEL_IPV6_SUBNET: this node's IPv6 subnet as its gateway address, e.g. fd00:10:244:1::1/64. */
  readonly ipv6Subnet?: string;
  /** FLANNEL_MTU: the MTU pods must use. */
  readonly mtu: number;
  /** FLANNEL_IPMASQ. */
  readonly ipMasq: boolean;
}

/** This node's subnet and network of one family, when the node has that family. */
export function familyOf(
  e: SubnetEnv,
  family: 4 | 6,
): { readonly subnet: string; readonly network: string } | undefined {
  const [subnet, network] = family === 4 ? [e.subnet, e.network] : [e.ipv6Subnet, e.ipv6Network];
  return subnet !== undefined && network !== undefined ? { subnet, network } : undefined;
}

/** The IPv4 pair, for configuration lists that are IPv4 only (their architectures declare [4]). */
export function ipv4Of(e: SubnetEnv): { readonly subnet: string; readonly network: string } {
  const v4 = familyOf(e, 4);
  if (!v4) throw new CnilabError('INVALID_INPUT', 'subnet.env: FLANNEL_SUBNET is missing (an IPv6-only node)');
  return v4;
}

/** A subnet written as its gateway address (subnet.env's way, e.g. fd00:10:244:1::1/64), as its network. */
export function networkOf(gatewayForm: string): string {
  if (!gatewayForm.includes(':')) return formatCidr(parseCidr(gatewayForm));
  const p = parsePrefix(gatewayForm);
  if (!p) throw new CnilabError('INVALID_INPUT', `subnet.env: ${JSON.stringify(gatewayForm)} is not a subnet`);
  return `${formatAddr({ family: 6, value: p.base })}/${p.length}`;
}

export function formatSubnetEnv(e: SubnetEnv): string {
  const line = (k: string, v: string | undefined): string => (v === undefined ? '' : `${k}=${v}\n`);
  return (
    line('FLANNEL_NETWORK', e.network) +
    line('FLANNEL_SUBNET', e.subnet) +
    line('FLANNEL_IPV6_NETWORK', e.ipv6Network) +
    line('FLANNEL_IPV6_SUBNET', e.ipv6Subnet) +
    `FLANNEL_MTU=${e.mtu}\nFLANNEL_IPMASQ=${e.ipMasq}\n`
  );
}

export function parseSubnetEnv(text: string, source: string): SubnetEnv {
  const vars = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m && m[2]!.trim()) vars.set(m[1]!, m[2]!.trim());
  }
  const need = (k: string): string => {
    const v = vars.get(k);
    if (!v) throw new CnilabError('INVALID_INPUT', `${source}: ${k} is missing`);
    return v;
  };
  const mtu = Number(need('FLANNEL_MTU'));
  if (!Number.isInteger(mtu) || mtu < 68)
    throw new CnilabError(
      'INVALID_INPUT',
      `${source}: FLANNEL_MTU ${JSON.stringify(vars.get('FLANNEL_MTU'))} is not an MTU`,
    );
  // Each family comes as a pair; a node has at least one. IPv4 is asked for when neither is there.
  const v6 = vars.has('FLANNEL_IPV6_SUBNET') || vars.has('FLANNEL_IPV6_NETWORK');
  const v4 = vars.has('FLANNEL_SUBNET') || vars.has('FLANNEL_NETWORK') || !v6;
  return {
    ...(v4 ? { network: need('FLANNEL_NETWORK'), subnet: need('FLANNEL_SUBNET') } : {}),
    ...(v6 ? { ipv6Network: need('FLANNEL_IPV6_NETWORK'), ipv6Subnet: need('FLANNEL_IPV6_SUBNET') } : {}),
    mtu,
    ipMasq: vars.get('FLANNEL_IPMASQ') === 'true',
  };
}

export function writeSubnetEnv(file: string, e: SubnetEnv): void {
  writeFileAtomic(file, formatSubnetEnv(e));
}

export function readSubnetEnv(file: string): SubnetEnv {
  return parseSubnetEnv(readFileSync(file, 'utf8'), file);
}
