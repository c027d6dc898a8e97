/**
 * `host-local` IPAM: allocates one address per range set (IPv4 or IPv6) from ranges kept on this
 * host's disk, round-robin after the last reserved address, never the network, broadcast or gateway address;
 * an address the runtime asks for (`ips`) is taken as asked or the ADD fails.
 */
import { accessSync, constants } from 'node:fs';
import { mkdirp } from '../../../lib/fs';
import { contains, formatAddr, parseAddr, type Addr } from '../../../lib/ip';
import type { CniPlugin, PluginEnv } from '../../skel';
import { CniCode, CniError, type GcAttachment, type Result, type ResultIp } from '../../types';
import { parseHostLocalConfig, type HostLocalConf, type Range } from './config';
import { Store } from './store';

/**
 * Every allocatable address of a range set, starting after `last` (wrapping around), lazily: a range may be a /8 or a
 * /64.
 */
function* candidates(ranges: readonly Range[], last: bigint | undefined): Generator<[bigint, Range]> {
  let ri = last === undefined ? -1 : ranges.findIndex((r) => last >= r.start && last <= r.end);
  let ip = ri < 0 ? ranges[0]!.start : last! + 1n;
  if (ri < 0) ri = 0;
  const total = ranges.reduce((n, r) => n + r.end - r.start + 1n, 0n);
  for (let n = 0n; n < total; n++, ip++) {
    if (ip > ranges[ri]!.end) {
      ri = (ri + 1) % ranges.length;
      ip = ranges[ri]!.start;
    }
    if (ip !== ranges[ri]!.gateway) yield [ip, ranges[ri]!];
  }
}

const text = (r: Range, v: bigint): string => formatAddr({ family: r.subnet.family, value: v });
const rangeText = (ranges: readonly Range[]): string =>
  ranges.map((r) => `${text(r, r.start)}-${text(r, r.end)}`).join(',');

function resultIp(ip: bigint, range: Range): ResultIp {
  return {
    address: `${text(range, ip)}/${range.subnet.length}`,
    ...(range.gateway !== undefined ? { gateway: text(range, range.gateway) } : {}),
  };
}

function allocate(conf: HostLocalConf, store: Store, env: PluginEnv): ResultIp[] {
  const taken: string[] = [];
  const requested = [...conf.requested];
  try {
    const ips = conf.rangeSets.map((ranges, idx) => {
      const wantAt = requested.findIndex((a) => ranges.some((r) => contains(r.subnet, a)));
      if (wantAt >= 0) {
        const want = requested.splice(wantAt, 1)[0]!;
        const name = formatAddr(want);
        const range = ranges.find((r) => want.value >= r.start && want.value <= r.end && want.value !== r.gateway);
        if (!range)
          throw new CniError(
            CniCode.INVALID_CONFIG,
            `requested address ${name} is not allocatable in range set ${rangeText(ranges)}`,
          );
        if (!store.reserve(name, env.containerId, env.ifName))
          throw new CniError(CniCode.NO_ADDRESS, `requested address ${name} is already allocated`);
        taken.push(name);
        return resultIp(want.value, range);
      }
      const lastText = store.lastReserved(idx);
      const lastAddr = lastText === undefined ? undefined : parseAddr(lastText);
      const last = lastAddr && lastAddr.family === ranges[0]!.subnet.family ? lastAddr.value : undefined;
      for (const [ip, range] of candidates(ranges, last)) {
        const name = text(range, ip);
        if (store.reserve(name, env.containerId, env.ifName)) {
          taken.push(name);
          store.setLastReserved(idx, name);
          return resultIp(ip, range);
        }
      }
      throw new CniError(CniCode.NO_ADDRESS, `no IP addresses available in range set ${rangeText(ranges)}`);
    });
    if (requested.length > 0) {
      throw new CniError(
        CniCode.INVALID_CONFIG,
        `requested address ${requested.map(formatAddr).join(', ')} is in none of the range sets`,
      );
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
    throw new CniError(
      CniCode.INVALID_CONFIG,
      `${held.join(', ')} is already allocated to container ${env.containerId} interface ${env.ifName}; DEL it first`,
    );
  }
  return {
    cniVersion: conf.cniVersion,
    ips: allocate(conf, store, env),
    routes: [...conf.routes],
    dns: conf.dns ?? {},
  };
}

async function del(conf: HostLocalConf, env: PluginEnv): Promise<void> {
  const store = openStore(conf);
  for (const ip of store.findByOwner(env.containerId, env.ifName)) store.release(ip);
}

/** Every address of prevResult inside our ranges must still be held by this container and interface. */
async function check(conf: HostLocalConf, env: PluginEnv, prev: Result): Promise<void> {
  const store = openStore(conf);
  const held = new Set(store.findByOwner(env.containerId, env.ifName));
  const ours = (prev.ips ?? [])
    .map((i) => parseAddr(i.address.split('/')[0]!))
    .filter((a): a is Addr => a !== undefined && conf.rangeSets.some((set) => set.some((r) => contains(r.subnet, a))))
    .map(formatAddr);
  if (ours.length === 0)
    throw new CniError(CniCode.UNKNOWN_CONTAINER, `host-local: prevResult has no address of network ${conf.name}`);
  for (const a of ours) {
    if (!held.has(a))
      throw new CniError(
        CniCode.UNKNOWN_CONTAINER,
        `host-local: ${a} is not allocated to container ${env.containerId} interface ${env.ifName}`,
      );
  }
}

/** Available when the data directory is writable and every range set has an address left. */
async function status(conf: HostLocalConf): Promise<void> {
  try {
    mkdirp(conf.dataDir);
    accessSync(conf.dataDir, constants.W_OK);
  } catch (e) {
    throw new CniError(
      CniCode.NOT_AVAILABLE,
      `host-local: ipam.dataDir ${conf.dataDir} is not writable`,
      (e as Error).message,
    );
  }
  const store = openStore(conf);
  const held = new Set(store.allocations().map((a) => a.ip));
  conf.rangeSets.forEach((ranges) => {
    const free = ranges.some((r) => {
      for (let ip = r.start; ip <= r.end; ip++) if (ip !== r.gateway && !held.has(text(r, ip))) return true;
      return false;
    });
    if (!free)
      throw new CniError(CniCode.NOT_AVAILABLE, `host-local: no IP addresses left in range set ${rangeText(ranges)}`);
  });
}

/** Releases every allocation whose container and interface are not a valid attachment. */
async function gc(conf: HostLocalConf, _env: PluginEnv, valid: readonly GcAttachment[]): Promise<void> {
  const store = openStore(conf);
  const keep = new Set(valid.map((a) => `${a.containerID}\n${a.ifname}`));
  for (const a of store.allocations()) {
    if (
      !keep.has(`${a.containerId}\n${a.ifName ?? ''}`) &&
      !(a.ifName === undefined && valid.some((v) => v.containerID === a.containerId))
    )
      store.release(a.ip);
  }
}

export const hostLocalPlugin: CniPlugin<HostLocalConf> = {
  parseConfig: (stdin, env) => parseHostLocalConfig(stdin, env.cniArgs),
  add,
  del,
  check,
  status,
  gc,
};
