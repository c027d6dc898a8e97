/**
 * The report's charts: Vega-Lite specifications built from results.json, rendered to SVG in
 * Node (no browser, no canvas), so the report needs no script to show them and every bar carries
 * its value in an aria-label a reader — or a test — can check against results.json.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { figure } from '../lib/format';
import { METRIC_INFO, type ResultRow, type RunResults, type TestName } from '../run/results-schema';
import { forestChart } from './forest';

export interface Chart {
  /** File name without extension, e.g. fig4-overlays. */
  readonly name: string;
  readonly title: string;
  /** One sentence under the chart: what to read from it. */
  readonly caption: string;
  readonly spec: TopLevelSpec;
}

export const FAMILY_COLORS = { baseline: '#7f7f7f', overlay: '#d95f02', native: '#1b9e77', l3: '#7570b3' } as const;
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
/** The style every chart shares (fonts, axes, legend below). */
export const CHART_CONFIG = {
  font: FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'bottom' as const, direction: 'horizontal' as const },
  title: { fontSize: 14, anchor: 'start' as const },
};
const familyColor = {
  field: 'family',
  type: 'nominal' as const,
  title: 'family',
  scale: { domain: Object.keys(FAMILY_COLORS), range: Object.values(FAMILY_COLORS) },
};

/**
 * Several underlay MTUs: each chart gets one column (or row, where columns are paths) per MTU,
 * on a shared value axis, so an architecture's jumbo and standard figures sit side by side.
 */
const MTU_HEADER = { field: 'mtu', type: 'nominal' as const, title: null, header: { labelFontSize: 12 } };
const mtuOf = (r: ResultRow): string => (r.underlayMtu === undefined ? '' : `underlay MTU ${r.underlayMtu}`);

/** A row of a bar chart: one architecture's median with its 95% interval. */
interface Bar {
  arch: string;
  family: string;
  path: string;
  mtu: string;
  value: number;
  low: number;
  high: number;
  baseline: string;
  flag: string;
}

function bars(rows: readonly ResultRow[]): Bar[] {
  return rows.map((r) => {
    const m = r.metrics[r.primary]!;
    return {
      arch: r.arch,
      family: r.family,
      path: r.path,
      mtu: mtuOf(r),
      value: m.median,
      low: m.ci95.low,
      high: m.ci95.high,
      baseline: r.baselinePct === null ? '' : `${r.baselinePct.toFixed(0)}%`,
      flag: r.unstable ? 'unstable' : '',
    };
  });
}

/** Horizontal bars with 95% error bars and each bar's value (and % of host) at its end. */
function barChart(values: Bar[], archOrder: string[], unit: string, facetByPath: boolean, log = false): TopLevelSpec {
  const byMtu = values.some((v) => v.mtu !== '');
  const x = {
    field: 'value',
    type: 'quantitative' as const,
    title: unit,
    ...(log ? { scale: { type: 'log' as const } } : {}),
  };
  const y = { field: 'arch', type: 'nominal' as const, title: null, sort: archOrder };
  const layer = {
    layer: [
      {
        mark: { type: 'bar' as const, height: { band: 0.7 } },
        encoding: {
          x,
          y,
          color: familyColor,
          tooltip: [
            { field: 'arch' },
            { field: 'path' },
            { field: 'value', title: unit },
            { field: 'low' },
            { field: 'high' },
          ],
        },
      },
      {
        mark: { type: 'rule' as const, color: '#222' },
        encoding: { x: { field: 'low', type: 'quantitative' as const }, x2: { field: 'high' }, y },
      },
      {
        mark: { type: 'text' as const, align: 'left' as const, dx: 4, fontSize: 10, color: '#333' },
        encoding: { x: { field: 'high', type: 'quantitative' as const }, y, text: { field: 'label' } },
      },
    ],
  };
  const base = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    data: {
      values: values.map((v) => ({
        ...v,
        label: `${figure(v.value)}${v.baseline ? ` (${v.baseline})` : ''}${v.flag ? ' ⚠' : ''}`,
      })),
    },
    config: CHART_CONFIG,
  };
  if (facetByPath || byMtu) {
    return {
      ...base,
      facet: {
        ...(facetByPath
          ? {
              row: {
                field: 'path',
                type: 'nominal',
                title: null,
                header: { labelFontSize: 12, labelAngle: 0, labelAlign: 'left' },
              },
            }
          : {}),
        ...(byMtu ? { column: MTU_HEADER } : {}),
      },
      spec: { width: byMtu ? 340 : 460, ...layer },
      resolve: { scale: { y: 'independent' } },
    } as TopLevelSpec;
  }
  return { ...base, width: 460, ...layer } as TopLevelSpec;
}

const rowsOf = (r: RunResults, test: TestName, path?: string): ResultRow[] =>
  r.rows.filter((x) => x.test === test && (path === undefined || x.path === path));

