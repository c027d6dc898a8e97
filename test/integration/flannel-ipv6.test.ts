/**
 * flannel's control plane in IPv6 (docs/ipv6.md): IPv6-only labs of host-gw, vxlan (flannel-v6.1
 * over the IPv6 underlay) and macvlan, where no pod interface holds an IPv4 address and no lease an
 * IPv4 subnet (ipv6-lab.ts; the kernel tier runs the ipvlan kinds); and a dual-stack vxlan lab,
 * where pods hold both and both cross nodes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leases } from '../../src/flannel/control-plane';
import { podIp } from '../../src/lab/state';
import { withLab } from './helpers';
import { ipv6OnlyLab, ping, pods, topology } from './ipv6-lab';

for (const arch of ['flannel-host-gw', 'flannel-vxlan', 'macvlan'])
  test(`${arch}, IPv6 only: pods reach each other on a node and across nodes, no pod has IPv4`, () =>
    ipv6OnlyLab(arch));

test('flannel-vxlan, dual-stack: pods hold both addresses, IPv4 first, and both families cross nodes', async () => {
  await withLab(
    't-v6-dual',
    'flannel-vxlan',
    async (state) => {
      const { a, b, c } = pods(state);
      for (const p of state.pods) {
        assert.equal(p.ips?.length, 2, `${p.name} holds two addresses`);
        assert.equal(p.ip, podIp(p, 4), `${p.name}'s ip is its IPv4 one`);
        assert.ok(podIp(p, 6), `${p.name} has an IPv6 address`);
      }
      for (const l of await leases(state.lab)) assert.ok(l.subnet && l.ipv6Subnet && l.publicIpv6, `${l.node}'s lease`);
      for (const family of [4, 6] as const) {
        await ping(a, podIp(c, family)!);
        await ping(c, podIp(b, family)!);
      }
    },
    topology('ipv4, ipv6'),
  );
});
