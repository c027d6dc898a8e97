/**
 * Link emulation of the underlay on this host: the rate (tbf) on both ends of every link, and it
 * bites; a delay or loss where the kernel has no sch_netem is refused before anything is built.
 * What needs netem (delay in ping RTT) is in test/kernel/link-emulation.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeFeatures } from '../../src/doctor/features';
import { nodeNetns, switchNetns } from '../../src/lab/names';
import { run } from '../../src/lib/exec';
import { resultsSchema } from '../../src/run/results-schema';
import { assertNothingLeft, cli, rootSnapshot, withLab } from './helpers';

function tmp(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-link-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const qdiscs = async (ns: string, dev: string): Promise<string> =>
  (await run('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'show', 'dev', dev])).stdout;

test("a rate puts tbf on both ends of each link: the node's eth0 and its switch port", async () => {
  const lab = 't-link-tbf';
  const yaml =
    'topology:\n  underlay: {rate: 50mbit}\n  nodes:\n    control: {role: control}\n    node1: {role: compute, ' +
    'pods: 0}\n    node2: {role: compute, pods: 0, link: {rate: 20mbit}}\n';
  await withLab(
    lab,
    'host',
    async () => {
      for (const [node, rate] of [
        ['node1', '50Mbit'],
        ['node2', '20Mbit'],
      ] as const) {
        assert.match(await qdiscs(nodeNetns(lab, node), 'eth0'), new RegExp(`qdisc tbf 1: root .*rate ${rate}`));
        assert.match(await qdiscs(switchNetns(lab), node), new RegExp(`qdisc tbf 1: root .*rate ${rate}`));
      }
    },
    yaml,
  );
});

test('the rate bites: TCP between two nodes stays under it, and results record the emulation', async (t) => {
  const dir = tmp(t);
  const lab = 't-link-rate';
  writeFileSync(join(dir, 'topo.yaml'), 'topology:\n  computeNodes: 2\n  underlay: {rate: 50mbit}\n');
  const root = await rootSnapshot();
  const r = await cli([
    ...['run', '--lab', lab, '--topology', join(dir, 'topo.yaml'), '--arch', 'host', '--tests', 'tcp'],
    ...['--duration', '1', '--repeats', '1', '--out', join(dir, 'out'), '--json'],
  ]);
  assert.equal(r.code, 0, r.stderr);
  const res = resultsSchema.parse(JSON.parse(r.stdout));
  const gbps = res.rows[0]!.metrics.gbps!.median;
  assert.ok(gbps < 0.05 * 1.1, `${gbps} Gbit/s stays under 50 Mbit/s`);
  assert.ok(gbps > 0.05 * 0.5, `${gbps} Gbit/s: the link still carries traffic`);
  assert.deepEqual(
    res.lab.linkEmulation,
    ['control', 'node1', 'node2'].map((node) => ({ node, rate: '50mbit', qdiscs: ['tbf'] })),
  );
  await assertNothingLeft(lab, root);
});

test('delay or loss without sch_netem is refused before anything is built', async (t) => {
  const features = await probeFeatures();
  if (features.netem.ok) {
    t.skip('this kernel has sch_netem: test/kernel/link-emulation.test.ts measures the delay instead');
    return;
  }
  const dir = tmp(t);
  const root = await rootSnapshot();
  writeFileSync(join(dir, 'delay.yaml'), 'topology:\n  computeNodes: 2\n  underlay: {rate: 1gbit, delay: 2ms}\n');
  const up = await cli(['up', '--lab', 't-link-netem', '--arch', 'host', '--topology', join(dir, 'delay.yaml')]);
  assert.equal(up.code, 1);
  assert.equal(
    up.stderr,
    "cnilab: topology.underlay.delay: needs the kernel's sch_netem qdisc module, which this kernel cannot load " +
      '(modprobe sch_netem)\n',
  );
  await assertNothingLeft('t-link-netem', root);
  writeFileSync(
    join(dir, 'loss.yaml'),
    'topology:\n  nodes:\n    control: {role: control}\n    node1: {role: compute}\n    node2: {role: compute, ' +
      'link: {loss: 1%}}\n',
  );
  const out = join(dir, 'out');
  const r = await cli([
    ...['run', '--lab', 't-link-netem', '--topology', join(dir, 'loss.yaml'), '--arch', 'host'],
    ...['--tests', 'tcp', '--repeats', '1', '--out', out, '--json'],
  ]);
  assert.equal(r.code, 1);
  assert.deepEqual(JSON.parse(r.stdout), {
    error: {
      code: 'FEATURE_MISSING',
      message:
        "topology.nodes.node2.link.loss: needs the kernel's sch_netem qdisc module, which this kernel cannot load " +
        '(modprobe sch_netem)',
    },
  });
  assert.equal(existsSync(out), false, 'no run folder');
  await assertNothingLeft('t-link-netem', root);
});
