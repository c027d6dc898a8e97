import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT } from '../lib/paths';
import type { ResultRow, RunResults } from '../run/results-schema';
import { buildCharts, CHART_CONFIG, FAMILY_COLORS, renderSvg } from './charts';
import { equivalenceBand, forestCaption, forestChart, forestPanels, forestPoints } from './forest';
import { readResults } from './outputs';

/** The recorded run (host, flannel-vxlan, flannel-udp; every test; 3 rounds), read as v6: no moderated intervals. */
const recorded = (): RunResults => readResults(join(REPO_ROOT, 'test/fixtures/results-v5.json'));
const style = { config: CHART_CONFIG, colors: FAMILY_COLORS };

interface Layer {
  data?: { values: unknown[] };
  mark: string | { type: string };
  encoding?: Record<string, { datum?: number; scale?: { domain?: unknown[] }; axis?: { values?: number[] } }>;
  layer?: Layer[];
}
interface Cell {
  title: { text: string; subtitle?: string };
  layer?: Layer[];
}
const cellsOf = (r: RunResults): Cell[] => (forestChart(r, style)!.spec as unknown as { concat: Cell[] }).concat;
const panelsOf = (r: RunResults): Cell[] => cellsOf(r).filter((c) => c.layer);

/** The marks of one role in a rendered chart: their aria-label's fields, and the element's own attributes. */
function marks(svg: string, role: 'point' | 'rule mark'): { label: Map<string, string>; attrs: string }[] {
  return [
    ...svg.matchAll(new RegExp(`<[a-z]+ aria-label="([^"]*)"[^>]*aria-roledescription="${role}"([^>]*)>`, 'g')),
  ].map((m) => ({
    label: new Map(m[1]!.split('; ').map((kv) => kv.split(': ') as [string, string])),
    attrs: m[2]!,
  }));
}

const isDrawn = (x: ResultRow): boolean => x.arch !== 'host' && x.ratio !== null;
const rowOf = (r: RunResults, arch: string, path: string, test: string): ResultRow =>
  r.rows.find((x) => x.arch === arch && x.path === path && x.test === test)!;

const forestOneTitle =
  'forest: one panel per path and test, saying what the ratio is of; host and rows without a ratio are not drawn';
test(forestOneTitle, async () => {
  const r = structuredClone(recorded());
  rowOf(r, 'flannel-udp', 'inter-node', 'pps').ratio = null;
  assert.equal(buildCharts(r)[0]!.name, 'forest', 'the first chart');
  const groups = new Set(r.rows.filter(isDrawn).map((x) => `${x.path} ${x.test}`));
  assert.equal(groups.size, 14, '7 tests on 2 paths');
  const cells = cellsOf(r);
  assert.equal(cells.length, groups.size, 'every path measured every test: no blank cell');
  assert.deepEqual(new Set(forestPanels(r).map((p) => `${p.path} ${p.test}`)), groups);
  assert.deepEqual(
    forestPanels(r)
      .slice(0, 4)
      .map((p) => `${p.path} ${p.test}`),
    ['inter-node tcp', 'intra-node tcp', 'inter-node tcp-parallel', 'intra-node tcp-parallel'],
    'test by test, each across nodes first',
  );
  const titles = cells.map((c) => `${c.title.text} (${c.title.subtitle})`);
  assert.equal(titles[0], 'inter-node TCP (throughput; higher is better)', 'across nodes first');
  assert.ok(titles.includes('inter-node latency (RTT p50; lower is better)'), titles.join('\n'));
  assert.ok(titles.includes('intra-node latency under a TCP stream (RTT p50; lower is better)'));

  const drawn = r.rows.filter(isDrawn);
  const points = forestPoints(r);
  assert.equal(points.length, drawn.length);
  assert.ok(points.every((p) => p.arch !== 'host'));
  assert.ok(!points.some((p) => p.arch === 'flannel-udp' && p.path === 'inter-node' && p.test === 'pps'));
  const svg = await renderSvg(forestChart(r, style)!.spec);
  const dots = marks(svg, 'point');
  assert.equal(dots.length, drawn.length, 'one point per drawn row');
  assert.ok(dots.every((d) => d.label.get('arch') !== 'host'));
  // The sweep's panel holds every payload: each line names its own.
  assert.ok(points.some((p) => p.test === 'sweep' && p.label.startsWith('flannel-vxlan 512 B ')));
});

const forestEachTitle =
  'forest: each point at the geometric mean; the moderated ' +
  'interval where a row has one, the plain t interval otherwise';
