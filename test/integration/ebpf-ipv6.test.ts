/**
 * The ebpf architectures in IPv6 (docs/ipv6.md): IPv6-only labs of ebpf-native and ebpf-vxlan,
 * where the pods' IPv6 packets are carried by the programs' IPv6 paths — bpf_redirect_peer on a
 * node, fib lookup + bpf_redirect(_neigh) across nodes, from_netdev / from_tunnel (on flannel-v6.1)
 * into the pod — their counters show it and the nodes' IPv6 forwarding stays still; no pod holds
 * an IPv4 address (their IPv6 one added without DAD). A dual-stack ebpf-vxlan lab with ipv6Dad:
 * both maps, both families across nodes, the pods' IPv6 addresses through DAD and settled, and no
 * policy agent (the ebpf design is IPv4 only). What such labs refuse, by field. Host tier only.
 */
import assert from 'node:assert/strict';
import { run } from '../../src/lib/exec';
import { ipJson } from '../../src/lib/netns';
import { BpfMap } from '../../src/lib/bpf';
import { withRtnl } from '../../src/lib/netlink/rtnl';
import { listFilters } from '../../src/lib/netlink/tc';
import { nodeNetns } from '../../src/lab/names';
import { preflight } from '../../src/lab/lab';
import { POLICY_ROLE } from '../../src/lab/policy';
import { podIp, type LabState, type PodState } from '../../src/lab/state';
import { parseTopology } from '../../src/topology/load';
import { pins, readCounters, readEndpoints, type Counters } from '../../src/cni/plugins/ebpf/maps';
import { nodeBpfDir } from '../../src/ebpf/control-plane';
import { transfer, withLab } from './helpers';
import { ebpfTest } from './ebpf-skip';

const topology = (families: string): string =>
  `topology: {computeNodes: 2, defaults: {pods: 2}, ipFamilies: [${families}]}`;
const counters = (lab: string, node: string): Counters => readCounters(pins(nodeBpfDir(lab, node)).counters);
const MB8 = 8 << 20;

async function ping(from: PodState, to: string): Promise<void> {
  await run('ip', ['netns', 'exec', from.netns, 'ping', '-c', '1', '-W', '2', to]);
}

/** The IPv4 addresses of the interfaces in `netns`, loopback's left out. */
async function ipv4Addresses(netns: string): Promise<string[]> {
  const links = await ipJson<{ ifname: string; addr_info: { family: string; local: string }[] }[]>({ name: netns }, [
    'addr',
    'show',
  ]);
  return links
    .filter((l) => l.ifname !== 'lo')
    .flatMap((l) => l.addr_info.filter((a) => a.family === 'inet').map((a) => `${l.ifname} ${a.local}`));
}

/** The flags of the pod's global IPv6 address on eth0 (iproute2's JSON: nodad, tentative, dadfailed). */
async function v6Flags(netns: string): Promise<string[]> {
  const [link] = await ipJson<{ addr_info: Record<string, unknown>[] }[]>({ name: netns }, [
    '-6',
    'addr',
    'show',
    'dev',
    'eth0',
    'scope',
    'global',
  ]);
  const [a] = link!.addr_info;
  return ['nodad', 'tentative', 'dadfailed'].filter((f) => a![f] === true);
}

/** IPv6 packets the node's own stack forwarded (/proc/net/snmp6 Ip6OutForwDatagrams). */
async function forwarded6(lab: string, node: string): Promise<number> {
  const snmp6 = (await run('ip', ['netns', 'exec', nodeNetns(lab, node), 'cat', '/proc/net/snmp6'])).stdout;
  return Number(/^Ip6OutForwDatagrams\s+(\d+)$/m.exec(snmp6)![1]);
}

/** The programs on a device's tc ingress in a node. */
function ingress(lab: string, node: string, dev: string): (string | undefined)[] {
  return withRtnl({ name: nodeNetns(lab, node) }, (nl) => listFilters(nl, nl.index(dev), 'ingress').map((f) => f.name));
}

/** Pods on node1 (two) and node2. */
function pods(s: LabState): { a: PodState; b: PodState; c: PodState } {
  const on = (node: string) => s.pods.filter((p) => p.node === node);
  return { a: on('node1')[0]!, b: on('node1')[1]!, c: on('node2')[0]! };
}

/** The endpoints of a node's map of `family`, by address, sorted. */
const endpointsOf = (lab: string, node: string, family: 4 | 6): string[] => {
  const p = pins(nodeBpfDir(lab, node));
  return [...BpfMap.with(family === 6 ? p.endpoints6 : p.endpoints, (m) => readEndpoints(m, family)).keys()].sort();
};

/**
 * TCP over IPv6 from `a` to `b` (same node) and to `c` (the other node), `a`'s first packets pinged:
 * the bytes are counted where the programs carried them, and the nodes' stacks forwarded (almost) none.
 */
