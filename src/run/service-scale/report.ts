/**
 * The service-scale test in the report: its own section (a table per proxy of the figures at each
 * N), two charts against N (first-packet p50/p99 and programming p99, one line per architecture —
 * each a proxy), the terminal's lines and a headline. Milliseconds and connections per second of one
 * ClusterIP, never ratios to host: they stay out of the rows, the claims and `compare`.
 */
import type { TopLevelSpec } from 'vega-lite';
import { figure } from '../../lib/format';
import { CHART_CONFIG, type Chart } from '../../report/charts';
import { escapeXml as e } from '../../report/diagram';
import { msPercentiles as pct } from '../after/ms-stat';
import { sectionHtml } from '../after/report-kit';
import type { ServiceScaleArch, ServiceScaleJson } from './schema';

type Count = ServiceScaleArch['counts'][number];
/** A whole number with thousands separators: 30,000. */
const whole = (n: number): string => n.toLocaleString('en-US');
const entries = (j: ServiceScaleJson): { x: ServiceScaleArch; c: Count }[] =>
  j.archs.flatMap((x) => x.counts.map((c) => ({ x, c })));

/** The agents' summed programming of the N Services, the slowest node's, and their memory. */
const syncOf = (c: Count): string => {
  const slow = Math.max(0, ...c.agents.map((a) => a.syncMs));
  return `${figure(slow)} ms`;
};
const rssOf = (c: Count): string => {
  const r = c.agents.map((a) => a.rssKiB).filter((x): x is number => x !== undefined);
  return r.length ? `${figure(Math.max(...r) / 1024)} MiB` : '—';
};

/** The section: per proxy (architecture) and N, each figure. */
export function serviceScaleTable(j: ServiceScaleJson): string {
  const where = [...new Set(j.archs.map((x) => `${x.client} → ${x.backends.join(' / ')}`))].join(', ');
  const table = sectionHtml({
    id: 'service-scale',
    title: 'Services at scale',
    meta:
      `With N Services in the lab (N − 1 fillers, each with one endpoint, then the probed Service, created last and ` +
      `named after every other, so that where rules are walked in order — iptables' KUBE-SERVICES — its rule is ` +
      `the last, as in the kubernetes.io blog's method), once every node's proxy agent had programmed them: ` +
      `<b>first packet</b> is p50 / p90 / p99 of the connect time of ${j.connections} fresh TCP connections to the ` +
      `probed ClusterIP, one at a time (the SYN's round trip through the proxy's NAT); <b>CRR</b> is connections ` +
      `(connect, request, response, close) answered per second, ${j.connections} of them, 4 in flight; ` +
      `<b>programming</b> is p50 / p90 / p99 over ${j.changes} changes, from the API change (the other backend ` +
      `labelled into the Service's selector) until the first connection that backend answered (connections 1 ms ` +
      `apart, or 1% of the wait so far when more). <b>Sync</b> is the slowest agent's programming of the N Services (its syncs.jsonl, summed), ` +
      `<b>agent RSS</b> the largest agent's resident memory (the kernel's rules are not in it). Pods: ${e(where)}. ` +
      `Milliseconds, not ratios: no % of host. The Services are removed afterwards.`,
    head: [
      'architecture',
      'proxy',
      'Services (N)',
      'first packet, ms',
      'CRR, /s',
      'programming, ms',
      'created → synced, ms',
      'sync',
      'agent RSS',
      'failed',
    ],
    rows: entries(j).map(({ x, c }) => [
      x.arch,
      x.proxy,
      { n: whole(c.n) },
      { n: pct(c.firstPacket) },
      { n: figure(c.crr.perSec) },
      { n: pct(c.programming) },
      { n: figure(c.syncedMs) },
      { n: syncOf(c) },
      { n: rssOf(c) },
      { n: String(c.failed + c.crr.failed) },
    ]),
  });
  return table;
}

