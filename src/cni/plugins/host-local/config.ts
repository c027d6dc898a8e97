import { parseJson } from '../../skel';
import { isObject, str } from '../../validate';
import { bitsOf, contains, formatAddr, lastOf, parseAddr, parsePrefix, type Addr, type Prefix } from '../../../lib/ip';
import { CniCode, CniError, type Dns, type ResultRoute } from '../../types';
import { parseDns, parseRoutes } from '../common/ipam-conf';

export interface Range {
  readonly subnet: Prefix;
  /** First and last allocatable addresses. */
  readonly start: bigint;
  readonly end: bigint;
  readonly gateway?: bigint;
}

/** The reference `host-local` IPAM configuration, IPv4 and IPv6 (a range set is of one family). */
export interface HostLocalConf {
  readonly cniVersion: string;
  readonly name: string;
  /** Range sets: one address is allocated from each set. */
  readonly rangeSets: readonly (readonly Range[])[];
  readonly routes: readonly ResultRoute[];
  readonly dns?: Dns;
  /** Default: /var/lib/cni/networks. */
  readonly dataDir: string;
  /**
   * Addresses asked for by the runtime — `runtimeConfig.ips` (capability "ips"), `args.cni.ips`
   * or CNI_ARGS `IP=` — each taken from the range set that contains it, or the ADD fails.
   */
  readonly requested: readonly Addr[];
}

function invalid(field: string, what: string): CniError {
  return new CniError(CniCode.INVALID_CONFIG, `${field}: ${what}`);
}

function parseRange(o: Record<string, unknown>, field: string): Range {
  const text = o.subnet;
  if (text === undefined) throw invalid(`${field}.subnet`, 'is required');
  const subnet = typeof text === 'string' ? parsePrefix(text) : undefined;
  if (!subnet)
    throw invalid(
      `${field}.subnet`,
      `${JSON.stringify(text)} is not a CIDR (an IPv4 or IPv6 network with its prefix length)`,
    );
  const bits = bitsOf(subnet.family);
  if (subnet.length > bits - 2)
    throw invalid(
      `${field}.subnet`,
      `/${subnet.length} is too small to allocate from: it must be /${bits - 2} or larger`,
    );
  const within = (key: string): bigint | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    const a = typeof v === 'string' ? parseAddr(v) : undefined;
    if (!a) throw invalid(`${field}.${key}`, `${JSON.stringify(v)} is not an IP address`);
    if (!contains(subnet, a)) throw invalid(`${field}.${key}`, `${v} is outside ${String(text)}`);
    return a.value;
  };
  // As the reference: from the network address + 1 to the last address (IPv4: before the broadcast).
  const first = subnet.base + 1n;
  const last = subnet.family === 4 ? lastOf(subnet) - 1n : lastOf(subnet);
  const start = within('rangeStart') ?? first;
  const end = within('rangeEnd') ?? last;
  if (start < first || end > last)
    throw invalid(`${field}.${start < first ? 'rangeStart' : 'rangeEnd'}`, 'is the network or broadcast address');
  if (start > end) throw invalid(`${field}.rangeStart`, 'is after rangeEnd');
  const gateway = within('gateway') ?? first;
  return { subnet, start, end, gateway };
}

/** "ADDRESS" or "ADDRESS/LENGTH" (the reference accepts both in `ips`). */
function requestedAddress(v: unknown, field: string): Addr {
  const a = typeof v === 'string' ? parseAddr(v.replace(/\/\d+$/, '')) : undefined;
  if (!a) throw invalid(field, `${JSON.stringify(v)} is not an IP address`);
  return a;
}

function requestedIps(o: Record<string, unknown>, cniArgs: ReadonlyMap<string, string>): Addr[] {
  const out: Addr[] = [];
  const rc = o.runtimeConfig;
  if (isObject(rc) && rc.ips !== undefined) {
    if (!Array.isArray(rc.ips)) throw invalid('runtimeConfig.ips', 'must be an array of addresses');
    rc.ips.forEach((v, i) => out.push(requestedAddress(v, `runtimeConfig.ips[${i}]`)));
  }
  const args = o.args;
  if (isObject(args) && isObject(args.cni) && args.cni.ips !== undefined) {
    if (!Array.isArray(args.cni.ips)) throw invalid('args.cni.ips', 'must be an array of addresses');
    args.cni.ips.forEach((v, i) => out.push(requestedAddress(v, `args.cni.ips[${i}]`)));
  }
  const ipArg = cniArgs.get('IP');
  if (ipArg !== undefined) ipArg.split(',').forEach((v) => out.push(requestedAddress(v, 'CNI_ARGS IP')));
  const seen = new Set<string>();
  return out.filter((a) => !seen.has(formatAddr(a)) && seen.add(formatAddr(a)));
}

export function parseHostLocalConfig(stdin: string, cniArgs: ReadonlyMap<string, string> = new Map()): HostLocalConf {
  const o = parseJson(stdin);
  if (!isObject(o.ipam)) throw invalid('ipam', 'is required and must be an object');
  const ipam = o.ipam;
  let rangeSets: Range[][];
  if (ipam.ranges !== undefined) {
    if (!Array.isArray(ipam.ranges) || ipam.ranges.length === 0)
      throw invalid('ipam.ranges', 'must be a non-empty array of range sets');
    rangeSets = ipam.ranges.map((set, i) => {
      if (!Array.isArray(set) || set.length === 0)
        throw invalid(`ipam.ranges[${i}]`, 'must be a non-empty array of ranges');
      const ranges = set.map((r, j) => {
        if (!isObject(r)) throw invalid(`ipam.ranges[${i}][${j}]`, 'must be an object');
        return parseRange(r, `ipam.ranges[${i}][${j}]`);
      });
      ranges.forEach((a, j) =>
        ranges.slice(j + 1).forEach((b, k) => {
          if (a.subnet.family !== b.subnet.family)
            throw invalid(`ipam.ranges[${i}][${j + k + 1}]`, `is of another IP family than ipam.ranges[${i}][${j}]`);
          if (a.start <= b.end && b.start <= a.end)
            throw invalid(`ipam.ranges[${i}][${j + k + 1}]`, `overlaps ipam.ranges[${i}][${j}]`);
        }),
      );
      return ranges;
    });
  } else if (ipam.subnet !== undefined) {
    rangeSets = [[parseRange(ipam, 'ipam')]];
  } else {
    throw invalid('ipam.ranges', 'is required (or the legacy ipam.subnet)');
  }
  const name = str(o, 'name', 'name');
  if (name === '.' || name === '..' || name.includes('/') || name.includes('\0'))
    throw invalid('name', `${JSON.stringify(name)} cannot name a directory under dataDir`);
  const dataDir = str(ipam, 'dataDir', 'ipam.dataDir', '/var/lib/cni/networks');
  if (!dataDir.startsWith('/')) throw invalid('ipam.dataDir', 'must be an absolute path');
  return {
    cniVersion: str(o, 'cniVersion', 'cniVersion'),
    name,
    rangeSets,
    routes: parseRoutes(ipam.routes, 'ipam.routes'),
    ...(ipam.dns !== undefined ? { dns: parseDns(ipam.dns, 'ipam.dns') } : {}),
    dataDir,
    requested: requestedIps(o, cniArgs),
  };
}
