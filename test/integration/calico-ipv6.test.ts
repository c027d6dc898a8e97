/**
 * calico-bgp in IPv6 and dual-stack labs: pods addressed from /122 blocks of podCidr6, their
 * default route via the host end's link-local address; ping across nodes and on one node in each
 * family; BIRD's IPv6 mesh (over the IPv6 underlay) putting the peers' IPv6 blocks in the kernel;
 * an IPv6-only lab's pods with no IPv4 address at all; nothing left (withLab asserts it).
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { join } from 'node:path';
import { run } from '../../src/lib/exec';
import { ipJson } from '../../src/lib/netns';
import { contains, parseAddr, parsePrefix } from '../../src/lib/ip';
import { nodeNetns, runDir } from '../../src/lab/names';
import type { LabState } from '../../src/lab/state';
import { birdc, parseProtocols } from '../../src/calico/bird';
import { POD_GATEWAY6 } from '../../src/cni/plugins/common/l3-pod';
import { waitUntil, withLab } from './helpers';

type Pod = LabState['pods'][number];

/** One ping from `from` to `to`, answered: true. */
const ping = async (from: Pod, to: string): Promise<boolean> =>
  (await run('ip', ['netns', 'exec', from.netns, 'ping', '-c', '1', '-W', '1', to], { check: false })).code === 0;

/** Pings answered from `from` to `to` (retried until the path is there: the first may wait for neighbours). */
const reaches = (from: Pod, to: string): Promise<void> =>
  waitUntil(`${from.name} answered by ${to}`, () => ping(from, to), 10_000);

const v6Of = (p: Pod): string => (p.ips ?? [p.ip]).find((a) => a.includes(':'))!;
const v4Of = (p: Pod): string => (p.ips ?? [p.ip]).find((a) => !a.includes(':'))!;

/** Two compute nodes, two pods each. */
const TOPOLOGY = (families: string): string =>
  `topology: {computeNodes: 2, defaults: {pods: 2}, ipFamilies: [${families}]}`;

function pods(s: LabState): { a: Pod; b: Pod; c: Pod } {
  const on1 = s.pods.filter((p) => p.node === 'node1');
  const on2 = s.pods.filter((p) => p.node === 'node2');
  assert.equal(on1.length, 2);
  assert.equal(on2.length, 2);
  return { a: on1[0]!, b: on1[1]!, c: on2[0]! };
}

test('calico-bgp, ipFamilies [ipv6]: IPv6 only, ping6 on one node and across, BIRD routes IPv6 blocks', async () => {
  const lab = 't-cal6';
  await withLab(
    lab,
    'calico-bgp',
    async (s) => {
      const { a, b, c } = pods(s);
      for (const p of [a, b, c]) {
        assert.match(p.ip, /^fd00:10:244::/);
        assert.equal(p.ips, undefined);
        // No IPv4 address on any of the pod's interfaces (lo's 127.0.0.1 is the runtime's, scope host);
        // eth0's default route via the host end's link-local.
        const addrs = await ipJson<{ ifname: string; addr_info: { family: string; scope: string }[] }[]>(
          { name: p.netns },
          ['addr'],
        );
        const v4 = addrs.flatMap((l) =>
          l.addr_info.filter((x) => x.family === 'inet' && x.scope !== 'host').map(() => l.ifname),
        );
        assert.deepEqual(v4, [], `${p.name} has IPv4 addresses on ${v4.join(', ')}`);
        const [def] = await ipJson<{ gateway?: string }[]>({ name: p.netns }, ['-6', 'route', 'show', 'default']);
        assert.equal(def?.gateway, POD_GATEWAY6);
      }
      await reaches(a, b.ip);
      await reaches(a, c.ip);
      await reaches(c, a.ip);
      // The node's IPv6 blocks: BIRD learnt the peer's over the IPv6 session and put it in the kernel.
      const blocks = (await ipJson<{ dst: string; protocol?: string; gateway?: string }[]>(
        { name: nodeNetns(lab, 'node1') },
        ['-6', 'route', 'show', 'proto', 'bird'],
      )) as { dst: string; gateway?: string }[];
      assert.equal(blocks.length, 1, JSON.stringify(blocks));
      assert.ok(contains(parsePrefix(blocks[0]!.dst)!, parseAddr(c.ip)!), `${blocks[0]!.dst} holds ${c.ip}`);
      assert.match(blocks[0]!.gateway ?? '', /^2001:2::/);
      const bird = await birdc(join(runDir(lab), 'nodes', 'node1', 'bird.ctl'), ['show', 'route', 'table', 'master6']);
      assert.ok(bird.includes(blocks[0]!.dst), bird);
      const sessions = parseProtocols(
        await birdc(join(runDir(lab), 'nodes', 'node1', 'bird.ctl'), ['show', 'protocols']),
      );
      assert.ok(sessions.some((x) => x.protocol === 'peer6_node2' && x.info.startsWith('Established')));
    },
    TOPOLOGY('ipv6'),
  );
});

test('calico-bgp, ipFamilies [ipv4, ipv6]: pods hold both, in that order; both families reach across nodes', async () => {
  await withLab(
    't-cal46',
    'calico-bgp',
    async (s) => {
      const { a, b, c } = pods(s);
      for (const p of [a, b, c]) {
        assert.equal(p.ips?.length, 2);
        assert.match(p.ips![0]!, /^10\.244\./);
        assert.match(p.ips![1]!, /^fd00:10:244::/);
      }
      await reaches(a, v4Of(c));
      await reaches(a, v6Of(c));
      await reaches(c, v4Of(b));
      await reaches(c, v6Of(b));
    },
    TOPOLOGY('ipv4, ipv6'),
  );
});
