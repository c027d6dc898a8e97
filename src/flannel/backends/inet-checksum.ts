/**
 * The Internet checksum (RFC 1071) at the speed a user-space data path needs: the ones' complement
 * sum is independent of byte order, so the aligned middle of a range is summed as native 32-bit
 * words through a Uint32Array over the buffer's memory (no copy, no per-byte decoding) and the
 * result swapped once; only the ragged edges go byte by byte.
 */

export interface Views {
  readonly buffer: ArrayBufferLike;
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
}
const views = new WeakMap<ArrayBufferLike, Views>();
// The data path sums the same two or three buffers over and over: a hit here skips the WeakMap.
let last1: Views | undefined;
let last2: Views | undefined;

/** Byte and 32-bit views over a whole ArrayBuffer (made once per buffer). */
export function viewsOf(ab: ArrayBufferLike): Views {
  if (last1?.buffer === ab) return last1;
  if (last2?.buffer === ab) {
    [last1, last2] = [last2, last1];
    return last1!;
  }
  let v = views.get(ab);
  if (!v) {
    v = { buffer: ab, u8: new Uint8Array(ab), u32: new Uint32Array(ab, 0, ab.byteLength >>> 2) };
    views.set(ab, v);
  }
  last2 = last1;
  last1 = v;
  return v;
}

/** Folds a (possibly 53-bit) sum to 16 bits, end-around carry included. */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return sum;
}

/** Sum of 32-bit words [w, end): four independent sums, so the additions do not wait for each other. */
function sumWords(u32: Uint32Array, w: number, end: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (; w + 3 < end; w += 4) {
    s0 += u32[w]!;
    s1 += u32[w + 1]!;
    s2 += u32[w + 2]!;
    s3 += u32[w + 3]!;
  }
  for (; w < end; w++) s0 += u32[w]!;
  return s0 + s1 + s2 + s3;
}

const swap16 = (x: number): number => ((x & 0xff) << 8) | (x >>> 8);

/**
 * The folded 16-bit ones' complement sum of `len` bytes of `buf` from `off`, as the checksum
 * reads them: big-endian 16-bit words starting at `off` (a trailing odd byte padded with zero).
 */
export function sum16(buf: Uint8Array, off: number, len: number): number {
  const start = buf.byteOffset + off;
  const end = start + len;
  const { u8, u32 } = viewsOf(buf.buffer);
  // Summed by absolute address parity (even address = low byte, the little-endian reading).
  let s = 0;
  let i = start;
  for (; i < end && (i & 3) !== 0; i++) s += i & 1 ? u8[i]! << 8 : u8[i]!;
  const wEnd = end >>> 2;
  if (i < end) {
    s += sumWords(u32, i >>> 2, wEnd);
    i = Math.max(i, wEnd << 2);
  }
  for (; i < end; i++) s += i & 1 ? u8[i]! << 8 : u8[i]!;
  const folded = fold(s);
  // A range starting at an even address was read little-endian: swap to the network order; one
  // starting at an odd address had its bytes in the other lanes, which is the network order.
  return start & 1 ? folded : swap16(folded);
}

/** The checksum to store: the complement of the folded sum (partial sums may simply be added first). */
export function finish(sum: number): number {
  return ~fold(sum) & 0xffff;
}

/** Sum of the IPv4 pseudo-header for an upper-layer protocol (addresses read from the IP header at `ip`). */
export function pseudoV4(buf: Uint8Array, ip: number, proto: number, l4len: number): number {
  return sum16(buf, ip + 12, 8) + proto + l4len;
}

/** Sum of the IPv6 pseudo-header (addresses read from the IPv6 header at `ip`). */
export function pseudoV6(buf: Uint8Array, ip: number, proto: number, l4len: number): number {
  return sum16(buf, ip + 8, 32) + Math.floor(l4len / 65536) + (l4len & 0xffff) + proto;
}
