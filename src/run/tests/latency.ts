import { latencyRunSec, latencySamples } from '../../traffic/sockperf/run';
import type { RunTest, Sample, TestContext, TestSettings } from './test';

/** What starting sockperf's client and server costs here, before any run is measured. */
const SOCKPERF_START_SEC = 2.3;

/** One sockperf ping-pong run cut into `repeats` windows: one sample each. */
export async function latencyWindows(c: TestContext): Promise<Sample[]> {
  const w = await latencySamples({
    client: c.client,
    serverIp: c.serverIp,
    windows: c.settings.repeats,
    windowSec: c.settings.latencySec,
    cpu: c.affinity?.client,
    signal: c.signal,
  });
  return w.map((l) => ({ metrics: { rttP50Us: l.p50Us, rttP90Us: l.p90Us, rttP99Us: l.p99Us, rttP999Us: l.p999Us } }));
}

export const latencyRunPlannedSec = (s: TestSettings): number =>
  latencyRunSec({ windows: s.repeats, windowSec: s.latencySec }) + SOCKPERF_START_SEC;

export const latency: RunTest = {
  name: 'latency',
  summary: 'request/response round trip, idle: p50/p90/p99/p99.9 (sockperf ping-pong, UDP, 64 B)',
  primary: 'rttP50Us',
  tool: 'sockperf',
  params: () => [{ payloadBytes: 64 }],
  measure: { batch: (c) => latencyWindows(c) },
  plannedSec: latencyRunPlannedSec,
  label: () => '',
};
