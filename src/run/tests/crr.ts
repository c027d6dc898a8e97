import { CnilabError } from '../../lib/errors';
import { runCrr } from '../../traffic/crr/run';
import { PER_SAMPLE_SEC, type RunTest, type Sample, type TestContext } from './test';

/** The port the crr servers of a run listen on (the Service path's: this, shifted). */
export const CRR_PORT = 5300;

/** The q-quantile of sorted values (nearest rank). */
const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;

/**
 * One crr sample: for `durationSec`, one TCP connection at a time — connect, a line each way,
 * close — as netperf's TCP_CRR does. Every connection is a new flow: conntrack's entry, the
 * proxy's NAT decision and its teardown are paid each time, which a long stream pays once.
 */
async function crrSample(c: TestContext): Promise<Sample> {
  const r = await runCrr(
    c.client,
    { host: c.serverIp, port: CRR_PORT, count: 10_000_000, durationSec: c.settings.durationSec, timeoutMs: 2000 },
    c.affinity?.client,
    c.signal,
  );
  const failures = r.refused + r.timedOut + Object.values(r.failed).reduce((a, b) => a + b, 0);
  if (r.ok === 0 || failures > r.ok / 100)
    throw new CnilabError(
      'EXEC_FAILED',
      `crr to ${c.serverIp}:${CRR_PORT}: ${r.ok} connections answered, ${r.refused} refused, ${r.timedOut} timed out` +
        `${Object.keys(r.failed).length ? `, failed ${JSON.stringify(r.failed)}` : ''}`,
    );
  const ms = [...r.connectMs].sort((a, b) => a - b);
  return {
    metrics: {
      connPerSec: r.perSec,
      connectP50Us: quantile(ms, 0.5) * 1000,
      connectP99Us: quantile(ms, 0.99) * 1000,
    },
  };
}

export const crr: RunTest = {
  name: 'crr',
  summary: "TCP connect-request-response-close per second, one connection at a time (cnilab's crr client)",
  primary: 'connPerSec',
  tool: 'crr',
  params: () => [{}],
  sample: crrSample,
  plannedSec: (s) => s.durationSec + PER_SAMPLE_SEC,
  label: () => '',
};
