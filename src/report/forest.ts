/**
 * The forest plot that opens the report: for each path and test (and underlay MTU, when the run
 * measured several), every architecture's ratio to host as a point at its geometric mean with its
 * 95% interval, on a log axis labelled in % of host; the margin of equivalence (±m%) shaded around
 * 100%; rows resolved to the run's precision drawn filled and solid, the others hollow and dashed.
 * It imports nothing of the report's other charts (charts.ts hands it their style), so that
 * charts.ts can list it without a cycle.
 */
import type { TopLevelSpec } from 'vega-lite';
import { METRIC_INFO, TESTS, type ResultRow, type RunResults, type TestName } from '../run/results-schema';
import { runTests } from '../run/tests';
import { BASELINE_ARCH } from '../arch/vocabulary';

/** The style the report's charts share (charts.ts: CHART_CONFIG, FAMILY_COLORS). */
export interface ForestStyle {
  readonly config: object;
  readonly colors: Readonly<Record<string, string>>;
}

/** The chart, shaped as charts.ts's Chart. */
export interface ForestChart {
  readonly name: 'forest';
  readonly title: string;
  readonly caption: string;
  readonly spec: TopLevelSpec;
}

/** One architecture's ratio to host in one panel. */
export interface ForestPoint {
  /** Which panel: test, underlay MTU and path. */
  readonly panel: string;
  readonly path: string;
  readonly test: TestName;
  readonly arch: string;
  readonly family: string;
  /**
   * The y axis' label: the architecture (with the test's parameters where a panel holds several), and its % of host.
   */
  readonly label: string;
  /** Geometric mean of the same-round ratios to host. */
  readonly ratio: number;
  readonly low: number;
  readonly high: number;
  /** moderated: the v6 interval; t: Student's t on the logs of the row's own ratios (files before v6). */
  readonly interval: 'moderated' | 't';
  readonly resolved: boolean;
  /** What the legend says of its line and point. */
  readonly status: string;
  /** "75% (72–78%)". */
  readonly ofHost: string;
}

/** One panel: a path and test (and underlay MTU). */
export interface ForestPanel {
  readonly key: string;
  readonly path: string;
  readonly test: TestName;
  readonly underlayMtu: number | undefined;
  /** "inter-node latency". */
  readonly title: string;
  /** "RTT p50 over host's; lower is better". */
  readonly subtitle: string;
}

/** The 95% interval the report shows of a row's ratio to host: the moderated one (v6), else the plain t one. */
export function ratioInterval(row: ResultRow): { low: number; high: number } | undefined {
  return row.ratio ? (row.ratio.moderated?.ci95 ?? row.ratio.ci95) : undefined;
}

/** The margin of equivalence, ± % (3 in files before v6). */
export const equivalenceOf = (r: RunResults): number => r.settings.equivalencePct ?? 3;

/** The band the margin draws around 1: [1/(1+m), 1+m]. */
export function equivalenceBand(pct: number): [number, number] {
  return [1 / (1 + pct / 100), 1 + pct / 100];
}

const precisionOf = (r: RunResults): number => r.schedule.precisionPct ?? 5;

/** Paths in the order a reader looks for them: across nodes first. */
const PATH_ORDER = ['inter-node', 'service', 'intra-node', 'routed'];

const TEST_NAMES: Record<TestName, (r: RunResults) => string> = {
  tcp: () => 'TCP',
  'tcp-parallel': (r) => `TCP, ${r.settings.streams} streams`,
  udp: (r) => `UDP at ${r.settings.udpRateMbps} Mbit/s`,
  pps: () => 'UDP, 64 B packets',
  sweep: () => 'UDP, payload sweep',
  latency: () => 'latency',
  'latency-loaded': () => 'latency under a TCP stream',
  rtt: () => 'TCP round trip (iperf2)',
  crr: () => 'TCP connect-request-response-close',
};

