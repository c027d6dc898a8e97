/** The ebpf architectures in IPv6 and dual-stack: the pods' ranges, and what such a lab refuses. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConflistContext } from '../flannel/control-plane';
import { refuseFamilies } from '../arch/architecture';
import { policyDesign, refusePolicy } from '../lab/policy';
import { parseTopology } from '../topology/load';
import { ebpfNativeArch, ebpfVxlanArch } from './architectures';
import { ebpfConflist, nodeBpfDir } from './control-plane';
import { parseEbpfConfig } from '../cni/plugins/ebpf/ebpf';

const ctx = (ipFamilies: readonly (4 | 6)[], v4 = true): ConflistContext => ({
  subnetEnv: {
    ...(v4 ? { network: '10.244.0.0/16', subnet: '10.244.2.1/24' } : {}),
    ipv6Network: 'fd00:10:244::/56',
    ipv6Subnet: 'fd00:10:244:2::1/64',
    mtu: 1450,
    ipMasq: false,
  },
  nodeDir: '/n',
  ipamDir: '/n/ipam',
  underlayIf: 'eth0',
  lab: 'l',
  node: 'node2',
  ipFamilies,
  ipv6Dad: false,
});

const ranges = (c: ConflistContext): unknown =>
  (ebpfConflist(c).plugins[0] as unknown as { ipam: { ranges: unknown } }).ipam.ranges;

test("ebpf conflist: one host-local range per family, in ipFamilies order, on the node's leased subnets", () => {
  const v4 = { subnet: '10.244.2.0/24', rangeStart: '10.244.2.2', rangeEnd: '10.244.2.254' };
  const v6 = {
    subnet: 'fd00:10:244:2::/64',
    rangeStart: 'fd00:10:244:2::2',
    rangeEnd: 'fd00:10:244:2:ffff:ffff:ffff:fffe',
  };
  assert.deepEqual(ranges(ctx([4])), [[v4]]);
  assert.deepEqual(ranges(ctx([6], false)), [[v6]]);
  assert.deepEqual(ranges(ctx([4, 6])), [[v4], [v6]]);
  assert.deepEqual(ranges(ctx([6, 4])), [[v6], [v4]]);
  const plugin = ebpfConflist(ctx([6], false)).plugins[0] as Record<string, unknown>;
  assert.equal(plugin.type, 'ebpf');
  assert.equal(plugin.bpfDir, nodeBpfDir('l', 'node2'));
  assert.throws(() => ebpfConflist(ctx([4, 6], false)), /node node2 has no IPv4 subnet/);
  // the topology's ipv6Dad: DAD on the pods' IPv6 addresses (the plugin's enabledad), off by default
  assert.equal(plugin.enabledad, undefined);
  assert.equal(
    (ebpfConflist({ ...ctx([6], false), ipv6Dad: true }).plugins[0] as Record<string, unknown>).enabledad,
    true,
  );
  assert.equal(
    parseEbpfConfig(JSON.stringify({ cniVersion: '1.0.0', name: 'n', bpfDir: '/b', ipam: { type: 'host-local' } }))
      .enableDad,
    false,
  );
  assert.throws(
    () => parseEbpfConfig(JSON.stringify({ cniVersion: '1.0.0', name: 'n', bpfDir: '/b', enabledad: 'yes' })),
    (e: Error) => /^enabledad: must be true or false/.test(e.message),
  );
});

test('ebpf-native and ebpf-vxlan give pods IPv4, IPv6 or both', () => {
  for (const arch of [ebpfNativeArch, ebpfVxlanArch]) {
    assert.deepEqual(arch.control.ipFamilies, [4, 6]);
    for (const f of [[4], [6], [4, 6]] as const) assert.equal(refuseFamilies(arch, f), undefined, `${arch.name} ${f}`);
    assert.equal(arch.control.refuse?.(parseTopology('topology:\n  ipFamilies: [ipv6]\n', 't')), undefined);
  }
});

test('an ebpf lab with IPv6 pods: no policy design by default, the ebpf design refused by name, a proxy refused', () => {
  const v6 = parseTopology('topology:\n  ipFamilies: [ipv6]\n', 't');
  const dual = parseTopology('topology:\n  ipFamilies: [ipv4, ipv6]\n', 't');
  const v4 = parseTopology('', 't');
  assert.equal(policyDesign(v4, ebpfNativeArch)?.name, 'ebpf');
  assert.equal(policyDesign(v6, ebpfNativeArch), undefined);
  assert.equal(policyDesign(dual, ebpfVxlanArch), undefined);
  assert.equal(refusePolicy(v6, ebpfNativeArch), undefined);
  assert.match(
    refusePolicy({ ...dual, policyDataplane: 'ebpf' }, ebpfNativeArch) ?? '',
    /^policyDataplane: ebpf enforces on IPv4 only, and this lab's pods have ipFamilies \[4, 6\]/,
  );
  assert.equal(refusePolicy({ ...v4, policyDataplane: 'ebpf' }, ebpfNativeArch), undefined);
  assert.equal(refusePolicy({ ...dual, policyDataplane: 'none' }, ebpfNativeArch), undefined);
  for (const arch of [ebpfNativeArch, ebpfVxlanArch]) {
    assert.match(arch.control.refuse?.({ ...dual, proxy: 'ebpf' }) ?? '', /^proxy: ebpf translates IPv4 only/);
    assert.equal(arch.control.refuse?.({ ...v4, proxy: 'ebpf' }), undefined);
  }
});
