import { tcpThroughput } from './iperf3';
import { PER_SAMPLE_SEC, type RunTest } from './test';

export const tcpParallel: RunTest = {
  name: 'tcp-parallel',
  summary: 'TCP throughput, N streams (iperf3 -P)',
  primary: 'gbps',
  tool: 'iperf3',
  params: (s) => [{ streams: s.streams }],
  sample: (c, p) => tcpThroughput(c, p.streams!),
  plannedSec: (s) => s.durationSec + PER_SAMPLE_SEC,
  label: (p) => `${p.streams} streams`,
};
