/** The service-scale test's flag (--service-counts), parsed and checked, and its settings from it. */
import { z } from 'zod';
import { CnilabError } from '../../lib/errors';
import type { AfterFlag } from '../after/test';
import { SERVICE_SCALE_DEFAULTS, SERVICE_SCALE_MAX, type ServiceScaleSettings } from './plan';

/** Parses --service-counts: whole numbers of Services from 1 to SERVICE_SCALE_MAX, comma-separated. */
export function serviceCounts(v: string): number[] {
  const counts = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((x) => {
      const n = Number(x);
      if (!Number.isInteger(n) || n < 1)
        throw new CnilabError(
          'INVALID_INPUT',
          `--service-counts: ${JSON.stringify(x)} must be a whole number of Services from 1 to ${SERVICE_SCALE_MAX}, ` +
            `e.g. 1,1000,10000`,
        );
      if (n > SERVICE_SCALE_MAX)
        throw new CnilabError(
          'INVALID_INPUT',
          `--service-counts: ${n} is more than this machine was measured to hold (${SERVICE_SCALE_MAX} Services: ` +
            `memory and load time, docs/services.md); give at most ${SERVICE_SCALE_MAX}`,
        );
      return n;
    });
  if (counts.length === 0)
    throw new CnilabError('INVALID_INPUT', '--service-counts: give one Service count or more, e.g. 1,1000');
  return [...new Set(counts)].sort((a, b) => a - b);
}

export const SERVICE_SCALE_FLAGS: readonly AfterFlag[] = [
  {
    flag: '--service-counts <n,m>',
    key: 'serviceCounts',
    help:
      `service-scale test: the Services in the lab (the probed one included) it is measured with ` +
      `(default ${SERVICE_SCALE_DEFAULTS.counts.join(',')}; at most ${SERVICE_SCALE_MAX}, and what the ClusterIP ` +
      `range holds)`,
    parse: serviceCounts,
    scenario: z.array(z.number().int().min(1).max(SERVICE_SCALE_MAX)).min(1),
  },
];

/** Its settings: the flag's (or the scenario's) counts, sorted once; the defaults for the rest. */
export function serviceScaleSettings(given: Readonly<Record<string, unknown>>): ServiceScaleSettings {
  const counts = given['serviceCounts'] as number[] | undefined;
  return {
    ...SERVICE_SCALE_DEFAULTS,
    counts: counts ? [...new Set(counts)].sort((a, b) => a - b) : SERVICE_SCALE_DEFAULTS.counts,
  };
}
