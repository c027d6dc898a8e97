/**
 * Address arithmetic for the nftables design's peer sets: a rule's peers (pod addresses and
 * address blocks less their excepts) as one sorted list of disjoint address ranges, the elements of
 * an `interval` set. nft rejects overlapping elements in one set, and an except has no `nomatch` as
 * in ipset, so the excepts are cut out here: a block minus its excepts is the gaps between them.
 */
import type { AddressBlock } from '../model';

/** An inclusive range of IPv4 addresses, as unsigned 32-bit numbers. */
export interface Range {
  readonly from: number;
  readonly to: number;
}

export function ipToNumber(ip: string): number {
  const parts = ip.split('.').map(Number);
  return (((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0) as number;
}

export const numberToIp = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** A CIDR ("10.0.0.0/8", or an address: /32) as a range; host bits set are ignored, as the kernel does. */
export function cidrRange(cidr: string): Range {
  const [ip, bits = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const from = ipToNumber(ip!) - (ipToNumber(ip!) % size);
  return { from, to: from + size - 1 };
}

/** Sorted and merged: overlapping or adjacent ranges become one. */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1) out[out.length - 1] = { from: last.from, to: Math.max(last.to, r.to) };
    else out.push(r);
  }
  return out;
}

/** A block without its excepts: the parts of the cidr between the (merged) excepts. */
export function blockRanges(block: AddressBlock): Range[] {
  const whole = cidrRange(block.cidr);
  const out: Range[] = [];
  let next = whole.from;
  for (const e of mergeRanges(block.except.map(cidrRange))) {
    const from = Math.max(e.from, whole.from);
    const to = Math.min(e.to, whole.to);
    if (from > to) continue; // outside the block
    if (from > next) out.push({ from: next, to: from - 1 });
    next = Math.max(next, to + 1);
  }
  if (next <= whole.to) out.push({ from: next, to: whole.to });
  return out;
}

/** The addresses of pods and blocks as disjoint sorted ranges. */
export function peerRanges(ips: readonly string[], blocks: readonly AddressBlock[]): Range[] {
  return mergeRanges([...ips.map(cidrRange), ...blocks.flatMap(blockRanges)]);
}

/** A range as an nft set element: "10.0.0.1" or "10.0.0.0-10.0.255.255". */
export const element = (r: Range): string =>
  r.from === r.to ? numberToIp(r.from) : `${numberToIp(r.from)}-${numberToIp(r.to)}`;
