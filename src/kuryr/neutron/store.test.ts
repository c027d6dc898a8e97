import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createControlServer } from '../../controller/server';
import { httpJson } from '../../lib/http-json';
import { NeutronStore } from './store';
import { mountNeutron } from './service';
import { type Network, type Port, type Subnet } from './model';

function fresh(t: { after: (f: () => void) => void }): { dir: string; open: () => NeutronStore } {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-neutron-'));
  const opened: NeutronStore[] = [];
  t.after(() => {
    for (const s of opened) {
      try {
        s.close();
      } catch {
        /* closed by the test */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    open: () => {
      const s = new NeutronStore(join(dir, 'neutron.db'));
      opened.push(s);
      return s;
    },
  };
}

/** The real HTTP server on a loopback port, and a client for it. */
async function serve(
  t: { after: (f: () => void) => void },
  store: NeutronStore,
): Promise<
  <T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) => Promise<{ status: number; body: T }>
> {
  const server = createControlServer([mountNeutron(store)]);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  return <T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) =>
    httpJson<T>(`http://127.0.0.1:${port}${path}`, { method, body });
}

test('networks: VXLAN gets the underlay MTU − 50 and VLAN the full MTU; segmentation IDs are allocated and never shared', (t) => {
  const s = fresh(t).open();
  const a = s.createNetwork({ name: 'a', segmentationType: 'vxlan' });
  const b = s.createNetwork({ name: 'b', segmentationType: 'vxlan' });
  const v = s.createNetwork({ name: 'v', segmentationType: 'vlan' });
  assert.deepEqual([a.mtu, b.mtu, v.mtu], [1450, 1450, 1500]);
  assert.deepEqual([a.segmentationId, b.segmentationId, v.segmentationId], [1001, 1002, 100]);
  assert.throws(
    () => s.createNetwork({ name: 'c', segmentationType: 'vxlan', segmentationId: 1002 }),
    /segmentation_id: vxlan 1002 is in use/,
  );
  assert.throws(() => s.createNetwork({ name: 'a', segmentationType: 'vlan' }), /a network named a exists/);
  assert.throws(
    () => s.createNetwork({ name: 'd', segmentationType: 'vlan', segmentationId: 4095 }),
    /VLAN ID 4095 must be from 1 to 4094/,
  );
  assert.throws(
    () => s.createNetwork({ name: 'e', segmentationType: 'vxlan', mtu: 1500 }),
    /network.mtu: 1500 must be from 576 to 1450/,
  );
  // The same ID in the other segmentation type is a different segment.
  assert.equal(s.createNetwork({ name: 'f', segmentationType: 'vlan', segmentationId: 1001 }).segmentationId, 1001);
});

test("ports: addresses from the pools, never the gateway; a port is DOWN until its host's agent has wired the network", (t) => {
  const s = fresh(t).open();
  const net = s.createNetwork({ name: 'a', segmentationType: 'vxlan' });
  const sub = s.createSubnet({ networkId: net.id, cidr: '10.1.0.0/29' });
  assert.equal(sub.gatewayIp, '10.1.0.1');
  const ports = Array.from({ length: 5 }, () => s.createPort({ networkId: 'a', hostId: 'node1' }));
  assert.deepEqual(
    ports.map((p) => p.ipAddress),
    ['10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5', '10.1.0.6'],
  );
  assert.throws(() => s.createPort({ networkId: 'a' }), /no free address left in subnet 10.1.0.0\/29/);
  assert.ok(
    ports.every((p) => p.status === 'DOWN' && p.vifType === 'unbound'),
    'no agent yet: unbound, DOWN',
  );

  s.reportAgent({ host: 'node1', driver: 'openvswitch', underlayIp: '198.18.0.2', datapath: 'x', wiredNetworks: [] });
  assert.equal(s.port(ports[0]!.id).vifType, 'ovs', "bound by the host's driver");
  assert.equal(s.port(ports[0]!.id).status, 'DOWN', 'not wired yet');
  s.reportAgent({
    host: 'node1',
    driver: 'openvswitch',
    underlayIp: '198.18.0.2',
    datapath: 'x',
    wiredNetworks: [net.id],
  });
  assert.ok(
    ports.every((p) => s.port(p.id).status === 'ACTIVE'),
    'wired: ACTIVE',
  );
  s.deletePort(ports[1]!.id);
  assert.equal(s.createPort({ networkId: 'a' }).ipAddress, '10.1.0.3', 'a freed address is handed out again');
  assert.throws(() => s.createSubnet({ networkId: net.id, cidr: '10.1.0.0/24' }), /overlaps subnet 10.1.0.0\/29/);
  assert.throws(() => s.deleteNetwork(net.id), /still has 5 ports/);
});

test("routers: an interface takes the subnet's gateway address and cannot be deleted as a plain port", (t) => {
  const s = fresh(t).open();
  const a = s.createSubnet({
    networkId: s.createNetwork({ name: 'a', segmentationType: 'vlan' }).id,
    cidr: '10.1.0.0/24',
  });
  const b = s.createSubnet({
    networkId: s.createNetwork({ name: 'b', segmentationType: 'vlan' }).id,
    cidr: '10.2.0.0/24',
  });
  const r = s.createRouter('r', 'node2');
  const legs = [s.addRouterInterface(r.id, a.id), s.addRouterInterface(r.id, b.id)];
  assert.deepEqual(
    legs.map((p) => [p.ipAddress, p.hostId, p.deviceOwner]),
    [
      ['10.1.0.1', 'node2', 'network:router_interface'],
      ['10.2.0.1', 'node2', 'network:router_interface'],
    ],
  );
  assert.throws(() => s.addRouterInterface(r.id, a.id), /already has an interface/);
  assert.throws(() => s.deletePort(legs[0]!.id), /remove it with remove_router_interface/);
  assert.equal(s.state().routerPorts.length, 2);
  s.removeRouterInterface(r.id, a.id);
  assert.deepEqual(
    s.state().routerPorts.map((p) => p.ipAddress),
    ['10.2.0.1'],
  );
  s.deleteRouter(r.id);
  assert.deepEqual(s.ports(), []);
});

// Found by npm run fuzz:api: POST /v2.0/ports with deviceOwner network:router_interface and a deviceId that is no
// router made a router leg of nothing (in the state every agent wires from), and {ipAddress: the gateway} gave a pod
// the subnet's gateway address, which its router's leg could then never take.
test("ports: a router's leg is made by add_router_interface only, stays on its host; no other port takes the gateway", (t) => {
  const s = fresh(t).open();
  const a = s.createSubnet({
    networkId: s.createNetwork({ name: 'a', segmentationType: 'vlan' }).id,
    cidr: '10.1.0.0/24',
  });
  const leg = { networkId: 'a', deviceOwner: 'network:router_interface', deviceId: 'no-router', hostId: 'node1' };
  assert.throws(() => s.createPort(leg), { code: 'INVALID_INPUT', message: /add_router_interface/ });
  assert.throws(() => s.createPort({ networkId: 'a', hostId: 'node1', ipAddress: '10.1.0.1' }), {
    code: 'CONFLICT',
    message: /10.1.0.1 is the gateway of 10.1.0.0\/24/,
  });
  assert.deepEqual(s.ports(), [], 'nothing was made');
  assert.equal(s.createPort({ networkId: 'a', ipAddress: '10.1.0.2' }).ipAddress, '10.1.0.2');
  const routerLeg = s.addRouterInterface(s.createRouter('r', 'node2').id, a.id);
  assert.equal(routerLeg.ipAddress, '10.1.0.1');
  // Found by npm run fuzz:api too: PUT /v2.0/ports/LEG {port: {hostId: 'null'}} moved a router's leg off its host.
  assert.throws(() => s.updatePort(routerLeg.id, { hostId: 'node3' }), {
    code: 'CONFLICT',
    message: /router's host node2/,
  });
  assert.equal(s.updatePort(routerLeg.id, { name: 'qr-a' }).hostId, 'node2', 'renaming is fine');
});

test('a restarted controller has every network, subnet, port and agent, and carries on where it stopped', (t) => {
  const f = fresh(t);
  const s1 = f.open();
  const net = s1.createNetwork({ name: 'a', segmentationType: 'vxlan' });
  s1.createSubnet({ networkId: net.id, cidr: '10.1.0.0/24' });
  s1.reportAgent({
    host: 'node1',
    driver: 'linuxbridge',
    underlayIp: '198.18.0.2',
    datapath: 'x',
    wiredNetworks: [net.id],
  });
  const ports = [
    s1.createPort({ networkId: 'a', hostId: 'node1', deviceId: 'c1' }),
    s1.createPort({ networkId: 'a', hostId: 'node1', deviceId: 'c2' }),
  ];
  const index = s1.currentIndex;
  s1.close();
  const s2 = f.open();
  assert.deepEqual(s2.ports(), ports);
  assert.deepEqual(s2.networks(), [net]);
  assert.equal(s2.agents()[0]!.host, 'node1');
  assert.ok(s2.currentIndex >= index, 'the watch index survives: watchers do not go back in time');
  assert.equal(s2.createPort({ networkId: 'a' }).ipAddress, '10.1.0.4', 'no address handed out twice');
  assert.equal(
    s2.createNetwork({ name: 'b', segmentationType: 'vxlan' }).segmentationId,
    1002,
    'no VNI handed out twice',
  );
});

test('HTTP: 100 concurrent port requests get 100 distinct addresses and MACs', async (t) => {
  const api = await serve(t, fresh(t).open());
  const net = (
    await api<{ network: Network }>('POST', '/v2.0/networks', { network: { name: 'a', segmentationType: 'vxlan' } })
  ).body.network;
  await api('POST', '/v2.0/subnets', { subnet: { networkId: net.id, cidr: '10.1.0.0/24' } });
  const rs = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      api<{ port: Port }>('POST', '/v2.0/ports', { port: { networkId: net.id, deviceId: `c${i}`, hostId: 'node1' } }),
    ),
  );
  assert.ok(rs.every((r) => r.status === 201));
  assert.equal(new Set(rs.map((r) => r.body.port.ipAddress)).size, 100);
  assert.equal(new Set(rs.map((r) => r.body.port.macAddress)).size, 100);
  assert.ok(rs.every((r) => r.body.port.macAddress.startsWith('fa:16:3e:')));
  const listed = (await api<{ ports: Port[] }>('GET', '/v2.0/ports?deviceId=c7')).body.ports;
  assert.equal(listed.length, 1);
});

