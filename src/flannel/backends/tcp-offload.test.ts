import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sum16 } from './inet-checksum';
import { offloadsWithout } from './udp-offload';
import {
  closeRun,
  completeChecksum,
  extendRun,
  GSO_TCPV4,
  GSO_TCPV6,
  readVnetHdr,
  segmentTcp,
  startRun,
  VNET_F_NEEDS_CSUM,
} from './tcp-offload';

/** The RFC 1071 checksum, byte by byte: the oracle the fast code is checked against. */
function naiveSum(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) s += (b[off + i]! << 8) | (i + 1 < len ? b[off + i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}
const fold = (s: number): number => {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
};
function tcpValid(pkt: Buffer, v6 = false): boolean {
  const ipHl = v6 ? 40 : (pkt[0]! & 15) * 4;
  const l4 = pkt.length - ipHl;
  const pseudo = v6 ? naiveSum(pkt, 8, 32) + 6 + l4 : naiveSum(pkt, 12, 8) + 6 + l4;
  return fold(pseudo + naiveSum(pkt, ipHl, l4)) === 0xffff;
}

/** An IPv4 (or IPv6) TCP packet with timestamps and `payload`, its checksums left zero. */
function tcpPacket(payload: Buffer, opts: { v6?: boolean; flags?: number; seq?: number; id?: number } = {}): Buffer {
  const ipHl = opts.v6 ? 40 : 20;
  const tcpHl = 32;
  const p = Buffer.alloc(ipHl + tcpHl + payload.length);
  if (opts.v6) {
    p[0] = 0x60;
    p.writeUInt16BE(tcpHl + payload.length, 4);
    p[6] = 6;
    p[7] = 64;
    Buffer.from('fd000000000000000000000000000001fd000000000000000000000000000002', 'hex').copy(p, 8);
  } else {
    p[0] = 0x45;
    p.writeUInt16BE(p.length, 2);
    p.writeUInt16BE(opts.id ?? 0x1234, 4);
    p.writeUInt16BE(0x4000, 6); // DF
    p[8] = 64;
    p[9] = 6;
    Buffer.from([10, 244, 1, 2, 10, 244, 2, 3]).copy(p, 12);
  }
  const t = ipHl;
  p.writeUInt16BE(40000, t);
  p.writeUInt16BE(5201, t + 2);
  p.writeUInt32BE(opts.seq ?? 0xfffff000, t + 4); // wraps around 2^32 within the packet
  p.writeUInt32BE(777, t + 8);
  p[t + 12] = (tcpHl / 4) << 4;
  p[t + 13] = opts.flags ?? 0x18; // ACK|PSH
  p.writeUInt16BE(501, t + 14);
  Buffer.from([1, 1, 8, 10, 0, 0, 1, 2, 0, 0, 3, 4]).copy(p, t + 20);
  payload.copy(p, ipHl + tcpHl);
  return p;
}

test('sum16 equals the byte-by-byte checksum at every alignment and length', () => {
  const b = randomBytes(4096);
  for (let off = 0; off < 9; off++)
    for (const len of [0, 1, 2, 3, 5, 8, 19, 20, 1431, 1432, 2049])
      assert.equal(sum16(b, off, len), naiveSum(b, off, len), `off ${off} len ${len}`);
  const sub = b.subarray(3); // a Buffer that starts at an odd address
  assert.equal(sum16(sub, 1, 1000), naiveSum(sub, 1, 1000));
});

for (const v6 of [false, true]) {
  const segmentTcpTitle =
    `segmentTcp (${v6 ? 'IPv6' : 'IPv4'}): every segment has valid checksums, the right lengths, sequence ` +
    `numbers and flags; the payload is cut, not copied`;
  test(segmentTcpTitle, () => {
    const payload = randomBytes(10_001);
    const mss = 1420;
    const sp = tcpPacket(payload, { v6 });
    const hdrs = Buffer.alloc(64 * 120);
    const seg = segmentTcp(sp, 0, sp.length, mss, hdrs, 0, 1)!;
    const ipHl = v6 ? 40 : 20;
    assert.deepEqual(seg, { count: 8, hdrLen: ipHl + 32 });
    const pieces: Buffer[] = [];
    for (let i = 0; i < seg.count; i++) {
      const body = sp.subarray(seg.hdrLen + i * mss, Math.min(sp.length, seg.hdrLen + (i + 1) * mss));
      const pkt = Buffer.concat([hdrs.subarray(i * seg.hdrLen, (i + 1) * seg.hdrLen), body]);
      pieces.push(body);
      assert.ok(tcpValid(pkt, v6), `segment ${i}: TCP checksum`);
      if (v6) {
        assert.equal(pkt.readUInt16BE(4), pkt.length - 40);
        assert.equal(pkt[7], 63, 'hop limit decremented');
      } else {
        assert.equal(naiveSum(pkt, 0, 20), 0xffff, `segment ${i}: IP header checksum`);
        assert.equal(pkt.readUInt16BE(2), pkt.length);
        assert.equal(pkt.readUInt16BE(4), 0x1234 + i, 'IP IDs count up');
        assert.equal(pkt[8], 63, 'TTL decremented');
      }
      assert.equal(pkt.readUInt32BE(ipHl + 4), (0xfffff000 + i * mss) >>> 0, 'sequence numbers, wrapping');
      assert.equal(pkt[ipHl + 13], i === seg.count - 1 ? 0x18 : 0x10, 'PSH only on the last segment');
      assert.deepEqual(pkt.subarray(ipHl + 20, ipHl + 32), sp.subarray(ipHl + 20, ipHl + 32), 'options kept');
    }
    assert.deepEqual(Buffer.concat(pieces), payload);
  });
}

for (const v6 of [false, true]) {
  const segmentThenTitle =
    `segment then coalesce gives back the super-packet (${v6 ? 'IPv6' : 'IPv4'}); the kernel-completed ` +
    `checksum is valid`;
  test(segmentThenTitle, () => {
    const payload = randomBytes(20 * 1420 + 300);
    const sp = tcpPacket(payload, { flags: 0x18, v6 });
    const ipHl = v6 ? 40 : 20;
    const hdrs = Buffer.alloc(64 * 120);
    const { count, hdrLen } = segmentTcp(sp, 0, sp.length, 1420, hdrs, 0)!;
    // Lay the segments out as a GRO datagram: back to back, each the same size but the last.
    const segs: Buffer[] = [];
    for (let i = 0; i < count; i++)
      segs.push(
        Buffer.concat([
          hdrs.subarray(i * hdrLen, (i + 1) * hdrLen),
          sp.subarray(hdrLen + i * 1420, Math.min(sp.length, hdrLen + (i + 1) * 1420)),
        ]),
      );
    const rx = Buffer.concat(segs);
    const run = startRun(rx, 0, segs[0]!.length)!;
    assert.ok(run, 'a full data segment heads a run');
    let off = segs[0]!.length;
    for (let i = 1; i < count; i++) {
      assert.ok(extendRun(rx, run, off, segs[i]!.length), `segment ${i} continues the run`);
      off += segs[i]!.length;
    }
    assert.equal(run.closed, true, 'the short PSH segment ends the run');
    const vnet = Buffer.alloc(10);
    closeRun(rx, run, vnet, 0);
    const v = readVnetHdr(vnet, 0);
    assert.deepEqual(v, {
      flags: VNET_F_NEEDS_CSUM,
      gsoType: v6 ? GSO_TCPV6 : GSO_TCPV4,
      hdrLen,
      gsoSize: 1420,
      csumStart: ipHl,
      csumOffset: 16,
    });
    const rebuilt = Buffer.concat([rx.subarray(0, segs[0]!.length), ...segs.slice(1).map((s) => s.subarray(hdrLen))]);
    assert.equal(rebuilt.length, sp.length);
    if (v6) assert.equal(rebuilt.readUInt16BE(4), sp.length - 40, 'IPv6 payload length');
    else {
      assert.equal(rebuilt.readUInt16BE(2), sp.length);
      assert.equal(naiveSum(rebuilt, 0, 20), 0xffff, 'IP header checksum');
    }
    assert.equal(rebuilt[ipHl + 13], 0x18, 'PSH carried to the super-packet');
    completeChecksum(rebuilt, 0, rebuilt.length, v.csumStart, v.csumOffset); // what the kernel does with NEEDS_CSUM
    assert.ok(tcpValid(rebuilt, v6), 'TCP checksum once completed');
    assert.deepEqual(rebuilt.subarray(hdrLen), payload);
  });
}

test('coalescing refuses what would change the stream: gaps, other flows, other flags, a run already closed', () => {
  const mk = (seq: number, opts: { flags?: number; port?: number } = {}): Buffer => {
    const p = tcpPacket(randomBytes(1000), { seq, flags: opts.flags ?? 0x10 });
    if (opts.port) p.writeUInt16BE(opts.port, 20);
    return p;
  };
  const cases: [string, Buffer, boolean][] = [
    ['the next segment', mk(2000), true],
    ['a gap', mk(3000), false],
    ['another flow', (() => mk(2000, { port: 1 }))(), false],
    ['a FIN', mk(2000, { flags: 0x11 }), false],
  ];
  for (const [what, next, ok] of cases) {
    const rx = Buffer.concat([mk(1000), next]);
    const run = startRun(rx, 0, 1052)!;
    assert.equal(extendRun(rx, run, 1052, 1052), ok, what);
  }
  assert.equal(startRun(mk(1, { flags: 0x02 }), 0, 1052), undefined, 'a SYN heads no run');
  const short = Buffer.concat([tcpPacket(randomBytes(500), { seq: 1000, flags: 0x10 }), mk(1500)]);
  const run = startRun(short, 0, 552)!;
  assert.equal(extendRun(short, run, 552, 1052), false, 'a segment longer than the first one');
});

test('completeChecksum fills in a UDP checksum the kernel left partial', () => {
  const p = Buffer.alloc(20 + 8 + 33);
  p[0] = 0x45;
  p.writeUInt16BE(p.length, 2);
  p[9] = 17;
  Buffer.from([10, 244, 1, 2, 10, 244, 2, 3]).copy(p, 12);
  p.writeUInt16BE(5000, 20);
  p.writeUInt16BE(53, 22);
  p.writeUInt16BE(41, 24);
  randomBytes(33).copy(p, 28);
  const pseudo = fold(naiveSum(p, 12, 8) + 17 + 41);
  p.writeUInt16BE(pseudo, 26); // what the kernel leaves: the folded pseudo-header sum
  completeChecksum(p, 0, p.length, 20, 6);
  assert.equal(fold(naiveSum(p, 12, 8) + 17 + 41 + naiveSum(p, 20, 41)), 0xffff);
});

test('udp-offload techniques are switched off by name; an unknown name is an error naming the field', () => {
  assert.deepEqual(offloadsWithout(['gso', 'mmsg']), { tso: true, gso: false, gro: true, coalesce: true, mmsg: false });
  assert.deepEqual(offloadsWithout(), { tso: true, gso: true, gro: true, coalesce: true, mmsg: true });
  assert.throws(
    () => offloadsWithout(['tso', 'zerocopy']),
    /backend\.disable: unknown technique "zerocopy"; known: tso, gso, gro, coalesce, mmsg/,
  );
});
