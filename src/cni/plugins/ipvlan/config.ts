import { parseJson } from '../../skel';
import { ifName, int, oneOf, str } from '../../validate';
import type { IpamConf, NetConf } from '../../types';
import { ipamOf } from '../common/iface';

export const IPVLAN_MODES = ['l2', 'l3', 'l3s'] as const;
export type IpvlanMode = (typeof IPVLAN_MODES)[number];

/** The reference `ipvlan` plugin's configuration. */
export interface IpvlanConf {
  readonly cniVersion: string;
  readonly name: string;
  /**
   * The host interface the ipvlan sits on. Default, as the reference: the one named interface of
   * `prevResult` when chained, else the interface of the host namespace's default route
   * (resolved by each command, see `masterFor`).
   */
  readonly master?: string;
  /** Default: l2. */
  readonly mode: IpvlanMode;
  /** Default: the master's MTU; must not exceed it. */
  readonly mtu?: number;
  /** Required unless chained after a plugin whose result holds addresses (then those are used). */
  readonly ipam?: IpamConf;
  readonly raw: NetConf;
}

export function parseIpvlanConfig(stdin: string): IpvlanConf {
  const o = parseJson(stdin);
  return {
    cniVersion: str(o, 'cniVersion', 'cniVersion'),
    name: str(o, 'name', 'name'),
    ...(o.master === undefined ? {} : { master: ifName(str(o, 'master', 'master'), 'master') }),
    mode: oneOf(o, 'mode', 'mode', IPVLAN_MODES, 'l2'),
    mtu: int(o, 'mtu', 'mtu', 68, 65535),
    ipam: ipamOf(o),
    raw: o as unknown as NetConf,
  };
}
