import { udpThroughput } from './iperf3';
import { PER_SAMPLE_SEC, type RunTest } from './test';

export const pps: RunTest = {
  name: 'pps',
  summary: 'small-packet rate: UDP 64-byte payloads as fast as the sender can (iperf3 -u -l 64 -b 0)',
  primary: 'pps',
  tool: 'iperf3',
  params: () => [{ rateMbps: 0, payloadBytes: 64 }],
  sample: (c) => udpThroughput(c, 0, 64),
  plannedSec: (s) => s.durationSec + PER_SAMPLE_SEC,
  label: () => '',
};
