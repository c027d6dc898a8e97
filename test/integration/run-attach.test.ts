/**
 * The attach test: probes and fillers in a running lab leave it as it was; `cnilab run --tests
 * attach` writes positive figures and leaves nothing; Ctrl-C during a probe leaves nothing; bad
 * input is one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { architectures } from '../../src/arch';
import { listNamedNetns, ipJson } from '../../src/lib/netns';
import { labOfNetns, nodeNetns, runDir } from '../../src/lab/names';
import type { LabState } from '../../src/lab/state';
import { teardownLab } from '../../src/lab/teardown';
import { measureAttach } from '../../src/run/attach/measure';
import { planAttach } from '../../src/run/attach/plan';
import { publishedResultsSchema } from '../../src/run/results-published';
import type { AttachJson } from '../../src/run/attach/schema';
import type { FeatureReport } from '../../src/doctor/features';
import { assertNothingLeft, cli, rootSnapshot, waitFor, withLab } from './helpers';

const ALL_OK = new Proxy({}, { get: (_t, f) => ({ feature: f, ok: true, detail: 'ok' }) }) as FeatureReport;

function tmp(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-attach-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The files of a lab's run folder (IPAM leases, CNI cache, conflists, state), logs aside: they grow. */
function labFiles(lab: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (!p.endsWith('.log')) out.push(relative(runDir(lab), p));
    }
  };
  walk(runDir(lab));
  return out.sort();
}

/** What a lab holds: its namespaces, its files, the links of each node's namespace. */
async function labContents(s: LabState): Promise<{ netns: string[]; files: string[]; links: string[] }> {
  const nodes = s.topology.nodes.map((n) => n.name);
  const links = await Promise.all(
    nodes.map(async (n) =>
      (await ipJson<{ ifname: string }[]>({ name: nodeNetns(s.lab, n) }, ['link', 'show'])).map(
        (l) => `${n}:${l.ifname}`,
      ),
    ),
  );
  return {
    netns: listNamedNetns()
      .filter((ns) => labOfNetns(ns) === s.lab)
      .sort(),
    files: labFiles(s.lab),
    links: links.flat().sort(),
  };
}

const attachRunningTitle =
  'attach in a running lab: ADD, first packet and DEL positive ' +
  'per size; fillers and probes gone, the lab as it was';
test(attachRunningTitle, async () => {
  await withLab('at-attach-lib', 'flannel-vxlan', async (state) => {
    const before = await labContents(state);
    const { cells } = planAttach({
      topology: state.topology,
      archs: [architectures.get('flannel-vxlan')],
      features: ALL_OK,
    });
    const steps: string[] = [];
    const figures = await measureAttach(
      [{ cell: { ...cells[0]!, lab: state.lab }, state }],
      { samples: 2, sizes: [4, 7] },
      { seed: 1, progress: (s) => steps.push(s), labNetns: () => new Set() },
    );
    assert.equal(figures.length, 1);
    const f = figures[0]!;
    assert.deepEqual(
      f.sizes.map((s) => [s.pods, s.fillers, s.add.n]),
      [
        [4, 0, 2],
        [7, 3, 2],
      ],
    );
    for (const s of f.sizes)
      for (const x of [s.add, s.firstPacket, s.del]) assert.ok(x.min > 0 && x.p50 <= x.p99, JSON.stringify(x));
    // The first answer comes after ADD returned.
    for (const s of f.sizes) assert.ok(s.firstPacket.min > s.add.min);
    assert.ok(steps.includes('attach: removing the extra pods'));
    assert.deepEqual(await labContents(state), before, 'the lab holds what it held before');
  });
});

