import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ethernetFrame, frameKind, parsePcap } from './pcap';
import { arpFrame, ipv4Frame, pcapFile } from './pcap-fixture';

test('a pcap file in either byte order: every frame, its time, length, EtherType and IPv4 header', () => {
  const udp = ipv4Frame({ src: '198.18.0.2', dst: '198.18.0.3', proto: 17, sport: 51820, dport: 51820, payload: 'x' });
  const tcp = ipv4Frame({ src: '10.244.1.2', dst: '10.244.2.2', proto: 6, sport: 40000, dport: 5201 });
  for (const little of [true, false]) {
    const p = parsePcap(pcapFile([udp, tcp, arpFrame()], { little }));
    assert.equal(p.linkType, 1);
    assert.equal(p.snapLen, 65535);
    assert.equal(p.frames.length, 3);
    assert.equal(p.frames[0]!.time, 1700000000.5);
    assert.equal(p.frames[0]!.length, udp.length);
    assert.deepEqual(p.frames[0]!.ipv4, {
      src: '198.18.0.2',
      dst: '198.18.0.3',
      proto: 17,
      sport: 51820,
      dport: 51820,
    });
    assert.deepEqual(p.frames[1]!.ipv4, { src: '10.244.1.2', dst: '10.244.2.2', proto: 6, sport: 40000, dport: 5201 });
    assert.equal(p.frames[2]!.etherType, 0x0806);
    assert.deepEqual(
      p.frames.map((f) => frameKind(f)),
      ['udp/51820', 'tcp/5201', 'arp'],
    );
  }
});

test('nanosecond files, VLAN tags, ESP, ICMP, other protocols and a frame cut by the snap length', () => {
  const esp = ipv4Frame({ src: '198.18.0.2', dst: '198.18.0.3', proto: 50, vlans: [100, 7] });
  const p = parsePcap(pcapFile([esp], { nano: true }));
  assert.equal(p.frames[0]!.time, 1700000000 + 5e-7);
  assert.deepEqual(p.frames[0]!.vlans, [100, 7]);
  assert.equal(frameKind(p.frames[0]!), 'esp');
  assert.equal(frameKind(ethernetFrame(ipv4Frame({ src: '1.1.1.1', dst: '2.2.2.2', proto: 1 }), 0, 0)), 'icmp');
  assert.equal(frameKind(ethernetFrame(ipv4Frame({ src: '1.1.1.1', dst: '2.2.2.2', proto: 4 }), 0, 0)), 'ip/4');
  const cut = ipv4Frame({ src: '1.1.1.1', dst: '2.2.2.2', proto: 17, sport: 1, dport: 2 }).subarray(0, 30);
  const f = ethernetFrame(cut, 0, 60);
  assert.equal(f.ipv4, undefined, 'an IPv4 header cut short is left out');
  assert.equal(f.etherType, 0x0800);
  assert.equal(f.captured, 30);
  assert.equal(f.length, 60);
  assert.equal(frameKind(ethernetFrame(Buffer.alloc(10), 0, 10)), 'truncated');
  const lldp = Buffer.alloc(60);
  lldp.writeUInt16BE(0x88cc, 12);
  assert.equal(frameKind(ethernetFrame(lldp, 0, 60)), 'ether/0x88cc');
});

test('a last record cut short (a capture stopped mid-write) is left out; the frames before are kept', () => {
  const file = pcapFile([arpFrame(), arpFrame()]);
  assert.equal(parsePcap(file.subarray(0, file.length - 5)).frames.length, 1);
  assert.equal(parsePcap(file.subarray(0, 24)).frames.length, 0);
});

test('what is not a pcap file: one line naming it', () => {
  assert.throws(() => parsePcap(Buffer.alloc(10), 'x.pcap'), /^CnilabError: x\.pcap: 10 bytes, no pcap header \(24\)$/);
  assert.throws(() => parsePcap(Buffer.alloc(24), 'x.pcap'), /x\.pcap: magic 0x0 is not pcap's$/);
  const ng = Buffer.alloc(24);
  ng.writeUInt32BE(0x0a0d0d0a, 0);
  assert.throws(() => parsePcap(ng, 'x.pcap'), /\(pcapng: write with tcpdump -w\)/);
});
