/** The names results.json enumerates: families, tests, metrics, paths, verdicts (one place each). */
import { z } from 'zod';

import { FAMILIES, PATHS } from '../arch/vocabulary';

/** How the report groups architectures (arch/vocabulary.ts). */
export { FAMILIES };

/** The tests' names, as results.json's schema enumerates them (run/tests/ has one module each). */
export const TESTS = ['tcp', 'tcp-parallel', 'udp', 'pps', 'sweep', 'latency', 'latency-loaded', 'rtt', 'crr'] as const;
export type TestName = (typeof TESTS)[number];

export const METRICS = [
  'gbps',
  'pps',
  'lossPct',
  'jitterMs',
  'rttP50Us',
  'rttP90Us',
  'rttP99Us',
  'rttP999Us',
  'rttMeanUs',
  'connPerSec',
  'connectP50Us',
  'connectP99Us',
] as const;
export type MetricName = (typeof METRICS)[number];

export const METRIC_INFO: Record<MetricName, { label: string; unit: string; better: 'higher' | 'lower' }> = {
  gbps: { label: 'throughput', unit: 'Gbit/s', better: 'higher' },
  pps: { label: 'packets/s', unit: 'packets/s', better: 'higher' },
  lossPct: { label: 'loss', unit: '%', better: 'lower' },
  jitterMs: { label: 'jitter', unit: 'ms', better: 'lower' },
  rttP50Us: { label: 'RTT p50', unit: 'µs', better: 'lower' },
  rttP90Us: { label: 'RTT p90', unit: 'µs', better: 'lower' },
  rttP99Us: { label: 'RTT p99', unit: 'µs', better: 'lower' },
  rttP999Us: { label: 'RTT p99.9', unit: 'µs', better: 'lower' },
  rttMeanUs: { label: 'RTT mean', unit: 'µs', better: 'lower' },
  connPerSec: { label: 'connections/s', unit: 'connections/s', better: 'higher' },
  connectP50Us: { label: 'connect p50', unit: 'µs', better: 'lower' },
  connectP99Us: { label: 'connect p99', unit: 'µs', better: 'lower' },
};

export const PATH = z.enum(PATHS);

/** What a comparison of two rows ends in (v3–v5 wrote `indistinguishable` for the last two). */
export const PAIR_VERDICTS = ['better', 'worse', 'equivalent', 'not resolved'] as const;

/** What the designs compared (claims.designs) judge: throughput, latency, CPU per Gbit. */
export const DESIGN_METRICS = ['throughput', 'latency', 'cpuPerGbit'] as const;
