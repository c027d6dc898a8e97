/** The service-scale test: the Service hop against the Services in the lab (plan.ts, measure.ts), after the rounds. */
import { erase, type AfterTest } from '../after/test';
import { SERVICE_SCALE_FLAGS, serviceScaleSettings } from './flags';
import { measureServiceScale } from './measure';
import {
  checkServiceCounts,
  planServiceScale,
  serviceScalePlannedSec,
  type ServiceScaleCell,
  type ServiceScaleSettings,
} from './plan';
import { serviceScaleCharts, serviceScaleHeadline, serviceScaleLines, serviceScaleTable } from './report';
import { serviceScaleSchema, type ServiceScaleArch, type ServiceScaleJson } from './schema';

const serviceScale: AfterTest<ServiceScaleSettings, ServiceScaleCell, ServiceScaleArch, ServiceScaleJson> = {
  name: 'service-scale',
  summary:
    'Services at scale: first-packet latency, connection rate and programming latency of one ClusterIP with N ' +
    'Services in the lab, per proxy (--proxy; ms; not rows, no % of host)',
  schema: serviceScaleSchema,
  flags: SERVICE_SCALE_FLAGS,
  settings: serviceScaleSettings,
  plan(ctx, s) {
    const settings = { ...s, counts: checkServiceCounts(ctx.topology, s.counts) };
    return { ...planServiceScale(ctx), settings };
  },
  plannedSec: (cells, s) =>
    cells.reduce((t, c) => t + s.counts.reduce((u, n) => u + serviceScalePlannedSec(c.proxy, n, s), 0), 0),
  measure: measureServiceScale,
  record: (s, archs) => ({ counts: [...s.counts], connections: s.connections, changes: s.changes, archs: [...archs] }),
  report: {
    html: serviceScaleTable,
    lines: serviceScaleLines,
    headline: serviceScaleHeadline,
    charts: serviceScaleCharts,
  },
  compareNote:
    "the service-scale test's figures (ms, not rows) are not compared: read them side by side in each run's report " +
    '(Services at scale)',
};

export const serviceScaleTest = erase(serviceScale);
