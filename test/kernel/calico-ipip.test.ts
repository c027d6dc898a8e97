/**
 * calico-ipip, Calico's IP-in-IP mode, where the kernel has the ipip module (the kernel tier: `npm
 * run test:kernel`; on a host without it, skipped naming the module): BGP as calico-bgp, the
 * peers' blocks in the kernel via their underlay addresses on tunl0 (onlink), tunl0 with MTU
 * underlay − 20 and its tunnel address from IPAM, pods within and across nodes carrying traffic,
 * and `down` leaving nothing (withLab asserts it, BIRD included).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { birdc, parseProtocols } from '../../src/calico/bird';
import type { Allocation, IpamState } from '../../src/calico/ipam/store';
import { ipJson } from '../../src/lib/netns';
import { nodeNetns, runDir } from '../../src/lab/names';
import { controlRequest } from '../../src/lab/processes';
import { transfer, withLab } from '../integration/helpers';
import { kernelTest } from '../integration/kernel';

kernelTest(
  'calico-ipip: tunl0 (MTU − 20, a tunnel address from IPAM), BGP routes via the peers on tunl0 onlink, traffic ' +
    'within and across nodes',
  ['ipip'],
  () =>
    withLab(
      't-kl-calico-ipip',
      'calico-ipip',
      async (state) => {
        const lab = state.lab;
        const mtu = state.topology.underlay.mtu;
        const { blocks } = (await controlRequest<IpamState>(lab, 'GET', '/v3/state')).body;
        const tunnels = (
          await controlRequest<{ allocations: Allocation[] }>(lab, 'GET', '/v3/ipam/allocations?node=node1')
        ).body.allocations.filter((a) => a.handle === 'ipip-tunnel-addr-node1');
        assert.equal(tunnels.length, 1, "node1's tunnel address is allocated under Calico's handle");
        const [tunl] = await ipJson<{ mtu: number; flags: string[]; addr_info: { local: string }[] }[]>(
          { name: nodeNetns(lab, 'node1') },
          ['addr', 'show', 'dev', 'tunl0'],
        );
        assert.equal(tunl!.mtu, mtu - 20);
        assert.ok(tunl!.flags.includes('UP'));
        assert.deepEqual(
          tunl!.addr_info.map((a) => a.local),
          [tunnels[0]!.ip],
        );
        assert.ok(
          state.pods.every((p) => p.mtu === mtu - 20),
          'pods at the underlay MTU − 20',
        );
        const node2 = state.topology.nodes.find((n) => n.name === 'node2')!;
        const routes = await ipJson<
          { dst: string; gateway?: string; dev?: string; protocol?: string; flags: string[] }[]
        >({ name: nodeNetns(lab, 'node1') }, ['route', 'show', 'proto', 'bird']);
        for (const b of blocks.filter((x) => x.node === 'node2')) {
          const r = routes.find((x) => x.dst === b.cidr);
          assert.deepEqual(
            r && { gateway: r.gateway, dev: r.dev, onlink: r.flags.includes('onlink') },
            { gateway: node2.underlayIp, dev: 'tunl0', onlink: true },
            `node1 routes node2's block ${b.cidr} via node2 on tunl0`,
          );
        }
        const sessions = parseProtocols(
          await birdc(join(runDir(lab), 'nodes', 'node1', 'bird.ctl'), ['show', 'protocols']),
        );
        assert.deepEqual(
          sessions.map((s) => `${s.protocol} ${s.info.split(/\s+/)[0]}`),
          ['peer_node2 Established'],
        );
        const pod = (name: string) => state.pods.find((p) => p.name === name)!;
        await transfer(pod('node1-p1'), pod('node1-p2'), 16);
        await transfer(pod('node1-p1'), pod('node2-p1'), 16);
        await transfer(pod('node2-p2'), pod('node1-p2'), 16);
      },
      'topology: {computeNodes: 2, defaults: {pods: 2}}',
    ),
);
