/**
 * flannel's control plane in IPv6 (docs/ipv6.md): IPv6-only labs of host-gw, vxlan (flannel-v6.1
 * over the IPv6 underlay) and macvlan, where no pod interface holds an IPv4 address and no lease an
 * IPv4 subnet; and a dual-stack vxlan lab, where pods hold both and both cross nodes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/lib/exec';
import { ipJson } from '../../src/lib/netns';
import { nodeDir } from '../../src/lab/processes';
import { nodeNetns } from '../../src/lab/names';
import { leases } from '../../src/flannel/control-plane';
import { podIp, type LabState, type PodState } from '../../src/lab/state';
import { withLab } from './helpers';

const topology = (families: string): string =>
  `topology: {computeNodes: 2, defaults: {pods: 2}, ipFamilies: [${families}]}`;

async function ping(from: PodState, to: string): Promise<void> {
  await run('ip', ['netns', 'exec', from.netns, 'ping', '-c', '1', '-W', '2', to]);
}

/** Every address of every interface in `netns`, loopback's left out. */
async function addresses(netns: string): Promise<{ ifname: string; family: string; local: string }[]> {
  const links = await ipJson<{ ifname: string; addr_info: { family: string; local: string }[] }[]>({ name: netns }, [
    'addr',
    'show',
  ]);
  return links
    .filter((l) => l.ifname !== 'lo')
    .flatMap((l) => l.addr_info.map((a) => ({ ifname: l.ifname, family: a.family, local: a.local })));
}

/** Pods on node1 and node2: the first of each, and a second on node1. */
function pods(s: LabState): { a: PodState; b: PodState; c: PodState } {
  const on = (node: string) => s.pods.filter((p) => p.node === node);
  return { a: on('node1')[0]!, b: on('node1')[1]!, c: on('node2')[0]! };
}

for (const arch of ['flannel-host-gw', 'flannel-vxlan', 'macvlan']) {
  test(`${arch}, IPv6 only: pods reach each other on a node and across nodes, no pod has IPv4`, async () => {
    await withLab(
      `t-v6-${arch.replace('flannel-', 'f')}`,
      arch,
      async (state) => {
        const { a, b, c } = pods(state);
        for (const p of state.pods) {
          assert.equal(p.ip.includes(':'), true, `${p.name}'s address ${p.ip} is IPv6`);
          assert.equal(p.ips, undefined, `${p.name} has one address`);
          const v4 = (await addresses(p.netns)).filter((x) => x.family === 'inet');
          assert.deepEqual(v4, [], `${p.name} has no IPv4 address on any interface`);
        }
        for (const l of await leases(state.lab)) {
          assert.equal(l.subnet, undefined, `${l.node}'s lease has no IPv4 subnet (EnableIPv4=false)`);
          assert.match(l.ipv6Subnet ?? '', /^fd00:10:244:[0-9a-f]+::\/64$/);
        }
        assert.doesNotMatch(readFileSync(join(nodeDir(state.lab, 'node1'), 'subnet.env'), 'utf8'), /FLANNEL_SUBNET=/);
        await ping(a, b.ip);
        await ping(a, c.ip);
        await ping(c, b.ip);
        if (arch === 'flannel-vxlan') {
          const [dev] = await ipJson<{ mtu: number; linkinfo: { info_data: { id: number; port: number } } }[]>(
            { name: nodeNetns(state.lab, 'node1') },
            ['-details', 'link', 'show', 'dev', 'flannel-v6.1'],
          );
          assert.deepEqual([dev!.mtu, dev!.linkinfo.info_data.id, dev!.linkinfo.info_data.port], [1430, 1, 8472]);
        }
      },
      topology('ipv6'),
    );
  });
}

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
