import { parseJson } from '../../skel';
import { ifName, int, oneOf, str } from '../../validate';
import { CniCode, CniError, type IpamConf, type NetConf } from '../../types';
import { ipamOf } from '../common/iface';

export const MACVLAN_MODES = ['bridge', 'private', 'vepa', 'passthru'] as const;

/** The reference `macvlan` plugin's configuration. */
export interface MacvlanConf {
  readonly cniVersion: string;
  readonly name: string;
  /** The host interface the macvlan sits on. Required (the reference defaults to the default-route interface). */
  readonly master: string;
  /** Default: bridge. */
  readonly mode: (typeof MACVLAN_MODES)[number];
  /** Default: the master's MTU; must not exceed it. */
  readonly mtu?: number;
  /** The container interface's MAC (`mac`, or runtimeConfig.mac with the "mac" capability). Default: random. */
  readonly mac?: string;
  readonly ipam?: IpamConf;
  readonly raw: NetConf;
}

export const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

export function macOption(o: Record<string, unknown>): string | undefined {
  const rc = o.runtimeConfig as Record<string, unknown> | undefined;
  const fromRc = rc && typeof rc === 'object' && rc.mac !== undefined;
  const v = fromRc ? rc.mac : o.mac;
  if (v === undefined) return undefined;
  const field = fromRc ? 'runtimeConfig.mac' : 'mac';
  if (typeof v !== 'string' || !MAC.test(v) || (parseInt(v.slice(0, 2), 16) & 1) === 1)
    throw new CniError(CniCode.INVALID_CONFIG, `${field}: ${JSON.stringify(v)} is not a unicast MAC address`);
  return v.toLowerCase();
}

export function parseMacvlanConfig(stdin: string): MacvlanConf {
  const o = parseJson(stdin);
  const mac = macOption(o);
  return {
    cniVersion: str(o, 'cniVersion', 'cniVersion'),
    name: str(o, 'name', 'name'),
    master: ifName(str(o, 'master', 'master'), 'master'),
    mode: oneOf(o, 'mode', 'mode', MACVLAN_MODES, 'bridge'),
    mtu: int(o, 'mtu', 'mtu', 68, 65535),
    ...(mac ? { mac } : {}),
    ipam: ipamOf(o),
    raw: o as unknown as NetConf,
  };
}
