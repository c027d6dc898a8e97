import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decrementTtl } from './udp-proxy';

function checksum(h: Buffer): number {
  let s = 0;
  for (let i = 0; i < 20; i += 2) if (i !== 10) s += h.readUInt16BE(i);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

test('TTL decrement keeps the IPv4 header checksum right (RFC 1624), over many headers', () => {
  let seed = 42;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff;
  for (let k = 0; k < 20000; k++) {
    const h = Buffer.from(Array.from({ length: 20 }, rand));
    h[0] = 0x45;
    h[8] = 2 + (rand() % 250);
    h.writeUInt16BE(checksum(h), 10);
    const ttl = h[8]!;
    assert.equal(decrementTtl(h), true);
    assert.equal(h[8], ttl - 1);
    const want = checksum(h);
    const got = h.readUInt16BE(10);
    // 0x0000 and 0xffff are both zero
    assert.ok(got === want || (got ^ want) === 0xffff, `header ${k}: ${got.toString(16)} != ${want.toString(16)}`);
  }
});

test('a packet whose TTL runs out is refused', () => {
  const h = Buffer.alloc(20);
  h[8] = 1;
  assert.equal(decrementTtl(h), false);
  assert.equal(h[8], 1);
});
