/** The join test: node-join convergence in a running lab (plan.ts, measure.ts), as a test after the rounds. */
import { z } from 'zod';
import { wholeNumber } from '../after/flags';
import { erase, type AfterTest } from '../after/test';
import { measureJoin } from './measure';
import { JOIN_DEFAULTS, JOIN_MAX_SAMPLES, JOIN_PLAN_SEC, planJoin, type JoinCell, type JoinSettings } from './plan';
import { joinHeadline, joinLines, joinTable } from './report';
import { joinSchema, upgradeJoin, type JoinJson } from './schema';

const join: AfterTest<JoinSettings, JoinCell, JoinJson['archs'][number], JoinJson> = {
  name: 'join',
  summary:
    'node join: a compute node with one pod added to the running lab, until that pod answers a ping from a pod on ' +
    'every other node; then removed (ms; not rows, no % of host)',
  schema: joinSchema,
  flags: [
    {
      flag: '--join-samples <n>',
      key: 'joinSamples',
      help:
        `join test: compute nodes joined (with one pod) and removed again per architecture ` +
        `(default ${JOIN_DEFAULTS.samples})`,
      parse: wholeNumber('join-samples', JOIN_MAX_SAMPLES),
      scenario: z.number().int().min(1).max(JOIN_MAX_SAMPLES),
    },
  ],
  settings: (given) => ({ samples: (given['joinSamples'] as number | undefined) ?? JOIN_DEFAULTS.samples }),
  plan: (ctx, settings) => ({ ...planJoin(ctx), settings }),
  plannedSec: (cells, s) => cells.length * s.samples * JOIN_PLAN_SEC,
  measure: measureJoin,
  record: (s, archs) => ({ samples: s.samples, archs: [...archs] }),
  report: { html: joinTable, lines: joinLines, headline: joinHeadline },
  compareNote:
    "the join test's figures (ms, not rows) are not compared: read them side by side in each run's report (Node join)",
  legacy: { key: 'join', upgrade: upgradeJoin },
};

export const joinTest = erase(join);