/** Fig. 4: TCP throughput of the overlays (and the host) between two nodes; none without an overlay. */
function overlaysChart(tcpInter: readonly ResultRow[], order: string[]): Chart | undefined {
  const overlays = tcpInter.filter((x) => x.family === 'overlay' || x.family === 'baseline');
  if (!overlays.some((x) => x.family === 'overlay')) return undefined;
  return {
    name: 'fig4-overlays',
    title: "Overlays: TCP throughput between pods on two nodes (the paper's Fig. 4)",
    caption:
      'Median of the rounds; the black line is the 95% confidence interval; the label gives the median and the ' +
      'median of its same-round ratios to host.',
    spec: barChart(bars(overlays), order, 'Gbit/s', false),
  };
}

/** Fig. 5: TCP throughput of every architecture on each path; none without TCP rows. */
function overlaysVsNativeChart(tcp: readonly ResultRow[], order: string[]): Chart | undefined {
  if (!tcp.length) return undefined;
  return {
    name: 'fig5-overlays-vs-native',
    title: "Overlays vs native: TCP throughput, one stream (the paper's Fig. 5)",
    caption:
      'Every architecture on each path. Native pod networks carry pod packets as they are over L2 or a bridge, l3 ' +
      'ones route them between nodes with no encapsulation; overlays encapsulate them between nodes.',
    spec: barChart(bars(tcp), order, 'Gbit/s', true),
  };
}

/** CPU cost of the TCP rows, stacked user / system / softirq per Gbit; none without CPU figures. */
function cpuPerGbitChart(tcp: readonly ResultRow[], order: string[]): Chart | undefined {
  const costed = tcp.filter((x) => x.coreSecondsPerGbit);
  if (!costed.length) return undefined;
  const values = costed.flatMap((x) =>
    (['user', 'system', 'softirq'] as const).map((k, rank) => ({
      arch: x.arch,
      path: x.path,
      mtu: mtuOf(x),
      kind: k,
      rank,
      value: x.coreSecondsPerGbit![k],
      total: x.coreSecondsPerGbit!.total,
    })),
  );
  const y = { field: 'arch', type: 'nominal' as const, title: null, sort: order };
  return {
    name: 'cpu-per-gbit',
    title: 'CPU cost: core-seconds per gigabit moved (TCP, one stream)',
    caption:
      'Host-wide CPU while the client ran, split user / system / softirq, divided by the throughput; the label is ' +
      'the total (with irq and steal). Lower is cheaper; softirq is where the kernel processes packets.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      data: { values },
      config: CHART_CONFIG,
      facet: {
        row: {
          field: 'path',
          type: 'nominal',
          title: null,
          header: { labelAngle: 0, labelAlign: 'left', labelFontSize: 12 },
        },
        ...(values.some((v) => v.mtu !== '') ? { column: MTU_HEADER } : {}),
      },
      spec: {
        width: values.some((v) => v.mtu !== '') ? 340 : 460,
        layer: [
          {
            mark: { type: 'bar', height: { band: 0.7 } },
            encoding: {
              x: { field: 'value', type: 'quantitative', title: 'core-seconds per Gbit', stack: 'zero' },
              y,
              color: {
                field: 'kind',
                type: 'nominal',
                title: 'CPU',
                scale: { domain: ['user', 'system', 'softirq'], range: ['#4c78a8', '#f58518', '#e45756'] },
              },
              order: { field: 'rank' },
              tooltip: [
                { field: 'arch' },
                { field: 'path' },
                { field: 'kind' },
                { field: 'value' },
                { field: 'total' },
              ],
            },
          },
          {
            transform: [{ filter: 'datum.rank === 0' }],
            mark: { type: 'text', align: 'left', dx: 4, fontSize: 10, color: '#333' },
            encoding: { x: { field: 'total', type: 'quantitative' }, y, text: { field: 'total', format: '.3f' } },
          },
        ],
      },
      resolve: { scale: { y: 'independent' } },
    } as TopLevelSpec,
  };
}