test("HTTP: a port request waits until the port goes ACTIVE, which an agent's report brings", async (t) => {
  const api = await serve(t, fresh(t).open());
  const net = (
    await api<{ network: Network }>('POST', '/v2.0/networks', { network: { name: 'a', segmentationType: 'vlan' } })
  ).body.network;
  await api<{ subnet: Subnet }>('POST', '/v2.0/subnets', { subnet: { networkId: net.id, cidr: '10.1.0.0/24' } });
  const port = (await api<{ port: Port }>('POST', '/v2.0/ports', { port: { networkId: 'a', hostId: 'node1' } })).body
    .port;
  const t0 = Date.now();
  const waiting = api<{ port: Port }>('GET', `/v2.0/ports/${port.id}?status=ACTIVE&wait=10`);
  await new Promise((r) => setTimeout(r, 200));
  await api('PUT', '/v2.0/agents/node1', {
    agent: { driver: 'openvswitch', underlayIp: '198.18.0.2', datapath: 'x', wiredNetworks: [net.id] },
  });
  const r = await waiting;
  assert.equal(r.body.port.status, 'ACTIVE');
  assert.ok(Date.now() - t0 < 5000, 'answered when the agent reported, not at the timeout');
  const unbound = await api<{ port: Port }>('POST', '/v2.0/ports', { port: { networkId: 'a', hostId: 'node9' } });
  const timedOut = await api<{ port: Port }>('GET', `/v2.0/ports/${unbound.body.port.id}?status=ACTIVE&wait=0.2`);
  assert.equal(timedOut.body.port.status, 'DOWN', 'no agent on node9: still DOWN when the wait ends');
});

