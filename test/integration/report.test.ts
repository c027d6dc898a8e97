/**
 * The report, end to end: a short run writes results.json (valid), results.csv, the charts as SVG
 * and PNG, and report.html — which opens in headless Chromium with no console error and no
 * request, with one bar per measured row holding the value results.json has. Then compare.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv/dist/2020';
import { chromium } from 'playwright-core';
import { REPO_ROOT } from '../../src/lib/paths';
import { RESULTS_SCHEMA_VERSION, resultsSchema } from '../../src/run/results-schema';
import { assertNothingLeft, cli, rootSnapshot } from './helpers';

const CHROMIUM = '/usr/bin/chromium';

/* eslint-disable-next-line max-lines-per-function --
   one run (a minute of measuring) feeds every check of the report and compare */
test("run writes a report that opens in Chromium with every row's bar; compare tells noise from change", async (t) => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install it with scripts/setup.sh --test`);
  const lab = 't-report';
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-report-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'run');
  const root = await rootSnapshot();
  const r = await cli([
    'run',
    '--lab',
    lab,
    '--arch',
    'host,bridge,flannel-vxlan',
    '--tests',
    'tcp,latency,pps',
    '--duration',
    '1',
    '--latency-duration',
    '1',
    '--repeats',
    '3',
    '--out',
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  await assertNothingLeft(lab, root);

  const doc: unknown = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  // The published JSON Schema (what other tools validate with) accepts it, and so does the zod source.
  const validate = new Ajv().compile(
    JSON.parse(readFileSync(join(REPO_ROOT, `schema/results-v${RESULTS_SCHEMA_VERSION}.schema.json`), 'utf8')),
  );
  assert.ok(validate(doc), JSON.stringify(validate.errors));
  const results = resultsSchema.parse(doc);
  assert.deepEqual(
    results.rows.map((x) => `${x.arch}/${x.path}/${x.test}`),
    [
      'host/inter-node/tcp',
      'host/inter-node/latency',
      'host/inter-node/pps',
      'bridge/intra-node/tcp',
      'bridge/intra-node/latency',
      'bridge/intra-node/pps',
      'flannel-vxlan/intra-node/tcp',
      'flannel-vxlan/intra-node/latency',
      'flannel-vxlan/intra-node/pps',
      'flannel-vxlan/inter-node/tcp',
      'flannel-vxlan/inter-node/latency',
      'flannel-vxlan/inter-node/pps',
    ],
  );
  // Interleaved rounds: three labs up at once, every row once a round, in an order kept with its seed.
  assert.equal(results.schedule.mode, 'interleaved');
  assert.equal(results.schedule.rounds, 3);
  assert.deepEqual(Object.keys(results.schedule.labs).sort(), ['bridge', 'flannel-vxlan', 'host']);
  assert.equal(results.schedule.order.length, 3);
  for (const order of results.schedule.order) assert.equal(new Set(order).size, results.rows.length);
  assert.ok(Number.isInteger(results.schedule.seed));
  assert.equal(results.noise.idleLabs?.labs, 3);
  for (const row of results.rows) {
    const m = row.metrics[row.primary]!;
    assert.equal(m.samples.length, 3);
    assert.deepEqual(
      row.rounds.map((x) => x.round),
      [1, 2, 3],
    );
    if (row.arch === 'host') assert.equal(row.ratio, null);
    else {
      assert.equal(row.ratio!.n, 3, `${row.arch} ${row.path} ${row.test}: a paired ratio per round`);
      // the median ratio in %, to one decimal (compared within rounding: 1.2125 is 121.2 or 121.3 by float)
      assert.ok(Math.abs(row.baselinePct! - row.ratio!.median * 100) <= 0.05 + 1e-9, `${row.baselinePct}`);
    }
    assert.ok(
      m.ci95.low <= m.median && m.median <= m.ci95.high,
      `${row.arch} ${row.test}: the interval holds the median`,
    );
    assert.ok(m.median > 0, `${row.arch} ${row.path} ${row.test} measured something`);
  }
  const vx = results.rows.find((x) => x.arch === 'flannel-vxlan' && x.path === 'inter-node' && x.test === 'tcp')!;
  assert.ok(vx.coreSecondsPerGbit!.total > 0 && vx.cpu!.softirq >= 0);
  const lat = results.rows.find((x) => x.arch === 'flannel-vxlan' && x.test === 'latency')!.metrics;
  assert.ok(
    lat.rttP50Us!.median <= lat.rttP99Us!.median && lat.rttP99Us!.median <= lat.rttP999Us!.median,
    'percentiles in order',
  );
  // The path the kernel counted: pod → veth → cni0 → flannel.1 → eth0 → switch → … → pod.
  const p = results.paths.find((x) => x.arch === 'flannel-vxlan' && x.path === 'inter-node')!;
  assert.equal(p.encapBytes, 50);
  assert.deepEqual(
    p.hops.map((h) => `${h.stop.split(' ')[0]}:${h.kind}`),
    [
      'pod:veth',
      'node:veth',
      'node:bridge',
      'node:vxlan',
      'node:veth',
      'switch:veth',
      'switch:veth',
      'node:veth',
      'node:vxlan',
      'node:bridge',
      'node:veth',
      'pod:veth',
    ],
  );
  assert.match(r.stdout, /^flannel-vxlan\s+inter-node\s+tcp\s+\d+\.\d\d Gbit\/s/m);
  assert.match(r.stdout, /took \S+: set-up \S+, warm-up \S+, measuring \S+, tear-down \S+/);
  assert.match(r.stderr, /\[\d+\/\d+ \d+%\] round 3: flannel-vxlan inter-node pps — \S+ elapsed, about \S+ left/);
  assert.match(r.stdout, /^3 rounds, interleaved, seed \d+; stopped: the rounds asked for$/m);
  assert.match(r.stdout, /^ {2}intra-node tcp: \S+ [<>≈?] \S+/m);

  // CSV, charts.
  const csv = readFileSync(join(out, 'results.csv'), 'utf8').trimEnd().split('\n');
  assert.equal(
    csv.length - 1,
    results.rows.reduce((n, x) => n + Object.keys(x.metrics).length, 0),
  );
  for (const name of ['forest', 'fig4-overlays', 'fig5-overlays-vs-native', 'cpu-per-gbit', 'latency', 'pps']) {
    const png = readFileSync(join(out, 'charts', `${name}.png`));
    assert.equal(png.subarray(1, 4).toString(), 'PNG', `${name}.png is a PNG`);
    assert.ok(png.readUInt32BE(16) > 400, `${name}.png is wide enough to read`);
  }

  // report.html in Chromium: nothing fetched, nothing logged, every bar where results.json says.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (q) => !q.url().startsWith('file://') && problems.push(`request: ${q.url()}`));
    await page.goto(`file://${join(out, 'report.html')}`);
    const bars = (chart: string) =>
      page.$$eval(`figure[data-chart="${chart}"] svg [aria-roledescription="bar"]`, (els) =>
        els.map((e) =>
          Object.fromEntries((e.getAttribute('aria-label') ?? '').split('; ').map((kv: string) => kv.split(': '))),
        ),
      );
    const fig5 = await bars('fig5-overlays-vs-native');
    const tcp = results.rows.filter((x) => x.test === 'tcp');
    assert.equal(fig5.length, tcp.length, 'one bar per TCP row');
    for (const row of tcp)
      assert.equal(
        Number(fig5.find((b) => b.arch === row.arch && b.path === row.path)?.['Gbit/s']),
        row.metrics.gbps!.median,
        `${row.arch} ${row.path}`,
      );
    const pps = await bars('pps');
    assert.deepEqual(
      pps.map((b) => Number(b['packets/s'])).sort(),
      results.rows
        .filter((x) => x.test === 'pps')
        .map((x) => x.metrics.pps!.median)
        .sort(),
    );
    assert.equal(await page.locator('svg.datapath').count(), results.paths.length, 'a data-path diagram per path');
    assert.equal(await page.locator('table.rows tbody tr').count(), results.rows.length);
    const shot = await page.screenshot({ fullPage: true });
    assert.ok(shot.length > 10_000, 'the page rendered');
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }

  // compare: the run against itself is never better or worse; a run whose host TCP halved fails --fail-on-worse.
  const same = await cli(['compare', out, out, '--fail-on-worse']);
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, /\d+ compared: 0 better, 0 worse, \d+ equivalent \(within ±3%\), \d+ not resolved/);
  // Two documents whose host TCP rows are tight and half apart: B is worse, outside the noise.
  const doctored = (k: number) => {
    const d = structuredClone(results);
    const g = d.rows.find((x) => x.arch === 'host' && x.test === 'tcp')!.metrics.gbps!;
    const m = g.median * k;
    Object.assign(g, {
      median: m,
      ci95: { low: m * 0.99, high: m * 1.01, method: 't' },
      samples: [m * 0.99, m, m * 1.01],
    });
    d.noise.floorPct = 0;
    const file = join(dir, `doctored-${k}.json`);
    writeFileSync(file, JSON.stringify(d));
    return file;
  };
  const worse = await cli(['compare', doctored(1), doctored(0.5), '--fail-on-worse']);
  assert.equal(worse.code, 3, worse.stdout + worse.stderr);
  assert.match(worse.stdout, /^host inter-node tcp\s+throughput.*-50\.0%\s+-50\.0% \[[^\]]+\]\s+\S+\s+WORSE$/m);
  const bad = await cli(['compare', out, join(dir, 'nope')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /nope\/results\.json: ENOENT.*give a run folder or its results\.json/);
});
