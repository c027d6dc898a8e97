/**
 * The Kuryr architectures for real: port controller, node daemons, Open vSwitch (the kernel
 * datapath where the openvswitch module loads, its userspace datapath elsewhere) and Linux bridges.
 * Traffic on every path, "A to C via B" through the router, isolation between networks, the port
 * lifecycle through CNI, and restarts of the controller and of a node daemon.
 *
 * These tests take the kernel's paths where its modules are there (openvswitch, 8021q): the
 * kernel tier (`npm run test:kernel`, a VM on Debian's stock kernel) runs this file and requires
 * them, so both datapaths and kuryr-lb-vlan are proven.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { kuryrConflist } from '../../src/kuryr/layout';
import { openvswitch, probeFeatures } from '../../src/doctor/features';
import { run, sleep } from '../../src/lib/exec';
import { ipJson, listNamedNetns } from '../../src/lib/netns';
import { controlRequest } from '../../src/lab/processes';
import { daemonSocket, ovsDbSocket, routerNetns } from '../../src/kuryr/control-plane';
import { nodeNetns, podNetns } from '../../src/lab/names';
import { joinNode, leaveNode, restartProcess } from '../../src/lab/nodes';
import { runtimeFor } from '../../src/lab/pods';
import type { LabState } from '../../src/lab/state';
import { hostIfName } from '../../src/kuryr/drivers/driver';
import type { Network, Port, Router, Subnet } from '../../src/kuryr/neutron/model';
import { startIperf3Server, tcpSample } from '../../src/traffic/iperf3/run';
import { transfer, WAIT_SCALE, waitFor, waitUntil, withLab } from './helpers';
import { assertKernelTierHas } from './kernel';

const TOPOLOGY = 'topology: {computeNodes: 3}';
const pod = (s: LabState, name: string) => s.pods.find((p) => p.name === name)!;

async function pings(from: string, to: string): Promise<boolean> {
  const r = await run('ip', ['netns', 'exec', from, 'ping', '-c', '2', '-i', '0.2', '-W', '1', to], { check: false });
  return r.code === 0;
}

/** The TTL the answer to one ping arrives with: 64 straight, 63 through one router. */
async function replyTtl(from: string, to: string): Promise<number> {
  const r = await run('ip', ['netns', 'exec', from, 'ping', '-c', '1', '-W', '2', to]);
  return Number(/ttl=(\d+)/.exec(r.stdout)?.[1]);
}

async function tcpGbps(from: LabState['pods'][number], to: LabState['pods'][number]): Promise<number> {
  const srv = startIperf3Server({ name: to.netns }, to.ip, 5311);
  try {
    const s = await tcpSample({
      client: { name: from.netns },
      serverIp: to.ip,
      durationSec: 1,
      omitSec: 0,
      port: 5311,
    });
    return s.bitsPerSecond / 1e9;
  } finally {
    await srv.stop();
  }
}

/**
 * The kernel's Open vSwitch ports (vports) of its own types, internal and netdev, in every
 * namespace: each holds a reference to the openvswitch module, as each module using it does (its
 * holders, such as vport_vxlan). 0 while the module is not loaded.
 */
function ovsKernelPorts(): number {
  const dir = '/sys/module/openvswitch';
  if (!existsSync(`${dir}/refcnt`)) return 0;
  return Number(readFileSync(`${dir}/refcnt`, 'utf8')) - readdirSync(`${dir}/holders`).length;
}

/**
 * Runs an OVS lab test on the datapath this kernel offers. On the kernel datapath, each compute
 * node's ovs-vswitchd holds one kernel datapath in its namespace, the agents report it, and after
 * `down` every vport is gone from the kernel (the module's references back where they were).
 */
function onOvsDatapath(
  lab: string,
  fn: (s: LabState, kernel: boolean) => Promise<void>,
): (s: LabState) => Promise<void> {
  assertKernelTierHas(['openvswitch']);
  return async (s) => {
    const kernel = (await openvswitch()).ok;
    const agents = (await api<{ agents: { datapath: string }[] }>(lab, 'GET', '/v2.0/agents')).body.agents;
    if (kernel) {
      assert.deepEqual([...new Set(agents.map((a) => a.datapath))], ['openvswitch system (kernel)']);
      assert.ok(ovsKernelPorts() >= 3, `the kernel holds the nodes' datapath ports (${ovsKernelPorts()})`);
      for (const node of ['node1', 'node2', 'node3']) {
        const dps = await run('ip', ['netns', 'exec', nodeNetns(lab, node), 'ovs-dpctl', 'dump-dps']);
        assert.equal(dps.stdout.trim(), 'system@ovs-system', `${node}: one kernel datapath`);
      }
    }
    await fn(s, kernel);
  };
}

