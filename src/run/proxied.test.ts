import { test } from 'node:test';
import assert from 'node:assert/strict';
import { architectures } from '../arch';
import type { FeatureReport } from '../doctor/features';
import { parseTopology } from '../topology/load';
import { labName } from './labs';
import { pathInLab } from './paths';
import { planCells, planRun } from './plan';
import { proxiedArchs, proxyList, runService, runServiceIp, SERVICE_PORT_SHIFT } from './proxied';
import type { LabState } from '../lab/state';

const ALL_OK = new Proxy({}, { get: (_t, f) => ({ feature: f, ok: true, detail: 'ok' }) }) as FeatureReport;
const archs = (...names: string[]) => names.map((n) => architectures.get(n));

test('--proxy: each architecture with pods once per mode, none as registered, the baseline once', () => {
  const out = proxiedArchs(archs('host', 'flannel-vxlan'), ['none', 'nftables', 'ebpf']);
  assert.deepEqual(
    out.map((a) => a.name),
    ['host', 'flannel-vxlan', 'flannel-vxlan+nftables', 'flannel-vxlan+ebpf'],
  );
  const v = out[2]!;
  assert.deepEqual(v.proxied, { base: 'flannel-vxlan', proxy: 'nftables' });
  assert.equal(v.family, 'overlay');
  assert.equal(v.control, architectures.get('flannel-vxlan').control);
  // ipvs needs its module: the variant needs what the mode needs.
  const ipvs = proxiedArchs(archs('flannel-vxlan'), ['ipvs'])[0]!;
  assert.ok(ipvs.requires.length > architectures.get('flannel-vxlan').requires.length);
  assert.equal(labName('cnilab', ipvs.name), 'cnilab-flannel-vxlan-ipvs');
});

test('--proxy: an unknown mode or none at all is one line naming the flag', () => {
  assert.throws(() => proxyList(['nft']), /^CnilabError: --proxy: unknown proxy "nft"; known: .*nftables.*none$/);
  assert.throws(() => proxyList([], 'proxy'), /^CnilabError: proxy: give a proxy mode or more/);
  assert.deepEqual(proxyList(['ebpf', 'ebpf']), ['ebpf']);
});

test('the service path: the inter-node pods in a proxied lab; the baseline and a lab without a proxy skip with why', () => {
  const t = parseTopology('', 'd');
  const { cells, skipped } = planCells(
    t,
    proxiedArchs(archs('host', 'flannel-vxlan', 'ebpf-native'), ['none', 'iptables']),
    ['inter-node', 'service'],
    ALL_OK,
  );
  assert.deepEqual(
    cells.map((c) => `${c.arch.name}/${c.path}: ${c.endpoints.client} -> ${c.endpoints.server}`),
    [
      'host/inter-node: node1 -> node2',
      'flannel-vxlan/inter-node: node1-p1 -> node2-p1',
      'flannel-vxlan+iptables/inter-node: node1-p1 -> node2-p1',
      'flannel-vxlan+iptables/service: node1-p1 -> node2-p1',
      'ebpf-native/inter-node: node1-p1 -> node2-p1',
    ],
  );
  assert.deepEqual(
    skipped.map((s) => `${s.arch}${s.path ? `/${s.path}` : ''}: ${s.reason}`),
    [
      "host/service: attaches no pods: a Service's endpoints are pods",
      'flannel-vxlan/service: no Service proxy in its lab: the service path runs in its --proxy variants (name+mode)',
      'ebpf-native/service: no Service proxy in its lab: the service path runs in its --proxy variants (name+mode)',
      `ebpf-native+iptables: ${architectures.get('ebpf-native').control.refuse!({ ...t, proxy: 'iptables' })}`,
    ],
  );
});

test('the crr test runs on every cell (cnilab brings its own tool); its rows are keyed by the variant', () => {
  const t = parseTopology('', 'd');
  const none = new Proxy({}, { get: (_t, f) => ({ feature: f, ok: f !== 'sockperf', detail: 'no' }) }) as FeatureReport;
  const plan = planRun(
    t,
    proxiedArchs(archs('flannel-vxlan'), ['nftables']),
    ['service'],
    ['crr', 'latency'],
    { durationSec: 1, latencySec: 1, streams: 2, udpRateMbps: 100 },
    none,
  );
  assert.deepEqual(
    plan.rows.map((r) => `${r.key} @${r.lab}`),
    ['flannel-vxlan+nftables service crr {} @flannel-vxlan+nftables'],
  );
  assert.deepEqual(plan.skipped, [{ arch: 'flannel-vxlan+nftables', test: 'latency', reason: 'needs sockperf: no' }]);
});

test("the run's Service: a fixed ClusterIP of the range, the tools' ports to the server pod's, shifted", () => {
  const t = parseTopology('', 'd');
  assert.equal(runServiceIp(t), '10.96.0.10');
  const s = runService(t, 'node2-p1');
  assert.deepEqual(s.pods, ['node2-p1']);
  assert.deepEqual(
    s.ports.map((p) => `${p.port}/${p.protocol}->${p.targetPort}`),
    ['5201/tcp->5211', '5201/udp->5211', '11111/udp->11121', '5001/tcp->5011', '5300/tcp->5310'],
  );
  assert.ok(s.ports.every((p) => p.targetPort === p.port + SERVICE_PORT_SHIFT));
  // The service path dials the ClusterIP; its servers listen on the pod's address, shifted.
  const arch = proxiedArchs(archs('flannel-vxlan'), ['nftables'])[0]!;
  const pod = (name: string, node: string, ip: string) => ({ name, node, ip, mtu: 1450 });
  const lab = {
    lab: 'x',
    topology: { ...t, services: { ...t.services, list: [{ ...s, clusterIp: '10.96.0.10' }] } },
    pods: [pod('node1-p1', 'node1', '10.244.1.2'), pod('node2-p1', 'node2', '10.244.2.2')],
  } as unknown as LabState;
  const where = pathInLab(lab, arch, 'service', { client: 'node1-p1', server: 'node2-p1' });
  assert.equal(where.serverIp, '10.96.0.10');
  assert.equal(where.bindIp, '10.244.2.2');
  assert.equal(where.portShift, SERVICE_PORT_SHIFT);
  assert.deepEqual(where.nodes, ['node1', 'node2']);
  assert.throws(
    () => pathInLab({ ...lab, topology: t }, arch, 'service', { client: 'node1-p1', server: 'node2-p1' }),
    /holds no Service cnilab-run: it was not built with --proxy/,
  );
});