test('run --tests attach: figures per architecture and size, no rows, nothing left', async (t) => {
  const lab = 'at-run-attach';
  const out = join(tmp(t), 'run');
  const root = await rootSnapshot();
  await teardownLab(`${lab}-flannel-vxlan`);
  await teardownLab(`${lab}-bridge`);
  const r = await cli([
    'run',
    '--lab',
    lab,
    '--arch',
    'host,bridge,flannel-vxlan',
    '--tests',
    'attach',
    '--attach-sizes',
    '10',
    '--attach-samples',
    '3',
    '--out',
    out,
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const results = publishedResultsSchema.parse(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
  assert.deepEqual(JSON.parse(r.stdout), JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
  assert.deepEqual(results.settings.tests, ['attach']);
  assert.deepEqual(results.rows, [], 'attach samples are not rows');
  assert.deepEqual(results.claims.rankings, []);
  const a = results.afterRounds!['attach'] as AttachJson;
  assert.deepEqual(a.sizes, [10]);
  assert.deepEqual(
    a.archs.map((x) => `${x.arch}: ${x.node} -> ${x.target} (${x.path})`),
    ['bridge: node1 -> node1-p2 (intra-node)', 'flannel-vxlan: node1 -> node2-p1 (inter-node)'],
  );
  for (const x of a.archs) {
    const s = x.sizes[0]!;
    assert.equal(s.pods, 10);
    assert.equal(s.fillers, 4);
    for (const v of [s.add, s.firstPacket, s.del]) {
      assert.equal(v.n, 3);
      assert.ok(v.p50 > 0 && v.p90 >= v.p50 && v.p99 >= v.p90, JSON.stringify(v));
    }
  }
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /<h2 id="attach">Pod attach<\/h2>/);
  assert.match(readFileSync(join(out, 'charts', 'attach.svg'), 'utf8'), /CNI ADD, ms/);
  await assertNothingLeft(lab, root);
});

test('Ctrl-C while a probe pod is attached: exit 130, nothing left', async () => {
  const lab = 'at-attach-int';
  const root = await rootSnapshot();
  await teardownLab(`${lab}-flannel-vxlan`);
  const probing = (): boolean =>
    listNamedNetns().some((ns) => labOfNetns(ns) === `${lab}-flannel-vxlan` && ns.includes('.pod.attach-p'));
  let closed = false;
  let signalled = false;
  const r = await cli(
    [
      'run',
      '--lab',
      lab,
      '--arch',
      'flannel-vxlan',
      '--tests',
      'attach',
      '--attach-sizes',
      '8',
      '--attach-samples',
      '50',
    ],
    (pid) => {
      void waitFor('a probe pod', () => closed || probing(), 120_000, 5).then(() => {
        if (closed) return;
        signalled = true;
        process.kill(pid, 'SIGINT');
      });
    },
  );
  closed = true;
  assert.ok(signalled, `ended before a probe was attached: ${r.stderr}`);
  assert.equal(r.code, 130, r.stderr);
  await assertNothingLeft(lab, root);
});

test('attach flags: bad input is one line naming the flag, a non-zero exit, nothing built', async () => {
  const lab = 'at-attach-bad';
  const root = await rootSnapshot();
  for (const [args, re] of [
    [
      ['--tests', 'attach', '--attach-sizes', '0'],
      /^cnilab: --attach-sizes: "0" must be a whole number of pods from 1/,
    ],
    [['--tests', 'attach', '--attach-samples', 'x'], /^cnilab: --attach-samples: "x" must be a whole number/],
    [
      ['--tests', 'tcp', '--attach-sizes', '10'],
      /^cnilab: --attach-sizes: only with the attach test; add it: --tests tcp,attach/,
    ],
    [['--tests', 'attach', '--attach-sizes', '4,10'], /^cnilab: --attach-sizes: 4 is below the 6 pods/],
    [['--tests', 'attach', '--attach-sizes', '1000'], /^cnilab: --attach-sizes: 1000 pods over 3 compute nodes/],
  ] as const) {
    const r = await cli(['run', '--lab', lab, '--arch', 'flannel-vxlan', ...args]);
    // A flag that does not parse is a usage error (2); one the topology refuses, a run error (1).
    assert.ok(r.code === 1 || r.code === 2, `${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  await assertNothingLeft(lab, root);
});
