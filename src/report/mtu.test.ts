/** A run with two underlay MTUs, made from the recorded one: CSV, table, headlines, charts, compare. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readResults } from './outputs';
import { REPO_ROOT } from '../lib/paths';
import { resultsSchema, type ResultRow, type RunResults } from '../run/results-schema';
import { buildCharts, renderSvg } from './charts';
import { compareRuns } from './compare';
import { CSV_HEADER, toCsv } from './csv';
import { headlines, renderHtml } from './html';
import { mtuTable, perMtu } from './mtu';

const recorded = (): RunResults => readResults(join(REPO_ROOT, 'test/fixtures/results-v5.json'));

/** The recorded run as if measured at 1500 and, twice as fast, at 9000. */
function twoMtus(): RunResults {
  const r = recorded();
  const scaled = (x: ResultRow, k: number): ResultRow => {
    const m = x.metrics[x.primary]!;
    return { ...x, metrics: { ...x.metrics, [x.primary]: { ...m, median: m.median * k } } };
  };
  const at = <T extends object>(xs: readonly T[], mtu: number): T[] => xs.map((x) => ({ ...x, underlayMtu: mtu }));
  return resultsSchema.parse({
    ...r,
    lab: { ...r.lab, underlayMtus: [1500, 9000] },
    rows: [...at(r.rows, 1500), ...at(r.rows, 9000).map((x) => scaled(x, 2))],
    paths: [...at(r.paths, 1500), ...at(r.paths, 9000)],
    claims: {
      rankings: [...at(r.claims.rankings, 1500), ...at(r.claims.rankings, 9000)],
      paper: [...at(r.claims.paper, 1500), ...at(r.claims.paper, 9000)],
    },
  });
}

test('one MTU: CSV, table and headlines as before', () => {
  const r = recorded();
  assert.equal(toCsv(r).split('\n')[0], CSV_HEADER.join(','));
  assert.equal(mtuTable(r), '');
  assert.equal(perMtu(r).length, 1);
  assert.ok(headlines(r).every((h) => !h.includes('MTU')));
});

test('two MTUs: a CSV column, each headline under its MTU, a side-by-side table', () => {
  const r = twoMtus();
  const csv = toCsv(r).split('\n');
  assert.match(csv[0]!, /^arch,family,path,underlay_mtu,test,/);
  assert.match(csv[1]!, /^host,baseline,inter-node,1500,tcp,/);
  const views = perMtu(r);
  assert.deepEqual(
    views.map((v) => [v.mtu, v.run.rows.length]),
    [
      [1500, r.rows.length / 2],
      [9000, r.rows.length / 2],
    ],
  );
  const h = headlines(r);
  assert.ok(h.some((x) => x.startsWith('At underlay MTU 1500: ')));
  assert.ok(h.some((x) => x.startsWith('At underlay MTU 9000: ')));
  const table = mtuTable(r);
  assert.match(
    table,
    /<th>MTU 1500<\/th><th>of host<\/th><th>MTU 9000<\/th><th>of host<\/th><th>MTU 9000 vs 1500<\/th>/,
  );
  assert.match(table, /<td>flannel-vxlan inter-node tcp<\/td>.*<td class="n">\+100%<\/td>/);
  const html = renderHtml(r, []);
  assert.match(html, /underlay MTUs 1500 and 9000/);
  assert.match(html, /<th>underlay MTU<\/th>/);
  assert.match(html, /id="path-flannel-vxlan-inter-node-m9000"/);
});

test('two MTUs: the charts put the MTUs side by side and still render', async () => {
  const charts = buildCharts(twoMtus());
  const fig5 = charts.find((c) => c.name === 'fig5-overlays-vs-native')!;
  assert.equal((fig5.spec as { facet: { column: { field: string } } }).facet.column.field, 'mtu');
  for (const c of charts) assert.match(await renderSvg(c.spec), /underlay MTU 9000/, c.name);
});

test('compare matches rows by MTU when either run has several; a one-MTU run counts at its MTU', () => {
  const two = twoMtus();
  const one = recorded();
  const c = compareRuns({ rows: one.rows, underlayMtu: 1500 }, { rows: two.rows, underlayMtu: 1500 });
  assert.ok(c.changes.length > 0);
  assert.ok(c.changes.every((x) => x.key.endsWith(' mtu 1500')));
  assert.ok(c.onlyInB.length > 0 && c.onlyInB.every((k) => k.endsWith(' mtu 9000')));
  const same = compareRuns({ rows: one.rows, underlayMtu: 1500 }, { rows: one.rows, underlayMtu: 9000 });
  assert.ok(
    same.changes.every((x) => !x.key.includes('mtu')),
    'two one-MTU runs: keys as before',
  );
  assert.match(same.notes.join(), /underlay MTUs differ \(A 1500, B 9000\)/, 'and the reader is told the MTUs differ');
  assert.deepEqual(c.notes, []);
});
