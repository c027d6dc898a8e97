/**
 * The hashes kube-proxy names its chains with: SHA-256 of a string, in standard base32 (RFC 4648,
 * upper case), truncated. iptables chain names are at most 28 characters, hence KUBE-SVC- + 16;
 * the nftables mode prefixes 8 of them to a readable name.
 */
import { createHash } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Standard base32 of `bytes`, without padding. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let value = 0;
  let bits = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** The first `length` characters of base32(sha256(text)). */
export const hashName = (text: string, length: number): string =>
  base32(createHash('sha256').update(text).digest()).slice(0, length);
