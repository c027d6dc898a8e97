import { SOCKPERF_PAUSE_SEC } from '../../traffic/sockperf/run';
import { tcpThroughput } from './iperf3';
import { latencyPlannedSec, latencyRun } from './latency';
import type { RunTest, TestContext } from './test';

export const latencyLoaded: RunTest = {
  name: 'latency-loaded',
  summary: 'the same round trip while a TCP stream runs from client to server',
  primary: 'rttP50Us',
  tool: 'sockperf',
  params: () => [{ payloadBytes: 64 }],
  // A TCP stream that starts with sockperf and outlasts its run: sockperf's 2 s pause covers the
  // stream's slow start. It uses iperf3's server, sockperf its own.
  sample: async (c: TestContext) => {
    const load = tcpThroughput({ ...c, affinity: undefined }, 1, SOCKPERF_PAUSE_SEC + c.settings.latencySec + 1);
    try {
      return await latencyRun(c);
    } finally {
      await load.catch(() => undefined);
    }
  },
  plannedSec: (s) => latencyPlannedSec(s) + 1,
  label: () => '',
};
