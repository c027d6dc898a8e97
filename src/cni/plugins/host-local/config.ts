import { parseJson } from '../../skel';
import { isObject, str, ipv4, cidr } from '../../validate';
import { parseCidr, parseIPv4, contains, cidrSize, type Cidr } from '../../../lib/cidr';
import { CniCode, CniError, type ResultRoute } from '../../types';

export interface Range {
  readonly subnet: Cidr;
  /** First and last allocatable addresses (as integers). */
  readonly start: number;
  readonly end: number;
  readonly gateway?: number;
}

/** The reference `host-local` IPAM configuration (IPv4; the subset cnilab implements so far). */
export interface HostLocalConf {
  readonly cniVersion: string;
  readonly name: string;
  /** Range sets: one address is allocated from each set. */
  readonly rangeSets: readonly (readonly Range[])[];
  readonly routes: readonly ResultRoute[];
  /** Default: /var/lib/cni/networks. */
  readonly dataDir: string;
}

function invalid(field: string, what: string): CniError {
  return new CniError(CniCode.INVALID_CONFIG, `${field}: ${what}`);
}

function parseRange(o: Record<string, unknown>, field: string): Range {
  const text = cidr(o, 'subnet', `${field}.subnet`);
  if (text.includes(':')) throw invalid(`${field}.subnet`, 'IPv6 ranges are not supported yet');
  const subnet = parseCidr(text);
  if (subnet.prefix > 30) throw invalid(`${field}.subnet`, `/${subnet.prefix} is too small: it must be /30 or larger`);
  const within = (key: string): number | undefined => {
    const v = ipv4(o, key, `${field}.${key}`);
    if (v === undefined) return undefined;
    const n = parseIPv4(v);
    if (!contains(subnet, n)) throw invalid(`${field}.${key}`, `${v} is outside ${text}`);
    return n;
  };
  const start = within('rangeStart') ?? subnet.base + 1;
  const end = within('rangeEnd') ?? subnet.base + cidrSize(subnet) - 2;
  if (start > end) throw invalid(`${field}.rangeStart`, 'is after rangeEnd');
  const gateway = within('gateway') ?? subnet.base + 1;
  return { subnet, start, end, gateway };
}

export function parseHostLocalConfig(stdin: string): HostLocalConf {
  const o = parseJson(stdin);
  if (!isObject(o.ipam)) throw invalid('ipam', 'is required and must be an object');
  const ipam = o.ipam;
  let rangeSets: Range[][];
  if (ipam.ranges !== undefined) {
    if (!Array.isArray(ipam.ranges) || ipam.ranges.length === 0) throw invalid('ipam.ranges', 'must be a non-empty array of range sets');
    rangeSets = ipam.ranges.map((set, i) => {
      if (!Array.isArray(set) || set.length === 0) throw invalid(`ipam.ranges[${i}]`, 'must be a non-empty array of ranges');
      return set.map((r, j) => {
        if (!isObject(r)) throw invalid(`ipam.ranges[${i}][${j}]`, 'must be an object');
        return parseRange(r, `ipam.ranges[${i}][${j}]`);
      });
    });
  } else if (ipam.subnet !== undefined) {
    rangeSets = [[parseRange(ipam, 'ipam')]];
  } else {
    throw invalid('ipam.ranges', 'is required (or the legacy ipam.subnet)');
  }
  const routes = ipam.routes ?? [];
  if (!Array.isArray(routes)) throw invalid('ipam.routes', 'must be an array');
  return {
    cniVersion: str(o, 'cniVersion', 'cniVersion'),
    name: str(o, 'name', 'name'),
    rangeSets,
    routes: routes.map((r, i) => {
      if (!isObject(r)) throw invalid(`ipam.routes[${i}]`, 'must be an object');
      const gw = ipv4(r, 'gw', `ipam.routes[${i}].gw`);
      return { dst: cidr(r, 'dst', `ipam.routes[${i}].dst`), ...(gw ? { gw } : {}) };
    }),
    dataDir: str(ipam, 'dataDir', 'ipam.dataDir', '/var/lib/cni/networks'),
  };
}
