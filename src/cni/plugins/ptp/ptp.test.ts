import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PluginEnv } from '../../skel';
import { containerRouteLines, hostSideLines } from './ptp';

const ips = [
  { address: '10.1.1.2/24', gateway: '10.1.1.1' },
  { address: 'fd00:1::2/64', gateway: 'fd00:1::1' },
];

test('ptp container routes: the kernel-made subnet route goes, the gateway on the link, the subnet via it — per family', () => {
  assert.deepEqual(containerRouteLines('eth0', ips), [
    ['route', 'del', '10.1.1.0/24', 'dev', 'eth0'],
    ['route', 'add', '10.1.1.1/32', 'dev', 'eth0', 'scope', 'link', 'src', '10.1.1.2'],
    ['route', 'add', '10.1.1.0/24', 'via', '10.1.1.1', 'dev', 'eth0', 'src', '10.1.1.2'],
    ['route', 'del', 'fd00:1::/64', 'dev', 'eth0'],
    ['route', 'add', 'fd00:1::1/128', 'dev', 'eth0', 'scope', 'link', 'src', 'fd00:1::2'],
    ['route', 'add', 'fd00:1::/64', 'via', 'fd00:1::1', 'dev', 'eth0', 'src', 'fd00:1::2'],
  ]);
});

test('ptp host side: each gateway a /32 or /128 on the host end, a host route to each container address', () => {
  const env = { containerId: 'c1', ifName: 'eth0' } as PluginEnv;
  const lines = hostSideLines(
    { name: 'n', mtu: 1400 },
    env,
    { name: 'pod' },
    { hostVeth: 'veth1', hostMac: '02:00:00:00:00:01', contMac: '02:00:00:00:00:02' },
    ips,
  );
  assert.deepEqual(lines.slice(3), [
    ['addr', 'add', '10.1.1.1/32', 'dev', 'veth1'],
    ['route', 'add', '10.1.1.2', 'dev', 'veth1', 'scope', 'host'],
    ['addr', 'add', 'fd00:1::1/128', 'dev', 'veth1'],
    ['route', 'add', 'fd00:1::2', 'dev', 'veth1', 'scope', 'host'],
  ]);
});
