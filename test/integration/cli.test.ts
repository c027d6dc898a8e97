/** The cnilab command as a user runs it: output, exit codes, one-line errors (Ctrl-C: cli-interrupt.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { teardownLab } from '../../src/lab/teardown';
import { resultsSchema } from '../../src/run/results-schema';
import { assertNoSecret, assertNothingLeft, cli, rootSnapshot } from './helpers';

/** The registry's names, in its order: the message lists them all. */
const KNOWN_ARCHS =
  'host, bridge, flannel-host-gw, flannel-vxlan, flannel-udp, flannel-udp-offload, macvlan, ipvlan, ebpf-native, ' +
  'ebpf-vxlan, calico-bgp, calico-vxlan, kuryr-ovs-vxlan, kuryr-ovs-vlan, kuryr-lb-vxlan, kuryr-lb-vlan, ' +
  'flannel-vxlan-direct, ipvlan-l3, calico-ipip, flannel-wireguard, calico-wireguard, flannel-ipsec, ebpf-netkit';

function tmp(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('run: a short matrix writes results.json that validates, the conflists, and a table', async (t) => {
  const lab = 't-cli-run';
  const out = join(tmp(t), 'run');
  const root = await rootSnapshot();
  const r = await cli([
    'run',
    '--lab',
    lab,
    '--arch',
    'host,bridge,flannel-vxlan',
    '--tests',
    'tcp',
    '--duration',
    '1',
    '--sequential',
    '--repeats',
    '2',
    '--seed',
    '7',
    '--out',
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const results = resultsSchema.parse(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
  // One lab at a time: a round's order is the labs' own orders one after the other.
  assert.equal(results.schedule.mode, 'sequential');
  assert.equal(results.schedule.seed, 7);
  assert.deepEqual(
    results.schedule.order.map((o) => o.map((k) => k.split(' ')[0])),
    [0, 1].map(() => ['host', 'bridge', 'flannel-vxlan', 'flannel-vxlan']),
  );
  assert.equal(results.noise.idleLabs, undefined, 'no moment has every lab up');
  assert.deepEqual(
    results.rows.map((x) => `${x.arch}/${x.path}`),
    ['host/inter-node', 'bridge/intra-node', 'flannel-vxlan/intra-node', 'flannel-vxlan/inter-node'],
  );
  assert.deepEqual(
    results.skipped.map((s) => `${s.arch}/${s.path}`),
    ['bridge/inter-node'],
  );
  assert.equal(results.rows[0]!.baselinePct, null, 'host is the baseline');
  assert.equal(results.rows[1]!.ratio!.n, 2, 'rounds pair by number across labs');
  for (const row of results.rows) {
    const g = row.metrics.gbps!;
    assert.equal(g.samples.length, 2);
    assert.ok(g.min <= g.median && g.median <= g.max);
    assert.ok(g.median > 0.1, `${row.arch} ${row.path} carried traffic`);
    assert.ok(row.cpu!.busy > 0);
  }
  assert.equal(results.paths.find((x) => x.arch === 'flannel-vxlan' && x.path === 'inter-node')!.mtu, 1450);
  assert.equal(JSON.parse(readFileSync(join(out, 'flannel-vxlan.conflist'), 'utf8')).plugins[0].type, 'flannel');
  assert.match(r.stdout, /^ARCH\s+PATH\s+TEST\s+MEDIAN\s+COV\s+OF HOST \(95% CI\)/m);
  assert.match(r.stdout, /^flannel-vxlan\s+inter-node\s+tcp\s+\d+\.\d\d Gbit\/s/m);
  assert.match(r.stdout, /skipped bridge inter-node: bridge alone does not route between nodes/);
  assert.match(r.stderr, /\[\d+\/14 \d+%\] round 2: flannel-vxlan inter-node tcp/, 'progress lines');
  assert.match(r.stdout, /^2 rounds, sequential, seed 7; stopped: the rounds asked for; one lab at a time: /m);
  assertNoSecret(out);
  await assertNothingLeft(lab, root);
});

test('run --json prints the results document; a user-space data path reports its cost from /proc', async (t) => {
  const lab = 't-cli-json';
  const r = await cli([
    'run',
    '--lab',
    lab,
    '--arch',
    'host,flannel-udp',
    '--path',
    'inter-node',
    '--tests',
    'tcp',
    '--duration',
    '1',
    '--repeats',
    '1',
    '--out',
    join(tmp(t), 'o'),
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const res = resultsSchema.parse(JSON.parse(r.stdout));
  assert.deepEqual(
    res.rows.map((x) => x.arch),
    ['host', 'flannel-udp'],
  );
  const events = r.stderr
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; done: number; total: number; etaSec: number });
  assert.ok(
    events.length >= 4 && events.every((e) => e.event === 'progress' && e.done <= e.total && e.etaSec >= 0),
    'progress as JSON lines on stderr',
  );
  assert.equal(res.rows[0]!.datapath, undefined, 'the kernel path has no user-space process');
  const dp = res.rows[1]!.datapath!;
  assert.deepEqual(
    dp.map((d) => `${d.process}@${d.node}/${d.device}`),
    ['agent@node1/flannel0', 'agent@node2/flannel0'],
  );
  for (const d of dp) {
    assert.ok(d.packets > 1000, `${d.node} moved packets`);
    assert.ok(d.cpu.user + d.cpu.system > 1, `${d.node} used CPU`);
    assert.ok(
      d.syscallsPerPacket >= 2,
      `at least one read and one send per packet on ${d.node}: ${d.syscallsPerPacket}`,
    );
    assert.ok(d.procIoSyscallsPerPacket >= 0.5, `/proc counts the TUN reads and writes on ${d.node}`);
  }
});

test('run with a scenario file; flags override it', async (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, 'topo.yaml'), 'name: t-cli-scn\ntopology: {computeNodes: 2, defaults: {pods: 1}}\n');
  writeFileSync(
    join(dir, 'scn.yaml'),
    'topology: topo.yaml\narchs: [flannel-host-gw]\npaths: [inter-node, intra-node]\ntests: [tcp]\nduration: ' +
      '1\nwarmup: 0\nrepeats: 3\n',
  );
  const r = await cli(['run', join(dir, 'scn.yaml'), '--repeats', '1', '--out', join(dir, 'o'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const res = resultsSchema.parse(JSON.parse(r.stdout));
  assert.equal(res.lab.name, 't-cli-scn');
  assert.deepEqual(
    res.rows.map((x) => [x.arch, x.path, x.test, x.metrics[x.primary]!.samples.length]),
    [['flannel-host-gw', 'inter-node', 'tcp', 1]],
  );
  assert.deepEqual(res.skipped, [{ arch: 'flannel-host-gw', path: 'intra-node', reason: 'needs two pods on node1' }]);
});

test('up, status, exec, down through the CLI', async () => {
  const lab = 't-cli-up';
  const root = await rootSnapshot();
  await teardownLab(lab);
  const u = await cli(['up', '--lab', lab, '--arch', 'flannel-host-gw', '--json']);
  assert.equal(u.code, 0, u.stderr);
  try {
    const s = await cli(['status', '--lab', lab, '--json']);
    const status = JSON.parse(s.stdout) as {
      arch: string;
      nodes: { name: string; role: string; underlay: string }[];
      pods: { name: string; node: string; ip: string; netns: string }[];
    };
    assert.equal(status.arch, 'flannel-host-gw');
    assert.deepEqual(
      status.nodes.map((n) => [n.name, n.role, n.underlay]),
      [
        ['control', 'control', '198.18.0.1/24'],
        ['node1', 'compute', '198.18.0.2/24'],
        ['node2', 'compute', '198.18.0.3/24'],
        ['node3', 'compute', '198.18.0.4/24'],
      ],
    );
    assert.equal(status.pods.length, 6);
    const text = await cli(['status', '--lab', lab]);
    assert.match(text.stdout, /^node3-p2\s+node3\s+10\.244\.\d+\.\d+\s+1500\s+cnilab-t-cli-up\.pod\.node3-p2$/m);

    const pod = status.pods[0]!;
    const e = await cli(['exec', '--lab', lab, pod.name, '--', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    assert.equal(e.code, 0, e.stderr);
    assert.ok(e.stdout.includes(`inet ${pod.ip}/24`), e.stdout);
    const failing = await cli(['exec', '--lab', lab, pod.name, '--', 'sh', '-c', 'exit 3']);
    assert.equal(failing.code, 3, 'exit code passes through');
    const missing = await cli(['exec', '--lab', lab, 'nopod', '--', 'true']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^cnilab: no pod or node "nopod" in lab t-cli-up; pods: node1-p1, /);

    const again = await cli(['up', '--lab', lab]);
    assert.equal(again.code, 1);
    assert.equal(
      again.stderr.trim(),
      'cnilab: lab "t-cli-up" is already up; remove it with: cnilab down --lab t-cli-up',
    );
  } finally {
    const d = await cli(['down', '--lab', lab]);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stderr, /removed lab t-cli-up: 11 namespaces, 4 processes/);
  }
  await assertNothingLeft(lab, root);
});

test('node add, restart and node remove through the CLI', async () => {
  const lab = 't-cli-node';
  const root = await rootSnapshot();
  await teardownLab(lab);
  const u = await cli(['up', '--lab', lab, '--arch', 'flannel-host-gw']);
  assert.equal(u.code, 0, u.stderr);
  try {
    const added = await cli(['node', 'add', 'node4', '--pods', '1', '--lab', lab, '--json']);
    assert.equal(added.code, 0, added.stderr);
    const s = JSON.parse(added.stdout) as {
      nodes: { name: string; underlay: string }[];
      pods: { name: string; ip: string }[];
    };
    assert.deepEqual(
      s.nodes.find((n) => n.name === 'node4'),
      { name: 'node4', role: 'compute', underlay: '198.18.0.5/24', netns: `cnilab-${lab}.node4`, up: true },
    );
    const p4 = s.pods.find((p) => p.name === 'node4-p1')!;
    assert.equal(
      (await cli(['exec', '--lab', lab, 'node1-p1', '--', 'ping', '-c', '1', '-W', '2', p4.ip])).code,
      0,
      "node1-p1 reaches the new node's pod",
    );
    const again = await cli(['node', 'add', 'node4', '--lab', lab]);
    assert.equal(again.stderr.trim(), `cnilab: lab ${lab} already has a node node4`);

    const r = await cli(['restart', 'node1', '--lab', lab, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).role, 'agent');
    assert.equal(
      (await cli(['exec', '--lab', lab, 'node1-p1', '--', 'ping', '-c', '1', '-W', '2', p4.ip])).code,
      0,
      'still reachable after the agent restarted',
    );

    const removed = await cli(['node', 'remove', 'node4', '--lab', lab, '--json']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(
      (JSON.parse(removed.stdout) as { nodes: { name: string }[] }).nodes.some((n) => n.name === 'node4'),
      false,
    );
    assert.match(
      (await cli(['node', 'remove', 'node4', '--lab', lab])).stderr,
      /^cnilab: lab t-cli-node has no compute node node4$/m,
    );
  } finally {
    await cli(['down', '--lab', lab]);
  }
  await assertNothingLeft(lab, root);
});

/** Bad command lines and files, each with the one line it must answer (`topo` writes a file into `dir`). */
/** Bad round flags: adaptive against fixed, a budget too short, a precision of 0. */
function badRounds(): [string[], RegExp][] {
  return [
    [
      ['run', '--lab', 't-cli-bad', '--precision', '0'],
      /^cnilab: --precision: "0" must be a percentage above 0 and at most 100, e\.g\. 5 for ±5%$/,
    ],
    [
      ['run', '--lab', 't-cli-bad', '--budget', '10s'],
      /^cnilab: --budget: 10 s is shorter than this run's 2 rounds \(about \d+ s: .*\); give at least \d+s/,
    ],
    [
      ['run', '--lab', 't-cli-bad', '--budget', 'soon'],
      /^cnilab: --budget: "soon" must be a time such as 300, 90s, 15m or 1h$/,
    ],
    [
      ['run', '--lab', 't-cli-bad', '--repeats', '3', '--precision', '2'],
      /^cnilab: --repeats fixes the rounds; --precision is for adaptive rounds: give one or the other$/,
    ],
    [
      ['run', '--lab', 't-cli-bad', '--sequential', '--budget', '20m'],
      /^cnilab: --sequential takes --min-rounds \(or --repeats\) rounds per lab: adaptive repeats/,
    ],
    [
      ['run', '--lab', 't-cli-bad', '--min-rounds', '1'],
      /^cnilab: --min-rounds: "1" must be a whole number from 2 to 1000$/,
    ],
    [
      ['run', '--lab', 't-cli-bad', '--equivalence', '0'],
      /^cnilab: --equivalence: "0" must be a percentage above 0 and below 50, e\.g\. 3: two rows within ±3% of each other are equivalent$/,
    ],
    [['run', '--lab', 't-cli-bad', '--equivalence', '50'], /^cnilab: --equivalence: "50" must be a percentage above 0/],
  ];
}

function badInput(dir: string, topo: (name: string, body: string) => string): [string[], RegExp][] {
  return [
    ...badRounds(),
    [
      ['up', '--lab', 't-cli-bad', '--arch', 'nope'],
      new RegExp(`^cnilab: unknown architecture "nope"; known: ${KNOWN_ARCHS}$`),
    ],
    [['run', '--lab', 't-cli-bad', '--arch', 'flannel-vxlan,nope'], /^cnilab: unknown architecture "nope"; known: /],
    [
      ['run', '--lab', 't-cli-bad', '--path', 'sideways'],
      /^cnilab: --path: unknown path "sideways"; known: intra-node, inter-node, routed, service$/,
    ],
    [['run', '--lab', 't-cli-bad', '--repeats', '0'], /^cnilab: --repeats: "0" must be a positive integer$/],
    [
      ['run', '--lab', 't-cli-bad', '--big-tcp', 'off,maybe'],
      /^cnilab: --big-tcp: "maybe" is not a BIG TCP mode; give off, on, or off,on \(both, side by side\)$/,
    ],
    [
      [
        'up',
        '--arch',
        'calico-vxlan',
        '--topology',
        topo('bigtcp.yaml', 'name: t-cli-bad\ntopology: {bigTcp: true}\n'),
      ],
      /^cnilab: bigTcp: calico-vxlan cannot use BIG TCP \(.+\); it is an option of flannel-host-gw, ebpf-native, calico-bgp, ebpf-netkit$/,
    ],
    [
      ['run', '--lab', 't-cli-bad', '--arch', 'flannel-vxlan', '--path', 'routed'],
      /^cnilab: nothing to measure: flannel-vxlan has no routed path \(host: inter-node only; routed: kuryr-ovs-vxlan, kuryr-ovs-vlan, kuryr-lb-vxlan, kuryr-lb-vlan only\)$/,
    ],
    [
      ['up', '--topology', topo('zero.yaml', 'name: t-cli-bad\ntopology: {computeNodes: 0}\n')],
      /zero\.yaml: topology\.computeNodes: 0 compute nodes: must be from 1 to 64$/,
    ],
    [
      ['up', '--topology', topo('many.yaml', 'name: t-cli-bad\ntopology: {computeNodes: 500}\n')],
      /many\.yaml: topology\.computeNodes: 500 compute nodes: must be from 1 to 64$/,
    ],
    [
      ['up', '--topology', topo('overlap.yaml', 'name: t-cli-bad\ntopology: {podCidr: 198.18.0.0/16}\n')],
      /overlap\.yaml: topology\.podCidr: 198\.18\.0\.0\/16 overlaps the underlay 198\.18\.0\.0\/24/,
    ],
    [
      ['up', '--topology', topo('broken.yaml', 'name: t-cli-bad\ntopology: {nodes: [\n')],
      /broken\.yaml: line \d+ not valid YAML/,
    ],
    [['up', '--topology', join(dir, 'absent.yaml')], /absent\.yaml: cannot read \(ENOENT\)$/],
    [['run', topo('scn.yaml', 'repeats: lots\n')], /scn\.yaml: repeats: /],
    [
      ['run', '--lab', 't-cli-bad', '--tests', 'tcp,ping'],
      /^cnilab: --tests: unknown test "ping"; known: tcp, tcp-parallel, udp, pps, sweep, latency, latency-loaded, rtt, crr, attach, join, service-scale, policy-scale, mtu$/,
    ],
    [
      ['run', '--lab', 't-cli-bad', '--streams', '1'],
      /^cnilab: --streams: "1" must be a whole number from 2 to 128 \(1 stream is the tcp test\)$/,
    ],
    [
      ['run', '--lab', 't-cli-bad', '--duration', '1.5'],
      /^cnilab: --duration: "1\.5" must be a whole number of seconds/,
    ],
    [['run', topo('tests.yaml', 'tests: [tcp, ping]\n')], /tests\.yaml: tests\.1: /],
    [['report', join(dir, 'no-run')], /no-run\/results\.json: ENOENT.*give a run folder or its results\.json$/],
    [
      ['report', topo('v1.json', '{"schemaVersion": 1, "rows": []}')],
      /v1\.json: schemaVersion 1 is not 8; the report reads results v3 to v8 \(re-run with cnilab run; cnilab compare reads v1 and v2 too\)$/,
    ],
    [
      [
        'compare',
        topo('v1-broken.json', '{"schemaVersion": 1, "rows": [{}]}'),
        topo('v2.json', '{"schemaVersion": 2}'),
      ],
      /v1-broken\.json: rows\.0\.arch: /,
    ],
    [['status', '--lab', 't-cli-none'], /^cnilab: lab "t-cli-none" is not up/],
  ];
}

test('bad input: one line naming the field, non-zero exit, nothing created', async (t) => {
  const dir = tmp(t);
  const root = await rootSnapshot();
  const topo = (name: string, body: string): string => {
    writeFileSync(join(dir, name), body);
    return join(dir, name);
  };
  const cases = badInput(dir, topo);
  for (const [args, want] of cases) {
    const r = await cli(args);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trim(), want);
  }
  const j = await cli(['up', '--lab', 't-cli-bad', '--arch', 'nope', '--json']);
  assert.deepEqual(JSON.parse(j.stdout), {
    error: {
      code: 'UNKNOWN_ARCH',
      message: `unknown architecture "nope"; known: ${KNOWN_ARCHS}`,
    },
  });
  await assertNothingLeft('t-cli-bad', root);
});