const pct = (x: number): string => {
  const p = x * 100;
  return `${p >= 10 ? p.toFixed(0) : p.toFixed(1)}%`;
};

const panelKey = (x: ResultRow): string => `${x.test}|${x.underlayMtu ?? ''}|${x.path}`;

/** The rows the plot draws: every row with a ratio to host, host's own rows left out. */
const drawn = (r: RunResults): ResultRow[] =>
  r.rows.filter((x) => x.arch !== r.schedule.baseline && x.arch !== BASELINE_ARCH && x.ratio !== null);

export function forestPoints(r: RunResults): ForestPoint[] {
  const rows = drawn(r);
  const prec = precisionOf(r);
  // A panel whose rows differ in their parameters (the sweep's payloads) names them on each line.
  const paramsIn = new Map<string, Set<string>>();
  for (const x of rows)
    paramsIn.set(panelKey(x), (paramsIn.get(panelKey(x)) ?? new Set()).add(JSON.stringify(x.params)));
  return rows.map((x) => {
    const ratio = x.ratio!;
    const iv = ratioInterval(x)!;
    const params = paramsIn.get(panelKey(x))!.size > 1 ? runTests.get(x.test).label(x.params as never) : '';
    return {
      panel: panelKey(x),
      path: x.path,
      test: x.test,
      arch: x.arch,
      family: x.family,
      label: `${x.arch}${params ? ` ${params}` : ''}  ${pct(ratio.geomean)}`,
      ratio: ratio.geomean,
      low: iv.low,
      high: iv.high,
      interval: ratio.moderated ? 'moderated' : 't',
      resolved: x.resolved,
      status: x.resolved ? `resolved to ±${prec}%` : `not resolved to ±${prec}%`,
      ofHost: `${pct(ratio.geomean)} (${pct(iv.low)}–${pct(iv.high)})`,
    };
  });
}

/** The panels, test by test (and MTU by MTU), each test's paths in PATH_ORDER. */
export function forestPanels(r: RunResults): ForestPanel[] {
  const byKey = new Map<string, ForestPanel>();
  for (const x of drawn(r)) {
    const info = METRIC_INFO[x.primary];
    const mtu = x.underlayMtu === undefined ? '' : ` · underlay MTU ${x.underlayMtu}`;
    byKey.set(panelKey(x), {
      key: panelKey(x),
      path: x.path,
      test: x.test,
      underlayMtu: x.underlayMtu,
      title: `${x.path} ${TEST_NAMES[x.test](r)}`,
      subtitle: `${info.label}; ${info.better} is better${mtu}`,
    });
  }
  const rank = (p: ForestPanel): number =>
    TESTS.indexOf(p.test) * 1e7 + (p.underlayMtu ?? 0) * 10 + PATH_ORDER.indexOf(p.path);
  return [...byKey.values()].sort((a, b) => rank(a) - rank(b));
}

/** What the plot shows, in plain words: the paragraph under it. */
export function forestCaption(r: RunResults): string {
  const m = equivalenceOf(r);
  const [lo, hi] = equivalenceBand(m);
  const prec = precisionOf(r);
  const moderated = forestPoints(r).some((p) => p.interval === 'moderated');
  const how = moderated
    ? 'The intervals are moderated: each borrows the spread of the other rows of its test and includes the part ' +
      'of the noise that changes from run to run, so a row measured in few rounds is not taken as more certain ' +
      "than its test's rows allow."
    : "The intervals are Student's t on the logarithms of each row's own ratios (this file predates moderated " +
      'intervals).';
  return [
    "Each panel is one path and test. A point is an architecture's ratio to host: the geometric mean of its " +
      "same-round ratios (its sample of a round over host's sample of the same round); the line through it is " +
      'the 95% interval of that ratio.',
    'The axis is logarithmic and reads in % of host, so 50% and 200% lie equally far from 100%.',
    `The vertical line is host (100%); the shaded band marks ±${m}% of host (${pct(lo)}–${pct(hi)}), the margin ` +
      `within which this run calls two architectures equivalent, drawn around 100% for scale.`,
    how,
    `A filled point on a solid line is a row whose interval is within ±${prec}% (resolved); a hollow point on a ` +
      `dashed line is not resolved to ±${prec}%, and more rounds would narrow it.`,
    'For latency the ratio is of round-trip time: left of 100% is faster than host.',
  ].join(' ');
}

