/**
 * IPv4 and IPv6 addresses as big integers, for allocators that must treat both families alike
 * (host-local's range sets). IPv6 is written the canonical way (RFC 5952: lower case, the longest
 * run of zero groups as "::"), as the reference plugins write it.
 */
import { isIPv4 as netIsIPv4, isIPv6 as netIsIPv6 } from 'node:net';

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

export function parseAddr(s: string): Addr | undefined {
  if (netIsIPv4(s)) return { family: 4, value: s.split('.').reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n) };
  if (!netIsIPv6(s) || s.includes('%')) return undefined;
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
  for (let i = 0; i < 8; ) {
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