test('HTTP: bad requests get a 4xx naming the field; unknown IDs 404; clashes 409', async (t) => {
  const api = await serve(t, fresh(t).open());
  const cases: [string, 'GET' | 'POST' | 'PUT' | 'DELETE', string, unknown, number, RegExp][] = [
    ['no name', 'POST', '/v2.0/networks', { network: { segmentationType: 'vxlan' } }, 400, /^network.name: /],
    [
      'bad type',
      'POST',
      '/v2.0/networks',
      { network: { name: 'x', segmentationType: 'gre' } },
      400,
      /^network.segmentationType: /,
    ],
    [
      'unknown field',
      'POST',
      '/v2.0/networks',
      { network: { name: 'x', segmentationType: 'vlan', shared: true } },
      400,
      /shared/,
    ],
    ['not an object', 'POST', '/v2.0/networks', '{', 400, /^body: /],
    ['bad cidr', 'POST', '/v2.0/subnets', { subnet: { networkId: 'x', cidr: '10.1.0.1/24' } }, 400, /^subnet.cidr: /],
    [
      'unknown network',
      'POST',
      '/v2.0/subnets',
      { subnet: { networkId: 'nope', cidr: '10.1.0.0/24' } },
      404,
      /network nope not found/,
    ],
    [
      'bad mac',
      'POST',
      '/v2.0/ports',
      { port: { networkId: 'x', macAddress: '01:00:5e:00:00:01' } },
      400,
      /^port.macAddress: must be a unicast MAC/,
    ],
    ['bad host', 'POST', '/v2.0/ports', { port: { networkId: 'x', hostId: 'Node 1' } }, 400, /^port.hostId: /],
    ['unknown port', 'GET', '/v2.0/ports/nope', undefined, 404, /port nope not found/],
    ['bad status', 'GET', '/v2.0/ports/nope?status=UP', undefined, 400, /^status: /],
    ['bad index', 'GET', '/v2.0/state?index=-1', undefined, 400, /^index: /],
    [
      'bad agent',
      'PUT',
      '/v2.0/agents/node1',
      { agent: { driver: 'ovn', underlayIp: '198.18.0.2', datapath: 'x', wiredNetworks: [] } },
      400,
      /^agent.driver: /,
    ],
    ['no route', 'PATCH' as 'PUT', '/v2.0/networks', {}, 404, /no route/],
  ];
  for (const [what, method, path, body, status, msg] of cases) {
    const r = await api<{ error: string }>(method, path, body);
    assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error, msg, what);
  }
  await api('POST', '/v2.0/networks', { network: { name: 'x', segmentationType: 'vlan', segmentationId: 7 } });
  const clash = await api<{ error: string }>('POST', '/v2.0/networks', {
    network: { name: 'y', segmentationType: 'vlan', segmentationId: 7 },
  });
  assert.equal(clash.status, 409);
  assert.match(clash.body.error, /segmentation_id: vlan 7 is in use/);
});

test("the state's index moves with networks, agents and routers, not with a pod's port: no agent wakes for one", async (t) => {
  const s = fresh(t).open();
  const net = s.createNetwork({ name: 'a', segmentationType: 'vxlan' });
  s.createSubnet({ networkId: net.id, cidr: '10.1.0.0/24' });
  const before = s.state().index;
  let woken = false;
  const watch = s.waitForChange(before, 50).then(() => (woken = s.state().index > before));
  const port = s.createPort({ networkId: 'a', hostId: 'node1', deviceId: 'c1' });
  s.updatePort(port.id, { name: 'p1' });
  s.deletePort(port.id);
  await watch;
  assert.equal(woken, false, 'a port created, renamed and deleted left the state as it was');
  assert.equal(s.state().index, before);
  s.reportAgent({ host: 'node1', driver: 'linuxbridge', underlayIp: '198.18.0.2', datapath: 'x', wiredNetworks: [] });
  assert.ok(s.state().index > before, "an agent's report is part of the state");
});
