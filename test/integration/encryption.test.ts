/**
 * The WireGuard architectures in a lab (flannel-wireguard, calico-wireguard), on the kernel's
 * WireGuard where it has one and on wireguard-go here: pods talk across nodes through the device;
 * each node's key is in its folder (0600) and in no argv or log; every node holds every other as a
 * peer, a node joining is added to every peer and one leaving removed from every one; a restarted
 * agent keeps its key and its device; and after `down` no device's process, socket or key is left.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from '../../src/lib/exec';
import { nodeDir, nodeNetns, runDir } from '../../src/lab/names';
import { joinNode, leaveNode, restartProcess } from '../../src/lab/nodes';
import { pidsInNetns } from '../../src/lab/teardown';
import type { LabState } from '../../src/lab/state';
import { probeFeatures } from '../../src/doctor/features';
import { devicePeers, publicKeyOf, type WgImplementation } from '../../src/node/wireguard';
import { architectures } from '../../src/arch';
import { proveWire } from '../../src/lab/wire-proof';
import { transfer, waitUntil, withLab, WAIT_SCALE } from './helpers';
import { assertKernelTierHas, KERNEL_TIER } from './kernel';

const DEVICE: Record<string, string> = { 'flannel-wireguard': 'flannel-wg', 'calico-wireguard': 'wireguard.cali' };
const compute = (s: LabState): string[] => s.topology.nodes.filter((n) => n.role === 'compute').map((n) => n.name);
const keyFile = (lab: string, node: string): string => join(nodeDir(lab, node), 'wireguard', 'private.key');
const publicKey = (lab: string, node: string): string => publicKeyOf(readFileSync(keyFile(lab, node), 'utf8'));

/** The public keys of the peers `node`'s device holds, read with `wg` as the agent does. */
async function peersOf(lab: string, node: string, device: string, impl: WgImplementation): Promise<string[]> {
  const dir = join(nodeDir(lab, node), 'wireguard');
  return (await devicePeers({ name: nodeNetns(lab, node) }, impl, dir, device)).map((p) => p.publicKey).sort();
}

/** wireguard-go's processes in the lab's node namespaces. */
const wireguardGoPids = (s: LabState): number[] =>
  pidsInNetns(compute(s).map((n) => nodeNetns(s.lab, n))).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'wireguard-go';
    } catch {
      return false;
    }
  });

/** Every lab process's argv and every log: no private key of the lab's nodes in any. */
function assertKeysKeptSecret(s: LabState): void {
  const keys = compute(s).map((n) => readFileSync(keyFile(s.lab, n), 'utf8').trim());
  for (const n of compute(s)) assert.equal(statSync(keyFile(s.lab, n)).mode & 0o777, 0o600, `${n}'s key file mode`);
  const logs = join(runDir(s.lab), 'logs');
  for (const f of readdirSync(logs)) {
    const text = readFileSync(join(logs, f), 'utf8');
    for (const k of keys) assert.ok(!text.includes(k), `a private key in ${f}`);
  }
  for (const pid of pidsInNetns(compute(s).map((n) => nodeNetns(s.lab, n)))) {
    let argv: string;
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    for (const k of keys) assert.ok(!argv.includes(k), `a private key in the argv of ${pid}`);
  }
}

// Probed once for the file: each architecture's test reads the same report.
const features = probeFeatures();

for (const arch of Object.keys(DEVICE)) {
  test(`${arch}: traffic through WireGuard, keys, peers that follow the nodes, a restart, nothing left`, async (t) => {
    // The kernel tier's kernel has WireGuard: there the kernel's runs, and must.
    assertKernelTierHas(['wireguard']);
    const a = architectures.get(arch);
    const wireguard = (await features).wireguard;
    if (!wireguard?.ok) return t.skip(`needs wireguard: ${wireguard?.detail}`);
    const impl: WgImplementation = wireguard.detail.startsWith('kernel') ? 'kernel' : 'wireguard-go';
    if (KERNEL_TIER) assert.equal(impl, 'kernel', "the kernel tier runs the kernel's WireGuard");
    const device = DEVICE[arch]!;
    const lab = `enc-${arch.split('-')[0]}`;
    let goPids: number[] = [];
    await withLab(
      lab,
      arch,
      async (s) => {
        assert.ok(a.encryption, `${arch} declares its encryption`);
        const p = (name: string): LabState['pods'][number] => s.pods.find((x) => x.name === name)!;
        await transfer(p('node1-p1'), p('node2-p1'), 2);
        const nodes = compute(s);
        const keys = new Map(nodes.map((n) => [n, publicKey(lab, n)]));
        for (const n of nodes)
          assert.deepEqual(
            await peersOf(lab, n, device, impl),
            nodes
              .filter((m) => m !== n)
              .map((m) => keys.get(m)!)
              .sort(),
            `${n}'s peers are the other nodes' keys`,
          );
        assert.equal(existsSync(join(nodeDir(lab, 'node1'), 'wireguard', `${device}.sock`)), impl === 'wireguard-go');
        assertKeysKeptSecret(s);
        // The kernel's WireGuard proven on the wire too (wire-proof.test.ts proves wireguard-go's on the host).
        if (KERNEL_TIER) {
          const proof = (await proveWire(lab, { wire: a.encryption!.wire })).verdict;
          assert.ok(proof.ok, proof.failures.join('; '));
        }
        goPids = wireguardGoPids(s);
        assert.equal(goPids.length, impl === 'wireguard-go' ? nodes.length : 0, 'one wireguard-go per node');
        // The kernel tier proves the kernel's device carries the traffic; what follows is the agents' logic, the
        // same on either implementation, and 15–60× slower there.
        if (KERNEL_TIER) return;

        // A restarted agent keeps its key and its device: the peers need no change, the pods still talk.
        const restarted = await restartProcess(lab, 'node2', 'SIGTERM', 'agent');
        const status = join(nodeDir(lab, 'node2'), 'agent.json');
        await waitUntil(
          'the restarted agent on node2 synced',
          async () => existsSync(status) && JSON.parse(readFileSync(status, 'utf8')).pid === restarted.process.pid,
          20_000 * WAIT_SCALE,
        );
        assert.equal(publicKey(lab, 'node2'), keys.get('node2'), 'the same key after a restart');
        await transfer(p('node1-p1'), p('node2-p1'), 1);
        assert.deepEqual(wireguardGoPids(restarted.state).sort(), [...goPids].sort(), 'the same wireguard-go');

        // A node joining is every peer's peer; leaving, it is no one's.
        const joined = await joinNode(lab, 'node3', 1);
        const k3 = publicKey(lab, 'node3');
        goPids.push(...wireguardGoPids(joined).filter((x) => !goPids.includes(x)));
        for (const n of nodes) assert.ok((await peersOf(lab, n, device, impl)).includes(k3), `${n} has node3`);
        await transfer(
          p('node1-p1'),
          joined.pods.find((x) => x.node === 'node3')!,
          1,
        );
        await leaveNode(lab, 'node3');
        for (const n of nodes)
          await waitUntil(
            `${n} drops node3`,
            async () => !(await peersOf(lab, n, device, impl)).includes(k3),
            20_000 * WAIT_SCALE,
          );
      },
      'topology: {computeNodes: 2, defaults: {pods: 1}}',
    );
    for (const pid of goPids) assert.equal(isAlive(pid), false, `wireguard-go ${pid} left running`);
  });
}
