import { udpThroughput } from './iperf3';
import { PER_SAMPLE_SEC, type RunTest } from './test';

/** Payload sizes of the sweep: small to the largest that fits every pod MTU of the matrix (1450 − 28). */
export const SWEEP_BYTES = [128, 512, 1024, 1400] as const;

export const sweep: RunTest = {
  name: 'sweep',
  summary: 'message-size sweep: UDP at 128, 512, 1024 and 1400-byte payloads, as fast as the sender can',
  primary: 'gbps',
  tool: 'iperf3',
  params: () => SWEEP_BYTES.map((b) => ({ rateMbps: 0, payloadBytes: b })),
  sample: (c, p) => udpThroughput(c, 0, p.payloadBytes),
  plannedSec: (s) => s.durationSec + PER_SAMPLE_SEC,
  label: (p) => `${p.payloadBytes} B`,
};
