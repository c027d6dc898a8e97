/**
 * BIG TCP (docs/big-tcp.md) in a flannel-host-gw lab: with `bigTcp: true` every device a pod's packet
 * crosses has GSO/GRO sizes of 196608, IPv6's and IPv4's — the pod's eth0 and its host end (the bridge
 * plugin's, through flannel's delegate), the node's bridge cni0, the node's eth0, its switch port and
 * the switch's bridge —, read back over netlink; the MTUs stay 1500. A TCP transfer between pods on
 * two nodes then carries packets longer than 64 KiB: tcpdump on the client pod's host end and on the
 * server's node eth0 (after the switch) sees frames above 65535 bytes. The same lab without bigTcp
 * never exceeds 65536. `bigTcp: true` on flannel-vxlan is refused in one line, nothing created.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIG_TCP_SIZE, bigTcpDiffers, LEGACY_MAX_SIZE } from '../../src/lib/netlink/big-tcp';
import { withRtnl, type NlLink } from '../../src/lib/netlink/rtnl';
import { listNamedNetns } from '../../src/lib/netns';
import { parsePcap } from '../../src/lib/pcap';
import { nodeNetns, PREFIX, runDir, switchNetns, SWITCH_BRIDGE, UNDERLAY_IF } from '../../src/lab/names';
import type { LabState } from '../../src/lab/state';
import { captureOn } from '../../src/lab/wire-proof';
import { assertNothingLeft, cli, rootSnapshot, transfer, withLab } from './helpers';
import { ebpfTest } from './ebpf-skip';

const links = (ns: string): NlLink[] => withRtnl({ name: ns }, (nl) => nl.links());
const link = (ns: string, name: string): NlLink => {
  const l = links(ns).find((x) => x.ifname === name);
  assert.ok(l, `${name} in ${ns}`);
  return l;
};

/** The host ends of a node's pods: its veths but the underlay's eth0 (cni0's ports, lxc…, cali…). */
const hostEnds = (state: LabState, node: string): NlLink[] =>
  links(nodeNetns(state.lab, node)).filter((l) => l.linkinfo?.info_kind === 'veth' && l.ifname !== UNDERLAY_IF);

/** Every device with BIG TCP's sizes and its unchanged MTU (pod eth0s, host ends, node eth0s and `extra` on nodes). */
function assertBigTcp(state: LabState, extra: readonly string[] = []): void {
  const sw = switchNetns(state.lab);
  const devices: [string, NlLink][] = [
    [sw, link(sw, SWITCH_BRIDGE)],
    ...state.pods.map((p): [string, NlLink] => [p.netns, link(p.netns, 'eth0')]),
  ];
  for (const node of new Set(state.pods.map((p) => p.node))) {
    const ns = nodeNetns(state.lab, node);
    devices.push(
      [ns, link(ns, UNDERLAY_IF)],
      [sw, link(sw, node)],
      ...extra.map((d): [string, NlLink] => [ns, link(ns, d)]),
    );
    const ends = hostEnds(state, node);
    assert.equal(ends.length, state.pods.filter((p) => p.node === node).length, `${node}: a host end per pod`);
    for (const e of ends) devices.push([ns, e]);
  }
  for (const [ns, l] of devices) {
    assert.equal(bigTcpDiffers(l), undefined, `${ns} ${l.ifname}`);
    assert.equal(l.gso_ipv4_max_size, BIG_TCP_SIZE);
    assert.equal(l.mtu, 1500, `${ns} ${l.ifname}: the MTU stays as it is`);
  }
}

/**
 * While `mbytes` MB go from the first pod to a pod on another node: the longest frame tcpdump saw on the client
 * node's host ends (its pods', the client's among them) and on the server node's eth0.
 */
