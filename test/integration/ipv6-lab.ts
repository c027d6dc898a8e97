/**
 * IPv6-only labs (docs/ipv6.md), shared by the host suite (flannel-ipv6.test.ts) and the kernel
 * tier (test/kernel/ipvlan-ipv6.test.ts, for the ipvlan kinds a host may lack the module of): two
 * nodes, two pods each; no pod interface holds an IPv4 address and no lease an IPv4 subnet; pods
 * reach each other on a node and across nodes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/lib/exec';
import { ipJson } from '../../src/lib/netns';
import { nodeDir } from '../../src/lab/processes';
import { nodeNetns } from '../../src/lab/names';
import { leases } from '../../src/flannel/control-plane';
import type { LabState, PodState } from '../../src/lab/state';
import { withLab } from './helpers';

export const topology = (families: string): string =>
  `topology: {computeNodes: 2, defaults: {pods: 2}, ipFamilies: [${families}]}`;

export async function ping(from: PodState, to: string): Promise<void> {
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
export function pods(s: LabState): { a: PodState; b: PodState; c: PodState } {
  const on = (node: string) => s.pods.filter((p) => p.node === node);
  return { a: on('node1')[0]!, b: on('node1')[1]!, c: on('node2')[0]! };
}

/** `arch` in an IPv6-only lab: every pod IPv6 only, the leases and subnet.env IPv6 only, pings both ways. */
export async function ipv6OnlyLab(arch: string): Promise<void> {
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
}
