import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../lib/paths';
import { RESULTS_SCHEMA_VERSION, type RunResults } from '../run/results-schema';
import { describe } from '../run/stats';
import { buildCharts, renderSvg } from './charts';
import { compareRuns, rowKey } from './compare';
import { CSV_HEADER, toCsv } from './csv';
import { pathDiagram } from './diagram';
import { headlines, renderHtml } from './html';
import { readComparable, readResults } from './outputs';

/**
 * A recorded run (host, flannel-vxlan, flannel-udp; every test; 3 interleaved rounds of 1 s
 * samples), written as v5 and read as v7 (its `indistinguishable` steps read as `not resolved`).
 */
const recorded = (): RunResults => readResults(join(REPO_ROOT, 'test/fixtures/results-v5.json'));

/** Every bar's aria-label in a rendered chart: "Gbit/s: 13.067; arch: host; path: inter-node; …". */
function barLabels(svg: string): Map<string, string>[] {
  return [
    ...svg.matchAll(
      /aria-roledescription="bar"[^>]*aria-label="([^"]*)"|aria-label="([^"]*)"[^>]*aria-roledescription="bar"/g,
    ),
  ].map((m) => new Map((m[1] ?? m[2])!.split('; ').map((kv) => kv.split(': ') as [string, string])));
}

test("charts: the figures the data allows, one bar per row with the row's median", async () => {
  const r = recorded();
  const charts = buildCharts(r);
  assert.deepEqual(
    charts.map((c) => c.name),
    [
      'forest',
      'fig4-overlays',
      'fig5-overlays-vs-native',
      'cpu-per-gbit',
      'latency',
      'latency-loaded',
      'tcp-parallel',
      'udp',
      'pps',
      'sweep',
    ],
  );
  const fig5 = barLabels(await renderSvg(charts[2]!.spec));
  const tcp = r.rows.filter((x) => x.test === 'tcp');
  assert.equal(fig5.length, tcp.length);
  for (const row of tcp) {
    const bar = fig5.find((b) => b.get('arch') === row.arch && b.get('path') === row.path);
    assert.ok(bar, `a bar for ${row.arch} ${row.path}`);
    assert.equal(Number(bar.get('Gbit/s')), row.metrics.gbps!.median);
  }
  // Fig. 4 holds the overlays and the baseline, across nodes only.
  const fig4 = barLabels(await renderSvg(charts[1]!.spec));
  assert.deepEqual(
    fig4.map((b) => b.get('arch')),
    ['host', 'flannel-vxlan', 'flannel-udp'],
  );
});

test("csv: one line per row and metric, the primary one carrying the row's verdicts", () => {
  const r = recorded();
  const lines = toCsv(r).trimEnd().split('\n');
  assert.equal(lines[0], CSV_HEADER.join(','));
  assert.equal(
    lines.length - 1,
    r.rows.reduce((n, x) => n + Object.keys(x.metrics).length, 0),
  );
  const host = lines.find((l) => l.startsWith('host,baseline,inter-node,tcp,1,,,gbps,'))!.split(',');
  const col = (name: (typeof CSV_HEADER)[number]): string => host[CSV_HEADER.indexOf(name)]!;
  const row = r.rows.find((x) => x.arch === 'host' && x.test === 'tcp')!;
  assert.equal(Number(col('median')), row.metrics.gbps!.median);
  assert.equal(col('primary'), 'true');
  assert.equal(col('baseline_pct'), '', 'host is the baseline');
  const vx = lines.find((l) => l.startsWith('flannel-vxlan,overlay,inter-node,tcp,1,,,gbps,'))!.split(',');
  const vxRow = r.rows.find((x) => x.arch === 'flannel-vxlan' && x.path === 'inter-node' && x.test === 'tcp')!;
  assert.equal(Number(vx[CSV_HEADER.indexOf('baseline_pct')]), vxRow.baselinePct);
  assert.equal(Number(vx[CSV_HEADER.indexOf('baseline_ci95_low_pct')]), Math.round(vxRow.ratio!.ci95.low * 1000) / 10);
  assert.equal(Number(col('core_s_per_gbit')), row.coreSecondsPerGbit!.total);
});

