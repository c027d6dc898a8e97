/**
 * NetworkPolicy end to end: the catalogue's probe matrices against the oracle for each design
 * (calico-bgp through iptables and through nftables, ebpf-native through its programs), no
 * window where a denied pair gets through while a node's policy agent restarts, a kind without
 * enforcement saying so, bad input refused in one line, and nothing left after `down`.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, test } from 'node:test';
import { probeFeatures, missingReason } from '../../src/doctor/features';
import { architectures } from '../../src/arch';
import { restartProcess } from '../../src/lab/nodes';
import { POLICY_ROLE, policyDesign } from '../../src/lab/policy';
import { applyPolicies, listPolicies } from '../../src/lab/policy-apply';
import { runCatalogue } from '../../src/lab/policy-catalogue';
import { startProbeServers, watchFrom } from '../../src/lab/policy-probe';
import { matrixText } from '../../src/policy/matrix';
import { requireState } from '../../src/lab/state';
import { cli, withLab, WAIT_SCALE } from './helpers';

const CASES = [
  ['calico-bgp', 'iptables'],
  ['calico-bgp', 'nftables'],
  ['ebpf-native', 'ebpf'],
] as const;

const topology = (design: string): string => `topology: {computeNodes: 2, policyDataplane: ${design}}`;

describe('NetworkPolicy through each design', async () => {
  const features = await probeFeatures();
  for (const [arch, design] of CASES) {
    const a = architectures.get(arch);
    const d = a.control.policy?.designs.find((x) => x.name === design);
    const missing = !d ? `${arch} offers no design ${design}` : missingReason(features, [...a.requires, ...d.requires]);
    test(
      `${design} on ${arch}: the catalogue matches the oracle; an agent restart opens nothing`,
      { skip: missing },
      async (t) => {
        const lab = `cnilabt-pol-${design.slice(0, 4)}`;
        await withLab(
          lab,
          arch,
          async (state) => {
            assert.equal(policyDesign(state.topology, a)?.name, design);
            assert.equal(
              state.processes.filter((p) => p.role === POLICY_ROLE).length,
              2,
              'an agent on each compute node',
            );
            const r = await runCatalogue(lab, { timeoutMs: 400 * WAIT_SCALE });
            for (const c of r.cases)
              assert.equal(
                c.differences,
                0,
                `${c.name}: ${c.about}\n${matrixText(c.matrix)}${c.afterDelete ? `\n${matrixText(c.afterDelete)}` : ''}`,
              );
            assert.equal(r.cases.length, 8);
            assert.deepEqual((await listPolicies(lab)).policies, [], 'the catalogue leaves no policy');
            t.diagnostic(await restartWindow(lab));
          },
          topology(design),
        );
      },
    );
  }
});

/**
 * The window of allow-all, measured: a deny-all ingress, then node1's agent killed and started
 * again while a pod of node2 tries a pod of node1 every 20 ms: not one try may get through (the
 * rules stay in the kernel while the agent is down, and its first sync replaces them in one step).
 * Then the new agent must enforce a change: a policy admitting node2's pod opens the pair.
 */
async function restartWindow(lab: string): Promise<string> {
  const state = requireState(lab);
  const [n1, n2] = [state.pods.find((p) => p.node === 'node1')!, state.pods.find((p) => p.node === 'node2')!];
  await applyPolicies(lab, [
    { name: 'deny-all', namespace: 'default', podSelector: {}, policyTypes: ['Ingress'], ingress: [], egress: [] },
  ]);
  const stop = await startProbeServers([n1], [80]);
  try {
    const w = watchFrom(n2, [{ ip: n1.ip, port: 80, protocol: 'tcp' }], 60_000 * WAIT_SCALE, 20);
    await Promise.race([w.started, w.done]);
    const t0 = performance.now();
    const r = await restartProcess(lab, 'node1', 'SIGKILL', POLICY_ROLE);
    const restartMs = performance.now() - t0;
    w.stop();
    const [seen] = await w.done;
    assert.ok(restartMs < 60_000 * WAIT_SCALE, `the restart (${Math.round(restartMs)} ms) ended inside the watch`);
    assert.equal(r.process.role, POLICY_ROLE);
    assert.ok(seen!.attempts >= 3, `tries during the restart: ${seen!.attempts}`);
    assert.equal(seen!.allowed, 0, `${seen!.allowed} of ${seen!.attempts} tries got through while the agent restarted`);
    // the new agent enforces changes: allowing node2's pod opens the pair
    await applyPolicies(lab, [
      {
        name: 'from-n2',
        namespace: 'default',
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [{ peers: [{ podSelector: { matchLabels: { 'cnilab.io/pod': n2.name } } }] }],
        egress: [],
      },
    ]);
    const after = watchFrom(n2, [{ ip: n1.ip, port: 80, protocol: 'tcp' }], 300, 50);
    const [open] = await after.done;
    assert.ok(open!.allowed > 0, 'the restarted agent enforced the new policy');
    return `agent restart: ${Math.round(restartMs)} ms, ${seen!.allowed} of ${seen!.attempts} denied tries got through`;
  } finally {
    await stop();
  }
}

describe('NetworkPolicy where nothing enforces it, and bad input', () => {
  test('flannel-vxlan: apply stores and warns; policyDataplane refused; bad YAML refused naming the field', async () => {
    const lab = 'cnilabt-pol-none';
    const dir = tmpdir();
    const good = join(dir, 'cnilabt-pol-good.yaml');
    writeFileSync(
      good,
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec: {podSelector: {}}\n',
    );
    const bad = join(dir, 'cnilabt-pol-bad.yaml');
    writeFileSync(
      bad,
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\nspec:\n  podSelector: {}\n  ingress:\n  - ports: [{port: 0}]\n',
    );
    await withLab(lab, 'flannel-vxlan', async () => {
      const applied = await cli(['policy', 'apply', good, '--lab', lab]);
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(applied.stdout, /networkpolicy default\/deny created/);
      assert.match(applied.stderr, /warning: not enforced: architecture flannel-vxlan enforces no NetworkPolicy/);
      const refused = await cli(['policy', 'apply', bad, '--lab', lab]);
      assert.notEqual(refused.code, 0);
      assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
      assert.match(
        refused.stderr,
        /cnilabt-pol-bad\.yaml: document 1 \(x\): spec\.ingress\[0\]\.ports\[0\]\.port: Invalid value: 0/,
      );
      assert.deepEqual(
        (await listPolicies(lab)).policies.map((p) => p.name),
        ['deny'],
        'nothing of the bad file stored',
      );
      const deleted = await cli(['policy', 'delete', 'deny', '--lab', lab, '--json']);
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.equal((JSON.parse(deleted.stdout) as { enforcement: { enforced: boolean } }).enforcement.enforced, false);
    });
    const up = await cli(['up', '--lab', 'cnilabt-pol-x', '--arch', 'flannel-vxlan', '--topology', writeTopo(dir)]);
    assert.notEqual(up.code, 0);
    assert.match(up.stderr, /policyDataplane: flannel-vxlan enforces no NetworkPolicy/);
    assert.equal(up.stderr.trim().split('\n').length, 1);
  });
});

function writeTopo(dir: string): string {
  const f = join(dir, 'cnilabt-pol-topo.yaml');
  writeFileSync(f, 'topology: {computeNodes: 1, policyDataplane: iptables}\n');
  return f;
}
