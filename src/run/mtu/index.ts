/** The mtu test: what the pods' path carries with DF set and how it fails above it (plan.ts, measure.ts). */
import { erase, type AfterTest } from '../after/test';
import { measureMtu } from './measure';
import { MTU_PLAN_SEC, planMtu, type MtuCell, type MtuSettings } from './plan';
import { mtuHeadline, mtuLines, mtuTable } from './report';
import { mtuSchema, type MtuFigures, type MtuJson } from './schema';

const mtu: AfterTest<MtuSettings, MtuCell, MtuFigures, MtuJson> = {
  name: 'mtu',
  summary:
    'MTU, measured: the pod MTU, the largest packet between pods on two nodes with DF set, and whether one byte ' +
    'more fails loudly (EMSGSIZE, ICMP frag-needed) or silently (a black hole); per underlay MTU (bytes; not rows)',
  schema: mtuSchema,
  flags: [],
  settings: () => ({}),
  plan: (ctx, settings) => ({ ...planMtu(ctx), settings }),
  plannedSec: (cells) => cells.length * MTU_PLAN_SEC,
  measure: measureMtu,
  record: (_s, archs) => ({ archs: [...archs] }),
  report: { html: mtuTable, lines: mtuLines, headline: mtuHeadline },
  compareNote:
    "the mtu test's figures (bytes and how a packet too large fails, not rows) are not compared: read them side by " +
    'side in each run’s report (MTU, measured)',
};

export const mtuTest = erase(mtu);
