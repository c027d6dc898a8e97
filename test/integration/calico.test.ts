/**
 * The calico architectures in a lab: traffic on one node and across nodes; in bgp mode the BGP
 * sessions, the routes BIRD puts in the kernel, a node joining and leaving (routes and sessions
 * appear and vanish on every peer), BIRD SIGKILLed and restarted (routes return; the traffic gap
 * measured); IPAM by blocks through the calico-ipam plugin (a second block past 64 addresses,
 * concurrent ADDs never sharing one, DEL freeing, GC collecting a lost ADD's handle); and nothing
 * left after `down`, bird processes included (withLab asserts it).
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/lib/exec';
import { CONTROLLER_MAIN, REPO_ROOT } from '../../src/lib/paths';
import { ipJson } from '../../src/lib/netns';
import { nodeNetns, runDir } from '../../src/lab/names';
import { joinNode, leaveNode, restartProcess } from '../../src/lab/nodes';
import { credentialFile } from '../../src/lab/credentials';
import { controlRequest } from '../../src/lab/processes';
import type { LabState } from '../../src/lab/state';
import { birdc, parseProtocols } from '../../src/calico/bird';
import type { Allocation, IpamState } from '../../src/calico/ipam/store';
import { BLOCK_SIZE } from '../../src/calico/control-plane';
import type { JoinJson } from '../../src/run/join/schema';
import { publishedResultsSchema } from '../../src/run/results-published';
import { execPlugin } from './plugin-exec';
import {
  assertNoSecret,
  assertNothingLeft,
  cli,
  longestGap,
  rootSnapshot,
  transfer,
  waitUntil,
  withLab,
  WAIT_SCALE,
} from './helpers';

const TOPOLOGY = 'topology: {computeNodes: 2, defaults: {pods: 2}}';
type Pod = LabState['pods'][number];
const pod = (s: LabState, name: string): Pod => s.pods.find((p) => p.name === name)!;
const IPAM_PLUGIN = join(REPO_ROOT, 'dist/cni-bin/calico-ipam');

/** A node's routes, non-blackhole, by destination → "proto dev". */
async function routes(lab: string, node: string): Promise<Map<string, string>> {
  const rs = await ipJson<{ dst: string; type?: string; protocol?: string; dev?: string }[]>(
    { name: nodeNetns(lab, node) },
    ['route', 'show'],
  );
  return new Map(rs.filter((r) => r.type !== 'blackhole').map((r) => [r.dst, `${r.protocol ?? ''} ${r.dev ?? ''}`]));
}

const sessions = async (lab: string, node: string): Promise<Map<string, string>> =>
  new Map(
    parseProtocols(await birdc(join(runDir(lab), 'nodes', node, 'bird.ctl'), ['show', 'protocols'])).map((s) => [
      s.protocol,
      s.info.split(/\s+/)[0] ?? '',
    ]),
  );

const ipamState = async (lab: string): Promise<IpamState> =>
  (await controlRequest<IpamState>(lab, 'GET', '/v3/state')).body;
const blocksOf = (s: IpamState, node: string): string[] => s.blocks.filter((b) => b.node === node).map((b) => b.cidr);

/** Runs calico-ipam in node1's namespace, as a runtime would. */
async function ipam(
  lab: string,
  command: 'ADD' | 'DEL' | 'GC',
  containerId: string,
  extra: Record<string, unknown> = {},
): Promise<{ code: number; out: { ips?: { address: string }[] } }> {
  const state = await ipamState(lab);
  assert.ok(state.nodes.some((n) => n.name === 'node1'));
  const conf = {
    cniVersion: '1.1.0',
    name: 'cnilab',
    type: 'calico-ipam',
    // The node's credential file: read when the lab checks credentials (docs/controller.md), absent otherwise.
    ipam: {
      type: 'calico-ipam',
      url: 'http://198.18.0.1:2379',
      node: 'node1',
      credential: credentialFile(lab, 'node1'),
    },
    ...extra,
  };
  const env =
    command === 'GC'
      ? { CNI_COMMAND: 'GC', CNI_PATH: '/nonexistent' }
      : {
          CNI_COMMAND: command,
          CNI_CONTAINERID: containerId,
          // an IPAM plugin never enters it; the spec asks for one on ADD
          CNI_NETNS: `/run/netns/${nodeNetns(lab, 'node1')}`,
          CNI_IFNAME: 'eth0',
          CNI_PATH: '/x',
        };
  const r = await execPlugin(nodeNetns(lab, 'node1'), IPAM_PLUGIN, env, JSON.stringify(conf));
  return { code: r.code, out: r.stdout.trim() ? (JSON.parse(r.stdout) as { ips?: { address: string }[] }) : {} };
}

