import { parseJson } from '../../skel';
import { ifName, int, isObject, oneOf, str } from '../../validate';
import { CniCode, CniError, type IpamConf, type NetConf } from '../../types';

export const MACVLAN_MODES = ['bridge', 'private', 'vepa', 'passthru'] as const;

/** The reference `macvlan` plugin's configuration (the subset cnilab implements so far). */
export interface MacvlanConf {
  readonly cniVersion: string;
  readonly name: string;
  /** The host interface the macvlan sits on. Required (the reference defaults to the default-route interface). */
  readonly master: string;
  /** Default: bridge. */
  readonly mode: (typeof MACVLAN_MODES)[number];
  /** Default: the master's MTU; must not exceed it. */
  readonly mtu?: number;
  readonly ipam?: IpamConf;
  readonly raw: NetConf;
}

export function parseMacvlanConfig(stdin: string): MacvlanConf {
  const o = parseJson(stdin);
  if (o.ipam !== undefined && !isObject(o.ipam)) throw new CniError(CniCode.INVALID_CONFIG, 'ipam: must be an object');
  return {
    cniVersion: str(o, 'cniVersion', 'cniVersion'),
    name: str(o, 'name', 'name'),
    master: ifName(str(o, 'master', 'master'), 'master'),
    mode: oneOf(o, 'mode', 'mode', MACVLAN_MODES, 'bridge'),
    mtu: int(o, 'mtu', 'mtu', 68, 65535),
    ipam: o.ipam as IpamConf | undefined,
    raw: o as unknown as NetConf,
  };
}
