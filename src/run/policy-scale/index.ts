/**
 * The policy-scale test: what NetworkPolicy costs against the rules selecting a pod, per
 * enforcement design (plan.ts, measure.ts), after the rounds. Its part of results.json is
 * `afterRounds['policy-scale']` (issue 33 says "a top-level policyScale"; every test after the
 * rounds keeps its part under afterRounds, after/test.ts, and so does this one).
 */
import { erase, type AfterTest } from '../after/test';
import { POLICY_SCALE_FLAGS, policyScaleSettings } from './flags';
import { BLOCKS, measurePolicyScale } from './measure';
import {
  checkRules,
  checkTopologyRanges,
  planPolicyScale,
  policyScalePlannedSec,
  type PolicyScaleCell,
  type PolicyScaleSettings,
} from './plan';
import { policyScaleCharts, policyScaleHeadline, policyScaleLines, policyScaleTable } from './report';
import { catalogueHeadline, catalogueHtml, catalogueLines } from './report-catalogue';
import { policyScaleSchema, type PolicyScaleArch, type PolicyScaleJson } from './schema';

const policyScale: AfterTest<PolicyScaleSettings, PolicyScaleCell, PolicyScaleArch, PolicyScaleJson> = {
  name: 'policy-scale',
  summary:
    'NetworkPolicy at scale: throughput, connection rate, connect latency and realization latency with N rules ' +
    'selecting a pod, per enforcement design (--policy-rules; not rows, no % of host)',
  schema: policyScaleSchema,
  flags: POLICY_SCALE_FLAGS,
  settings: policyScaleSettings,
  plan(ctx, s) {
    const settings = { ...s, rules: checkRules(s.rules) };
    const planned = planPolicyScale(ctx);
    if (planned.cells.length) checkTopologyRanges(ctx.topology);
    return { ...planned, settings };
  },
  // each design's catalogue first (about 13 s measured on this VM), then the sweep
  plannedSec: (cells, s) =>
    cells.reduce(
      (t, c) =>
        t + c.designs.length * (CATALOGUE_SEC + s.rules.reduce((u, n) => u + policyScalePlannedSec(n, s, BLOCKS), 0)),
      0,
    ),
  measure: measurePolicyScale,
  record: (s, archs) => ({
    rules: [...s.rules],
    connections: s.connections,
    changes: s.changes,
    throughputSec: s.throughputSec,
    archs: [...archs],
  }),
  report: {
    html: (j) => `${catalogueHtml(j)}\n${policyScaleTable(j)}`,
    lines: (j) => [...policyScaleLines(j), ...catalogueLines(j)],
    headline: (j) => {
      const cost = policyScaleHeadline(j);
      const right = catalogueHeadline(j);
      return cost && right
        ? `${cost} Correctness: ${right} (<a href="#policy-correctness">the matrices</a>).`
        : (cost ?? right);
    },
    charts: policyScaleCharts,
  },
  compareNote:
    "the policy-scale test's figures (Gbit/s, connections per second and ms of one pod pair, not rows) are not " +
    "compared: read them side by side in each run's report (NetworkPolicy at scale)",
};

/** The catalogue's seconds per design: 8 cases, their matrices and their applies and deletes (test/integration/policy.test.ts). */
const CATALOGUE_SEC = 15;

export const policyScaleTest = erase(policyScale);