/** node3 joins with a pod, then leaves: its block and sessions appear, then vanish, on every peer. */
async function joinAndLeave(lab: string, a: Pod): Promise<void> {
  const joined = await joinNode(lab, 'node3', 1);
  const b3 = blocksOf(await ipamState(lab), 'node3')[0]!;
  for (const n of ['node1', 'node2']) {
    assert.equal((await routes(lab, n)).get(b3), 'bird eth0', `${n} routes node3's block`);
    await waitUntil(
      `${n}'s session to node3`,
      async () => (await sessions(lab, n)).get('peer_node3') === 'Established',
    );
  }
  await transfer(a, pod(joined, 'node3-p1'), 4);
  await leaveNode(lab, 'node3');
  for (const n of ['node1', 'node2']) {
    // The block goes when node3's BIRD stops; the session when n's agent sees node3 leave and reconfigures.
    await waitUntil(`${n} to drop node3's block`, async () => !(await routes(lab, n)).has(b3));
    await waitUntil(`${n} to drop its session to node3`, async () => !(await sessions(lab, n)).has('peer_node3'));
  }
}

/** BIRD on node2 SIGKILLed and restarted under a probe from a to c: the longest gap. */
async function birdRestartGap(lab: string, a: Pod, c: Pod, block2: string): Promise<number> {
  const { gapMs } = await longestGap(a.netns, c, 6 * WAIT_SCALE, async () => {
    await restartProcess(lab, 'node2', 'SIGKILL', 'bird');
    await waitUntil(
      "node2's session to node1 again",
      async () => (await sessions(lab, 'node2').catch(() => new Map())).get('peer_node1') === 'Established',
    );
    await waitUntil("node1's route to node2's block again", async () => (await routes(lab, 'node1')).has(block2));
  });
  return gapMs;
}

const held = async (lab: string): Promise<Allocation[]> =>
  (await controlRequest<{ allocations: Allocation[] }>(lab, 'GET', '/v3/ipam/allocations?node=node1')).body.allocations;

/** calico-ipam on node1: fills two blocks but for 2 (its pods hold 2), concurrently; retry, DEL, GC. */
async function ipamBlocks(lab: string, state: LabState): Promise<void> {
  const n = 2 * 2 ** (32 - BLOCK_SIZE) - 2 - 2;
  const adds = await Promise.all(Array.from({ length: n }, (_, i) => ipam(lab, 'ADD', `ipam-${i}`)));
  assert.ok(adds.every((r) => r.code === 0));
  const ips = adds.map((r) => r.out.ips![0]!.address);
  assert.equal(new Set(ips).size, n, 'concurrent ADDs never share an address');
  const node1Blocks = blocksOf(await ipamState(lab), 'node1');
  assert.equal(node1Blocks.length, 2, `node1 claimed a second block: ${node1Blocks.join(', ')}`);
  await waitUntil("node2's route to node1's second block", async () =>
    (await routes(lab, 'node2')).has(node1Blocks[1]!),
  );
  const again = await ipam(lab, 'ADD', 'ipam-0');
  assert.equal(again.out.ips![0]!.address, ips[0], 'a retried ADD gets the address it holds');
  assert.equal((await ipam(lab, 'DEL', 'ipam-0')).code, 0);
  assert.equal(
    (await held(lab)).some((x) => x.handle === 'cnilab/ipam-0/eth0'),
    false,
    'DEL freed it',
  );
  // The runtime lost ipam-1's ADD (killed before it recorded it): GC lists every attachment but it.
  const valid = [
    ...state.pods.filter((p) => p.node === 'node1').map((p) => `${lab}-${p.name}`),
    ...Array.from({ length: n - 2 }, (_, i) => `ipam-${i + 2}`),
  ].map((id) => ({ containerID: id, ifname: 'eth0' }));
  assert.equal((await ipam(lab, 'GC', '', { 'cni.dev/valid-attachments': valid })).code, 0);
  const left = (await held(lab)).map((x) => x.handle);
  assert.equal(left.includes('cnilab/ipam-1/eth0'), false, "GC released the lost ADD's handle");
  assert.equal(left.filter((h) => h.startsWith('cnilab/')).length, valid.length, 'and kept every valid one');
}

