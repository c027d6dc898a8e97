import { latencySamples, SOCKPERF_PAUSE_SEC } from '../../traffic/sockperf/run';
import { PER_SAMPLE_SEC, type Launched, type RunTest, type Sample, type TestContext, type TestSettings } from './test';

/** sockperf discards the first 400 ms and the last 50 ms of a run. */
const DISCARDED_SEC = 0.45;

/**
 * One latency sample: one sockperf ping-pong run of `latencySec` seconds (`-t`); its valid period
 * (all but the discarded 0.45 s) gives the percentiles. Starts sockperf; `onStarted` fires when it
 * measures.
 */
export function latencyRun(c: TestContext, onStarted?: () => void): Promise<Sample> {
  return latencySamples({
    client: c.client,
    serverIp: c.serverIp,
    windows: 1,
    windowSec: c.settings.latencySec - DISCARDED_SEC,
    runSec: c.settings.latencySec,
    cpu: c.affinity?.client,
    signal: c.signal,
    onStarted,
  }).then(([l]) => ({
    metrics: { rttP50Us: l!.p50Us, rttP90Us: l!.p90Us, rttP99Us: l!.p99Us, rttP999Us: l!.p999Us },
  }));
}

/** A latency sample started in the background: the run starts the next during this one's pause. */
export function launchLatency(c: TestContext): Launched {
  let started!: () => void;
  const begun = new Promise<void>((resolve) => (started = resolve));
  const result = latencyRun(c, started);
  // A run that fails before it measures still ends the wait for its start.
  void result.then(started, started);
  return { started: begun, result, measuringSec: c.settings.latencySec };
}

/** Seconds of one sample run on its own: the pause, the run, the exits. */
export const latencyPlannedSec = (s: TestSettings): number => SOCKPERF_PAUSE_SEC + s.latencySec + PER_SAMPLE_SEC;

export const latency: RunTest = {
  name: 'latency',
  summary: 'request/response round trip, idle: p50/p90/p99/p99.9 (sockperf ping-pong, UDP, 64 B)',
  primary: 'rttP50Us',
  tool: 'sockperf',
  params: () => [{ payloadBytes: 64 }],
  sample: (c) => latencyRun(c),
  launch: launchLatency,
  // In a block, the pauses overlap: a sample costs its run and the gap between runs.
  plannedSec: (s) => s.latencySec + 0.25,
  label: () => '',
};
