/** A sample disturbed by a process outside the labs is taken again, and the run says so. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resultsSchema } from '../../src/run/results-schema';
import { assertNothingLeft, cli, rootSnapshot } from './helpers';

const busyProcessTitle =
  'a busy process outside the labs: every sample is flagged, taken again once, and named in results.json';
test(busyProcessTitle, async (t) => {
  const lab = 't-noise';
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-noise-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = await rootSnapshot();
  // A whole core busy outside every lab: 50% of two CPUs, far above --max-outside 5.
  const burner = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  t.after(() => burner.kill('SIGKILL'));
  const r = await cli([
    'run',
    '--lab',
    lab,
    '--arch',
    'host',
    '--tests',
    'tcp',
    '--duration',
    '1',
    '--repeats',
    '1',
    '--max-outside',
    '5',
    '--out',
    join(dir, 'o'),
    '--json',
  ]);
  burner.kill('SIGKILL');
  assert.equal(r.code, 0, r.stderr);
  const res = resultsSchema.parse(JSON.parse(r.stdout));
  const [s] = res.rows[0]!.rounds;
  assert.match(s!.retried ?? '', /^steal [\d.]+%, outside the labs [\d.]+% \(most: node \(PID \d+\)\)$/);
  assert.equal(s!.disturbed, true, 'the second try was disturbed too, and is kept flagged');
  assert.ok(s!.outsidePct > 5, `${s!.outsidePct}% outside`);
  assert.equal(res.noise.retried, 1);
  assert.equal(res.noise.disturbed, 1);
  await assertNothingLeft(lab, root);
});
