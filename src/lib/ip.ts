/**
 * The one IP library, two views:
 * - IPv4 and IPv6 addresses as big integers (`Addr`, `Prefix`), for allocators that must treat both
 *   families alike (host-local's range sets). IPv6 is written the canonical way (RFC 5952: lower
 *   case, the longest run of zero groups as "::"), as the reference plugins write it.
 * - IPv4 as plain numbers (`Cidr`: parse, format, subnets, addresses), for the lab's underlay, pod
 *   CIDRs and leases; bad input throws INVALID_INPUT naming the text.
 */
import { CnilabError } from './errors';

export type Family = 4 | 6;

export interface Addr {
  readonly family: Family;
  readonly value: bigint;
}

export interface Prefix {
  readonly family: Family;
  /** The network address. */
  readonly base: bigint;
  readonly length: number;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const DOTTED = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

/**
 * What node:net's isIP answers (4, 6 or 0), without node:net: loading that module costs a plugin
 * under Bun ~9 ms of start-up. Dotted quads without leading zeros; IPv6 with at most one "::", an
 * optional trailing dotted quad and an optional zone.
 */
export function ipFamily(s: string): 0 | 4 | 6 {
  if (DOTTED.test(s)) return 4;
  const zone = s.indexOf('%');
  const text = zone < 0 ? s : zone === s.length - 1 ? '' : s.slice(0, zone);
  if (!text.includes(':')) return 0;
  const halves = text.split('::');
  if (halves.length > 2) return 0;
  let groups = 0;
  for (const [i, half] of halves.entries()) {
    if (half === '') continue;
    const parts = half.split(':');
    for (const [j, p] of parts.entries()) {
      const last = i === halves.length - 1 && j === parts.length - 1;
      if (last && p.includes('.')) {
        if (!DOTTED.test(p)) return 0;
        groups += 2;
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) groups += 1;
      else return 0;
    }
  }
  return (halves.length === 2 ? groups <= 7 : groups === 8) ? 6 : 0;
}

export function parseAddr(s: string): Addr | undefined {
  const family = ipFamily(s);
  if (family === 4) return { family: 4, value: s.split('.').reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n) };
  if (family !== 6 || s.includes('%')) return undefined;
  let text = s;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text); // ::ffff:1.2.3.4
  if (v4) {
    const n = parseAddr(v4[1]!)!.value;
    text = text.slice(0, -v4[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groups = (part: string | undefined): string[] => (part ? part.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return { family: 6, value: all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

export function formatAddr(a: Addr): string {
  if (a.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((a.value >> s) & 0xffn)).join('.');
  const g = Array.from({ length: 8 }, (_, i) => Number((a.value >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1; // a single zero group is not shortened
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** "ADDRESS/LENGTH" of either family; the network (host bits cleared) and the address as given. */
export function parsePrefix(s: string): (Prefix & { readonly addr: Addr }) | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  const addr = m ? parseAddr(m[1]!) : undefined;
  if (!m || !addr || Number(m[2]) > BITS[addr.family]) return undefined;
  const length = Number(m[2]);
  const hostBits = BigInt(BITS[addr.family] - length);
  return { family: addr.family, base: (addr.value >> hostBits) << hostBits, length, addr };
}

/** The prefix as "NETWORK/LENGTH" (fd00:1::/64, 10.1.0.0/16). */
export function formatPrefix(p: Prefix): string {
  return `${formatAddr({ family: p.family, value: p.base })}/${p.length}`;
}

/** The last address of the prefix (IPv4's broadcast). */
export function lastOf(p: Prefix): bigint {
  return p.base + (1n << BigInt(BITS[p.family] - p.length)) - 1n;
}

export function contains(p: Prefix, a: Addr): boolean {
  return a.family === p.family && a.value >= p.base && a.value <= lastOf(p);
}

export function bitsOf(f: Family): number {
  return BITS[f];
}

// IPv4 as plain numbers.

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
  if (!m || Number(m[2]) > 32)
    throw new CnilabError('INVALID_INPUT', `${JSON.stringify(s)} is not an IPv4 CIDR like 10.244.0.0/16`);
  const ip = parseIPv4(m[1]!);
  const prefix = Number(m[2]);
  const size = 2 ** (32 - prefix);
  const base = Math.floor(ip / size) * size;
  if (strict && base !== ip)
    throw new CnilabError('INVALID_INPUT', `${s} has host bits set; did you mean ${formatIPv4(base)}/${prefix}?`);
  return { base, prefix, ip };
}

export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

export function containsIPv4(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + cidrSize(c);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + cidrSize(b) && b.base < a.base + cidrSize(a);
}

/** The i-th subnet of length `prefix` inside `c`. */
export function subnetAt(c: Cidr, prefix: number, i: number): Cidr {
  if (prefix < c.prefix) throw new CnilabError('INVALID_INPUT', `/${prefix} is larger than ${formatCidr(c)}`);
  const count = 2 ** (prefix - c.prefix);
  if (i < 0 || i >= count)
    throw new CnilabError('INVALID_INPUT', `${formatCidr(c)} holds ${count} /${prefix} subnets, not ${i + 1}`);
  return { base: c.base + i * 2 ** (32 - prefix), prefix };
}

/** The i-th address of `c` (0 is the network address). */
export function addressAt(c: Cidr, i: number): number {
  if (i < 0 || i >= cidrSize(c)) throw new CnilabError('INVALID_INPUT', `${formatCidr(c)} has no address #${i}`);
  return c.base + i;
}
