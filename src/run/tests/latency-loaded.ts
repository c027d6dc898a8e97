import { sleep } from '../../lib/exec';
import { latencyRunSec } from '../../traffic/sockperf/run';
import { tcpThroughput } from './iperf3';
import { latencyRunPlannedSec, latencyWindows } from './latency';
import type { RunTest, TestContext } from './test';

export const latencyLoaded: RunTest = {
  name: 'latency-loaded',
  summary: 'the same round trip while a TCP stream runs from client to server',
  primary: 'rttP50Us',
  tool: 'sockperf',
  params: () => [{ payloadBytes: 64 }],
  measure: {
    batch: async (c: TestContext) => {
      // A TCP stream that outlasts the latency run; it uses iperf3's server, sockperf its own.
      const load = tcpThroughput(
        { ...c, affinity: undefined },
        1,
        latencyRunSec({ windows: c.settings.repeats, windowSec: c.settings.latencySec }) + 3,
      );
      try {
        await sleep(300, c.signal); // the stream's slow start, so the windows see it at full rate
        return await latencyWindows(c);
      } finally {
        await load.catch(() => undefined);
      }
    },
  },
  plannedSec: latencyRunPlannedSec,
  label: () => '',
};
