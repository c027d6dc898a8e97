import { bouncebackSample } from '../../traffic/iperf2/run';
import { PER_SAMPLE_SEC, type RunTest, type Sample, type TestContext } from './test';

/**
 * One rtt sample: one iperf 2 bounceback run of `latencySec` seconds, 64 B each way over one TCP
 * connection, back to back (as sockperf's ping-pong, but TCP, and in either family). Its figure is the
 * mean round trip after the first 0.1 s: iperf 2 gives per interval the count, mean, min, max and stdev,
 * and a histogram of 100 µs bins only — no percentile of a round trip of tens of µs can be read from it.
 */
export async function rttSample(c: TestContext): Promise<Sample> {
  const r = await bouncebackSample({
    client: c.client,
    serverIp: c.serverIp,
    durationSec: c.settings.latencySec,
    messageBytes: 64,
    cpu: c.affinity?.client,
    signal: c.signal,
  });
  return { metrics: { rttMeanUs: r.meanUs } };
}

export const rtt: RunTest = {
  name: 'rtt',
  summary: 'TCP request/response round trip, idle, in either IP family: mean (iperf2 --bounceback, 64 B)',
  primary: 'rttMeanUs',
  tool: 'iperf2',
  params: () => [{ payloadBytes: 64 }],
  sample: rttSample,
  // The run, then the exits; the first interval is measured but left out.
  plannedSec: (s) => s.latencySec + PER_SAMPLE_SEC,
  label: () => '',
};
