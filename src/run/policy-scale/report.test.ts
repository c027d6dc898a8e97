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
import { policyScaleTest } from '.';
import { agentFigures } from './lab-run';
import { policyScaleCharts, policyScaleHeadline, policyScaleLines, policyScaleTable } from './report';
import type { PolicyScaleArch, PolicyScaleJson, PolicyScaleRule } from './schema';

const recorded = (): RunResults => readResults(join(REPO_ROOT, 'test/fixtures/results-v5.json'));

// Made-up figures in the shape measure() returns (not a measurement: see docs/policy-scale.md).
const rule = (n: number, crr: number, real?: number[]): PolicyScaleRule => ({
  n,
  policies: n ? n + 1 : 0,
  applyMs: 5 + n / 10,
  throughput: { bitsPerSecond: 20e9, samples: [20e9, 20e9] },
  crr: { perSec: crr, samples: [crr, crr], ok: 100, failed: 0 },
  connect: msStat([0.1, 0.12, 0.2]),
  ...(real ? { realization: msStat(real) } : {}),
  agents: [
    { node: 'node1', fillSyncs: 0, fillSyncMs: 0 },
    { node: 'node2', fillSyncs: 1, fillSyncMs: 3 + n / 100, ...(real ? { changeSyncMs: msStat([1, 2]) } : {}) },
  ],
});

const arch = (name: string, designs: [string, number][]): PolicyScaleArch => ({
  arch: name,
  family: 'l3',
  lab: `cnilab-${name}`,
  client: 'node1-p1',
  server: 'node2-p1',
  client2: 'node1-p2',
  designs: designs.map(([design, k]) => ({
    design,
    rules: [rule(0, 4000), rule(1000, 4000 / k, [20, 30, 40])],
  })),
});

const J: PolicyScaleJson = {
  rules: [0, 1000],
  connections: 3,
  changes: 3,
  throughputSec: 1,
  archs: [
    arch('calico-bgp', [
      ['iptables', 4],
      ['nftables', 1],
    ]),
    arch('ebpf-native', [['ebpf', 1]]),
  ],
};

const withScale = (): RunResults =>
  publishedResultsSchema.parse({
    ...recorded(),
    settings: { ...recorded().settings, tests: [...recorded().settings.tests, 'policy-scale'] },
    afterRounds: { 'policy-scale': J },
  });

test("results.json: afterRounds['policy-scale'] validates as record() makes it; a bad one is refused", () => {
  const rec = policyScaleTest.record({ rules: [0, 1000], connections: 3, changes: 3, throughputSec: 1 }, J.archs);
  assert.deepEqual(rec, J);
  assert.deepEqual(withScale().afterRounds?.['policy-scale'], J);
  const bad = { ...J, archs: [{ ...J.archs[0]!, designs: [{ design: 'iptables', rules: [{ n: 1 }] }] }] };
  assert.equal(
    publishedResultsSchema.safeParse({ ...recorded(), afterRounds: { 'policy-scale': bad } }).success,
    false,
  );
});

test('policy-scale in the report: a row per architecture, design and N, four curves against N, a headline', async () => {
  const table = policyScaleTable(J);
  assert.match(table, /<h2 id="policy-scale">NetworkPolicy at scale<\/h2>/);
  assert.match(
    table,
    /<td>calico-bgp<\/td><td>iptables<\/td><td class="n">1,000<\/td><td class="n">20.0<\/td><td class="n">1,000<\/td><td class="n">0.12 \/ 0.18 \/ 0.20<\/td><td class="n">30.0 \/ 38.0 \/ 39.8<\/td>/,
  );
  assert.match(
    table,
    /<td>ebpf-native<\/td><td>ebpf<\/td><td class="n">0<\/td>(<td class="n">[^<]*<\/td>){3}<td class="n">—<\/td>/,
  );
  assert.match(table, /the probed connection matches the last one/);
  const html = renderHtml(withScale(), []);
  assert.ok(html.includes(table));
  assert.doesNotMatch(renderHtml(recorded(), []), /NetworkPolicy at scale/);
  assert.match(html, /<b>policy-scale<\/b> — NetworkPolicy at scale/);
  assert.match(
    policyScaleHeadline(J)!,
    /CRR 4,000 → 1,000\/s from 0 to 1,000, realization p99 39.8 ms \(<b>calico-bgp · iptables<\/b>\); 4,000 → 4,000\/s/,
  );
  assert.equal(policyScaleHeadline({ ...J, archs: [] }), undefined);
  const charts = policyScaleCharts(J, ['ebpf-native', 'calico-bgp']);
  assert.deepEqual(
    charts.map((c) => c.name),
    ['policy-scale-throughput', 'policy-scale-crr', 'policy-scale-connect', 'policy-scale-realization'],
  );
  const svg = await renderSvg(charts[1]!.spec);
  const points = [...svg.matchAll(/aria-label="([^"]*n: 1,?000[^"]*)"/g)].map((m) => m[1]!);
  assert.equal(points.length, 3, svg.slice(0, 400));
  const real = await renderSvg(charts[3]!.spec);
  assert.equal([...real.matchAll(/aria-label="([^"]*n: 0;[^"]*)"/g)].length, 0, 'no realization at N = 0');
  assert.deepEqual(policyScaleCharts({ ...J, archs: [] }, []), []);
});

test('policy-scale in the terminal: a line per architecture, design and N; compare leaves it out and says so', () => {
  const lines = policyScaleLines(J);
  assert.equal(lines.length, 2 + 6);
  assert.match(
    lines[3]!,
    /^ {2}calico-bgp · iptables +1000 +20\.0 +1,000 +0\.12 \/ 0\.18 \/ 0\.20 +30\.0 \/ 38\.0 \/ 39\.8 +13\.0 ms$/,
  );
  assert.match(lines[2]!, / — {2}/);
  const c = compareRuns(withScale(), recorded());
  assert.deepEqual({ ...c, notes: [] }, { ...compareRuns(recorded(), recorded()), notes: [] });
  assert.deepEqual(c.notes, [policyScaleTest.compareNote]);
});

test("agent figures: each agent's syncs of the fill and of each change, from syncs.jsonl's revisions", () => {
  const rec = (revision: number, ms: number) => ({
    revision,
    at: 1,
    kind: 'partial' as const,
    ms,
    written: 1,
    policies: 1,
    isolated: 1,
  });
  const recs = new Map([
    ['node1', []],
    ['node2', [rec(3, 50), rec(5, 10.5), rec(6, 4.25), rec(8, 2), rec(10, 3), rec(11, 1)]],
  ]);
  assert.deepEqual(
    agentFigures(recs, 3, 6, [
      { after: 7, revision: 8 },
      { after: 9, revision: 10 },
    ]),
    [
      { node: 'node1', fillSyncs: 0, fillSyncMs: 0 },
      { node: 'node2', fillSyncs: 2, fillSyncMs: 14.75, changeSyncMs: msStat([2, 3]) },
    ],
  );
});
