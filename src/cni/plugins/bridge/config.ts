import { parseJson } from '../../skel';
import { bool, ifName, int, isObject, str } from '../../validate';
import { CniCode, CniError, type IpamConf, type NetConf } from '../../types';

/** The reference `bridge` plugin's configuration (the subset cnilab implements so far). */
export interface BridgeConf {
  readonly cniVersion: string;
  readonly name: string;
  /** Bridge name. Default: cni0. */
  readonly bridge: string;
  /** Put the IPAM gateway address on the bridge. Default: false. */
  readonly isGateway: boolean;
  /** Add a default route via the gateway in the container (implies isGateway). Default: false. */
  readonly isDefaultGateway: boolean;
  /** MTU of the bridge and both veth ends. Default: 1500. */
  readonly mtu: number;
  readonly ipam?: IpamConf;
  /** The configuration as received, for delegation to IPAM. */
  readonly raw: NetConf;
}

export function parseBridgeConfig(stdin: string): BridgeConf {
  const o = parseJson(stdin);
  if (o.ipam !== undefined && !isObject(o.ipam)) throw new CniError(CniCode.INVALID_CONFIG, 'ipam: must be an object');
  const isDefaultGateway = bool(o, 'isDefaultGateway', 'isDefaultGateway', false);
  if (bool(o, 'ipMasq', 'ipMasq', false)) throw new CniError(CniCode.UNSUPPORTED_FIELD, 'ipMasq: true is not supported yet by cnilab\'s bridge; set it false (pod-to-pod traffic needs no masquerading)');
  return {
    cniVersion: str(o, 'cniVersion', 'cniVersion'),
    name: str(o, 'name', 'name'),
    bridge: ifName(str(o, 'bridge', 'bridge', 'cni0'), 'bridge'),
    isGateway: isDefaultGateway || bool(o, 'isGateway', 'isGateway', false),
    isDefaultGateway,
    mtu: int(o, 'mtu', 'mtu', 68, 65535) ?? 1500,
    ipam: o.ipam as IpamConf | undefined,
    raw: o as unknown as NetConf,
  };
}