test(forestEachTitle, async () => {
  const r = structuredClone(recorded());
  const mod = rowOf(r, 'flannel-vxlan', 'inter-node', 'tcp');
  mod.ratio!.moderated = { ci95: { low: 0.7, high: 0.8 }, halfWidthPct: 6.7, df: 12, group: 'main', kappa: 0.1 };
  const plain = rowOf(r, 'flannel-udp', 'inter-node', 'tcp');
  const points = forestPoints(r);
  const p = points.find((x) => x.arch === 'flannel-vxlan' && x.path === 'inter-node' && x.test === 'tcp')!;
  assert.deepEqual([p.ratio, p.low, p.high, p.interval], [mod.ratio!.geomean, 0.7, 0.8, 'moderated']);
  const q = points.find((x) => x.arch === 'flannel-udp' && x.path === 'inter-node' && x.test === 'tcp')!;
  assert.deepEqual(
    [q.ratio, q.low, q.high, q.interval],
    [plain.ratio!.geomean, plain.ratio!.ci95.low, plain.ratio!.ci95.high, 't'],
  );
  const lines = marks(await renderSvg(forestChart(r, style)!.spec), 'rule mark');
  const line = lines.find((l) => l.label.get('label')?.startsWith('flannel-vxlan ') && l.label.get('high') === '0.8');
  assert.ok(line, 'the line runs over the moderated interval');
  assert.equal(line.label.get('% of host (log scale)'), '0.7');
  assert.match(forestCaption(r), /The intervals are moderated: each borrows the spread of the other rows of its test/);
  assert.match(forestCaption(recorded()), /Student's t on the logarithms .* predates moderated intervals/);
});

const forestResolvedTitle =
  'forest: resolved rows filled on solid lines, the others hollow on dashed lines; the legend says which is which';
test(forestResolvedTitle, async () => {
  const r = recorded();
  const resolved = r.rows.filter((x) => isDrawn(x) && x.resolved);
  assert.ok(resolved.length > 0 && resolved.length < r.rows.filter(isDrawn).length, 'the fixture holds both');
  const svg = await renderSvg(forestChart(r, style)!.spec);
  const dots = marks(svg, 'point');
  for (const d of dots) {
    const row = r.rows.find(
      (x) =>
        isDrawn(x) &&
        x.arch === d.label.get('arch') &&
        x.path === d.label.get('path') &&
        x.test === d.label.get('test'),
    )!;
    const yes = d.label.get('interval') === 'resolved to ±5%';
    assert.match(d.attrs, yes ? new RegExp(`fill="${FAMILY_COLORS.overlay}"`) : /fill="white"/);
    if (row.test !== 'sweep') assert.equal(yes, row.resolved, `${row.arch} ${row.path} ${row.test}`);
  }
  assert.equal(
    dots.filter((d) => /fill="white"/.test(d.attrs)).length,
    r.rows.filter((x) => isDrawn(x) && !x.resolved).length,
  );
  const lines = marks(svg, 'rule mark');
  assert.equal(lines.length, dots.length);
  for (const l of lines)
    assert.match(
      l.attrs,
      l.label.get('interval (95%)') === 'resolved to ±5%' ? /stroke-dasharray="1,0"/ : /stroke-dasharray="4,3"/,
    );
  assert.match(svg, />resolved to ±5%: filled point, solid line</);
  assert.match(svg, />not resolved to ±5%: hollow point, dashed line</);
});

const forestBandTitle =
  'forest: the band at [1/(1+m), 1+m] around a rule at 1, m from settings.equivalencePct (3 when absent); ' +
  'ticks at round %, 100% among them';
test(forestBandTitle, () => {
  const bandOf = (r: RunResults): number[][] =>
    panelsOf(r).map((c) => {
      const [band, rule] = c.layer!;
      assert.equal((rule!.mark as { type: string }).type, 'rule');
      assert.equal(rule!.encoding!.x!.datum, 1);
      return [band!.encoding!.x!.datum!, band!.encoding!.x2!.datum!];
    });
  const r = recorded();
  assert.equal(r.settings.equivalencePct, undefined);
  assert.deepEqual(equivalenceBand(3), [1 / 1.03, 1.03]);
  assert.ok(bandOf(r).every((b) => b[0] === 1 / 1.03 && b[1] === 1.03));
  const five = { ...r, settings: { ...r.settings, equivalencePct: 5 } };
  assert.ok(bandOf(five).every((b) => b[0] === 1 / 1.05 && b[1] === 1.05));
  assert.match(forestCaption(r), /the shaded band marks ±3% of host \(97%–103%\)/);
  assert.match(forestCaption(five), /the shaded band marks ±5% of host \(95%–105%\)/);
  for (const c of panelsOf(r)) {
    const x = c.layer![0]!.encoding!.x!;
    const [lo, hi] = x.scale!.domain as number[];
    assert.ok(lo! < 1 / 1.03 && hi! > 1.03, `${c.title.text}: the band is inside the axis`);
    const ticks = x.axis!.values!;
    assert.ok(ticks.includes(1) && ticks.every((t) => t >= lo! && t <= hi!), `${c.title.text}: ${ticks.join()}`);
  }
});

const forestSeveralTitle =
  'forest: several underlay MTUs, a panel per MTU; a path ' +
  'a test did not measure leaves a blank cell in its column';
test(forestSeveralTitle, async () => {
  const r = recorded();
  const two: RunResults = {
    ...r,
    lab: { ...r.lab, underlayMtus: [1500, 9000] },
    rows: [1500, 9000].flatMap((m) => r.rows.map((x) => ({ ...x, underlayMtu: m }))),
  };
  const cells = cellsOf(two);
  assert.equal(cells.length, 28);
  assert.deepEqual(
    cells.slice(0, 4).map((c) => `${c.title.text} · ${c.title.subtitle}`),
    [
      'inter-node TCP · throughput; higher is better · underlay MTU 1500',
      'intra-node TCP · throughput; higher is better · underlay MTU 1500',
      'inter-node TCP · throughput; higher is better · underlay MTU 9000',
      'intra-node TCP · throughput; higher is better · underlay MTU 9000',
    ],
  );
  assert.match(await renderSvg(forestChart(two, style)!.spec), /underlay MTU 9000/);

  const gap = { ...r, rows: r.rows.filter((x) => !(x.test === 'latency' && x.path === 'intra-node')) };
  const grid = cellsOf(gap);
  assert.equal(panelsOf(gap).length, 13);
  const at = grid.findIndex((c) => c.title.text === 'inter-node latency');
  assert.equal(grid[at + 1]!.title.text, 'intra-node: not measured', 'the intra-node column keeps its place');
  assert.equal(grid.length, 14);
  await renderSvg(forestChart(gap, style)!.spec);

  const none = { ...r, rows: r.rows.filter((x) => x.arch === 'host') };
  assert.equal(forestChart(none, style), undefined, 'nothing to draw without a ratio to host');
});
