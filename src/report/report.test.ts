import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../lib/paths';
import { resultsSchema, type RunResults } from '../run/results-schema';
import { describe } from '../run/stats';
import { buildCharts, renderSvg } from './charts';
import { compareRuns, rowKey } from './compare';
import { CSV_HEADER, toCsv } from './csv';
import { pathDiagram } from './diagram';
import { headlines, renderHtml } from './html';
import { readComparable } from './outputs';

/** A recorded run (host, flannel-vxlan, flannel-udp; every test; 3 repeats of 1 s). */
const recorded = (): RunResults =>
  resultsSchema.parse(JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/results-v2.json'), 'utf8')));

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
  const fig5 = barLabels(await renderSvg(charts[1]!.spec));
  const tcp = r.rows.filter((x) => x.test === 'tcp');
  assert.equal(fig5.length, tcp.length);
  for (const row of tcp) {
    const bar = fig5.find((b) => b.get('arch') === row.arch && b.get('path') === row.path);
    assert.ok(bar, `a bar for ${row.arch} ${row.path}`);
    assert.equal(Number(bar.get('Gbit/s')), row.metrics.gbps!.median);
  }
  // Fig. 4 holds the overlays and the baseline, across nodes only.
  const fig4 = barLabels(await renderSvg(charts[0]!.spec));
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
  assert.equal(col('baseline_pct'), '100');
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
  assert.match(h[0]!, /fastest pod network was <b>flannel-vxlan<\/b>.*slowest <b>flannel-udp<\/b>/);
  assert.match(h[1]!, /costliest in CPU was <b>flannel-udp<\/b>/);
  assert.match(h[h.length - 1]!, /rows are <span class="warn">unstable<\/span>/);
});

test('compare: a run against itself is within noise; a halved row is worse, a faster one better', () => {
  const a = recorded();
  assert.ok(compareRuns(a, a).changes.every((c) => c.judgement === 'within noise' && c.changePct === 0));
  const scale = (k: number) => (x: RunResults['rows'][number]) =>
    x.arch === 'host' && x.test === 'sweep' && x.params.payloadBytes === 512
      ? { ...x, metrics: { ...x.metrics, gbps: describe(x.metrics.gbps!.samples.map((v) => v * k)) } }
      : x;
  const slower = compareRuns(a, { ...a, rows: a.rows.map(scale(0.5)) });
  const worse = slower.changes.filter((c) => c.judgement !== 'within noise');
  assert.deepEqual(
    worse.map((c) => [c.key, c.judgement, c.changePct]),
    [['host inter-node sweep 512 B', 'worse', -50]],
  );
  const faster = compareRuns(a, { ...a, rows: a.rows.map(scale(2)) });
  assert.deepEqual(
    faster.changes.filter((c) => c.judgement !== 'within noise').map((c) => c.judgement),
    ['better'],
  );
  // Lower latency is better.
  const lat = (x: RunResults['rows'][number]) =>
    x.arch === 'host' && x.test === 'latency-loaded'
      ? { ...x, metrics: { ...x.metrics, rttP50Us: describe(x.metrics.rttP50Us!.samples.map((v) => v * 3)) } }
      : x;
  assert.deepEqual(
    compareRuns(a, { ...a, rows: a.rows.map(lat) })
      .changes.filter((c) => c.judgement !== 'within noise')
      .map((c) => [c.key, c.metric, c.judgement]),
    [['host inter-node latency-loaded', 'rttP50Us', 'worse']],
  );
  const fewer = compareRuns(a, { ...a, rows: a.rows.filter((x) => x.arch !== 'flannel-udp') });
  assert.equal(fewer.onlyInA.length, a.rows.filter((x) => x.arch === 'flannel-udp').length);
  assert.ok(fewer.onlyInA.includes(rowKey(a.rows.find((x) => x.arch === 'flannel-udp' && x.test === 'udp')!)));
});

test('compare reads results v1 (recorded default run of an earlier cnilab): its TCP rows against v2 rows', () => {
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
  assert.throws(
    () => readComparable(join(REPO_ROOT, 'test/fixtures/iperf3-tcp.json')),
    /iperf3-tcp\.json: schemaVersion undefined is not 2/,
  );
});
