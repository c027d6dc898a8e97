/**
 * `host-local` IPAM: allocates one address per range set from ranges kept on this host's disk,
 * round-robin after the last reserved address, never the network, broadcast or gateway address;
 * an address the runtime asks for (`ips`) is taken as asked or the ADD fails.
 */
import { accessSync, constants } from 'node:fs';
import { mkdirp } from '../../../lib/fs';
import { contains, formatIPv4, parseIPv4 } from '../../../lib/cidr';
import type { CniPlugin, PluginEnv } from '../../skel';
import { CniCode, CniError, type GcAttachment, type Result, type ResultIp } from '../../types';
import { parseHostLocalConfig, type HostLocalConf, type Range } from './config';
import { Store } from './store';

/** Every allocatable address of a range set, starting after `last` (wrapping around), lazily: a range may be a /8. */
function* candidates(ranges: readonly Range[], last: number | undefined): Generator<[number, Range]> {
  let ri = last === undefined ? -1 : ranges.findIndex((r) => last >= r.start && last <= r.end);
  let ip = ri < 0 ? ranges[0]!.start : last! + 1;
  if (ri < 0) ri = 0;
  const total = ranges.reduce((n, r) => n + r.end - r.start + 1, 0);
  for (let n = 0; n < total; n++, ip++) {
    if (ip > ranges[ri]!.end) {
      ri = (ri + 1) % ranges.length;
      ip = ranges[ri]!.start;
    }
    if (ip !== ranges[ri]!.gateway) yield [ip, ranges[ri]!];
  }
}

const rangeText = (ranges: readonly Range[]): string => ranges.map((r) => `${formatIPv4(r.start)}-${formatIPv4(r.end)}`).join(',');

function resultIp(ip: number, range: Range): ResultIp {
  return { address: `${formatIPv4(ip)}/${range.subnet.prefix}`, ...(range.gateway !== undefined ? { gateway: formatIPv4(range.gateway) } : {}) };
}

function allocate(conf: HostLocalConf, store: Store, env: PluginEnv): ResultIp[] {
  const taken: string[] = [];
  const requested = new Set(conf.requested);
  try {
    const ips = conf.rangeSets.map((ranges, idx) => {
      const want = [...requested].find((ip) => ranges.some((r) => contains(r.subnet, ip)));
      if (want !== undefined) {
        requested.delete(want);
        const range = ranges.find((r) => want >= r.start && want <= r.end && want !== r.gateway);
        if (!range) throw new CniError(CniCode.INVALID_CONFIG, `requested address ${formatIPv4(want)} is not allocatable in range set ${rangeText(ranges)}`);
        if (!store.reserve(formatIPv4(want), env.containerId, env.ifName)) throw new CniError(CniCode.NO_ADDRESS, `requested address ${formatIPv4(want)} is already allocated`);
        taken.push(formatIPv4(want));
        return resultIp(want, range);
      }
      const lastText = store.lastReserved(idx);
      for (const [ip, range] of candidates(ranges, lastText ? parseIPv4(lastText) : undefined)) {
        const text = formatIPv4(ip);
        if (store.reserve(text, env.containerId, env.ifName)) {
          taken.push(text);
          store.setLastReserved(idx, text);
          return resultIp(ip, range);
        }
      }
      throw new CniError(CniCode.NO_ADDRESS, `no IP addresses available in range set ${rangeText(ranges)}`);
    });
    if (requested.size > 0) {
      throw new CniError(CniCode.INVALID_CONFIG, `requested address ${[...requested].map(formatIPv4).join(', ')} is in none of the range sets`);
    }
    return ips;
  } catch (e) {
    for (const ip of taken) store.release(ip);
    throw e;
  }
}

function openStore(conf: HostLocalConf): Store {
  try {
    return new Store(conf.dataDir, conf.name);
  } catch (e) {
    throw new CniError(CniCode.IO_FAILURE, `ipam.dataDir ${conf.dataDir}: ${(e as Error).message}`);
  }
}

async function add(conf: HostLocalConf, env: PluginEnv): Promise<Result> {
  const store = openStore(conf);
  const held = store.findByOwner(env.containerId, env.ifName);
  if (held.length > 0) {
    throw new CniError(CniCode.INVALID_CONFIG, `${held.join(', ')} is already allocated to container ${env.containerId} interface ${env.ifName}; DEL it first`);
  }
  return { cniVersion: conf.cniVersion, ips: allocate(conf, store, env), routes: [...conf.routes], dns: conf.dns ?? {} };
}

async function del(conf: HostLocalConf, env: PluginEnv): Promise<void> {
  const store = openStore(conf);
  for (const ip of store.findByOwner(env.containerId, env.ifName)) store.release(ip);
}

/** Every address of prevResult inside our ranges must still be held by this container and interface. */
async function check(conf: HostLocalConf, env: PluginEnv, prev: Result): Promise<void> {
  const store = openStore(conf);
  const held = new Set(store.findByOwner(env.containerId, env.ifName));
  const ours = (prev.ips ?? []).map((i) => i.address.split('/')[0]!).filter((a) => !a.includes(':') && conf.rangeSets.some((set) => set.some((r) => contains(r.subnet, parseIPv4(a)))));
  if (ours.length === 0) throw new CniError(CniCode.UNKNOWN_CONTAINER, `host-local: prevResult has no address of network ${conf.name}`);
  for (const a of ours) {
    if (!held.has(a)) throw new CniError(CniCode.UNKNOWN_CONTAINER, `host-local: ${a} is not allocated to container ${env.containerId} interface ${env.ifName}`);
  }
}

/** Available when the data directory is writable and every range set has an address left. */
async function status(conf: HostLocalConf): Promise<void> {
  try {
    mkdirp(conf.dataDir);
    accessSync(conf.dataDir, constants.W_OK);
  } catch (e) {
    throw new CniError(CniCode.NOT_AVAILABLE, `host-local: ipam.dataDir ${conf.dataDir} is not writable`, (e as Error).message);
  }
  const store = openStore(conf);
  const held = new Set(store.allocations().map((a) => a.ip));
  conf.rangeSets.forEach((ranges) => {
    const free = ranges.some((r) => {
      for (let ip = r.start; ip <= r.end; ip++) if (ip !== r.gateway && !held.has(formatIPv4(ip))) return true;
      return false;
    });
    if (!free) throw new CniError(CniCode.NOT_AVAILABLE, `host-local: no IP addresses left in range set ${rangeText(ranges)}`);
  });
}

/** Releases every allocation whose container and interface are not a valid attachment. */
async function gc(conf: HostLocalConf, _env: PluginEnv, valid: readonly GcAttachment[]): Promise<void> {
  const store = openStore(conf);
  const keep = new Set(valid.map((a) => `${a.containerID}\n${a.ifname}`));
  for (const a of store.allocations()) {
    if (!keep.has(`${a.containerId}\n${a.ifName ?? ''}`) && !(a.ifName === undefined && valid.some((v) => v.containerID === a.containerId))) store.release(a.ip);
  }
}

export const hostLocalPlugin: CniPlugin<HostLocalConf> = { parseConfig: (stdin, env) => parseHostLocalConfig(stdin, env.cniArgs), add, del, check, status, gc };
