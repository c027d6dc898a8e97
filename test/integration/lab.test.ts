/**
 * Labs built for real, beyond the contract every architecture keeps (arch-contract.test.ts): how
 * flannel builds its VXLAN, a second up, an unknown architecture, an interrupted up — and `down`
 * leaves nothing: no namespace, process or file, root namespace unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { CnilabError } from '../../src/lib/errors';
import { ipJson, listNamedNetns, runIn } from '../../src/lib/netns';
import { down, up } from '../../src/lab/lab';
import { nodeNetns, runDir } from '../../src/lab/names';
import { teardownLab } from '../../src/lab/teardown';
import { parseTopology } from '../../src/topology/load';
import { assertNothingLeft, rootSnapshot, waitFor, withLab } from './helpers';
import { ping } from './arch-contract';

/** The registry's names, in its order: the message lists them all. */
const KNOWN_ARCHS =
  'host, bridge, flannel-host-gw, flannel-vxlan, flannel-udp, flannel-udp-offload, macvlan, ipvlan, ebpf-native, ' +
  'ebpf-vxlan, calico-bgp, calico-vxlan, kuryr-ovs-vxlan, kuryr-ovs-vlan, kuryr-lb-vxlan, kuryr-lb-vlan, ' +
  'flannel-vxlan-direct, ipvlan-l3, calico-ipip, flannel-wireguard, calico-wireguard, flannel-ipsec, ebpf-netkit';

const topology = (name: string) => parseTopology('topology: {computeNodes: 2}', 'test', { name });

test('vxlan is built the way flannel builds it: flannel.1, VNI 1, port 8472, MTU − 50, static peers', async () => {
  const lab = 't-lab-vxlan-detail';
  await withLab(lab, 'flannel-vxlan', async (state) => {
    const node1 = { name: nodeNetns(lab, 'node1') };
    const [dev] = await ipJson<
      {
        mtu: number;
        linkinfo: { info_kind: string; info_data: { id: number; port: number; learning: boolean; local: string } };
      }[]
    >(node1, ['-d', 'link', 'show', 'flannel.1']);
    assert.equal(dev!.linkinfo.info_kind, 'vxlan');
    assert.deepEqual(
      [
        dev!.linkinfo.info_data.id,
        dev!.linkinfo.info_data.port,
        dev!.linkinfo.info_data.learning,
        dev!.linkinfo.info_data.local,
      ],
      [1, 8472, false, '198.18.0.2'],
    );
    assert.equal(dev!.mtu, 1450);
    assert.ok(state.pods.every((p) => p.mtu === 1450));
    const db = new Database(join(runDir(lab), 'leases.db'), { readonly: true });
    const row = db.prepare('SELECT subnet, backend_data FROM leases WHERE node = ?').get('node2') as {
      subnet: string;
      backend_data: string;
    };
    db.close();
    const peer = { subnet: row.subnet, backendData: JSON.parse(row.backend_data) as { vtepMac: string } };
    const routes = await ipJson<{ dst: string; gateway: string; dev: string; flags: string[] }[]>(node1, [
      'route',
      'show',
      'dev',
      'flannel.1',
    ]);
    assert.deepEqual(
      routes.map((r) => [r.dst, r.gateway, r.flags.includes('onlink')]),
      [[peer.subnet, peer.subnet.replace(/\/\d+$/, ''), true]],
    );
    const neigh = await ipJson<{ dst: string; lladdr: string; state: string[] }[]>(node1, [
      'neigh',
      'show',
      'dev',
      'flannel.1',
    ]);
    assert.deepEqual(
      neigh.map((n) => [n.dst, n.lladdr, n.state]),
      [[peer.subnet.replace(/\/\d+$/, ''), peer.backendData.vtepMac, ['PERMANENT']]],
    );
    const fdb = JSON.parse((await runIn(node1, 'bridge', ['-json', 'fdb', 'show', 'dev', 'flannel.1'])).stdout) as {
      mac: string;
      dst?: string;
    }[];
    assert.deepEqual(
      fdb.filter((e) => e.dst).map((e) => [e.mac, e.dst]),
      [[peer.backendData.vtepMac, '198.18.0.3']],
    );
  });
});

test('flannel-vxlan-direct: peers on the same segment are routed directly, not encapsulated', async () => {
  const lab = 't-lab-direct';
  await withLab(lab, 'flannel-vxlan-direct', async (state) => {
    const node1 = { name: nodeNetns(lab, 'node1') };
    const db = new Database(join(runDir(lab), 'leases.db'), { readonly: true });
    const peer = db.prepare('SELECT subnet FROM leases WHERE node = ?').get('node2') as { subnet: string };
    db.close();
    const direct = await ipJson<{ dst: string; gateway: string; protocol: string }[]>(node1, [
      'route',
      'show',
      'dev',
      'eth0',
      'proto',
      '250',
    ]);
    assert.deepEqual(
      direct.map((r) => [r.dst, r.gateway]),
      [[peer.subnet, '198.18.0.3']],
    );
    assert.deepEqual(
      await ipJson<unknown[]>(node1, ['route', 'show', 'dev', 'flannel.1']),
      [],
      'nothing goes through the VXLAN device',
    );
    assert.ok(
      state.pods.every((p) => p.mtu === 1450),
      'the pod MTU stays the vxlan one, as flannel keeps it',
    );
    await ping(state, 'node1-p1', 'node2-p1');
  });
});

test('a second up of a running lab is refused and the running lab is untouched', async () => {
  const lab = 't-lab-twice';
  await teardownLab(lab);
  const root = await rootSnapshot();
  const state = await up({ topology: topology(lab), arch: 'bridge' });
  try {
    await assert.rejects(
      up({ topology: topology(lab), arch: 'bridge' }),
      (e: CnilabError) =>
        e.code === 'LAB_EXISTS' &&
        /lab "t-lab-twice" is already up; remove it with: cnilab down --lab t-lab-twice/.test(e.message),
    );
    await ping(state, 'node1-p1', 'node1-p2');
  } finally {
    await down(lab);
  }
  await assertNothingLeft(lab, root);
});

test('an unknown architecture is refused before anything is created', async () => {
  const lab = 't-lab-unknown';
  const root = await rootSnapshot();
  await assert.rejects(
    up({ topology: topology(lab), arch: 'token-ring' }),
    (e: CnilabError) =>
      e.code === 'UNKNOWN_ARCH' && e.message.includes(`unknown architecture "token-ring"; known: ${KNOWN_ARCHS}`),
  );
  await assertNothingLeft(lab, root);
});

test('aborting up half-way (Ctrl-C) removes everything it had created', async () => {
  const lab = 't-lab-abort';
  const root = await rootSnapshot();
  await teardownLab(lab);
  const ac = new AbortController();
  const pending = up({ topology: topology(lab), arch: 'flannel-vxlan', signal: ac.signal });
  // Abort once pods are being attached: namespaces, links, agents and the store all exist by then.
  await waitFor('a pod namespace', () => listNamedNetns().some((ns) => ns.startsWith(`cnilab-${lab}.pod.`)));
  ac.abort();
  await assert.rejects(pending, (e: CnilabError) => e.code === 'ABORTED');
  await assertNothingLeft(lab, root);
});
