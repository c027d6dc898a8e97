/**
 * The attach test in the report: its own section (a table of ADD, first-packet and DEL
 * percentiles per architecture and lab size), a chart of ADD p50/p99 against the lab's size, and
 * the terminal's lines. Attach figures are milliseconds of one pod's set-up, never ratios to host:
 * they stay out of the rows, the claims and `compare`.
 */
import type { TopLevelSpec } from 'vega-lite';
import { figure } from '../../lib/format';
import { CHART_CONFIG, type Chart } from '../../report/charts';
import { escapeXml as e } from '../../report/diagram';
import { msPercentiles as pct } from '../after/ms-stat';
import { sectionHtml } from '../after/report-kit';
import type { AttachJson } from './schema';

type Arch = AttachJson['archs'][number];
/** Its name in tables and charts: the architecture, and its IP family when the run measured several. */
const nameOf = (x: Pick<Arch, 'arch' | 'ipFamily'>): string => `${x.arch}${x.ipFamily ? ` IPv${x.ipFamily}` : ''}`;
const entries = (a: AttachJson): { x: Arch; s: Arch['sizes'][number] }[] =>
  a.archs.flatMap((x) => x.sizes.map((s) => ({ x, s })));

/** The section: per architecture and lab size, p50 / p90 / p99 of each time. */
export function attachTable(a: AttachJson): string {
  const where = [...new Set(a.archs.map((x) => `${x.node} → ${x.target} (${x.path})`))].join(', ');
  return sectionHtml({
    id: 'attach',
    title: 'Pod attach',
    meta:
      `p50 / p90 / p99 in milliseconds over ${a.samples} probe pods per architecture and lab ` +
      `size. Each probe is added on its own (none in flight) through the lab's CNI runtime and ` +
      `configuration list, as <code>up</code> attaches pods, into a lab that holds N pods (filler ` +
      `pods added to reach N, spread over the compute nodes); then it pings an existing pod ` +
      `until the first answer (${e(where)}), and is deleted. ADD → first packet runs from the ` +
      `start of ADD to the first answered ping (ping started when ADD returned, 2 ms between pings). ` +
      `Fillers and probes are removed afterwards. These are times, not ratios: no % of host.`,
    head: [
      'architecture',
      'pods in the lab (N)',
      'ADD',
      'ADD → first packet',
      'DEL',
      'probes',
      'CPU busy / outside the labs',
    ],
    rows: entries(a).map(({ x, s }) => [
      nameOf(x),
      { n: String(s.pods) },
      { n: pct(s.add) },
      { n: pct(s.firstPacket) },
      { n: pct(s.del) },
      { n: String(s.add.n) },
      { n: s.noise ? `${s.noise.busyPct}% / ${s.noise.outsidePct}%` : '—' },
    ]),
  });
}

/** ADD p50 and p99 against the lab's size, one line per architecture; none without the attach test. */
export function attachChart(a: AttachJson, order: readonly string[]): Chart | undefined {
  if (!a.archs.length) return undefined;
  const values = entries(a).flatMap(({ x, s }) =>
    (['p50', 'p99'] as const).map((p) => ({ arch: nameOf(x), pods: s.pods, percentile: `ADD ${p}`, value: s.add[p] })),
  );
  const sizes = a.sizes;
  const log = sizes.length > 1 && sizes[sizes.length - 1]! / sizes[0]! >= 10;
  return {
    name: 'attach',
    title: 'Pod attach: CNI ADD into a lab of N pods',
    caption:
      `CNI ADD of one pod, none other in flight, against the pods the lab held (p50 solid, p99 dashed; ${a.samples} ` +
      `probes per point${log ? '; N on a log scale' : ''}). A flat line: ADD does not grow with the lab.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      data: { values },
      config: CHART_CONFIG,
      width: 420,
      height: 260,
      mark: { type: 'line', point: true },
      encoding: {
        x: {
          field: 'pods',
          type: 'quantitative',
          title: 'pods in the lab (N)',
          scale: log ? { type: 'log' } : { zero: false },
          axis: { values: [...sizes] },
        },
        y: {
          field: 'value',
          type: 'quantitative',
          title: 'CNI ADD, ms (p50 solid, p99 dashed)',
        },
        color: {
          field: 'arch',
          type: 'nominal',
          title: 'architecture',
          sort: [...order],
          legend: { columns: 4, labelLimit: 220 },
        },
        strokeDash: {
          field: 'percentile',
          type: 'nominal',
          title: null,
          sort: ['ADD p50', 'ADD p99'],
          // Its legend's symbols would not show the dashes: the y axis says which is which.
          legend: null,
        },
        tooltip: [{ field: 'arch' }, { field: 'pods' }, { field: 'percentile' }, { field: 'value', title: 'ms' }],
      },
    } as TopLevelSpec,
  };
}

/** The terminal's lines: a header, then one per architecture and lab size. */
export function attachLines(a: AttachJson): string[] {
  const rows = entries(a).map(
    ({ x, s }) =>
      `  ${nameOf(x).padEnd(20)} ${String(s.pods).padStart(5)}   ${pct(s.add).padStart(22)}  ` +
      ` ${pct(s.firstPacket).padStart(22)} ` +
      `  ${pct(s.del).padStart(22)}`,
  );
  const noiseOf = (x: Arch): string =>
    x.sizes
      .filter((s) => s.noise)
      .map(
        (s) =>
          `N=${s.pods}: busy ${s.noise!.busyPct}%, outside the labs ${s.noise!.outsidePct}%, ` +
          `steal ${s.noise!.stealPct}%, load ${s.noise!.load1}`,
      )
      .join('; ');
  // Interleaved, every lab's probes share one period per size: one line. Sequential: a line per lab.
  const lines = [...new Set(a.archs.map(noiseOf))].filter(Boolean);
  const noise =
    lines.length === 1
      ? [`  CPU while probing (all CPUs): ${lines[0]}`]
      : a.archs.filter((x) => noiseOf(x)).map((x) => `  CPU while probing ${nameOf(x)} (all CPUs): ${noiseOf(x)}`);
  return [
    `pod attach, ms, p50 / p90 / p99 over ${a.samples} probes per line (ADD into a lab of N pods, none in flight; ` +
      `not rows, no % of host):`,
    `  ${'ARCH'.padEnd(20)} ${'N'.padStart(5)}   ${'ADD'.padStart(22)}   ${'ADD → FIRST PACKET'.padStart(22)}  ` +
      ` ${'DEL'.padStart(22)}`,
    ...rows,
    ...noise,
  ];
}

/** The report's headline of the attach test: ADD p50 into the largest lab, per architecture, fastest first. */
export function attachHeadline(a: AttachJson): string | undefined {
  if (!a.archs.length) return undefined;
  const n = a.sizes[a.sizes.length - 1]!;
  const at = a.archs
    .map((x) => ({ arch: nameOf(x), s: x.sizes.find((s) => s.pods === n) }))
    .filter((x) => x.s)
    .sort((p, q) => p.s!.add.p50 - q.s!.add.p50);
  return (
    `Pod attach: CNI ADD p50 into a lab of ${n} ` +
    `pods: ${at.map((x) => `${figure(x.s!.add.p50)} ms (<b>${e(x.arch)}</b>)`).join(', ')}; p99 and the growth ` +
    `with N under <a href="#attach">Pod attach</a>.`
  );
}