test('calico-bgp: BGP full mesh, traffic, a node joining and leaving, BIRD killed and restarted, IPAM by blocks', async (t) => {
  const lab = 't-calico-bgp';
  await withLab(
    lab,
    'calico-bgp',
    async (state) => {
      assert.deepEqual(state.processes.map((p) => `${p.role}@${p.node}`).sort(), [
        'agent@node1',
        'agent@node2',
        'bird@node1',
        'bird@node2',
        'controller@control',
        'policy@node1',
        'policy@node2',
      ]);
      const ipamNow = await ipamState(lab);
      const [b1] = blocksOf(ipamNow, 'node1');
      const [b2] = blocksOf(ipamNow, 'node2');
      assert.ok(b1 && b2 && b1.endsWith(`/${BLOCK_SIZE}`), `one /${BLOCK_SIZE} block per node: ${b1}, ${b2}`);
      assert.equal((await routes(lab, 'node1')).get(b2!), 'bird eth0', "node1 routes node2's block by BGP");
      assert.equal((await routes(lab, 'node2')).get(b1!), 'bird eth0', "node2 routes node1's block by BGP");
      assert.deepEqual([...(await sessions(lab, 'node1'))], [['peer_node2', 'Established']]);

      const [a, b, c] = [pod(state, 'node1-p1'), pod(state, 'node1-p2'), pod(state, 'node2-p1')];
      await transfer(a, b, 16);
      await transfer(a, c, 16);
      // The pod's gateway is answered by proxy ARP: a learnt entry, not a permanent one.
      const neigh = await ipJson<{ dst: string; state: string[] }[]>({ name: a.netns }, ['neigh', 'show']);
      const gw = neigh.find((n) => n.dst === '169.254.1.1');
      assert.ok(gw && !gw.state.includes('PERMANENT'), `169.254.1.1 learnt by ARP: ${JSON.stringify(gw)}`);

      await t.test('a node joins: its block is routed on every peer, its sessions come up; it leaves: both go', () =>
        joinAndLeave(lab, a),
      );
      await t.test('BIRD on node2 is SIGKILLed and restarted: the routes return; the gap is measured', async () => {
        const gapMs = await birdRestartGap(lab, a, c, b2!);
        t.diagnostic(`longest gap without a reply while BIRD restarted: ${gapMs} ms`);
        assert.ok(gapMs < 5000 * WAIT_SCALE, `the gap was ${gapMs} ms`);
        await transfer(a, c, 4);
      });
      await t.test(
        'calico-ipam: a second block past 64 addresses, concurrent ADDs distinct, DEL frees, GC collects',
        async () => {
          await ipamBlocks(lab, state);
          await transfer(a, c, 1); // the pods' addresses are untouched
        },
      );
    },
    TOPOLOGY,
  );
});

test('calico-vxlan: pods on one node and across nodes over vxlan.calico (VNI 4096, UDP 4789, MTU − 50)', async () => {
  const lab = 't-calico-vxlan';
  await withLab(
    lab,
    'calico-vxlan',
    async (state) => {
      const [link] = await ipJson<{ mtu: number; linkinfo: { info_data: { id: number; port: number } } }[]>(
        { name: nodeNetns(lab, 'node1') },
        ['-d', 'link', 'show', 'dev', 'vxlan.calico'],
      );
      assert.equal(link!.linkinfo.info_data.id, 4096);
      assert.equal(link!.linkinfo.info_data.port, 4789);
      assert.equal(link!.mtu, state.topology.underlay.mtu - 50);
      assert.ok(state.pods.every((p) => p.mtu === state.topology.underlay.mtu - 50));
      const b2 = blocksOf(await ipamState(lab), 'node2')[0]!;
      assert.equal((await routes(lab, 'node1')).get(b2), '250 vxlan.calico', "node1 routes node2's block over VXLAN");
      const [a, b, c] = [pod(state, 'node1-p1'), pod(state, 'node1-p2'), pod(state, 'node2-p1')];
      await transfer(a, b, 16);
      await transfer(a, c, 16);
    },
    TOPOLOGY,
  );
});