async function longestFrames(state: LabState, mbytes: number): Promise<{ hostEnd: number; serverEth0: number }> {
  const from = state.pods[0]!;
  const to = state.pods.find((p) => p.node !== from.node)!;
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-bigtcp-'));
  try {
    const files = hostEnds(state, from.node).map((l) => ({ l, file: join(dir, `${l.ifname}.pcap`) }));
    const eth0 = join(dir, 'eth0.pcap');
    const captures = await Promise.all([
      ...files.map((f) => captureOn(nodeNetns(state.lab, from.node), f.l.ifname, f.file, 96, 10_000)),
      captureOn(nodeNetns(state.lab, to.node), UNDERLAY_IF, eth0, 96, 10_000),
    ]);
    try {
      await transfer(from, to, mbytes);
    } finally {
      for (const c of captures) await c.stop();
    }
    const longest = (file: string): number =>
      Math.max(0, ...parsePcap(readFileSync(file), file).frames.map((f) => f.length));
    return { hostEnd: Math.max(...files.map((f) => longest(f.file))), serverEth0: longest(eth0) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('flannel-host-gw with bigTcp: 196608 on every device a pod packet crosses, MTU 1500, GSO packets above 64 KiB', async (t) => {
  await withLab(
    't-bigtcp',
    'flannel-host-gw',
    async (state) => {
      assertBigTcp(state, ['cni0']);
      const seen = await longestFrames(state, 256);
      t.diagnostic(
        `bigTcp: longest frame ${seen.hostEnd} bytes on a host end, ${seen.serverEth0} on the server's eth0`,
      );
      assert.ok(seen.hostEnd > 65535, `a GSO packet above 64 KiB on the client's host end: ${seen.hostEnd}`);
      assert.ok(seen.hostEnd <= BIG_TCP_SIZE, `none above BIG TCP's size: ${seen.hostEnd}`);
      assert.ok(seen.serverEth0 > 65535, `and across the switch, on the server node's eth0: ${seen.serverEth0}`);
    },
    'topology: {computeNodes: 2, defaults: {pods: 2}, bigTcp: true}',
  );
});

test('the same lab without bigTcp: the kernel sizes (64 KiB), no packet above them', async (t) => {
  await withLab(
    't-bigtcp-off',
    'flannel-host-gw',
    async (state) => {
      const pod = state.pods[0]!;
      const eth0 = link(pod.netns, 'eth0');
      assert.equal(eth0.gso_max_size, LEGACY_MAX_SIZE);
      assert.equal(eth0.gso_ipv4_max_size, LEGACY_MAX_SIZE);
      const seen = await longestFrames(state, 256);
      t.diagnostic(
        `no bigTcp: longest frame ${seen.hostEnd} bytes on a host end, ${seen.serverEth0} on the server's eth0`,
      );
      assert.ok(seen.hostEnd > 1514, `GSO still builds packets above the MTU: ${seen.hostEnd}`);
      assert.ok(seen.hostEnd <= LEGACY_MAX_SIZE, `none above 64 KiB: ${seen.hostEnd}`);
      assert.ok(seen.serverEth0 <= LEGACY_MAX_SIZE, `none above 64 KiB on the server's eth0: ${seen.serverEth0}`);
    },
    'topology: {computeNodes: 2, defaults: {pods: 2}}',
  );
});

/** An L3 architecture's pods (the calico or ebpf plugin, common/l3-pod.ts): the sizes, and a GSO packet above 64 KiB. */
async function l3Lab(t: TestContext, lab: string, arch: string): Promise<void> {
  await withLab(
    lab,
    arch,
    async (state) => {
      assertBigTcp(state);
      const seen = await longestFrames(state, 128);
      t.diagnostic(
        `${arch} bigTcp: longest frame ${seen.hostEnd} on a host end, ${seen.serverEth0} on the server's eth0`,
      );
      assert.ok(seen.hostEnd > 65535, `a GSO packet above 64 KiB on the client's host end: ${seen.hostEnd}`);
      assert.ok(seen.serverEth0 > 65535, `and across the switch: ${seen.serverEth0}`);
    },
    'topology: {computeNodes: 2, defaults: {pods: 1}, bigTcp: true}',
  );
}

test('calico-bgp with bigTcp: the calico plugin sets both ends of the veth, GSO packets above 64 KiB', (t) =>
  l3Lab(t, 't-bigtcp-calico', 'calico-bgp'));

ebpfTest('ebpf-native with bigTcp: the ebpf plugin sets both ends of the veth, GSO packets above 64 KiB', (t) =>
  l3Lab(t, 't-bigtcp-ebpf', 'ebpf-native'),
);

test('bigTcp on flannel-vxlan is refused in one line naming the field, nothing created', async () => {
  const lab = 't-bigtcp-bad';
  const root = await rootSnapshot();
  const ours = (): string[] => listNamedNetns().filter((ns) => ns.startsWith(PREFIX));
  const before = ours();
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-bigtcp-'));
  try {
    const file = join(dir, 'topology.yaml');
    writeFileSync(file, 'topology: {computeNodes: 2, bigTcp: true}\n');
    const r = await cli(['up', '--arch', 'flannel-vxlan', '--topology', file, '--lab', lab]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /^cnilab: bigTcp: flannel-vxlan cannot use BIG TCP \([^\n]+\); it is an option of [a-z0-9-, ]*flannel-host-gw[a-z0-9-, ]*\n$/,
    );
    assert.deepEqual(ours(), before, 'no namespace made');
    assert.throws(() => readFileSync(join(runDir(lab), 'state.json')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await assertNothingLeft(lab, root);
});
