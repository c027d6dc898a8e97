/** The flags of `cnilab run`'s attach test (--attach-sizes, --attach-samples) and join test (--join-samples), parsed and checked. */
import type { Command } from 'commander';
import { CnilabError } from '../../lib/errors';
import { ATTACH_DEFAULTS, ATTACH_MAX_SIZE, type AttachSettings } from '../../run/attach/plan';
import { JOIN_DEFAULTS, JOIN_MAX_SAMPLES, type JoinSettings } from '../../run/join/plan';
import { ATTACH_TEST, JOIN_TEST } from '../../run/results-schema';
import type { Scenario } from '../../run/scenario';
import { list } from '../context';

export interface AttachFlags {
  attachSizes?: number[];
  attachSamples?: number;
  joinSamples?: number;
}

/** Parses --attach-sizes: whole numbers of pods from 1 to ATTACH_MAX_SIZE, comma-separated. */
export function attachSizes(v: string): number[] {
  const sizes = list(v).map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 1 || n > ATTACH_MAX_SIZE)
      throw new CnilabError(
        'INVALID_INPUT',
        `--attach-sizes: ${JSON.stringify(x)} must be a whole number of pods from 1 to ${ATTACH_MAX_SIZE}, e.g. 10,100,1000`,
      );
    return n;
  });
  if (sizes.length === 0)
    throw new CnilabError('INVALID_INPUT', '--attach-sizes: give one lab size or more, e.g. 10,100');
  return [...new Set(sizes)].sort((a, b) => a - b);
}

const wholeNumber =
  (flag: string, max: number) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new CnilabError('INVALID_INPUT', `--${flag}: ${JSON.stringify(v)} must be a whole number from 1 to ${max}`);
    return n;
  };

export function attachOptions(c: Command): Command {
  const d = ATTACH_DEFAULTS;
  return c
    .option(
      '--attach-sizes <n,m>',
      `attach test: the lab sizes (pods held) one ADD goes into, filled with extra pods (default ${d.sizes.join(',')}; 1000 needs a topology whose nodes' pod subnets hold it)`,
      attachSizes,
    )
    .option(
      '--attach-samples <n>',
      `attach test: probe pods per architecture and lab size (default ${d.samples})`,
      wholeNumber('attach-samples', 1000),
    )
    .option(
      '--join-samples <n>',
      `join test: compute nodes joined (with one pod) and removed again per architecture (default ${JOIN_DEFAULTS.samples})`,
      wholeNumber('join-samples', JOIN_MAX_SAMPLES),
    );
}

/** The attach test's settings when `tests` name it (flags over the scenario's); its flags without it are an error. */
export function attachSettings(
  flags: AttachFlags,
  tests: readonly string[],
  sc: Pick<Scenario, 'attachSizes' | 'attachSamples'> = {},
): AttachSettings | undefined {
  const o: AttachFlags = {
    attachSizes: flags.attachSizes ?? (sc.attachSizes && [...new Set(sc.attachSizes)].sort((x, y) => x - y)),
    attachSamples: flags.attachSamples ?? sc.attachSamples,
  };
  if (!tests.includes(ATTACH_TEST)) {
    const given = [o.attachSizes && 'attach-sizes', o.attachSamples && 'attach-samples'].filter(Boolean);
    if (given.length)
      throw new CnilabError(
        'INVALID_INPUT',
        `--${given[0]}: only with the attach test; add it: --tests ${[...tests, ATTACH_TEST].join(',')}`,
      );
    return undefined;
  }
  return { samples: o.attachSamples ?? ATTACH_DEFAULTS.samples, sizes: o.attachSizes ?? ATTACH_DEFAULTS.sizes };
}

/** The join test's settings when `tests` name it (the flag over the scenario's); its flag without it is an error. */
export function joinSettings(
  flags: Pick<AttachFlags, 'joinSamples'>,
  tests: readonly string[],
  sc: Pick<Scenario, 'joinSamples'> = {},
): JoinSettings | undefined {
  const samples = flags.joinSamples ?? sc.joinSamples;
  if (!tests.includes(JOIN_TEST)) {
    if (samples !== undefined)
      throw new CnilabError(
        'INVALID_INPUT',
        `--join-samples: only with the join test; add it: --tests ${[...tests, JOIN_TEST].join(',')}`,
      );
    return undefined;
  }
  return { samples: samples ?? JOIN_DEFAULTS.samples };
}
