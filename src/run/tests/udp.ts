import { udpThroughput } from './iperf3';
import { PER_SAMPLE_SEC, type RunTest } from './test';

export const udp: RunTest = {
  name: 'udp',
  summary: 'UDP at a target rate: goodput, loss, jitter (iperf3 -u -b)',
  primary: 'gbps',
  tool: 'iperf3',
  params: (s) => [{ rateMbps: s.udpRateMbps }],
  sample: (c, p) => udpThroughput(c, p.rateMbps! * 1e6),
  plannedSec: (s) => s.durationSec + PER_SAMPLE_SEC,
  label: (p) => `${p.rateMbps} Mbit/s`,
};
