/**
 * `host-local` IPAM: allocates one address per range set from ranges kept on this host's disk,
 * round-robin after the last reserved address, never the network, broadcast or gateway address.
 */
import { formatIPv4, parseIPv4 } from '../../../lib/cidr';
import type { CniPlugin, PluginEnv } from '../../skel';
import { CniCode, CniError, type Result, type ResultIp } from '../../types';
import { parseHostLocalConfig, type HostLocalConf, type Range } from './config';
import { Store } from './store';

/** Every allocatable address of a range set, starting after `last` (wrapping around). */
function* candidates(ranges: readonly Range[], last: number | undefined): Generator<[number, Range]> {
  const all: [number, Range][] = [];
  for (const r of ranges) for (let ip = r.start; ip <= r.end; ip++) if (ip !== r.gateway) all.push([ip, r]);
  const from = last === undefined ? 0 : all.findIndex(([ip]) => ip === last) + 1;
  for (let i = 0; i < all.length; i++) yield all[(from + i) % all.length]!;
}

function allocate(conf: HostLocalConf, store: Store, env: PluginEnv): ResultIp[] {
  const taken: string[] = [];
  try {
    return conf.rangeSets.map((ranges, idx) => {
      const lastText = store.lastReserved(idx);
      for (const [ip, range] of candidates(ranges, lastText ? parseIPv4(lastText) : undefined)) {
        const text = formatIPv4(ip);
        if (store.reserve(text, env.containerId, env.ifName)) {
          taken.push(text);
          store.setLastReserved(idx, text);
          return { address: `${text}/${range.subnet.prefix}`, ...(range.gateway !== undefined ? { gateway: formatIPv4(range.gateway) } : {}) };
        }
      }
      throw new CniError(CniCode.NO_ADDRESS, `no IP addresses available in range set ${ranges.map((r) => `${formatIPv4(r.start)}-${formatIPv4(r.end)}`).join(',')}`);
    });
  } catch (e) {
    for (const ip of taken) store.release(ip);
    throw e;
  }
}

async function add(conf: HostLocalConf, env: PluginEnv): Promise<Result> {
  const store = new Store(conf.dataDir, conf.name);
  const held = store.findByOwner(env.containerId, env.ifName);
  if (held.length > 0) {
    throw new CniError(CniCode.INVALID_CONFIG, `${held.join(', ')} is already allocated to container ${env.containerId} interface ${env.ifName}; DEL it first`);
  }
  return { cniVersion: conf.cniVersion, ips: allocate(conf, store, env), routes: [...conf.routes], dns: {} };
}

async function del(conf: HostLocalConf, env: PluginEnv): Promise<void> {
  const store = new Store(conf.dataDir, conf.name);
  for (const ip of store.findByOwner(env.containerId, env.ifName)) store.release(ip);
}

export const hostLocalPlugin: CniPlugin<HostLocalConf> = { parseConfig: parseHostLocalConfig, add, del };
