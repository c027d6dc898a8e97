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
  if (!rx || typeof rx.bits_per_second !== 'number') throw new Error('iperf3 JSON has no end.sum_received.bits_per_second');
  return {
    bitsPerSecond: rx.bits_per_second,
    retransmits: j.end?.sum_sent?.retransmits ?? 0,
    seconds: rx.seconds ?? 0,
    bytes: rx.bytes ?? 0,
  };
}
