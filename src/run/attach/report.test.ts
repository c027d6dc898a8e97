import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT } from '../../lib/paths';
import { renderSvg } from '../../report/charts';
import { compareRuns } from '../../report/compare';
import { renderHtml } from '../../report/html';
import { readResults } from '../../report/outputs';
import { msStat as attachStat } from '../after/ms-stat';
import { publishedResultsSchema } from '../results-published';
import type { RunResults } from '../results-schema';
import { attachChart, attachLines, attachTable } from './report';
import type { AttachJson } from './schema';

const recorded = (): RunResults => readResults(join(REPO_ROOT, 'test/fixtures/results-v5.json'));

const size = (pods: number, add: number[]) => ({
  pods,
  fillers: pods - 6,
  add: attachStat(add),
  firstPacket: attachStat(add.map((a) => a + 12)),
  del: attachStat(add.map((a) => a - 5)),
});

const ATTACH: AttachJson = {
  samples: 3,
  sizes: [10, 100],
  archs: [
    {
      arch: 'flannel-vxlan',
      family: 'overlay',
      lab: 'cnilab-flannel-vxlan',
      node: 'node1',
      target: 'node2-p1',
      path: 'inter-node',
      sizes: [
        size(10, [70, 80, 90]),
        { ...size(100, [75, 85, 140]), noise: { busyPct: 61.5, stealPct: 0, outsidePct: 4.5, load1: 2.1 } },
      ],
    },
  ],
};

/** A run with the attach test beside its rows, as results.json holds it (validated). */
const withAttach = (rows = true): RunResults =>
  publishedResultsSchema.parse({
    ...recorded(),
    ...(rows ? {} : { rows: [], paths: [], claims: { rankings: [], paper: [] } }),
    settings: { ...recorded().settings, tests: [...(rows ? recorded().settings.tests : []), 'attach'] },
    afterRounds: { attach: ATTACH },
  });

test('results.json: the attach figures validate, beside the rows and alone; a bad one is refused', () => {
  assert.deepEqual(withAttach().afterRounds?.['attach'], ATTACH);
  assert.equal(withAttach(false).rows.length, 0);
  const bad = { ...ATTACH, archs: [{ ...ATTACH.archs[0]!, sizes: [{ pods: 10 }] }] };
  assert.equal(publishedResultsSchema.safeParse({ ...recorded(), afterRounds: { attach: bad } }).success, false);
  // A test the registry does not know has no place in afterRounds.
  assert.equal(publishedResultsSchema.safeParse({ ...recorded(), afterRounds: { nosuch: {} } }).success, false);
});

test('attach chart: ADD p50 and p99 per lab size, each point labelled with its figure; none without the test', async () => {
  const r = withAttach();
  const chart = attachChart(
    ATTACH,
    r.architectures.map((a) => a.name),
  )!;
  assert.equal(chart.name, 'attach');
  const svg = await renderSvg(chart.spec);
  const points = [...svg.matchAll(/aria-label="([^"]*pods: \d+[^"]*)"/g)].map((m) => m[1]!);
  for (const s of ATTACH.archs[0]!.sizes)
    for (const p of ['p50', 'p99'] as const)
      assert.ok(
        points.some(
          (l) => l.includes(`pods: ${s.pods};`) && l.includes(`percentile: ADD ${p}`) && l.includes(`ms: ${s.add[p]}`),
        ),
        `a point for ADD ${p} at ${s.pods} pods (${s.add[p]} ms)`,
      );
  assert.match(svg, /log scale/);
  assert.equal(attachChart({ ...ATTACH, archs: [] }, []), undefined);
});

test('report and terminal: the attach table per architecture and size; no % of host; compare leaves attach out', () => {
  const r = withAttach();
  const table = attachTable(ATTACH);
  assert.match(table, /<h2 id="attach">Pod attach<\/h2>/);
  assert.match(table, /<td>flannel-vxlan<\/td><td class="n">100<\/td><td class="n">85.0 \/ 129 \/ 139<\/td>/);
  assert.doesNotMatch(table, /<th>of host/);
  const html = renderHtml(r, []);
  assert.ok(html.includes(table));
  assert.match(html, /<b>attach<\/b> — pod attach/);
  assert.doesNotMatch(renderHtml(recorded(), []), /Pod attach/);
  assert.match(table, /<td class="n">3<\/td><td class="n">61.5% \/ 4.5%<\/td><\/tr>/);
  const lines = attachLines(ATTACH);
  assert.equal(lines.length, 5);
  assert.equal(
    lines[4],
    '  CPU while probing (all CPUs): N=100: busy 61.5%, outside the labs 4.5%, steal 0%, load 2.1',
  );
  assert.match(lines[3]!, /flannel-vxlan\s+100\s+85.0 \/ 129 \/ 139\s+97.0 \/ 141 \/ 151\s+80.0 \/ 124 \/ 134/);
  // Sequential: each lab probed in its own period, a line each.
  const seq = {
    ...ATTACH,
    archs: [
      ...ATTACH.archs,
      {
        ...ATTACH.archs[0]!,
        arch: 'bridge',
        sizes: [{ ...size(10, [50]), noise: { busyPct: 70, stealPct: 0, outsidePct: 0, load1: 3 } }],
      },
    ],
  };
  assert.deepEqual(attachLines(seq).slice(-2), [
    '  CPU while probing flannel-vxlan (all CPUs): N=100: busy 61.5%, outside the labs 4.5%, steal 0%, load 2.1',
    '  CPU while probing bridge (all CPUs): N=10: busy 70%, outside the labs 0%, steal 0%, load 3',
  ]);
  // compare reads rows: the attach figures change nothing in it.
  const plain = compareRuns(recorded(), recorded());
  const both = compareRuns(withAttach(), withAttach());
  assert.deepEqual({ ...both, notes: [] }, plain);
  assert.deepEqual(both.notes, [
    "the attach test's figures (ms, not rows) are not compared: read them side by side in each run's report (Pod " +
      'attach)',
  ]);
  // A run of the attach test alone renders too.
  const alone = renderHtml(withAttach(false), []);
  assert.match(alone, /Pod attach/);
  assert.match(alone, /<li>Pod attach: CNI ADD p50 into a lab of 100 pods: 85.0 ms \(<b>flannel-vxlan<\/b>\)/);
});
