/** iperf3 --json output, reduced to what cnilab reports. */

export interface Iperf3Summary {
  /** Goodput as the receiver counted it. */
  readonly bitsPerSecond: number;
  readonly retransmits: number;
  readonly seconds: number;
  readonly bytes: number;
}

interface Iperf3Json {
  error?: string;
  end?: {
    sum_sent?: { bits_per_second?: number; retransmits?: number; seconds?: number; bytes?: number };
    sum_received?: { bits_per_second?: number; seconds?: number; bytes?: number };
  };
}

export function parseIperf3Json(text: string): Iperf3Summary {
  let j: Iperf3Json;
  try {
    j = JSON.parse(text) as Iperf3Json;
  } catch {
    throw new Error(`iperf3 output is not JSON: ${text.slice(0, 200)}`);
  }
  if (j.error) throw new Error(`iperf3: ${j.error}`);
  const rx = j.end?.sum_received;
  if (!rx || typeof rx.bits_per_second !== 'number')
    throw new Error('iperf3 JSON has no end.sum_received.bits_per_second');
  return {
    bitsPerSecond: rx.bits_per_second,
    retransmits: j.end?.sum_sent?.retransmits ?? 0,
    seconds: rx.seconds ?? 0,
    bytes: rx.bytes ?? 0,
  };
}

/** One UDP test as the receiver saw it. */
export interface Iperf3UdpSummary {
  /** Goodput the receiver counted. */
  readonly bitsPerSecond: number;
  /** Datagrams the receiver got per second (sent − lost, over the receiver's seconds). */
  readonly packetsPerSecond: number;
  readonly packets: number;
  readonly lostPackets: number;
  readonly lostPct: number;
  readonly jitterMs: number;
  readonly seconds: number;
}

interface UdpSum {
  bits_per_second?: number;
  seconds?: number;
  packets?: number;
  lost_packets?: number;
  lost_percent?: number;
  jitter_ms?: number;
}

export function parseIperf3UdpJson(text: string): Iperf3UdpSummary {
  let j: { error?: string; end?: { sum_received?: UdpSum } };
  try {
    j = JSON.parse(text) as typeof j;
  } catch {
    throw new Error(`iperf3 output is not JSON: ${text.slice(0, 200)}`);
  }
  if (j.error) throw new Error(`iperf3: ${j.error}`);
  const rx = j.end?.sum_received;
  if (!rx || typeof rx.bits_per_second !== 'number' || typeof rx.packets !== 'number' || !rx.seconds) {
    throw new Error('iperf3 UDP JSON has no end.sum_received with bits_per_second, packets and seconds');
  }
  const lost = rx.lost_packets ?? 0;
  return {
    bitsPerSecond: rx.bits_per_second,
    packetsPerSecond: Math.max(0, rx.packets - lost) / rx.seconds,
    packets: rx.packets,
    lostPackets: lost,
    lostPct: rx.lost_percent ?? 0,
    jitterMs: rx.jitter_ms ?? 0,
    seconds: rx.seconds,
  };
}

/**
 * Why the test's connections are not of `serverIp`'s family (an iperf3 that fell back to IPv4 where IPv6 was asked,
 * benchmark-operator#814), or undefined when every connection is: iperf3's `start.connected`, both ends.
 */
export function familyMismatch(text: string, serverIp: string): string | undefined {
  let j: { start?: { connected?: { local_host?: string; remote_host?: string }[] } };
  try {
    j = JSON.parse(text) as typeof j;
  } catch {
    return undefined; // the summary's parse says what is wrong with it
  }
  const want = serverIp.includes(':') ? 6 : 4;
  const of = (a: string | undefined): number =>
    a === undefined ? 0 : a.includes(':') && !/^::ffff:\d/i.test(a) ? 6 : 4;
  const conns = j.start?.connected ?? [];
  if (conns.length === 0) return 'iperf3 reported no connection (start.connected is empty)';
  const bad = conns.find((c) => of(c.local_host) !== want || of(c.remote_host) !== want);
  return bad
    ? `a connection ran over IPv${want === 6 ? 4 : 6} (${bad.local_host} → ${bad.remote_host}), not the IPv${want} ` +
        `of ${serverIp}`
    : undefined;
}