/** After an OVS lab is down: no port of its kernel datapaths is left in the kernel. */
async function assertNoVports(before: number): Promise<void> {
  // The kernel frees a deleted namespace's devices in its cleanup work, shortly after.
  await waitUntil('the kernel to free the lab datapaths', async () => ovsKernelPorts() === before, 60_000, 100);
}

const api = <T>(lab: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) =>
  controlRequest<T>(lab, method, path, body);

/** Every path carries TCP; the routed one goes through the router on node2 (TTL 63) and keeps the bytes intact. */
async function checkPaths(s: LabState, expectMtu: number): Promise<void> {
  const [a, a2, b, c] = [pod(s, 'node1-p1'), pod(s, 'node1-p2'), pod(s, 'node2-p1'), pod(s, 'node3-p1')];
  assert.ok(
    s.pods.every((p) => p.mtu === expectMtu),
    `pod MTUs ${s.pods.map((p) => p.mtu).join(',')} = ${expectMtu}`,
  );
  assert.ok(a.ip.startsWith('10.244.1.') && c.ip.startsWith('10.244.2.'), 'node3 is on net-b, the others on net-a');
  for (const [to, what] of [
    [a2, 'intra-node'],
    [b, 'inter-node'],
    [c, 'routed'],
  ] as const) {
    const gbps = await tcpGbps(a, to);
    assert.ok(gbps > 0.01, `${what}: ${gbps} Gbit/s`);
  }
  assert.equal(await replyTtl(a.netns, b.ip), 64, 'same network: no router');
  assert.equal(await replyTtl(a.netns, c.ip), 63, 'A to C: one router hop');
  await transfer(a, c, 8);
  // Full-size frames cross without fragmentation: the MTU each network promises holds end to end.
  await run('ip', [
    'netns',
    'exec',
    a.netns,
    'ping',
    '-c',
    '1',
    '-W',
    '2',
    '-M',
    'do',
    '-s',
    String(expectMtu - 28),
    c.ip,
  ]);
}

/**
 * Isolation: a pod on net-b given a net-a address is unreachable from net-a (the segments do not
 * leak into each other); with the router's leg on net-b gone, A no longer reaches C at all.
 */
