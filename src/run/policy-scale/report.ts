/**
 * The policy-scale test in the report: its own section (a row per architecture, design and N),
 * four charts against N (throughput, CRR, connect p50/p99, realization p50/p99; one line per
 * architecture and design), the terminal's lines and a headline. Bits and connections per second
 * and milliseconds of one pod pair, never ratios to host: they stay out of the rows, the claims and
 * `compare`.
 */
import type { TopLevelSpec } from 'vega-lite';
import { figure } from '../../lib/format';
import { CHART_CONFIG, type Chart } from '../../report/charts';
import { escapeXml as e } from '../../report/diagram';
import { msPercentiles as pct } from '../after/ms-stat';
import { sectionHtml } from '../after/report-kit';
import type { PolicyScaleArch, PolicyScaleDesign, PolicyScaleJson, PolicyScaleRule } from './schema';

interface Entry {
  readonly x: PolicyScaleArch;
  readonly d: PolicyScaleDesign;
  readonly r: PolicyScaleRule;
}
/** A whole number with thousands separators: 10,000. */
const whole = (n: number): string => n.toLocaleString('en-US');
const gbit = (bps: number): string => figure(bps / 1e9);
const entries = (j: PolicyScaleJson): Entry[] =>
  j.archs.flatMap((x) => x.designs.flatMap((d) => d.rules.map((r) => ({ x, d, r }))));
/** The line of one architecture and design. */
const lineOf = (x: PolicyScaleArch, d: PolicyScaleDesign): string => `${x.arch} · ${d.design}`;
/** The slowest agent's programming of the N policies. */
const syncOf = (r: PolicyScaleRule): string => `${figure(Math.max(0, ...r.agents.map((a) => a.fillSyncMs)))} ms`;
const realizationOf = (r: PolicyScaleRule): string => (r.realization ? pct(r.realization) : '—');

/** The section: per architecture, design and N, each figure. */
export function policyScaleTable(j: PolicyScaleJson): string {
  const where = [...new Set(j.archs.map((x) => `${x.client} → ${x.server} (second client ${x.client2})`))].join(', ');
  return sectionHtml({
    id: 'policy-scale',
    title: 'NetworkPolicy at scale',
    meta:
      `With N rules selecting the server pod (N NetworkPolicies, each one ingress rule from an unused /32 of ` +
      `100.64.0.0/10, then a last policy allowing the client, named after every other so that where rules are ` +
      `walked in order — Calico's per-endpoint chains — the probed connection matches the last one; N = 0: no ` +
      `policy, the server not isolated), once every node's agent enforced them, per design: <b>throughput</b> is ` +
      `iperf3 TCP, one stream, ${j.throughputSec} s a block, the blocks' mean; <b>CRR</b> is connections (connect, ` +
      `request, response, close) answered per second, ${j.connections} of them one at a time; <b>connect</b> is ` +
      `their connect time, p50 / p90 / p99; <b>realization</b> is p50 / p90 / p99 over ${j.changes} changes, from ` +
      `sending one policy that allows a second client (isolated until then) to that client's first answered ` +
      `connection established (a fresh connection every 1 ms, or 1% of the wait so far, each on its own). <b>Applied</b> is from sending the policies to every ` +
      `node enforcing them; <b>sync</b> the slowest agent's programming of them (its syncs.jsonl). Pods: ` +
      `${e(where)}. Not ratios: no % of host. The policies are deleted afterwards and each lab enforces with its ` +
      `own design again.`,
    head: [
      'architecture',
      'design',
      'rules (N)',
      'throughput, Gbit/s',
      'CRR, /s',
      'connect, ms',
      'realization, ms',
      'applied, ms',
      'sync',
      'failed',
    ],
    rows: entries(j).map(({ x, d, r }) => [
      x.arch,
      d.design,
      { n: whole(r.n) },
      { n: gbit(r.throughput.bitsPerSecond) },
      { n: figure(r.crr.perSec) },
      { n: pct(r.connect) },
      { n: realizationOf(r) },
      { n: figure(r.applyMs) },
      { n: syncOf(r) },
      { n: String(r.crr.failed) },
    ]),
  });
}

/** A line chart against N, one line per architecture and design, series by dash. */
function curve(
  j: PolicyScaleJson,
  order: readonly string[],
  c: { name: string; title: string; caption: string; y: string; pick: (r: PolicyScaleRule) => Record<string, number> },
): Chart | undefined {
  const values = entries(j).flatMap(({ x, d, r }) =>
    Object.entries(c.pick(r)).map(([series, value]) => ({ line: lineOf(x, d), arch: x.arch, n: r.n, series, value })),
  );
  if (!values.length) return undefined;
  const dashes = [...new Set(values.map((v) => v.series))];
  const lines = [...new Set(values.map((v) => v.line))].sort(
    (a, b) => order.indexOf(a.split(' · ')[0]!) - order.indexOf(b.split(' · ')[0]!) || a.localeCompare(b),
  );
  const ns = [...new Set(values.map((v) => v.n))].sort((a, b) => a - b);
  const wide = ns.length > 1 && ns.at(-1)! / Math.max(1, ns.find((n) => n > 0) ?? 1) >= 10;
  return {
    name: c.name,
    title: c.title,
    caption: `${c.caption}${wide ? ' N on a symmetric log scale (0 included).' : ''}`,
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
          title: 'rules selecting the pod (N)',
          scale: wide ? { type: 'symlog' } : { zero: true },
          axis: { values: ns },
        },
        y: { field: 'value', type: 'quantitative', title: c.y },
        color: {
          field: 'line',
          type: 'nominal',
          title: 'architecture + design',
          sort: lines,
          legend: { columns: 2, labelLimit: 240, titleLimit: 400 },
        },
        strokeDash: { field: 'series', type: 'nominal', title: null, sort: dashes, legend: null },
        tooltip: [{ field: 'line' }, { field: 'n' }, { field: 'series' }, { field: 'value' }],
      },
    } as TopLevelSpec,
  };
}

