/**
 * The service-scale test's measurement in real labs: flannel-vxlan with the iptables, nftables and
 * ebpf proxies, all up, measured together at 1 and 50 Services with few connections — figures of
 * the right shape and sane, the probed Service's rule the last of the kernel's KUBE-SERVICES
 * (iptables), its programming latency measured, every Service the test created gone afterwards
 * and the backends' labels as they were; nothing left after `down`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { apiRequest } from '../../src/apiserver/client';
import type { Pod, ServiceView } from '../../src/apiserver/model';
import { architectures } from '../../src/arch';
import type { Architecture } from '../../src/arch/architecture';
import { missingReason, probeFeatures } from '../../src/doctor/features';
import { nodeNetns } from '../../src/lab/names';
import type { LabState } from '../../src/lab/state';
import { proxyModes } from '../../src/proxy';
import { serviceScaleTest } from '../../src/run/service-scale';
import { measureServiceScale } from '../../src/run/service-scale/measure';
import { planServiceScale } from '../../src/run/service-scale/plan';
import { PROBE_SERVICE } from '../../src/run/service-scale/services';
import { serviceScaleSchema, type ServiceScaleJson } from '../../src/run/service-scale/schema';
import { parseTopology } from '../../src/topology/load';
import { topology } from './services-check';
import { withLab } from './helpers';

const PROXIES = ['iptables', 'nftables', 'ebpf'];
const variant = (proxy: string): Architecture => ({
  ...architectures.get('flannel-vxlan'),
  name: `flannel-vxlan+${proxy}`,
  proxied: { base: 'flannel-vxlan', proxy },
});

/** What the API server holds: Service names, and each pod's labels. */
async function apiContents(lab: string): Promise<{ services: string[]; pods: Pod[] }> {
  const s = await apiRequest<{ services: ServiceView[] }>(lab, 'GET', '/api/services');
  const p = await apiRequest<{ pods: Pod[] }>(lab, 'GET', '/api/pods');
  return { services: s.services.map((x) => x.name), pods: p.pods };
}

/** Every figure of every lab and N: of the right shape, and sane. */
function checkFigures(json: ServiceScaleJson): void {
  for (const a of json.archs)
    for (const c of a.counts) {
      const at = `${a.proxy} at ${c.n}`;
      assert.equal(c.firstPacket.n, 100, at);
      assert.ok(
        c.firstPacket.p50 > 0 && c.firstPacket.p50 < 50,
        `${at}: first packet ${JSON.stringify(c.firstPacket)}`,
      );
      assert.equal(c.failed, 0, at);
      assert.ok(c.crr.perSec > 10 && c.crr.failed === 0, `${at}: ${JSON.stringify(c.crr)}`);
      assert.equal(c.programming.n, 3, at);
      assert.ok(
        c.programming.min > 0 && c.programming.max < 10_000,
        `${at}: programming ${JSON.stringify(c.programming)}`,
      );
      assert.equal(c.agents.length, 2, at);
      assert.ok(
        c.agents.every((g) => g.syncs >= 1 && g.syncMs > 0),
        `${at}: every agent synced the Services: ${JSON.stringify(c.agents)}`,
      );
    }
}

/** The cluster-IP rules of KUBE-SERVICES in `lab`'s node1, in the kernel's order. */
const kubeServices = (lab: string): string[] =>
  execFileSync('ip', ['netns', 'exec', nodeNetns(lab, 'node1'), 'iptables', '-t', 'nat', '-S', 'KUBE-SERVICES'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter((l) => l.startsWith('-A KUBE-SERVICES') && l.includes('cluster IP'));

test('service-scale at 1 and 50 Services, three proxies side by side: sane figures, the probe last, the labs as they were', async (t) => {
  const features = await probeFeatures();
  const missing = PROXIES.map((p) => missingReason(features, proxyModes.get(p).requires)).find(Boolean);
  if (missing) return t.skip(missing);
  const archs = PROXIES.map(variant);
  const { cells, skipped } = planServiceScale({ topology: parseTopology(topology('nftables'), 't'), archs, features });
  assert.deepEqual(skipped, []);
  const settings = { counts: [1, 50], connections: 100, changes: 3 };
  const states: LabState[] = [];
  const inLabs = async (i: number): Promise<void> => {
    if (i < PROXIES.length)
      return withLab(
        `ss-${PROXIES[i]!.slice(0, 4)}`,
        'flannel-vxlan',
        async (s) => {
          states.push(s);
          await inLabs(i + 1);
        },
        topology(PROXIES[i]!),
      );
    const before = await Promise.all(states.map((s) => apiContents(s.lab)));
    const steps: string[] = [];
    const ordered: string[][] = [];
    const figures = await measureServiceScale(
      states.map((state, k) => ({ cell: { ...cells[k]!, lab: state.lab }, state })),
      settings,
      {
        seed: 1,
        labNetns: () => new Set(),
        progress: (x) => {
          steps.push(x);
          // Once the iptables lab holds its 50 Services (synced): its rules, as the first packet walks them.
          if (/iptables: 50 Services, \d+ connections$/.test(x)) ordered.push(kubeServices(states[0]!.lab));
        },
      },
    );
    assert.equal(ordered.length, 1);
    const own = parseTopology(topology('iptables'), 't').services!.list.length;
    assert.equal(ordered[0]!.length, 50 + own, "the fillers, the probe and the topology's own Services");
    assert.match(ordered[0]!.at(-1)!, new RegExp(`default/${PROBE_SERVICE} cluster IP`));
    const json = serviceScaleSchema.parse(serviceScaleTest.record(settings, figures));
    assert.deepEqual(
      json.archs.map((a) => `${a.arch} ${a.proxy} ${a.counts.map((c) => c.n).join(',')}`),
      ['flannel-vxlan+iptables iptables 1,50', 'flannel-vxlan+nftables nftables 1,50', 'flannel-vxlan+ebpf ebpf 1,50'],
    );
    checkFigures(json);
    assert.ok(steps.some((x) => /removing the Services/.test(x)));
    // The labs hold what they held: the topology's Services, the pods with their labels.
    assert.deepEqual(await Promise.all(states.map((s) => apiContents(s.lab))), before);
    console.log(
      JSON.stringify(
        json.archs.map((a) => ({
          arch: a.arch,
          counts: a.counts.map((c) => ({
            n: c.n,
            fp: c.firstPacket.p50,
            fp99: c.firstPacket.p99,
            crr: c.crr.perSec,
            prog: c.programming.p50,
            prog99: c.programming.p99,
            synced: c.syncedMs,
          })),
        })),
      ),
    );
  };
  await inLabs(0);
});