/**
 * A panel's axis: its points' intervals and the band, a little space either side; ticks at round
 * % of host, few enough to read (1-2-5 per decade across a wide span, even steps across a narrow one).
 */
export function axisOf(
  points: readonly ForestPoint[],
  band: readonly [number, number],
  width: number,
): {
  domain: [number, number];
  ticks: number[];
} {
  // Within 0.01% and 1,000,000% of host: a wider interval (one of 2 rounds) runs off the panel.
  const lo = Math.max(1e-4, Math.min(band[0], ...points.map((p) => p.low)));
  const hi = Math.min(1e4, Math.max(band[1], ...points.map((p) => p.high)));
  const pad = (hi / lo) ** 0.04;
  const domain: [number, number] = [lo / pad, hi * pad];
  const within = (v: number): boolean => v >= domain[0] && v <= domain[1];
  const decades = Array.from({ length: 9 }, (_, i) => 10 ** (i - 4));
  const series = [[1, 2, 5], [1, 3], [1]].map((ms) => decades.flatMap((d) => ms.map((m) => m * d)).filter(within));
  const steps = [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1].map((s) => {
    const out: number[] = [];
    if ((domain[1] - domain[0]) / s > 1000) return out; // a linear step on a wide log axis: no
    for (let k = Math.ceil(domain[0] / s - 1e-9); k * s <= domain[1] + 1e-9; k++)
      out.push(Math.round(k * s * 1e6) / 1e6);
    return out;
  });
  // The most ticks whose labels stay 40 px apart, 100% among them; on a tie, the 1-2-5 ones.
  const px = width / Math.log(domain[1] / domain[0]);
  const apart = (t: number[], i: number): boolean => Math.log(t[i]! / t[i - 1]!) * px >= 40;
  const fitted = (t: number[]): number[] => {
    const one = t.findIndex((v) => Math.abs(v - 1) < 1e-9);
    if (one < 0 || t.slice(1, one + 1).some((_, i) => !apart(t, i + 1))) return [];
    let end = one + 1;
    while (end < t.length && apart(t, end)) end++;
    return t.slice(0, end);
  };
  const ticks = [...series, ...steps].map(fitted).reduce((best, t) => (t.length > best.length ? t : best), [1]);
  return { domain, ticks };
}

/** The encodings every panel shares: colour by family, the line's dash by resolved or not. */
function channels(r: RunResults, style: ForestStyle): { family: object; status: object } {
  const prec = precisionOf(r);
  const families = [...new Set(drawn(r).map((x) => x.family))];
  const family = {
    field: 'family',
    type: 'nominal' as const,
    title: 'family',
    scale: { domain: families, range: families.map((f) => style.colors[f] ?? '#333') },
  };
  const status = {
    field: 'status',
    type: 'nominal' as const,
    title: 'interval (95%)',
    scale: {
      domain: [`resolved to ±${prec}%`, `not resolved to ±${prec}%`],
      range: [
        [1, 0],
        [4, 3],
      ],
    },
    legend: {
      labelLimit: 600,
      direction: 'vertical',
      symbolType: 'stroke',
      symbolStrokeColor: '#555',
      symbolStrokeWidth: 2,
      labelExpr:
        `datum.label + (indexof(datum.label, 'not') === 0 ? ': hollow point, dashed line' : ': filled ` +
        `point, solid line')`,
    },
  };
  return { family, status };
}

