import { parseJson } from '../../skel';
import { bool, ifName, int, str } from '../../validate';
import { CniCode, CniError, type IpamConf, type NetConf } from '../../types';
import { ipamOf } from '../common/iface';
import { bigTcpConf } from '../common/big-tcp';

/** The reference `bridge` plugin's configuration. */
export interface BridgeConf {
  readonly cniVersion: string;
  readonly name: string;
  /** Bridge name. Default: cni0. */
  readonly bridge: string;
  /** Put the IPAM gateway address on the bridge (and turn on IPv4 forwarding). Default: false. */
  readonly isGateway: boolean;
  /** Add a default route via the gateway in the container (implies isGateway). Default: false. */
  readonly isDefaultGateway: boolean;
  /** Replace another address the bridge has in the gateway's family instead of failing. Default: false. */
  readonly forceAddress: boolean;
  /** Masquerade traffic from the container leaving its subnet (iptables nat, a chain per container). Default: false. */
  readonly ipMasq: boolean;
  /** Let frames go back out of the port they came in on. Default: false. */
  readonly hairpinMode: boolean;
  /** Put the bridge in promiscuous mode. Default: false. */
  readonly promiscMode: boolean;
  /** Drop frames from the container whose source MAC is not its own (nftables, bridge family). Default: false. */
  readonly macspoofchk: boolean;
  /**
   * `enabledad` (the reference's name): IPv6 duplicate address detection on the container's interface
   * (`enhanced_dad=1 accept_dad=1`), ADD then waiting until its addresses are no longer tentative
   * (1–2 s on Linux's defaults) when an IPv6 address has a gateway. Default: false — DAD off
   * (`accept_dad=0`), the addresses usable at once, as the reference does.
   */
  readonly enableDad: boolean;
  /** MTU of a new bridge and of both veth ends. Default: 1500. */
  readonly mtu: number;
  /**
   * `bigTcp` (cnilab's; common/big-tcp.ts): BIG TCP's GSO/GRO sizes, IPv6's and IPv4's, on the bridge and both veth
   * ends, the MTU as it is. Default: false (the kernel's 64 KiB).
   */
  readonly bigTcp: boolean;
  readonly ipam?: IpamConf;
  /** The configuration as received, for delegation to IPAM. */
  readonly raw: NetConf;
}

/** Fields of the reference plugin cnilab does not implement: refused rather than ignored. */
const UNSUPPORTED = ['vlan', 'vlanTrunk', 'preserveDefaultVlan'] as const;

export function parseBridgeConfig(stdin: string): BridgeConf {
  const o = parseJson(stdin);
  for (const f of UNSUPPORTED) {
    if (o[f] !== undefined && o[f] !== false && o[f] !== 0)
      throw new CniError(CniCode.UNSUPPORTED_FIELD, `${f}: is not supported by cnilab's bridge; remove it`);
  }
  const isDefaultGateway = bool(o, 'isDefaultGateway', 'isDefaultGateway', false);
  return {
    cniVersion: str(o, 'cniVersion', 'cniVersion'),
    name: str(o, 'name', 'name'),
    bridge: ifName(str(o, 'bridge', 'bridge', 'cni0'), 'bridge'),
    isGateway: isDefaultGateway || bool(o, 'isGateway', 'isGateway', false),
    isDefaultGateway,
    forceAddress: bool(o, 'forceAddress', 'forceAddress', false),
    ipMasq: bool(o, 'ipMasq', 'ipMasq', false),
    hairpinMode: bool(o, 'hairpinMode', 'hairpinMode', false),
    promiscMode: bool(o, 'promiscMode', 'promiscMode', false),
    macspoofchk: bool(o, 'macspoofchk', 'macspoofchk', false),
    enableDad: bool(o, 'enabledad', 'enabledad', false),
    mtu: int(o, 'mtu', 'mtu', 68, 65535) ?? 1500,
    bigTcp: bigTcpConf(o),
    ipam: ipamOf(o),
    raw: o as unknown as NetConf,
  };
}