test('data-path diagram: the counted hops in order, with arrows between them', () => {
  const p = recorded().paths.find((x) => x.arch === 'flannel-vxlan' && x.path === 'inter-node')!;
  const svg = pathDiagram(p, 't');
  const order = [...svg.matchAll(/class="hop" data-ifname="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(
    order,
    p.hops.map((h) => h.ifname),
  );
  assert.deepEqual(
    order.slice(0, 5),
    ['eth0', p.hops[1]!.ifname, 'cni0', 'flannel.1', 'eth0'],
    'pod, veth, bridge, vxlan, uplink',
  );
  assert.equal((svg.match(/marker-end="url\(#t-arrow\)"/g) ?? []).length, p.hops.length - 1);
});

test('html: self-contained, headlines computed from the rows, names escaped', async () => {
  const r = recorded();
  const evil = { ...r, lab: { ...r.lab, name: '<script>x</script>' } };
  const html = renderHtml(evil, []);
  assert.ok(!/<script|src="http|href="http/.test(html), 'no script, nothing fetched');
  assert.match(html, /&lt;script&gt;x&lt;\/script&gt;/);
  const h = headlines(r);
  // Ranked by the same-round ratio: flannel-vxlan above flannel-udp only because its interval says so.
  const step = r.claims.rankings.find((g) => g.path === 'inter-node' && g.test === 'tcp')!.steps[0]!;
  assert.deepEqual([step.a, step.b, step.verdict], ['flannel-vxlan', 'flannel-udp', 'better']);
  assert.ok(step.ratio.ci95.low > 1);
  assert.match(h[0]!, /fastest pod network was <b>flannel-vxlan<\/b>.*ahead of <b>flannel-udp<\/b>/);
  assert.match(h[1]!, /slowest was <b>flannel-udp<\/b>/);
  assert.match(h[2]!, /costliest in CPU was <b>flannel-udp<\/b>/);
  assert.match(h[h.length - 1]!, /rows are <span class="warn">not resolved<\/span> to ±5%|known within ±5%/);
  assert.match(
    h[1]!,
    /In order \(&gt; resolved higher, &lt; resolved lower, ≈ equivalent within ±3%, \? not resolved\): inter-node tcp/,
  );
  // A ranking whose interval holds 1 says so instead of naming a winner: not resolved (and how
  // many rounds would decide it), or equivalent within the margin.
  const tied = structuredClone(r);
  const first = tied.claims.rankings.find((g) => g.path === 'inter-node' && g.test === 'tcp')!.steps[0]!;
  Object.assign(first, { verdict: 'not resolved', ratio: { n: 3, geomean: 1.01, ci95: { low: 0.9, high: 1.12 } } });
  assert.match(
    headlines(tied)[0]!,
    new RegExp(
      String.raw`had the highest median .* but is <b>not resolved<\/b> against ` +
        String.raw`<b>flannel-udp<\/b>: the interval of their same-round ratio \(0\.90–1\.12\) ` +
        String.raw`holds 1 but reaches beyond ±3%\.$`,
    ),
  );
  first.moreRounds = 4;
  assert.match(headlines(tied)[0]!, /reaches beyond ±3%; about 4 more rounds would decide it\.$/);
  Object.assign(first, { verdict: 'equivalent', ratio: { n: 9, geomean: 1.0, ci95: { low: 0.98, high: 1.02 } } });
  assert.match(
    headlines(tied)[0]!,
    /had the highest median .* and is <b>within ±3% of<\/b> <b>flannel-udp<\/b>: the interval of their same-round ratio \(0\.98–1\.02\) lies inside ±3%\.$/,
  );
  assert.match(headlines({ ...tied, settings: { ...tied.settings, equivalencePct: 5 } })[0]!, /<b>within ±5% of<\/b>/);
  assert.match(
    html,
    new RegExp(
      String.raw`same-round ratio A\/B excludes 1; they are equivalent when it lies within ±3%; ` +
        String.raw`otherwise the step is not resolved \(&gt; resolved higher, &lt; resolved lower, ` +
        String.raw`≈ equivalent within ±3%, \? not resolved\)`,
    ),
  );
  assert.ok(!/indistinguishable/.test(html), 'the verdict of v5 is gone');
  assert.match(html, /<h2>What this run can claim<\/h2>/);
  assert.match(html, /Fig\. 4 — the OVS overlay \(VXLAN\) has higher throughput than Flannel UDP: NOT MEASURED/);
});

test('html: the forest plot opens the report, before the headlines and the other charts, with its caption in words', async () => {
  const r = recorded();
  const charts = await Promise.all(buildCharts(r).map(async (chart) => ({ chart, svg: await renderSvg(chart.spec) })));
  const html = renderHtml(r, charts);
  const at = (s: string): number => html.indexOf(s);
  assert.equal(html.split('id="chart-forest"').length, 2, 'drawn once');
  assert.ok(at('<h2>At a glance</h2>') < at('id="chart-forest"'), 'inside At a glance');
  assert.ok(at('id="chart-forest"') < at('<ul class="headlines">'), 'before the headlines');
  for (const c of charts.slice(1))
    assert.ok(at('<h2>Charts</h2>') < at(`id="chart-${c.chart.name}"`), `${c.chart.name} under Charts`);
  const caption = html.slice(at('id="chart-forest"'), html.indexOf('</figure>', at('id="chart-forest"')));
  assert.match(caption, /A point is an architecture&#39;s ratio to host: the geometric mean of its same-round ratios/);
  assert.match(caption, /the line through it is the 95% interval of that ratio/);
  assert.match(
    caption,
    /the shaded band marks ±3% of host \(97%–103%\), the margin within which this run calls two architectures equivalent, drawn around 100% for scale/,
  );
  assert.match(caption, /a hollow point on a dashed line is not resolved to ±5%/);
  assert.match(caption, /<a href="charts\/forest\.png">PNG<\/a>/);
  assert.ok(!/docs\/measurements/.test(caption), 'the report links no docs');
  // With moderated intervals, the caption and the table say so, and the table shows them.
  const mod = structuredClone(r);
  const row = mod.rows.find((x) => x.arch === 'flannel-vxlan' && x.path === 'inter-node' && x.test === 'tcp')!;
  row.ratio!.moderated = { ci95: { low: 0.71, high: 0.79 }, halfWidthPct: 5.3, df: 12, group: 'main', kappa: 0.1 };
  const modHtml = renderHtml(mod, [{ chart: buildCharts(mod)[0]!, svg: '' }]);
  assert.match(
    modHtml,
    /The intervals are moderated: each borrows the spread of the other rows of its test and includes the part of the noise that changes from run to run/,
  );
  assert.match(modHtml, /the 95% interval of their geometric mean \(moderated: /);
  assert.match(modHtml, /<td class="n">75% <small>\(71–79\)<\/small> \?<\/td>/);
});

test('a run whose Open vSwitch ran in user space says so, naming the kernel; on the kernel datapath it says nothing', () => {
  const r = recorded();
  const ovs = (datapath: string) => ({
    ...r,
    architectures: [...r.architectures, { name: 'kuryr-ovs-vlan', family: 'native' as const, summary: 'x', datapath }],
  });
  const userspace = headlines(ovs('openvswitch netdev (userspace, TSO)'));
  const note = userspace.find((h) => h.includes('Open vSwitch ran in user space'));
  assert.ok(note, userspace.join('\n'));
  assert.match(note, new RegExp(`for kuryr-ovs-vlan: kernel ${r.environment.kernel} has no openvswitch module`));
  assert.match(renderHtml(ovs('openvswitch netdev (userspace)'), []), /not comparable with it/);
  assert.equal(
    headlines(ovs('openvswitch system (kernel)')).some((h) => h.includes('user space')),
    false,
  );
});

test('a run on a software-emulated CPU (the kernel tier VM) says its figures are not figures', () => {
  const r = recorded();
  const tcg = { ...r, environment: { ...r.environment, cpuModel: 'QEMU TCG CPU version 2.5+' } };
  assert.ok(headlines(tcg).some((h) => /emulated in software .* its figures are not figures/.test(h)));
  assert.equal(
    headlines(r).some((h) => h.includes('emulated')),
    false,
  );
});

test('compare: a run against itself is never better or worse; a halved row is worse, a faster one better; a noise floor widens the test', () => {
  const a = recorded();
  const decided = (c: { judgement: string }): boolean => c.judgement === 'better' || c.judgement === 'worse';
  assert.ok(compareRuns(a, a).changes.every((c) => !decided(c) && c.changePct === 0));
  const scale = (k: number) => (x: RunResults['rows'][number]) =>
    x.arch === 'host' && x.test === 'sweep' && x.params.payloadBytes === 512
      ? { ...x, metrics: { ...x.metrics, gbps: describe(x.metrics.gbps!.samples.map((v) => v * k)) } }
      : x;
  const slower = compareRuns(a, { ...a, rows: a.rows.map(scale(0.5)) });
  const worse = slower.changes.filter(decided);
  assert.deepEqual(
    worse.map((c) => [c.key, c.judgement, c.basis, c.comparedChangePct]),
    [['host inter-node sweep 512 B', 'worse', 'absolute', -50]],
  );
  const faster = compareRuns(a, { ...a, rows: a.rows.map(scale(2)) });
  assert.deepEqual(
    faster.changes.filter(decided).map((c) => c.judgement),
    ['better'],
  );
  // Lower latency is better.
  const lat = (x: RunResults['rows'][number]) =>
    x.arch === 'host' && x.test === 'latency-loaded'
      ? { ...x, metrics: { ...x.metrics, rttP50Us: describe(x.metrics.rttP50Us!.samples.map((v) => v * 3)) } }
      : x;
  assert.deepEqual(
    compareRuns(a, { ...a, rows: a.rows.map(lat) })
      .changes.filter(decided)
      .map((c) => [c.key, c.metric, c.judgement]),
    [['host inter-node latency-loaded', 'rttP50Us', 'worse']],
  );
  // The same halving, against runs whose floor says they differ from run to run by 50%: not resolved.
  const floored = compareRuns({ ...a, floorPct: 50 }, { rows: a.rows.map(scale(0.5)), floorPct: 50 });
  assert.ok(floored.changes.every((c) => c.judgement === 'not resolved'));
  // A ratio to host that falls to a quarter is worse, host itself unchanged (paired); with 60
  // comparisons Holm asks p < 0.05/60 of the first, which a halving of 3 noisy rounds need not reach.
  const halfRatio = (x: RunResults['rows'][number]) =>
    x.arch === 'flannel-vxlan' && x.path === 'inter-node' && x.test === 'tcp'
      ? { ...x, ratio: { ...x.ratio!, ratios: x.ratio!.ratios.map((v) => v / 4) } }
      : x;
  const paired = compareRuns(a, { ...a, rows: a.rows.map(halfRatio) }).changes.filter(decided);
  assert.deepEqual(
    paired.map((c) => [c.key, c.basis, c.judgement, c.comparedChangePct]),
    [['flannel-vxlan inter-node tcp', 'ratio to host', 'worse', -75]],
  );
  const fewer = compareRuns(a, { ...a, rows: a.rows.filter((x) => x.arch !== 'flannel-udp') });
  assert.equal(fewer.onlyInA.length, a.rows.filter((x) => x.arch === 'flannel-udp').length);
  assert.ok(fewer.onlyInA.includes(rowKey(a.rows.find((x) => x.arch === 'flannel-udp' && x.test === 'udp')!)));
});

test('compare reads results v1 and v2 (recorded runs of an earlier cnilab) against v4 rows', () => {
  const v1 = readComparable(join(REPO_ROOT, 'test/fixtures/results-v1.json'));
  assert.equal(v1.rows.length, 12);
  const host = v1.rows.find((x) => x.arch === 'host')!;
  assert.deepEqual([host.test, host.primary, host.params], ['tcp', 'gbps', { streams: 1 }]);
  assert.equal(host.metrics.gbps!.n, 3);
  assert.equal(host.metrics.gbps!.ci95.method, 't');
  const c = compareRuns(v1, recorded());
  assert.deepEqual(
    c.changes.map((x) => x.key),
    [
      'host inter-node tcp',
      'flannel-vxlan intra-node tcp',
      'flannel-vxlan inter-node tcp',
      'flannel-udp intra-node tcp',
      'flannel-udp inter-node tcp',
    ],
  );
  assert.ok(c.onlyInA.includes('macvlan inter-node tcp') && c.onlyInB.includes('host inter-node latency'));
  assert.ok(
    c.changes.every((x) => x.basis === 'absolute'),
    'v1 has no ratios',
  );
  const v2 = readComparable(join(REPO_ROOT, 'test/fixtures/results-v2.json'));
  assert.equal(v2.floorPct, undefined);
  const c2 = compareRuns(v2, recorded());
  const b = recorded().rows;
  assert.equal(
    c2.changes.length,
    b.length + b.filter((x) => x.test.startsWith('latency')).length,
    'every row and the latency tails',
  );
  assert.deepEqual(c2.floorPct, { a: 0, b: 0 });
  assert.throws(
    () => readComparable(join(REPO_ROOT, 'test/fixtures/iperf3-tcp.json')),
    /iperf3-tcp\.json: schemaVersion undefined is not 8/,
  );
});

test('the report reads results v3, v4 and v5 (v7 but for their number, families and verdicts); not v2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-v3-'));
  try {
    const v4 = JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/results-v4.json'), 'utf8')) as RunResults;
    for (const version of [3, 4, 5]) {
      writeFileSync(join(dir, 'results.json'), JSON.stringify({ ...v4, schemaVersion: version }));
      const r = readResults(dir);
      assert.equal(r.schemaVersion, RESULTS_SCHEMA_VERSION);
      assert.deepEqual(r.rows, v4.rows, 'rows as that run wrote them (its families too)');
    }
    writeFileSync(join(dir, 'results.json'), JSON.stringify({ ...v4, schemaVersion: 2 }));
    assert.throws(() => readResults(dir), /schemaVersion 2 is not 8; the report reads results v3 to v8/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