/** The four charts: throughput, CRR, connect p50/p99 and realization p50/p99 against N. */
export function policyScaleCharts(j: PolicyScaleJson, order: readonly string[]): Chart[] {
  return [
    curve(j, order, {
      name: 'policy-scale-throughput',
      title: 'NetworkPolicy at scale: throughput against the rules',
      caption: `iperf3 TCP, one stream, client to server; the mean of the blocks (${j.throughputSec} s each).`,
      y: 'throughput, Gbit/s',
      pick: (r) => ({ throughput: r.throughput.bitsPerSecond / 1e9 }),
    }),
    curve(j, order, {
      name: 'policy-scale-crr',
      title: 'NetworkPolicy at scale: connections per second against the rules',
      caption:
        `Connect, request, response, close, one at a time (${j.connections} per point): where a per-connection ` +
        `policy lookup costs. A flat line: the design's lookup does not grow with the rules.`,
      y: 'connections per second',
      pick: (r) => ({ crr: r.crr.perSec }),
    }),
    curve(j, order, {
      name: 'policy-scale-connect',
      title: 'NetworkPolicy at scale: connect latency against the rules',
      caption: 'Connect time (SYN to established) of those connections, p50 solid, p99 dashed.',
      y: 'connect time, ms (p50 solid, p99 dashed)',
      pick: (r) => ({ 'connect p50': r.connect.p50, 'connect p99': r.connect.p99 }),
    }),
    curve(j, order, {
      name: 'policy-scale-realization',
      title: 'NetworkPolicy at scale: realization latency against the rules',
      caption:
        `From sending one policy to the first connection it allows, p50 solid, p99 dashed, over ${j.changes} ` +
        `changes per point; none at N = 0 (nothing isolates).`,
      y: 'realization, ms (p50 solid, p99 dashed)',
      pick: (r): Record<string, number> =>
        r.realization ? { 'realization p50': r.realization.p50, 'realization p99': r.realization.p99 } : {},
    }),
  ].filter((c): c is Chart => c !== undefined);
}

/** The terminal's lines: a header, then one per architecture, design and N. */
export function policyScaleLines(j: PolicyScaleJson): string[] {
  const w = 22;
  return [
    `NetworkPolicy at scale (throughput Gbit/s; CRR /s one at a time over ${j.connections} connections; connect and ` +
      `realization ms, p50 / p90 / p99, realization over ${j.changes} changes; the probed connection matches the ` +
      `last rule; not rows, no % of host):`,
    `  ${'ARCH · DESIGN'.padEnd(30)} ${'N'.padStart(6)} ${'GBIT/S'.padStart(7)} ${'CRR/S'.padStart(8)} ` +
      `${'CONNECT'.padStart(w)} ${'REALIZATION'.padStart(w)} ${'SYNC'.padStart(10)}`,
    ...entries(j).map(
      ({ x, d, r }) =>
        `  ${lineOf(x, d).padEnd(30)} ${String(r.n).padStart(6)} ${gbit(r.throughput.bitsPerSecond).padStart(7)} ` +
        `${figure(r.crr.perSec).padStart(8)} ${pct(r.connect).padStart(w)} ${realizationOf(r).padStart(w)} ` +
        `${syncOf(r).padStart(10)}`,
    ),
  ];
}

/** The report's headline: CRR at the most rules against at the fewest, and realization p99 there, per design. */
export function policyScaleHeadline(j: PolicyScaleJson): string | undefined {
  const lines = j.archs.flatMap((x) =>
    x.designs
      .filter((d) => d.rules.length)
      .map((d) => {
        const [lo, hi] = [d.rules[0]!, d.rules.at(-1)!];
        const crr =
          lo === hi
            ? `${figure(hi.crr.perSec)}/s at ${whole(hi.n)}`
            : `${figure(lo.crr.perSec)} → ${figure(hi.crr.perSec)}/s from ${whole(lo.n)} to ${whole(hi.n)}`;
        const real = hi.realization ? `, realization p99 ${figure(hi.realization.p99)} ms` : '';
        return `${crr}${real} (<b>${e(lineOf(x, d))}</b>)`;
      }),
  );
  if (!lines.length) return undefined;
  return (
    `NetworkPolicy at scale: CRR ${lines.join('; ')}; throughput, connect latency and the curves under ` +
    `<a href="#policy-scale">NetworkPolicy at scale</a>.`
  );
}
