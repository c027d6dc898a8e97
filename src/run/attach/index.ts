/** The attach test: what attaching a pod costs in a running lab (plan.ts, measure.ts), as a test after the rounds. */
import { erase, type AfterTest } from '../after/test';
import { ATTACH_FLAGS, attachSettings } from './flags';
import { measureAttach } from './measure';
import { attachPlannedSec, checkAttachSizes, planAttach, type AttachCell, type AttachSettings } from './plan';
import { attachChart, attachHeadline, attachLines, attachTable } from './report';
import { attachSchema, type AttachJson } from './schema';

const attach: AfterTest<AttachSettings, AttachCell, AttachJson['archs'][number], AttachJson> = {
  name: 'attach',
  summary:
    'pod attach: CNI ADD and DEL through the lab’s runtime, ADD until the first answered ping, into labs of N ' +
    'pods (ms; not rows, no % of host)',
  schema: attachSchema,
  flags: ATTACH_FLAGS,
  settings: attachSettings,
  plan(ctx, s) {
    const settings = { samples: s.samples, sizes: checkAttachSizes(ctx.topology, s.sizes) };
    return { ...planAttach(ctx), settings };
  },
  plannedSec: (cells, s) => attachPlannedSec(cells.length, s),
  measure: measureAttach,
  record: (s, archs) => ({ samples: s.samples, sizes: [...s.sizes], archs: [...archs] }),
  report: {
    html: attachTable,
    lines: attachLines,
    headline: attachHeadline,
    charts: (a, order) => [attachChart(a, order)].filter((c) => c !== undefined),
  },
  compareNote:
    "the attach test's figures (ms, not rows) are not compared: read them side by side in each run's report (Pod " +
    'attach)',
  legacy: { key: 'attach' },
};

export const attachTest = erase(attach);