test('bad input: a pool with fewer blocks than nodes, an unknown mode — one line naming the field, nothing created', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-calico-'));
  try {
    const file = join(dir, 'small.yaml');
    writeFileSync(file, 'topology:\n  podCidr: 10.244.0.0/25\n  subnetLength: 27\n  defaults: {pods: 1}\n');
    const before = await rootSnapshot();
    const r = await cli(['up', '--lab', 't-calico-bad', '--arch', 'calico-bgp', '--topology', file]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr.trim(),
      new RegExp(
        String.raw`^cnilab: architecture calico-bgp: topology\.podCidr \(the IPAM pool\): ` +
          String.raw`10\.244\.0\.0\/25 holds 2 \/26 block\(s\), fewer than one per node \(3 compute ` +
          String.raw`nodes\); use a larger pool$`,
      ),
    );
    assert.equal(existsSync(runDir('t-calico-bad')), false, 'no run folder');
    await assertNothingLeft('t-calico-bad', before, []);
    // The controller refuses an unknown mode before it opens (or creates) its store.
    const db = join(dir, 'ipam.db');
    const c = await run(
      process.execPath,
      [CONTROLLER_MAIN, '--listen', '127.0.0.1', '--ipam-data', db, '--pool', '10.244.0.0/16', '--mode', 'gre'],
      { check: false },
    );
    assert.equal(c.code, 2);
    assert.equal(c.stderr.trim(), 'cnilab-controller: mode: "gre" is not one of bgp, vxlan, ipip');
    assert.equal(existsSync(db), false, 'no store created');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the join test: nodes join calico-bgp and flannel-host-gw labs and leave again; convergence and BGP times in results.json, the report and the terminal', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-join-'));
  const lab = 't-calico-join';
  try {
    const before = await rootSnapshot();
    const args = ['run', '--lab', lab, '--arch', 'host,calico-bgp,flannel-host-gw', '--tests', 'join'];
    const r = await cli([...args, '--join-samples', '2', '--out', join(dir, 'o'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const results = publishedResultsSchema.parse(JSON.parse(r.stdout));
    assert.equal(results.schemaVersion, 8);
    assertNoSecret(join(dir, 'o'));
    assert.deepEqual(results.settings.tests, ['join']);
    assert.deepEqual(results.rows, []);
    assert.deepEqual(
      results.skipped.map((s) => `${s.arch} ${s.test}`),
      ['host join'],
    );
    const [calico, flannel] = (results.afterRounds!['join'] as JoinJson).archs;
    assert.deepEqual(
      [calico!.arch, calico!.family, flannel!.arch, flannel!.family],
      ['calico-bgp', 'l3', 'flannel-host-gw', 'l3'],
    );
    for (const a of [calico!, flannel!]) {
      assert.equal(a.converged.n, 2);
      assert.equal(a.peers, 3);
      // Converged counts from the start of node add: after node add's own work, before the ping deadline.
      assert.ok(a.converged.min > 0 && a.converged.max < 20_000, `${a.arch}: converged ${a.converged.max} ms`);
      assert.ok(a.leave.min > 0);
    }
    // BIRD's own times, calico's membership details: the session comes up before the route arrives; both before the
    // ping answered.
    const [session, route] = calico!.details ?? [];
    assert.deepEqual([session?.key, route?.key], ['bgpSessionUp', 'bgpRouteReceived'], 'calico-bgp has BGP times');
    assert.ok(session!.ms.p50 <= route!.ms.p50 + 1);
    assert.ok(route!.ms.max <= calico!.converged.max + 5, 'the route arrives before the ping is answered');
    assert.equal(flannel!.details, undefined);
    const html = readFileSync(join(dir, 'o', 'report.html'), 'utf8');
    assert.match(html, /<h2 id="join">Node join<\/h2>/);
    await assertNothingLeft(lab, before, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
