import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT } from '../../lib/paths';
import { renderSvg } from '../../report/charts';
import { compareRuns } from '../../report/compare';
import { renderHtml } from '../../report/html';
import { readResults } from '../../report/outputs';
import { msStat } from '../after/ms-stat';
import { publishedResultsSchema } from '../results-published';
import type { RunResults } from '../results-schema';
import { serviceScaleTest } from '.';
import { agentFigures } from './measure';
import { serviceScaleCharts, serviceScaleHeadline, serviceScaleLines, serviceScaleTable } from './report';
import type { ServiceScaleArch, ServiceScaleJson } from './schema';

const recorded = (): RunResults => readResults(join(REPO_ROOT, 'test/fixtures/results-v5.json'));

// Made-up figures in the shape measure() returns (not a measurement: see docs/services.md for those).
const count = (n: number, fp: number[], prog: number[]): ServiceScaleArch['counts'][number] => ({
  n,
  fillers: n - 1,
  createMs: 10 + n / 100,
  syncedMs: 40 + n / 10,
  firstPacket: msStat(fp),
  failed: 0,
  crr: { perSec: 1500, concurrency: 4, ok: 100, failed: 0 },
  programming: msStat(prog),
  agents: [
    { node: 'node1', syncs: 2, kinds: ['partial', 'partial'], syncMs: 20 + n / 50, lastSyncMs: 12, rssKiB: 81920 },
    { node: 'node2', syncs: 1, kinds: ['partial'], syncMs: 18, lastSyncMs: 18 },
  ],
});

const arch = (name: string, proxy: string, k: number): ServiceScaleArch => ({
  arch: name,
  family: 'overlay',
  proxy,
  lab: `cnilab-${name}`,
  client: 'node1-p1',
  backends: ['node2-p1', 'node2-p2'],
  counts: [count(1, [0.2, 0.25, 0.3], [20, 25, 30]), count(1000, [0.2 * k, 0.3 * k, 0.4 * k], [30, 35, 45])],
});

const J: ServiceScaleJson = {
  counts: [1, 1000],
  connections: 3,
  changes: 3,
  archs: [arch('flannel-vxlan+iptables', 'iptables', 3), arch('flannel-vxlan+nftables', 'nftables', 1)],
};

const withScale = (): RunResults =>
  publishedResultsSchema.parse({
    ...recorded(),
    settings: { ...recorded().settings, tests: [...recorded().settings.tests, 'service-scale'] },
    afterRounds: { 'service-scale': J },
  });

test("results.json: afterRounds['service-scale'] validates as record() makes it; a bad one is refused", () => {
  const rec = serviceScaleTest.record({ counts: [1, 1000], connections: 3, changes: 3 }, J.archs);
  assert.deepEqual(rec, J);
  assert.deepEqual(withScale().afterRounds?.['service-scale'], J);
  const bad = { ...J, archs: [{ ...J.archs[0]!, counts: [{ n: 1 }] }] };
  assert.equal(
    publishedResultsSchema.safeParse({ ...recorded(), afterRounds: { 'service-scale': bad } }).success,
    false,
  );
});

test('service-scale in the report: a section with a row per proxy and N, two curves against N, a headline', async () => {
  const table = serviceScaleTable(J);
  assert.match(table, /<h2 id="service-scale">Services at scale<\/h2>/);
  assert.match(
    table,
    /<td>flannel-vxlan\+iptables<\/td><td>iptables<\/td><td class="n">1,000<\/td><td class="n">0.90 \/ 1.14 \/ 1.19<\/td>/,
  );
  assert.match(table, /<td class="n">80(\.0)? MiB<\/td>/);
  assert.match(table, /its rule is the last, as in the kubernetes.io blog's method/);
  const html = renderHtml(withScale(), []);
  assert.ok(html.includes(table));
  assert.doesNotMatch(renderHtml(recorded(), []), /Services at scale/);
  assert.match(html, /<b>service-scale<\/b> — Services at scale/);
  assert.match(
    serviceScaleHeadline(J)!,
    /first-packet p50 0.25 → 0.90 ms from 1 to 1,000 \(<b>flannel-vxlan\+iptables<\/b>\), 0.25 → 0.30 ms/,
  );
  assert.equal(serviceScaleHeadline({ ...J, archs: [] }), undefined);
  const charts = serviceScaleCharts(J, ['flannel-vxlan+nftables', 'flannel-vxlan+iptables']);
  assert.deepEqual(
    charts.map((c) => c.name),
    ['service-scale-first-packet', 'service-scale-programming'],
  );
  const svg = await renderSvg(charts[0]!.spec);
  const points = [...svg.matchAll(/aria-label="([^"]*n: 1,?000[^"]*)"/g)].map((m) => m[1]!);
  assert.equal(points.length, 4, svg.slice(0, 400));
  assert.match(svg, /log scale|Services in the lab/);
  assert.deepEqual(serviceScaleCharts({ ...J, archs: [] }, []), []);
});

test('service-scale in the terminal: a line per proxy and N; compare leaves it out and says so', () => {
  const lines = serviceScaleLines(J);
  assert.equal(lines.length, 6);
  assert.match(
    lines[3]!,
    /^ {2}flannel-vxlan\+iptables +1000 +0\.90 \/ 1\.14 \/ 1\.19 +1,500 +35\.0 \/ 43\.0 \/ 44\.8 +40\.0 ms$/,
  );
  const c = compareRuns(withScale(), recorded());
  assert.deepEqual({ ...c, notes: [] }, { ...compareRuns(recorded(), recorded()), notes: [] });
  assert.deepEqual(c.notes, [
    "the service-scale test's figures (ms, not rows) are not compared: read them side by side in each run's report " +
      '(Services at scale)',
  ]);
});

test("agent figures: each agent's syncs after the revision before the fillers, summed; its memory when readable", () => {
  const lines = [
    { revision: 3, at: 1, kind: 'full', ms: 50, written: 9, servicePorts: 1 },
    { revision: 5, at: 2, kind: 'partial', ms: 10.5, written: 900, servicePorts: 900 },
    { revision: 7, at: 3, kind: 'partial', ms: 4.25, written: 1, servicePorts: 1000 },
  ]
    .map((x) => JSON.stringify(x))
    .join('\n');
  const procs = [
    { pid: 11, role: 'proxy', node: 'node1', log: '' },
    { pid: 12, role: 'proxy', node: 'node2', log: '' },
  ];
  assert.deepEqual(
    agentFigures(
      'l',
      procs,
      3,
      (node) => (node === 'node1' ? `${lines}\n` : ''),
      (pid) => (pid === 11 ? 5000 : undefined),
    ),
    [
      { node: 'node1', syncs: 2, kinds: ['partial', 'partial'], syncMs: 14.75, lastSyncMs: 4.25, rssKiB: 5000 },
      { node: 'node2', syncs: 0, kinds: [], syncMs: 0, lastSyncMs: 0 },
    ],
  );
});
