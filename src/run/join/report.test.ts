import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT } from '../../lib/paths';
import { compareRuns } from '../../report/compare';
import { renderHtml } from '../../report/html';
import { readResults } from '../../report/outputs';
import { msStat as attachStat } from '../after/ms-stat';
import { publishedResultsSchema } from '../results-published';
import type { RunResults } from '../results-schema';
import { joinHeadline, joinLines, joinTable } from './report';
import type { JoinJson } from './schema';

const recorded = (): RunResults => readResults(join(REPO_ROOT, 'test/fixtures/results-v5.json'));

// Figures of a run of `cnilab run --arch calico-bgp,flannel-host-gw --tests join --join-samples 3`.
const JOIN: JoinJson = {
  samples: 3,
  archs: [
    {
      arch: 'calico-bgp',
      family: 'l3',
      lab: 'cnilab-calico-bgp',
      peers: 3,
      join: attachStat([1132.58, 1202.84, 1375.96]),
      converged: attachStat([1166.05, 1234.5, 1408.86]),
      details: [
        { key: 'bgpSessionUp', label: 'BGP session up', about: 'session', ms: attachStat([1075.67, 1087.54, 1197.03]) },
        {
          key: 'bgpRouteReceived',
          label: 'BGP route received',
          about: 'route',
          ms: attachStat([1097.67, 1159.54, 1319.03]),
        },
      ],
      leave: attachStat([63.86, 68.84, 77.02]),
    },
    {
      arch: 'flannel-host-gw',
      family: 'l3',
      lab: 'cnilab-flannel-host-gw',
      peers: 3,
      join: attachStat([312.22, 329.21, 330.54]),
      converged: attachStat([344.55, 363.6, 367.97]),
      leave: attachStat([54.27, 61.41, 85.56]),
    },
  ],
};

const withJoin = (): RunResults =>
  publishedResultsSchema.parse({
    ...recorded(),
    settings: { ...recorded().settings, tests: ['tcp', 'join'] },
    afterRounds: { join: JOIN },
  });

const joinReportTitle =
  "join in the report: a section with each time per architecture, the control plane's moments only where it " +
  'records them';
test(joinReportTitle, () => {
  const r = withJoin();
  const table = joinTable(JOIN);
  assert.match(table, /<h2 id="join">Node join<\/h2>/);
  assert.match(table, /over 3 joins per architecture, each into a lab of 3 compute nodes/);
  assert.match(
    table,
    /<td>calico-bgp<\/td><td>l3<\/td><td class="n">1,203 \/ 1,341 \/ 1,373<\/td><td class="n">1,235 \/ /,
  );
  assert.match(
    table,
    /<td>flannel-host-gw<\/td><td>l3<\/td>(<td class="n">[^<]+<\/td>){2}<td class="n">—<\/td><td class="n">—<\/td>/,
  );
  assert.match(table, /<th>BGP session up<\/th><th>BGP route received<\/th>/);
  assert.doesNotMatch(renderHtml(recorded(), []), /Node join/);
  const html = renderHtml(r, []);
  assert.ok(html.includes(table));
  // The headline: converged p50, fastest first.
  assert.match(joinHeadline(JOIN)!, /after 364 ms \(<b>flannel-host-gw<\/b>\), 1,235 ms \(<b>calico-bgp<\/b>\)/);
  assert.equal(joinHeadline({ ...JOIN, archs: [] }), undefined);
});

test('join in the terminal: one line per architecture; compare leaves it out and says so', () => {
  const lines = joinLines(JOIN);
  assert.equal(lines.length, 4);
  assert.match(
    lines[2]!,
    /^ {2}calico-bgp +1,203 \/ 1,341 \/ 1,373 +1,235 \/ 1,374 \/ 1,405 +1,160 \/ 1,287 \/ 1,316 +68\.8 \/ 75\.4 \/ 76\.9$/,
  );
  assert.match(lines[3]!, /^ {2}flannel-host-gw .* — .*$/);
  const c = compareRuns(withJoin(), recorded());
  assert.deepEqual({ ...c, notes: [] }, { ...compareRuns(recorded(), recorded()), notes: [] });
  assert.deepEqual(c.notes, [
    "the join test's figures (ms, not rows) are not compared: read them side by side in each run's report (Node join)",
  ]);
});
