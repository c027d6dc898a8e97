/**
 * A lab's Services through each proxy mode, on two architectures (services-check.ts says what is
 * checked); a kind whose data path cannot carry a proxy refuses one. Nothing left after `down`.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { runDir } from '../../src/lab/names';
import { probeFeatures, missingReason } from '../../src/doctor/features';
import { proxyModes } from '../../src/proxy';
import { cli, withLab } from './helpers';
import { correctness, PORT, pod, topology } from './services-check';
import { apiRequest } from '../../src/apiserver/client';
import type { ServiceView } from '../../src/apiserver/model';
import { joinNode, leaveNode } from '../../src/lab/nodes';
import { proxyBpffs } from '../../src/lab/services';
import { runCrr, startCrrServer } from '../../src/traffic/crr/run';
import { join } from 'node:path';

const ARCHS = ['flannel-vxlan', 'calico-bgp'];
/** The eBPF data paths move pods' packets past the stack: only a proxy that translates in eBPF runs there. */
const EBPF_ARCHS = ['ebpf-native', 'ebpf-vxlan'];

/** Every mode on the architectures that route through the node; the eBPF modes on the eBPF data paths too. */
const CASES = [
  ...ARCHS.flatMap((arch) => proxyModes.names().map((mode) => [arch, mode] as const)),
  ...EBPF_ARCHS.flatMap((arch) =>
    proxyModes
      .names()
      .filter((m) => proxyModes.get(m).translates === 'ebpf')
      .map((mode) => [arch, mode] as const),
  ),
];

describe('Services through each proxy mode', async () => {
  const features = await probeFeatures();
  for (const [arch, mode] of CASES) {
    const missing = missingReason(features, proxyModes.get(mode).requires);
    test(
      `${mode} on ${arch}: spread, a removed endpoint, no endpoints refused, the source seen, partial syncs`,
      {
        skip: missing ? `${mode} ${missing}` : false,
      },
      () =>
        withLab(
          `svc-${mode.slice(0, 4)}-${arch.replace('ebpf-', 'e').slice(0, 4)}`,
          arch,
          (s) => correctness(s, mode),
          topology(mode),
        ),
    );
  }
  test(
    'a node joins with the ebpf proxy: its pods are endpoints through its proxy; it leaves: its pins and endpoints go',
    {
      skip: missingReason(features, proxyModes.get('ebpf').requires) ?? false,
    },
    () =>
      withLab(
        'svc-join',
        'flannel-vxlan',
        async (s) => {
          const joined = await joinNode(s.lab, 'node3', 1);
          const proxy3 = joined.processes.find((p) => p.role === 'proxy' && p.node === 'node3');
          assert.ok(proxy3, "node3's proxy is recorded");
          assert.ok(existsSync(join(proxyBpffs(s.lab), 'node3')), "node3's pins are in the lab's proxy bpffs");
          const pods = await apiRequest<{ pods: { name: string }[] }>(s.lab, 'GET', '/api/pods');
          assert.ok(
            pods.pods.some((p) => p.name === 'node3-p1'),
            'the joined pod is registered',
          );
          // From the joined node's pod, through its own proxy, to the web Service's endpoints on node2.
          const servers = [
            await startCrrServer({ name: pod(joined, 'node2-p1').netns }, PORT, 'node2-p1'),
            await startCrrServer({ name: pod(joined, 'node2-p2').netns }, PORT, 'node2-p2'),
          ];
          try {
            const web = await apiRequest<ServiceView>(s.lab, 'GET', '/api/services/web');
            const r = await runCrr(
              { name: pod(joined, 'node3-p1').netns },
              { host: web.clusterIp, port: 80, count: 4 },
            );
            assert.equal(r.ok, 4, JSON.stringify(r));
          } finally {
            for (const x of servers) await x.stop();
          }
          await leaveNode(s.lab, 'node3');
          assert.equal(existsSync(join(proxyBpffs(s.lab), 'node3')), false, "node3's pins went with it");
          const after = await apiRequest<{ pods: { name: string }[] }>(s.lab, 'GET', '/api/pods');
          assert.equal(
            after.pods.some((p) => p.name === 'node3-p1'),
            false,
            'its pod is no endpoint any more',
          );
        },
        topology('ebpf'),
      ),
  );
  test('ebpf-native refuses a netfilter proxy in one line, before anything is made', async () => {
    const r = await cli(['up', '--arch', 'ebpf-native', '--lab', 'svc-refused', '--proxy', 'nftables']);
    assert.notEqual(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /proxy: this data path's tc programs move pods' packets past the node's IP stack, where a netfilter proxy translates .*use --proxy ebpf here/,
    );
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.equal(existsSync(runDir('svc-refused')), false);
  });
});
