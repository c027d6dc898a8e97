/**
 * docs/design.md's recipe, checked: a new kind is one folder and its registry line. The scratch
 * kind (test/fixtures/scratch-kind/) is known to nothing outside its folder; registered here, it
 * keeps the lab contract every architecture keeps, and a run measures and reports it beside the
 * baseline, as any kind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { architectures } from '../../src/arch';
import { BASELINE_ARCH } from '../../src/arch/vocabulary';
import { probeFeatures } from '../../src/doctor/features';
import { writeOutputs } from '../../src/report/outputs';
import { runBenchmark } from '../../src/run/run';
import { parseTopology } from '../../src/topology/load';
import { BENCH_RUN } from '../../bench/common';
import { scratchArch } from '../fixtures/scratch-kind/architectures';
import { checkContract } from './arch-contract';
import { assertNothingLeft, rootSnapshot } from './helpers';

// The registry line.
architectures.register(scratchArch.name, scratchArch);

test('a scratch kind keeps the lab contract: its pods, its path, nothing left', async () => {
  await checkContract(scratchArch.name, 't-scratch', await probeFeatures());
});

test('a run measures the scratch kind against the baseline and reports it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-scratch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = await rootSnapshot();
  const res = await runBenchmark({
    ...BENCH_RUN,
    topology: parseTopology('', 'test', { name: 't-scratch-run' }),
    archs: [architectures.get(BASELINE_ARCH), scratchArch],
    paths: ['intra-node', 'inter-node'],
    tests: ['tcp'],
    durationSec: 1,
    rounds: { fixed: 2 },
    seed: 3,
    outDir: join(dir, 'run'),
  });
  await assertNothingLeft('t-scratch-run', root);
  const row = res.rows.find((r) => r.arch === scratchArch.name);
  assert.ok(row, 'a row of the scratch kind');
  assert.equal(row.path, 'intra-node');
  assert.equal(row.metrics.gbps?.n, 2, 'sampled in both rounds');
  assert.equal(row.ratio?.n, 2, 'paired with the baseline in each round');
  assert.ok(
    res.skipped.some((s) => s.arch === scratchArch.name && s.path === 'inter-node'),
    'the path it declares unsupported is skipped with its reason',
  );
  assert.equal(res.architectures.find((a) => a.name === scratchArch.name)?.datapath, 'kernel');
  await writeOutputs(res, join(dir, 'run'));
  assert.ok(existsSync(join(dir, 'run', 'report.html')), 'the report is written');
});
