/** The attach test's flags (--attach-sizes, --attach-samples), parsed and checked, and its settings from them. */
import { z } from 'zod';
import { CnilabError } from '../../lib/errors';
import { wholeNumber } from '../after/flags';
import type { AfterFlag } from '../after/test';
import { ATTACH_DEFAULTS, ATTACH_MAX_SIZE, type AttachSettings } from './plan';

/** Parses --attach-sizes: whole numbers of pods from 1 to ATTACH_MAX_SIZE, comma-separated. */
export function attachSizes(v: string): number[] {
  const sizes = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((x) => {
      const n = Number(x);
      if (!Number.isInteger(n) || n < 1 || n > ATTACH_MAX_SIZE)
        throw new CnilabError(
          'INVALID_INPUT',
          `--attach-sizes: ${JSON.stringify(x)} must be a whole number ` +
            `of pods from 1 to ${ATTACH_MAX_SIZE}, e.g. 10,100,1000`,
        );
      return n;
    });
  if (sizes.length === 0)
    throw new CnilabError('INVALID_INPUT', '--attach-sizes: give one lab size or more, e.g. 10,100');
  return [...new Set(sizes)].sort((a, b) => a - b);
}

export const ATTACH_FLAGS: readonly AfterFlag[] = [
  {
    flag: '--attach-sizes <n,m>',
    key: 'attachSizes',
    help:
      `attach test: the lab sizes (pods held) one ADD goes into, filled with extra pods ` +
      `(default ${ATTACH_DEFAULTS.sizes.join(',')}; 1000 needs a topology whose nodes' pod subnets hold it)`,
    parse: attachSizes,
    scenario: z.array(z.number().int().min(1).max(ATTACH_MAX_SIZE)).min(1),
  },
  {
    flag: '--attach-samples <n>',
    key: 'attachSamples',
    help: `attach test: probe pods per architecture and lab size (default ${ATTACH_DEFAULTS.samples})`,
    parse: wholeNumber('attach-samples', 1000),
    scenario: z.number().int().min(1).max(1000),
  },
];

/** Its settings: the flags' (or the scenario's) values, sizes sorted once; the defaults for the rest. */
export function attachSettings(given: Readonly<Record<string, unknown>>): AttachSettings {
  const sizes = given['attachSizes'] as number[] | undefined;
  return {
    samples: (given['attachSamples'] as number | undefined) ?? ATTACH_DEFAULTS.samples,
    sizes: sizes ? [...new Set(sizes)].sort((a, b) => a - b) : ATTACH_DEFAULTS.sizes,
  };
}
