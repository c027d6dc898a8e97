import { parseJson } from '../../skel';
import { isObject, str, ipv4, cidr } from '../../validate';
import { parseCidr, parseIPv4, contains, cidrSize, isIPv4, type Cidr } from '../../../lib/cidr';
import { CniCode, CniError, type Dns, type ResultRoute } from '../../types';
import { parseDns, parseRoutes } from '../common/ipam-conf';


export interface Range {
  readonly subnet: Cidr;
  /** First and last allocatable addresses (as integers). */
  readonly start: number;
  readonly end: number;
  readonly gateway?: number;
}

/** The reference `host-local` IPAM configuration (IPv4). */
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
  readonly requested: readonly number[];
}

function invalid(field: string, what: string): CniError {
  return new CniError(CniCode.INVALID_CONFIG, `${field}: ${what}`);
}

function parseRange(o: Record<string, unknown>, field: string): Range {
  const text = cidr(o, 'subnet', `${field}.subnet`);
  const subnet = parseCidr(text);
  if (subnet.prefix > 30) throw invalid(`${field}.subnet`, `/${subnet.prefix} is too small: it must be /30 or larger`);
  const within = (key: string): number | undefined => {
    const v = ipv4(o, key, `${field}.${key}`);
    if (v === undefined) return undefined;
    const n = parseIPv4(v);
    if (!contains(subnet, n)) throw invalid(`${field}.${key}`, `${v} is outside ${text}`);
    return n;
  };
  const first = subnet.base + 1;
  const last = subnet.base + cidrSize(subnet) - 2;
  const start = within('rangeStart') ?? first;
  const end = within('rangeEnd') ?? last;
  if (start < first || end > last) throw invalid(`${field}.${start < first ? 'rangeStart' : 'rangeEnd'}`, 'is the network or broadcast address');
  if (start > end) throw invalid(`${field}.rangeStart`, 'is after rangeEnd');
  const gateway = within('gateway') ?? first;
  return { subnet, start, end, gateway };
}

/** "a.b.c.d" or "a.b.c.d/len" (the reference accepts both in `ips`). */
function requestedAddress(v: unknown, field: string): number {
  const text = typeof v === 'string' ? v.replace(/\/\d+$/, '') : '';
  if (!isIPv4(text)) throw invalid(field, `${JSON.stringify(v)} is not an IPv4 address`);
  return parseIPv4(text);
}

function requestedIps(o: Record<string, unknown>, cniArgs: ReadonlyMap<string, string>): number[] {
  const out: number[] = [];
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
  return [...new Set(out)];
}

export function parseHostLocalConfig(stdin: string, cniArgs: ReadonlyMap<string, string> = new Map()): HostLocalConf {
  const o = parseJson(stdin);
  if (!isObject(o.ipam)) throw invalid('ipam', 'is required and must be an object');
  const ipam = o.ipam;
  let rangeSets: Range[][];
  if (ipam.ranges !== undefined) {
    if (!Array.isArray(ipam.ranges) || ipam.ranges.length === 0) throw invalid('ipam.ranges', 'must be a non-empty array of range sets');
    rangeSets = ipam.ranges.map((set, i) => {
      if (!Array.isArray(set) || set.length === 0) throw invalid(`ipam.ranges[${i}]`, 'must be a non-empty array of ranges');
      const ranges = set.map((r, j) => {
        if (!isObject(r)) throw invalid(`ipam.ranges[${i}][${j}]`, 'must be an object');
        return parseRange(r, `ipam.ranges[${i}][${j}]`);
      });
      ranges.forEach((a, j) => ranges.slice(j + 1).forEach((b, k) => {
        if (a.start <= b.end && b.start <= a.end) throw invalid(`ipam.ranges[${i}][${j + k + 1}]`, `overlaps ipam.ranges[${i}][${j}]`);
      }));
      return ranges;
    });
  } else if (ipam.subnet !== undefined) {
    rangeSets = [[parseRange(ipam, 'ipam')]];
  } else {
    throw invalid('ipam.ranges', 'is required (or the legacy ipam.subnet)');
  }
  const name = str(o, 'name', 'name');
  if (name === '.' || name === '..' || name.includes('/') || name.includes('\0')) throw invalid('name', `${JSON.stringify(name)} cannot name a directory under dataDir`);
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