/** The round-trip percentiles of a latency test, one line per architecture; none without its rows. */
function latencyChart(
  test: 'latency' | 'latency-loaded',
  lat: readonly ResultRow[],
  order: string[],
): Chart | undefined {
  if (!lat.length) return undefined;
  const values = lat.flatMap((x) =>
    (['rttP50Us', 'rttP90Us', 'rttP99Us', 'rttP999Us'] as const).map((m, i) => ({
      arch: x.arch,
      path: x.path,
      mtu: mtuOf(x),
      percentile: METRIC_INFO[m].label.replace('RTT ', ''),
      rank: i,
      value: x.metrics[m]!.median,
    })),
  );
  return {
    name: test === 'latency' ? 'latency' : 'latency-loaded',
    title:
      test === 'latency'
        ? 'Request/response round trip, idle (sockperf ping-pong, 64 B)'
        : 'Round trip while a TCP stream runs from client to server',
    caption:
      "Each line is one architecture's latency distribution: p50, p90, p99 and p99.9 of the round-trip time " +
      '(medians over the rounds; log scale).',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      data: { values },
      config: CHART_CONFIG,
      facet: {
        column: { field: 'path', type: 'nominal', title: null, header: { labelFontSize: 12 } },
        ...(values.some((v) => v.mtu !== '') ? { row: MTU_HEADER } : {}),
      },
      spec: {
        width: 260,
        height: 220,
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'percentile', type: 'ordinal', sort: ['p50', 'p90', 'p99', 'p99.9'], title: 'percentile' },
          y: { field: 'value', type: 'quantitative', title: 'round trip, µs', scale: { type: 'log' } },
          color: {
            field: 'arch',
            type: 'nominal',
            title: 'architecture',
            sort: order,
            legend: { labelLimit: 220, columns: 4 },
          },
          tooltip: [{ field: 'arch' }, { field: 'path' }, { field: 'percentile' }, { field: 'value', title: 'µs' }],
        },
      },
    } as TopLevelSpec,
  };
}

/** Bar charts of tcp-parallel, udp and pps, one per test that has rows. */
function otherCharts(r: RunResults, order: string[]): Chart[] {
  const charts: Chart[] = [];
  const others: [TestName, string][] = [
    ['tcp-parallel', `TCP throughput, ${r.settings.streams} streams`],
    ['udp', `UDP goodput at a ${r.settings.udpRateMbps} Mbit/s target`],
    ['pps', 'Small packets: UDP 64-byte payloads received per second'],
  ];
  for (const [test, title] of others) {
    const rows = rowsOf(r, test);
    if (!rows.length) continue;
    const unit = METRIC_INFO[rows[0]!.primary].unit;
    charts.push({
      name: test,
      title,
      caption: 'Median with its 95% confidence interval; the label gives the share of the host baseline.',
      spec: barChart(bars(rows), order, unit, true, false),
    });
  }
  return charts;
}

/** UDP goodput by payload size, one line per architecture; none without sweep rows. */
function sweepChart(sweep: readonly ResultRow[], order: string[]): Chart | undefined {
  if (!sweep.length) return undefined;
  const values = sweep.map((x) => ({
    arch: x.arch,
    path: x.path,
    mtu: mtuOf(x),
    bytes: x.params.payloadBytes,
    value: x.metrics.gbps!.median,
  }));
  return {
    name: 'sweep',
    title: 'Message-size sweep: UDP goodput by payload size',
    caption:
      'As fast as the sender can, one line per architecture. Small ' +
      'payloads show per-packet cost; large ones, per-byte cost.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      data: { values },
      config: CHART_CONFIG,
      facet: {
        column: { field: 'path', type: 'nominal', title: null },
        ...(values.some((v) => v.mtu !== '') ? { row: MTU_HEADER } : {}),
      },
      spec: {
        width: 260,
        height: 220,
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'bytes', type: 'quantitative', title: 'UDP payload, bytes', scale: { type: 'log', base: 2 } },
          y: { field: 'value', type: 'quantitative', title: 'Gbit/s' },
          color: {
            field: 'arch',
            type: 'nominal',
            title: 'architecture',
            sort: order,
            legend: { labelLimit: 220, columns: 4 },
          },
        },
      },
    } as TopLevelSpec,
  };
}

export function buildCharts(r: RunResults): Chart[] {
  const order = r.architectures.map((a) => a.name);
  const tcp = rowsOf(r, 'tcp');
  const charts = [
    // First: every architecture's ratio to host, the figure the report opens with.
    forestChart(r, { config: CHART_CONFIG, colors: FAMILY_COLORS }),
    overlaysChart(rowsOf(r, 'tcp', 'inter-node'), order),
    overlaysVsNativeChart(tcp, order),
    cpuPerGbitChart(tcp, order),
    latencyChart('latency', rowsOf(r, 'latency'), order),
    latencyChart('latency-loaded', rowsOf(r, 'latency-loaded'), order),
    ...otherCharts(r, order),
    sweepChart(rowsOf(r, 'sweep'), order),
  ];
  return charts.filter((c): c is Chart => c !== undefined);
}

type LoggerInterface = NonNullable<NonNullable<Parameters<typeof vl.compile>[1]>['logger']>;
const quiet: LoggerInterface = {
  level: ((_?: number) => (_ === undefined ? 0 : quiet)) as LoggerInterface['level'],
  error: (...args: readonly unknown[]) => {
    throw new Error(`vega-lite: ${args.join(' ')}`);
  },
  warn: () => quiet,
  info: () => quiet,
  debug: () => quiet,
};

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // Vega-Lite warns on stderr about facets with independent scales (each path lists its own
  // architectures): that is intended, so warnings are dropped; errors still throw.
  const compiled = vl.compile(spec, { logger: quiet }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