async function carried(
  t: { diagnostic(s: string): void },
  lab: string,
  hook: 'from_netdev' | 'from_tunnel',
  p: ReturnType<typeof pods>,
): Promise<void> {
  const six = (x: PodState): PodState => ({ ...x, ip: podIp(x, 6)! });
  const [a, b, c] = [six(p.a), six(p.b), six(p.c)];
  await ping(a, b.ip);
  await ping(a, c.ip);
  await ping(c, b.ip);
  const fwd = { node1: await forwarded6(lab, 'node1'), node2: await forwarded6(lab, 'node2') };
  const before = { node1: counters(lab, 'node1'), node2: counters(lab, 'node2') };
  await transfer(a, b, 8);
  const mid = counters(lab, 'node1');
  await transfer(a, c, 8);
  const after = { node1: counters(lab, 'node1'), node2: counters(lab, 'node2') };
  // bytes, not packets: a packet here is a GSO super-packet of up to 64 KB
  const local = mid.from_pod.redirect_peer.bytes - before.node1.from_pod.redirect_peer.bytes;
  const out =
    after.node1.from_pod.redirect.bytes +
    after.node1.from_pod.redirect_neigh.bytes -
    mid.from_pod.redirect.bytes -
    mid.from_pod.redirect_neigh.bytes;
  const inbound = after.node2[hook].redirect_peer.bytes - before.node2[hook].redirect_peer.bytes;
  const passed = after.node1.from_pod.pass.bytes - before.node1.from_pod.pass.bytes;
  t.diagnostic(`IPv6 bytes — one node: ${local}; across: ${out} out of node1, ${inbound} into node2's pod (${hook})`);
  assert.ok(local > MB8, `from_pod handed ${local} IPv6 bytes to the local pod (bpf_redirect_peer)`);
  assert.ok(out > MB8, `from_pod on node1 sent ${out} IPv6 bytes to the route's device (bpf_redirect/_neigh)`);
  assert.ok(inbound > MB8, `${hook} on node2 handed ${inbound} IPv6 bytes to the pod (bpf_redirect_peer)`);
  assert.ok(passed < 1 << 20, `from_pod passed ${passed} bytes to the stack`);
  assert.equal(after.node1.from_pod.drop.packets, 0, 'nothing dropped');
  const moved = {
    node1: (await forwarded6(lab, 'node1')) - fwd.node1,
    node2: (await forwarded6(lab, 'node2')) - fwd.node2,
  };
  assert.ok(moved.node1 < 50 && moved.node2 < 50, `the nodes' stacks forwarded ${JSON.stringify(moved)} IPv6 packets`);
}

for (const arch of ['ebpf-native', 'ebpf-vxlan'] as const) {
  ebpfTest(
    `${arch}, IPv6 only: the programs carry pods' IPv6 on one node and across nodes; no pod has IPv4`,
    async (t) => {
      const lab = `t-v6-${arch}`;
      await withLab(
        lab,
        arch,
        async (state) => {
          const p = pods(state);
          for (const x of state.pods) {
            assert.ok(x.ip.includes(':') && x.ips === undefined, `${x.name} holds one IPv6 address: ${x.ip}`);
            assert.deepEqual(await ipv4Addresses(x.netns), [], `${x.name} has no IPv4 address`);
            assert.deepEqual(await v6Flags(x.netns), ['nodad'], `${x.name}'s address: no DAD (ipv6Dad false)`);
          }
          assert.deepEqual(endpointsOf(lab, 'node1', 6), [p.a.ip, p.b.ip].sort(), "node1's endpoints6: its pods");
          assert.deepEqual(endpointsOf(lab, 'node1', 4), [], 'no IPv4 endpoint');
          assert.deepEqual(ingress(lab, 'node1', 'eth0'), ['from_netdev']);
          if (arch === 'ebpf-vxlan') assert.deepEqual(ingress(lab, 'node1', 'flannel-v6.1'), ['from_tunnel']);
          await carried(t, lab, arch === 'ebpf-native' ? 'from_netdev' : 'from_tunnel', p);
        },
        topology('ipv6'),
      );
    },
  );
}

ebpfTest('ebpf-vxlan, dual-stack, ipv6Dad: both maps, both families, DAD done, no policy agent', async (t) => {
  const lab = 't-v6-ebpf-dual';
  await withLab(
    lab,
    'ebpf-vxlan',
    async (state) => {
      const p = pods(state);
      for (const x of state.pods) {
        assert.equal(x.ips?.length, 2, `${x.name} holds two addresses`);
        // through DAD (enabledad from ipv6Dad), and ADD waited until it was over
        assert.deepEqual(await v6Flags(x.netns), [], `${x.name}'s IPv6 address went through DAD and settled`);
      }
      assert.deepEqual(endpointsOf(lab, 'node1', 4), [podIp(p.a, 4), podIp(p.b, 4)].sort());
      assert.deepEqual(endpointsOf(lab, 'node1', 6), [podIp(p.a, 6), podIp(p.b, 6)].sort());
      assert.deepEqual(ingress(lab, 'node1', 'flannel.1'), ['from_tunnel']);
      assert.deepEqual(ingress(lab, 'node1', 'flannel-v6.1'), ['from_tunnel']);
      assert.deepEqual(
        state.processes.filter((x) => x.role === POLICY_ROLE),
        [],
        'no policy agent: the ebpf design is IPv4 only',
      );
      await ping(p.a, podIp(p.c, 4)!);
      await ping(p.c, podIp(p.b, 4)!);
      await carried(t, lab, 'from_tunnel', p);
    },
    'topology: {computeNodes: 2, defaults: {pods: 2}, ipFamilies: [ipv4, ipv6], ipv6Dad: true}',
  );
});

ebpfTest('an ebpf lab with IPv6 refuses the ebpf policy design and a proxy, in one line naming the field', async () => {
  const v6 = (extra: string, name: string) =>
    parseTopology(`topology: {computeNodes: 2, ipFamilies: [ipv6]${extra}}`, 'test', { name });
  await assert.rejects(
    preflight(v6(', policyDataplane: ebpf', 't-v6-refuse-p'), 'ebpf-native'),
    /policyDataplane: ebpf enforces on IPv4 only, and this lab's pods have ipFamilies \[6\]/,
  );
  const dual = parseTopology('topology: {computeNodes: 2, ipFamilies: [ipv4, ipv6], proxy: ebpf}', 'test', {
    name: 't-v6-refuse-s',
  });
  await assert.rejects(preflight(dual, 'ebpf-vxlan'), /architecture ebpf-vxlan: proxy: ebpf translates IPv4 only/);
});
