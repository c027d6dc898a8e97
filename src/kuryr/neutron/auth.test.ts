// NodeRestriction on the port API (issue 31): a node writes only the ports bound to it and its agent's report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Method } from '../../controller/auth/rules';
import { ADMIN_TOKEN, testController } from '../../controller/auth/test-controller';
import type { Port } from './model';
import { mountNeutron } from './service';
import { NeutronStore } from './store';

const ownPortsTitle = 'ports: a node creates, binds and deletes only its own ports; the layout is the administrator’s';
test(ownPortsTitle, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-neutron-auth-'));
  const neutron = new NeutronStore(join(dir, 'neutron.db'));
  const c = await testController(dir, mountNeutron(neutron));
  t.after(async () => {
    await c.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const { as, issue } = c;
  const [one, two] = [await issue('node1'), await issue('node2')];

  const net = neutron.createNetwork({ name: 'pods', segmentationType: 'vxlan' });
  neutron.createSubnet({ networkId: net.id, cidr: '10.244.0.0/24' });
  const port = (host: string, device: string) => ({
    port: { networkId: net.id, name: 'eth0', deviceOwner: 'compute:kuryr', deviceId: device, hostId: host },
  });
  const mine = await as<{ port: Port }>(one, 'POST', '/v2.0/ports', port('node1', 'c1'));
  assert.equal(mine.status, 201);
  const theirs = (await as<{ port: Port }>(two, 'POST', '/v2.0/ports', port('node2', 'c2'))).body.port;
  const unbound = neutron.createPort({ networkId: net.id, deviceId: 'c3' });
  // A router on node1: its leg is the administrator's all the same (a network:* port).
  const router = neutron.createRouter('r1', 'node1');
  const leg = neutron.addRouterInterface(router.id, neutron.subnets()[0]!.id);
  const snapshot = () => ({ state: neutron.state(), ports: neutron.ports() });
  const before = snapshot();

  const own = 'a node creates, binds and deletes only ports bound to itself';
  const layout = 'networks, subnets and routers are the administrator’s';
  const refused: [Method, string, unknown, string][] = [
    ['POST', '/v2.0/ports', port('node2', 'c4'), own],
    ['POST', '/v2.0/ports', { port: { networkId: net.id, deviceId: 'c5' } }, own],
    // Found by npm run fuzz:api: a node made a port the network owns (Neutron: the administrator's), bound to itself.
    ['POST', '/v2.0/ports', { port: { ...port('node1', 'd1').port, deviceOwner: 'network:dhcp' } }, own],
    ['PUT', `/v2.0/ports/${theirs.id}`, { port: { hostId: 'node1' } }, own],
    ['PUT', `/v2.0/ports/${mine.body.port.id}`, { port: { hostId: 'node2' } }, own],
    ['PUT', `/v2.0/ports/${unbound.id}`, { port: { hostId: 'node1' } }, own],
    ['DELETE', `/v2.0/ports/${theirs.id}`, undefined, own],
    // Found in review: the router's node renamed or deleted its leg.
    ['PUT', `/v2.0/ports/${leg.id}`, { port: { name: 'x' } }, own],
    ['DELETE', `/v2.0/ports/${leg.id}`, undefined, own],
    ['PUT', '/v2.0/agents/node2', { agent: {} }, 'a node reports only its own agent'],
    ['POST', '/v2.0/networks', { network: { name: 'x', segmentationType: 'vxlan' } }, layout],
    ['DELETE', `/v2.0/networks/${net.id}`, undefined, layout],
    ['POST', '/v2.0/routers', { router: { name: 'r', host: 'node1' } }, layout],
  ];
  for (const [method, path, body, rule] of refused) {
    const r = await as(one, method, path, body);
    assert.equal(r.status, 403, `${method} ${path}`);
    assert.ok(r.body.error?.includes(rule), `${method} ${path}: ${r.body.error}`);
  }
  assert.deepEqual(snapshot(), before, 'nothing changed');

  for (const path of ['/v2.0/state', '/v2.0/ports?deviceId=c2', `/v2.0/ports/${theirs.id}`, `/v2.0/networks/${net.id}`])
    assert.equal((await as(one, 'GET', path)).status, 200, path);
  assert.equal((await as(one, 'DELETE', `/v2.0/ports/${mine.body.port.id}`)).status, 200);
  assert.equal(
    (await as(one, 'DELETE', '/v2.0/ports/no-such-port')).status,
    404,
    'an unknown port is the handler’s 404',
  );
  assert.equal((await as(undefined, 'GET', '/v2.0/state')).status, 401);
  assert.equal((await as(ADMIN_TOKEN, 'DELETE', `/v2.0/ports/${theirs.id}`)).status, 200, 'the administrator may');
});
