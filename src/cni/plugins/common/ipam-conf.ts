/** What the IPAM plugins' configurations share: routes and DNS, validated field by field. */
import { isObject } from '../../validate';
import { ipFamily, parsePrefix } from '../../../lib/ip';
import { CniCode, CniError, type Dns, type ResultRoute } from '../../types';

function invalid(field: string, what: string): CniError {
  return new CniError(CniCode.INVALID_CONFIG, `${field}: ${what}`);
}

/** "ADDRESS/LEN", IPv4 or IPv6. */
export function isCidrText(v: unknown): v is string {
  return typeof v === 'string' && parsePrefix(v) !== undefined;
}

export function parseRoutes(v: unknown, field: string): ResultRoute[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalid(field, 'must be an array of {"dst": CIDR, "gw": address}');
  return v.map((r: unknown, i) => {
    if (!isObject(r)) throw invalid(`${field}[${i}]`, 'must be an object');
    if (r.dst === undefined) throw invalid(`${field}[${i}].dst`, 'is required');
    if (!isCidrText(r.dst)) throw invalid(`${field}[${i}].dst`, `${JSON.stringify(r.dst)} is not a CIDR`);
    if (r.gw !== undefined && (typeof r.gw !== 'string' || ipFamily(r.gw) === 0))
      throw invalid(`${field}[${i}].gw`, `${JSON.stringify(r.gw)} is not an IP address`);
    return { dst: r.dst, ...(r.gw !== undefined ? { gw: r.gw as string } : {}) };
  });
}

export function parseDns(v: unknown, field: string): Dns {
  if (!isObject(v)) throw invalid(field, 'must be an object');
  const strings = (key: string): string[] | undefined => {
    const a = v[key];
    if (a === undefined) return undefined;
    if (!Array.isArray(a) || a.some((s) => typeof s !== 'string'))
      throw invalid(`${field}.${key}`, 'must be an array of strings');
    return a as string[];
  };
  const domain = v.domain;
  if (domain !== undefined && typeof domain !== 'string') throw invalid(`${field}.domain`, 'must be a string');
  const out: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] } = {};
  const ns = strings('nameservers');
  if (ns) out.nameservers = ns;
  if (domain !== undefined) out.domain = domain;
  const search = strings('search');
  if (search) out.search = search;
  const options = strings('options');
  if (options) out.options = options;
  return out;
}
