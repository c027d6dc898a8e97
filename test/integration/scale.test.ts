/**
 * A larger lab: 20 compute nodes × 10 pods attached through the shared attach pool, reachable
 * across nodes on sampled pairs, nothing left after down; and a topology too large for this
 * machine refused by the CLI up front, with the numbers, leaving nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { samplePairs, untilReachable } from '../../src/lab/reach';
import { assertNothingLeft, cli, rootSnapshot, withLab } from './helpers';

test('20 nodes × 10 pods: every pod attached, 60 sampled pairs across nodes reachable, down leaves nothing', async () => {
  await withLab(
    'sc-t-scale',
    'flannel-vxlan',
    async (state) => {
      assert.equal(state.pods.length, 200);
      assert.equal(new Set(state.pods.map((p) => p.ip)).size, 200, 'every pod has an address of its own');
      assert.ok(state.pods.every((p) => p.mtu === 1450 && (p.addMs ?? 0) > 0));
      const pairs = samplePairs(state.pods, 60, 20);
      assert.ok(new Set(pairs.flatMap((p) => [p.from.node, p.to.node])).size >= 15, 'pairs span the nodes');
      await untilReachable(pairs, { timeoutMs: 20_000 });
    },
    'topology: {computeNodes: 20, defaults: {pods: 10}}',
  );
});

test('cnilab up of a topology too large for this machine: one line with the field and the numbers, exit 1, nothing created', async () => {
  const root = await rootSnapshot();
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-scale-'));
  try {
    const file = join(dir, 'huge.yaml');
    // 120,000 pods: ~60 GiB, and more network namespaces than user.max_net_namespaces allows here.
    writeFileSync(
      file,
      'topology: {computeNodes: 2, podCidr: 10.0.0.0/8, subnetLength: 16, defaults: {pods: 60000}}\n',
    );
    const r = await cli(['up', '--topology', file, '--lab', 'sc-t-huge']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.match(
      r.stderr.trimEnd(),
      new RegExp(
        String.raw`^cnilab: topology\.defaults\.pods: 120000 pods on 2 compute nodes need (~\d+\.\d ` +
          String.raw`GiB of memory \(there is \d+\.\d GiB: [^)]*\)|120004 network namespaces \(room ` +
          String.raw`for \d+: [^)]*\)).*; at most \d+ pods per node fit here — lower the pod or ` +
          String.raw`node count$`,
      ),
    );
    const j = await cli(['up', '--topology', file, '--lab', 'sc-t-huge', '--json']);
    assert.equal(j.code, 1);
    assert.equal((JSON.parse(j.stdout) as { error: { code: string } }).error.code, 'LAB_TOO_LARGE');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await assertNothingLeft('sc-t-huge', root);
});
