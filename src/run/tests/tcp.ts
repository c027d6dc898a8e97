import { tcpThroughput } from './iperf3';
import { PER_SAMPLE_SEC, type RunTest } from './test';

export const tcp: RunTest = {
  name: 'tcp',
  summary: 'TCP throughput, 1 stream (iperf3)',
  primary: 'gbps',
  tool: 'iperf3',
  params: () => [{ streams: 1 }],
  sample: (c) => tcpThroughput(c, 1),
  plannedSec: (s) => s.durationSec + PER_SAMPLE_SEC,
  label: () => '',
};
