/** IPv4 address and prefix arithmetic (pure). */
import { CnilabError } from './errors';

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly base: number;
  readonly prefix: number;
}

export function parseIPv4(s: string): number {
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new CnilabError('INVALID_INPUT', `${JSON.stringify(s)} is not an IPv4 address`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function isIPv4(s: string): boolean {
  try {
    parseIPv4(s);
    return true;
  } catch {
    return false;
  }
}

/** True for "a.b.c.d/n" with no host bits set (for validators). */
export function isStrictCidr(s: string): boolean {
  try {
    parseCidr(s, true);
    return true;
  } catch {
    return false;
  }
}

/** Parses "a.b.c.d/n". With `strict`, host bits must be zero. */
export function parseCidr(s: string, strict = false): Cidr & { readonly ip: number } {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s);
  if (!m || Number(m[2]) > 32) throw new CnilabError('INVALID_INPUT', `${JSON.stringify(s)} is not an IPv4 CIDR like 10.244.0.0/16`);
  const ip = parseIPv4(m[1]!);
  const prefix = Number(m[2]);
  const size = 2 ** (32 - prefix);
  const base = Math.floor(ip / size) * size;
  if (strict && base !== ip) throw new CnilabError('INVALID_INPUT', `${s} has host bits set; did you mean ${formatIPv4(base)}/${prefix}?`);
  return { base, prefix, ip };
}

export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

export function contains(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + cidrSize(c);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + cidrSize(b) && b.base < a.base + cidrSize(a);
}

/** The i-th subnet of length `prefix` inside `c`. */
export function subnetAt(c: Cidr, prefix: number, i: number): Cidr {
  if (prefix < c.prefix) throw new CnilabError('INVALID_INPUT', `/${prefix} is larger than ${formatCidr(c)}`);
  const count = 2 ** (prefix - c.prefix);
  if (i < 0 || i >= count) throw new CnilabError('INVALID_INPUT', `${formatCidr(c)} holds ${count} /${prefix} subnets, not ${i + 1}`);
  return { base: c.base + i * 2 ** (32 - prefix), prefix };
}

/** The i-th address of `c` (0 is the network address). */
export function addressAt(c: Cidr, i: number): number {
  if (i < 0 || i >= cidrSize(c)) throw new CnilabError('INVALID_INPUT', `${formatCidr(c)} has no address #${i}`);
  return c.base + i;
}
