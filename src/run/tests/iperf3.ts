/** Samples taken with iperf3, for the throughput tests. */
import { tcpSample, udpSample } from '../../traffic/iperf3/run';
import { affinityArg, type Sample, type TestContext } from './test';

export async function tcpThroughput(
  c: TestContext,
  streams: number,
  durationSec = c.settings.durationSec,
): Promise<Sample> {
  const s = await tcpSample({
    client: c.client,
    serverIp: c.serverIp,
    durationSec,
    streams,
    affinity: affinityArg(c.affinity),
    signal: c.signal,
  });
  return { metrics: { gbps: s.bitsPerSecond / 1e9 }, cpu: s.cpu, retransmits: s.retransmits };
}

/** UDP at `rateBps` (0: as fast as the sender can), `lengthBytes` per datagram. */
export async function udpThroughput(c: TestContext, rateBps: number, lengthBytes?: number): Promise<Sample> {
  const s = await udpSample({
    client: c.client,
    serverIp: c.serverIp,
    durationSec: c.settings.durationSec,
    rateBps,
    ...(lengthBytes ? { lengthBytes } : {}),
    affinity: affinityArg(c.affinity),
    signal: c.signal,
  });
  return {
    metrics: { gbps: s.bitsPerSecond / 1e9, pps: s.packetsPerSecond, lossPct: s.lostPct, jitterMs: s.jitterMs },
    cpu: s.cpu,
  };
}