async function checkIsolation(lab: string, s: LabState): Promise<void> {
  const [a, c] = [pod(s, 'node1-p1'), pod(s, 'node3-p1')];
  await run('ip', ['-n', c.netns, 'addr', 'add', '10.244.1.250/24', 'dev', 'eth0']);
  assert.equal(await pings(a.netns, '10.244.1.250'), false, "net-b does not hear net-a's frames");
  await run('ip', ['-n', c.netns, 'addr', 'del', '10.244.1.250/24', 'dev', 'eth0']);
  assert.equal(await pings(a.netns, c.ip), true);
  const router = (await api<{ routers: Router[] }>(lab, 'GET', '/v2.0/routers')).body.routers[0]!;
  const subB = (await api<{ subnets: Subnet[] }>(lab, 'GET', '/v2.0/subnets')).body.subnets.find(
    (x) => x.cidr === '10.244.2.0/24',
  )!;
  assert.equal(
    (await api(lab, 'PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnetId: subB.id })).status,
    200,
  );
  const ns = routerNetns(lab, 'node2')!;
  await waitUntil(
    'the router to lose its net-b leg',
    async () =>
      (await ipJson<{ ifname: string }[]>({ name: ns }, ['link', 'show'])).filter((l) => l.ifname.startsWith('qr-'))
        .length === 1,
    10_000,
    50,
  );
  assert.equal(await pings(a.netns, c.ip), false, 'without the router, different networks do not reach each other');
}

/* eslint-disable-next-line max-lines-per-function --
   one lab (seconds to build, OVS included) serves every step, read in order */
test('kuryr-ovs-vxlan: every path, the router, isolation; the port lifecycle; controller and daemon restarts', async () => {
  const lab = 't-ky-ovsx';
  const ports = ovsKernelPorts();
  await withLab(
    lab,
    'kuryr-ovs-vxlan',
    // eslint-disable-next-line max-lines-per-function -- the steps of the one lab above
    onOvsDatapath(lab, async (s) => {
      await checkPaths(s, 1450);
      // Neutron's view: one ACTIVE port per pod, bound to its node, with the MAC the pod has.
      const ports = (await api<{ ports: Port[] }>(lab, 'GET', '/v2.0/ports?deviceOwner=compute:kuryr')).body.ports;
      assert.equal(ports.length, 6);
      for (const p of s.pods) {
        const port = ports.find((x) => x.deviceId === p.containerId)!;
        assert.equal(port.status, 'ACTIVE');
        assert.equal(port.hostId, p.node);
        assert.equal(port.vifType, 'ovs');
        assert.equal(port.ipAddress, p.ip);
        const [link] = await ipJson<{ address: string }[]>({ name: p.netns }, ['link', 'show', 'dev', 'eth0']);
        assert.equal(link!.address, port.macAddress, `${p.name} wears its port's MAC`);
      }
      // OVS as Neutron lays it out: the pod's port carries its iface-id; one tunnel per network and peer, key = VNI.
      const vsctl = (node: string, ...args: string[]) =>
        run('ovs-vsctl', [`--db=unix:${ovsDbSocket(lab, node)}`, ...args]).then((r) => r.stdout.trim());
      const a = ports.find((x) => x.deviceId === pod(s, 'node1-p1').containerId)!;
      assert.match(
        await vsctl('node1', 'get', 'interface', hostIfName(a.id), 'external_ids:iface-id'),
        new RegExp(a.id),
      );
      const nets = (await api<{ networks: Network[] }>(lab, 'GET', '/v2.0/networks')).body.networks;
      const tunnels = (await vsctl('node1', 'list-ports', 'br-int')).split('\n').filter((x) => x.startsWith('vx'));
      assert.equal(tunnels.length, nets.length * 2, `node1: ${tunnels.join(' ')}`);
      const keys = await Promise.all(tunnels.map((t) => vsctl('node1', 'get', 'interface', t, 'options:key')));
      assert.deepEqual(
        [...new Set(keys.map((k) => Number(k.replace(/"/g, ''))))].sort(),
        nets.map((n) => n.segmentationId).sort(),
      );

      // A pod added and deleted through CNI; deleted twice; one whose port was deleted behind its back.
      const rt = runtimeFor(lab, 'node1');
      const list = kuryrConflist(daemonSocket(lab, 'node1'), 'net-a');
      for (const name of ['extra1', 'extra2']) await run('ip', ['netns', 'add', podNetns(lab, name)]);
      const conf = (name: string) => ({
        containerId: `${lab}-${name}`,
        netns: `/run/netns/${podNetns(lab, name)}`,
        ifName: 'eth0',
      });
      const added = await rt.addNetworkList(list, conf('extra1'));
      const ip = added.ips![0]!.address.split('/')[0]!;
      assert.equal(await pings(pod(s, 'node2-p1').netns, ip), true, 'the new pod is reachable from another node');
      const port = (await api<{ ports: Port[] }>(lab, 'GET', `/v2.0/ports?deviceId=${lab}-extra1`)).body.ports[0]!;
      assert.equal(port.status, 'ACTIVE');
      await rt.delNetworkList(list, conf('extra1'));
      assert.equal((await api(lab, 'GET', `/v2.0/ports/${port.id}`)).status, 404, 'DEL deleted the port');
      assert.deepEqual(
        await ipJson(undefined, ['-n', nodeNetns(lab, 'node1'), 'link', 'show', 'dev', hostIfName(port.id)]).catch(
          () => [],
        ),
        [],
        'and the veth',
      );
      await rt.delNetworkList(list, conf('extra1'));
      await rt.addNetworkList(list, conf('extra2'));
      const p2 = (await api<{ ports: Port[] }>(lab, 'GET', `/v2.0/ports?deviceId=${lab}-extra2`)).body.ports[0]!;
      assert.equal((await api(lab, 'DELETE', `/v2.0/ports/${p2.id}`)).status, 200);
      await rt.delNetworkList(list, conf('extra2'));
      assert.equal(
        (await vsctl('node1', 'list-ports', 'br-int')).includes(hostIfName(p2.id)),
        false,
        'a pod whose port is gone still deletes cleanly',
      );

      // The controller restarts: every port is still there, and new pods get new addresses.
      const before = (await api<{ ports: Port[] }>(lab, 'GET', '/v2.0/ports')).body.ports;
      await restartProcess(lab, 'control');
      let after: Port[] | undefined;
      for (let i = 0; i < 100 * WAIT_SCALE && !after; i++) {
        after = await api<{ ports: Port[] }>(lab, 'GET', '/v2.0/ports').then(
          (r) => r.body.ports,
          () => sleep(100).then(() => undefined),
        );
      }
      assert.deepEqual(after, before, 'a restarted controller lost nothing');
      // The node daemon restarts (SIGKILL): it finds OVS as it left it and plugs again.
      await restartProcess(lab, 'node1');
      await waitFor('the node1 daemon', () => existsSync(daemonSocket(lab, 'node1')), 15_000);
      const again = await rt.addNetworkList(list, conf('extra2'));
      assert.ok(
        !after!.some((p) => p.ipAddress === again.ips![0]!.address.split('/')[0]),
        'no address handed out twice',
      );
      assert.equal(
        await pings(pod(s, 'node1-p1').netns, pod(s, 'node3-p1').ip),
        true,
        'the data path outlived both restarts',
      );
      assert.equal(
        (await vsctl('node1', 'list-ports', 'br-int')).split('\n').filter((x) => x.startsWith('vx')).length,
        tunnels.length,
        'no tunnel added twice',
      );
      await rt.delNetworkList(list, conf('extra2'));
      await checkIsolation(lab, s);
    }),
    TOPOLOGY,
  );
  await assertNoVports(ports);
});

test('kuryr-ovs-vlan: every path at the full MTU; VLAN IDs keep the networks apart', async () => {
  const lab = 't-ky-ovsv';
  const ports = ovsKernelPorts();
  await withLab(
    lab,
    'kuryr-ovs-vlan',
    onOvsDatapath(lab, async (s, kernel) => {
      await checkPaths(s, 1500);
      const nets = (await api<{ networks: Network[] }>(lab, 'GET', '/v2.0/networks')).body.networks;
      assert.deepEqual(
        nets.map((n) => [n.segmentationType, n.segmentationId]),
        [
          ['vlan', 100],
          ['vlan', 101],
        ],
      );
      const trunk = (
        await run('ovs-vsctl', [`--db=unix:${ovsDbSocket(lab, 'node1')}`, 'get', 'port', 'int-br-phy', 'trunks'])
      ).stdout.trim();
      assert.equal(trunk, '[100, 101]', 'the uplink trunks the VLAN networks only');
      // Userspace TSO where OVS 3.1 can segment (VLAN, not tunnels); the daemon reports the datapath that ran.
      if (!kernel) {
        const tso = (
          await run('ovs-vsctl', [
            `--db=unix:${ovsDbSocket(lab, 'node1')}`,
            'get',
            'Open_vSwitch',
            '.',
            'other_config:userspace-tso-enable',
          ])
        ).stdout.trim();
        assert.equal(tso, '"true"');
        const agents = (await api<{ agents: { datapath: string }[] }>(lab, 'GET', '/v2.0/agents')).body.agents;
        assert.deepEqual([...new Set(agents.map((a) => a.datapath))], ['openvswitch netdev (userspace, TSO)']);
      }
      await assert.rejects(joinNode(lab, 'node9', 1), /a Kuryr lab's nodes are fixed at up/);
      await assert.rejects(leaveNode(lab, 'node3'), /a Kuryr lab's nodes are fixed at up/);
      await checkIsolation(lab, s);
    }),
    TOPOLOGY,
  );
  await assertNoVports(ports);
});

test('kuryr-lb-vxlan: every path over Linux bridges and kernel VXLAN; VNIs keep the networks apart', async () => {
  const lab = 't-ky-lbx';
  await withLab(
    lab,
    'kuryr-lb-vxlan',
    async (s) => {
      await checkPaths(s, 1450);
      const links = await ipJson<{ ifname: string; linkinfo?: { info_kind: string; info_data?: { id?: number } } }[]>(
        { name: nodeNetns(lab, 'node2') },
        ['-d', 'link', 'show', 'type', 'vxlan'],
      );
      assert.deepEqual(
        links.map((l) => l.linkinfo?.info_data?.id).sort(),
        [1001, 1002],
        "node2 (the router's) carries both VNIs",
      );
      await checkIsolation(lab, s);
    },
    TOPOLOGY,
  );
});

test('kuryr-lb-vlan runs where the kernel has 802.1Q, and is refused with the reason where it has not', async () => {
  assertKernelTierHas(['8021q']);
  const features = await probeFeatures();
  if (features.vlan.ok) {
    await withLab('t-ky-lbv', 'kuryr-lb-vlan', (s) => checkPaths(s, 1500), TOPOLOGY);
    return;
  }
  await assert.rejects(
    withLab('t-ky-lbv', 'kuryr-lb-vlan', async () => undefined, TOPOLOGY),
    /architecture kuryr-lb-vlan needs vlan: the kernel cannot create 802.1Q VLAN devices/,
  );
  assert.deepEqual(
    listNamedNetns().filter((n) => n.startsWith('cnilab-t-ky-lbv')),
    [],
  );
});
