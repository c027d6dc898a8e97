import { test } from 'node:test';
import assert from 'node:assert/strict';
import { architectures } from '../arch';
import { bigTcpArchs, bigTcpComparisons, bigTcpModes, withBigTcp } from './big-tcp';
import { baseName } from './proxied';
import { labName } from './labs';
import { planCells } from './plan';
import type { FeatureReport } from '../doctor/features';
import { parseTopology } from '../topology/load';

const get = (n: string) => architectures.get(n);
const names = (m: Parameters<typeof bigTcpModes>[0]) =>
  bigTcpArchs(['host', 'flannel-host-gw', 'flannel-vxlan'].map(get), bigTcpModes(m)).map((a) => a.name);

test('--big-tcp: off keeps the architectures; on and off,on add base+bigtcp where it is an option', () => {
  assert.deepEqual(names(['off']), ['host', 'flannel-host-gw', 'flannel-vxlan']);
  assert.deepEqual(names(['off', 'on']), [
    'host',
    'flannel-host-gw',
    'flannel-host-gw+bigtcp',
    'flannel-vxlan',
    'flannel-vxlan+bigtcp',
  ]);
  // on alone: where it is an option, the variant only; elsewhere the architecture as it is, and its variant to skip
  assert.deepEqual(names(['on']), ['host', 'flannel-host-gw+bigtcp', 'flannel-vxlan', 'flannel-vxlan+bigtcp']);
  assert.deepEqual(bigTcpModes([true, false, 'on']), ['off', 'on']);
  assert.throws(() => bigTcpModes(['yes']), /^CnilabError: --big-tcp: "yes" is not a BIG TCP mode; give off, on/);
  assert.throws(() => bigTcpModes([], 'bigTcp'), /bigTcp: give off, on, or off,on/);
});

test('a variant is built from its base, needs the big-tcp probe, and names its lab with a dash', () => {
  const v = withBigTcp(get('ebpf-native'));
  assert.equal(v.name, 'ebpf-native+bigtcp');
  assert.equal(baseName(v), 'ebpf-native');
  assert.ok(v.requires.includes('big-tcp'));
  assert.equal(labName('cnilab', v.name), 'cnilab-ebpf-native-bigtcp');
});

test('the planner skips a variant whose base cannot use BIG TCP, and one the kernel cannot carry, with the reason', () => {
  const ok = new Proxy({}, { get: (_t, f) => ({ feature: f, ok: true, detail: 'ok' }) }) as FeatureReport;
  const topology = parseTopology('topology: {computeNodes: 2}', 'test');
  const archs = [withBigTcp(get('flannel-vxlan')), withBigTcp(get('calico-bgp'))];
  const { cells, skipped } = planCells(topology, archs, ['inter-node'], ok);
  assert.deepEqual(
    cells.map((c) => c.arch.name),
    ['calico-bgp+bigtcp'],
  );
  assert.equal(skipped.length, 1);
  assert.equal(skipped[0]!.arch, 'flannel-vxlan+bigtcp');
  assert.match(
    skipped[0]!.reason,
    /^bigTcp: flannel-vxlan cannot use BIG TCP \(.+\); it is an option of flannel-host-gw, ebpf-native, calico-bgp, ebpf-netkit$/,
  );
  const noKernel = new Proxy(
    {},
    {
      get: (_t, f) => ({ feature: f, ok: f !== 'big-tcp', detail: f === 'big-tcp' ? 'the kernel says no' : 'ok' }),
    },
  ) as FeatureReport;
  assert.deepEqual(planCells(topology, [archs[1]!], ['inter-node'], noKernel).skipped, [
    { arch: 'calico-bgp+bigtcp', reason: 'needs big-tcp: the kernel says no' },
  ]);
});

test('the designs compared gain X+bigtcp against X on each path both were measured on', () => {
  const d = bigTcpComparisons([
    { arch: 'calico-bgp', path: 'inter-node' },
    { arch: 'calico-bgp+bigtcp', path: 'inter-node' },
    { arch: 'calico-bgp+bigtcp', path: 'inter-node' },
    { arch: 'calico-bgp', path: 'intra-node' },
    { arch: 'calico-bgp+bigtcp', path: 'intra-node' },
    { arch: 'ebpf-native+bigtcp', path: 'inter-node' },
  ]);
  assert.deepEqual(
    d.map((x) => [x.a, x.b, x.path]),
    [
      ['calico-bgp+bigtcp', 'calico-bgp', 'inter-node'],
      ['calico-bgp+bigtcp', 'calico-bgp', 'intra-node'],
    ],
  );
  assert.match(d[0]!.design, /^BIG TCP \(GSO\/GRO 196608 bytes/);
});