/** One panel: the band, the rule at 100%, each row's interval and point. */
function panelSpec(
  p: ForestPanel,
  points: readonly ForestPoint[],
  width: number,
  { family, status }: { family: object; status: object },
  band: [number, number],
): object {
  const axis = axisOf(points, band, width);
  const x = {
    type: 'quantitative' as const,
    scale: { type: 'log' as const, domain: axis.domain, nice: false },
    title: '% of host (log scale)',
    axis: { values: axis.ticks, labelExpr: "format(datum.value * 100, '.3~r') + '%'" },
  };
  const y = {
    field: 'label',
    type: 'nominal' as const,
    title: null,
    sort: { field: 'ratio', order: 'descending' as const },
    axis: { labelLimit: 400, grid: false },
  };
  const one = { values: [{}] };
  return {
    title: { text: p.title, subtitle: p.subtitle, fontSize: 12, subtitleFontSize: 11, subtitleColor: '#555' },
    width,
    height: { step: 18 },
    layer: [
      {
        data: one,
        mark: { type: 'rect', color: '#9ecae1', opacity: 0.35 },
        encoding: { x: { ...x, datum: band[0] }, x2: { datum: band[1] } },
      },
      { data: one, mark: { type: 'rule', color: '#444', strokeWidth: 1 }, encoding: { x: { ...x, datum: 1 } } },
      {
        transform: [{ filter: { field: 'panel', equal: p.key } }],
        layer: [
          {
            mark: { type: 'rule', strokeWidth: 2 },
            encoding: {
              x: { ...x, field: 'low' },
              x2: { field: 'high' },
              y,
              stroke: family,
              strokeDash: status,
            },
          },
          {
            mark: { type: 'point', filled: true, size: 70, strokeWidth: 1.5, opacity: 1 },
            encoding: {
              x: { ...x, field: 'ratio' },
              y,
              stroke: family,
              // Hollow (white, hiding the line through it) where not resolved.
              fill: { condition: { test: 'datum.resolved', ...family }, value: 'white' },
              tooltip: [
                { field: 'arch' },
                { field: 'path' },
                { field: 'test' },
                { field: 'ofHost', title: 'of host' },
                { field: 'status', title: 'interval' },
              ],
            },
          },
        ],
      },
    ],
  };
}

/** The forest plot; none when no row has a ratio to host. */
export function forestChart(r: RunResults, style: ForestStyle): ForestChart | undefined {
  const panels = forestPanels(r);
  if (!panels.length) return undefined;
  const columns = Math.min(3, new Set(panels.map((p) => p.path)).size);
  const width = columns >= 3 ? 170 : columns === 2 ? 300 : 440;
  const points = forestPoints(r);
  const ch = channels(r, style);
  const band = equivalenceBand(equivalenceOf(r));
  return {
    name: 'forest',
    title: 'Every architecture against host: ratio to host with its 95% interval, per path and test',
    caption: forestCaption(r),
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      data: { values: points },
      config: style.config,
      columns,
      concat: gridOf(panels).map((p) =>
        typeof p === 'string'
          ? placeholder(p, width)
          : panelSpec(
              p,
              points.filter((x) => x.panel === p.key),
              width,
              ch,
              band,
            ),
      ),
      spacing: { row: 28, column: 24 },
    } as TopLevelSpec,
  };
}

/**
 * The panels in a grid of one path per column; a cell whose path the test did not measure says so
 * (a blank panel), so that each column stays one path.
 */
function gridOf(panels: readonly ForestPanel[]): (ForestPanel | string)[] {
  const paths = PATH_ORDER.filter((x) => panels.some((p) => p.path === x));
  const rows = [...new Set(panels.map((p) => `${p.test}|${p.underlayMtu ?? ''}`))];
  return rows.flatMap((row) =>
    paths.map((path) => panels.find((p) => p.key === `${row}|${path}`) ?? `${path}: not measured`),
  );
}

function placeholder(text: string, width: number): object {
  return {
    title: { text, fontSize: 12, color: '#999', fontWeight: 'normal' },
    width,
    height: 18,
    data: { values: [] },
    mark: 'point',
  };
}
