/** Hand-built frames and pcap files, for the tests of the reader and of the wire proof's verdict. */

export interface FrameSpec {
  readonly src: string;
  readonly dst: string;
  readonly proto: number;
  readonly sport?: number;
  readonly dport?: number;
  readonly payload?: string;
  readonly vlans?: readonly number[];
}

const ip4 = (s: string): number[] => s.split('.').map(Number);

/** An Ethernet frame carrying an IPv4 packet (UDP and TCP with their ports, else a bare payload). */
export function ipv4Frame(f: FrameSpec): Buffer {
  const payload = Buffer.from(f.payload ?? '');
  const l4 = f.proto === 17 ? Buffer.alloc(8) : f.proto === 6 ? Buffer.alloc(20) : Buffer.alloc(0);
  if (l4.length) {
    l4.writeUInt16BE(f.sport ?? 0, 0);
    l4.writeUInt16BE(f.dport ?? 0, 2);
  }
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + l4.length + payload.length, 2);
  ip[8] = 64;
  ip[9] = f.proto;
  ip.set(ip4(f.src), 12);
  ip.set(ip4(f.dst), 16);
  const tags = (f.vlans ?? []).map((id) => {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(0x8100, 0);
    t.writeUInt16BE(id, 2);
    return t;
  });
  const type = Buffer.from([0x08, 0x00]);
  return Buffer.concat([Buffer.alloc(12, 0xaa), ...tags, type, ip, l4, payload]);
}

export function arpFrame(): Buffer {
  const b = Buffer.alloc(42);
  b.writeUInt16BE(0x0806, 12);
  return b;
}

/** A pcap file of `frames`, 0.5 s (or 500 ns) past 1700000000 each. */
export function pcapFile(frames: readonly Buffer[], o: { little?: boolean; nano?: boolean } = {}): Buffer {
  const little = o.little ?? true;
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    if (little) b.writeUInt32LE(n);
    else b.writeUInt32BE(n);
    return b;
  };
  const u16 = (n: number): Buffer => {
    const b = Buffer.alloc(2);
    if (little) b.writeUInt16LE(n);
    else b.writeUInt16BE(n);
    return b;
  };
  const head = Buffer.concat([
    u32(o.nano ? 0xa1b23c4d : 0xa1b2c3d4),
    u16(2),
    u16(4),
    u32(0),
    u32(0),
    u32(65535),
    u32(1),
  ]);
  const records = frames.map((f) =>
    Buffer.concat([u32(1700000000), u32(o.nano ? 500 : 500_000), u32(f.length), u32(f.length), f]),
  );
  return Buffer.concat([head, ...records]);
}