/** A line chart against N, one line per architecture, percentiles by dash. */
function curve(
  j: ServiceScaleJson,
  order: readonly string[],
  name: string,
  title: string,
  caption: string,
  y: string,
  pick: (c: Count) => Record<string, number>,
): Chart | undefined {
  if (!j.archs.length) return undefined;
  const values = entries(j).flatMap(({ x, c }) =>
    Object.entries(pick(c)).map(([percentile, value]) => ({ arch: x.arch, n: c.n, percentile, value })),
  );
  const dashes = [...new Set(values.map((v) => v.percentile))];
  const counts = j.counts;
  const log = counts.length > 1 && counts[counts.length - 1]! / counts[0]! >= 10;
  return {
    name,
    title,
    caption: `${caption}${log ? ' N on a log scale.' : ''}`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      data: { values },
      config: CHART_CONFIG,
      width: 420,
      height: 260,
      mark: { type: 'line', point: true },
      encoding: {
        x: {
          field: 'n',
          type: 'quantitative',
          title: 'Services in the lab (N)',
          scale: log ? { type: 'log' } : { zero: false },
          axis: { values: [...counts] },
        },
        y: { field: 'value', type: 'quantitative', title: y },
        color: {
          field: 'arch',
          type: 'nominal',
          title: 'architecture + proxy',
          sort: [...order],
          legend: { columns: 3, labelLimit: 240 },
        },
        strokeDash: { field: 'percentile', type: 'nominal', title: null, sort: dashes, legend: null },
        tooltip: [{ field: 'arch' }, { field: 'n' }, { field: 'percentile' }, { field: 'value', title: 'ms' }],
      },
    } as TopLevelSpec,
  };
}

/** The two charts: first-packet p50 and p99, programming p99, against N per proxy. */
export function serviceScaleCharts(j: ServiceScaleJson, order: readonly string[]): Chart[] {
  return [
    curve(
      j,
      order,
      'service-scale-first-packet',
      'Services at scale: first-packet latency against the Services in the lab',
      `Connect time of a fresh connection to the probed ClusterIP (p50 solid, p99 dashed; ${j.connections} ` +
        `connections per point). A flat line: the proxy's lookup does not grow with the Services.`,
      'connect time, ms (p50 solid, p99 dashed)',
      (c) => ({ 'first packet p50': c.firstPacket.p50, 'first packet p99': c.firstPacket.p99 }),
    ),
    curve(
      j,
      order,
      'service-scale-programming',
      'Services at scale: programming one change against the Services in the lab',
      `From the API change to the first connection the new endpoint answered, p99 over ${j.changes} changes per ` +
        `point.`,
      'programming latency p99, ms',
      (c) => ({ 'programming p99': c.programming.p99 }),
    ),
  ].filter((c): c is Chart => c !== undefined);
}

/** The terminal's lines: a header, then one per architecture and N. */
export function serviceScaleLines(j: ServiceScaleJson): string[] {
  const w = 22;
  return [
    `Services at scale, ms, p50 / p90 / p99 (first packet over ${j.connections} connections, programming over ` +
      `${j.changes} changes; the probed Service's rules last; not rows, no % of host):`,
    `  ${'ARCH'.padEnd(26)} ${'N'.padStart(6)} ${'FIRST PACKET'.padStart(w)} ${'CRR/S'.padStart(8)} ` +
      `${'PROGRAMMING'.padStart(w)} ${'SYNC'.padStart(10)}`,
    ...entries(j).map(
      ({ x, c }) =>
        `  ${x.arch.padEnd(26)} ${String(c.n).padStart(6)} ${pct(c.firstPacket).padStart(w)} ` +
        `${figure(c.crr.perSec).padStart(8)} ${pct(c.programming).padStart(w)} ${syncOf(c).padStart(10)}`,
    ),
  ];
}

/** The report's headline: first-packet p50 at the largest N against the smallest, per proxy. */
export function serviceScaleHeadline(j: ServiceScaleJson): string | undefined {
  const lines = j.archs
    .map((x) => ({ x, lo: x.counts[0], hi: x.counts.at(-1) }))
    .filter((a) => a.lo && a.hi)
    .map(({ x, lo, hi }) =>
      lo === hi
        ? `${figure(hi!.firstPacket.p50)} ms at ${whole(hi!.n)} (<b>${e(x.arch)}</b>)`
        : `${figure(lo!.firstPacket.p50)} → ${figure(hi!.firstPacket.p50)} ms from ${whole(lo!.n)} to ` +
          `${whole(hi!.n)} (<b>${e(x.arch)}</b>)`,
    );
  if (!lines.length) return undefined;
  return (
    `Services at scale: first-packet p50 ${lines.join(', ')}; programming latency and the curves under ` +
    `<a href="#service-scale">Services at scale</a>.`
  );
}
