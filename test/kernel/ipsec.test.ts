/**
 * flannel-ipsec, Cilium's static-key IPsec on flannel's nodes, where the kernel has ESP (the kernel
 * tier: `npm run test:kernel`; on a host without it, skipped naming the module): the cluster key in
 * each node's folder (0600, in no argv or log); one inbound ESP tunnel state per node, per peer an
 * outbound one and out/in/fwd policies between the pod subnets; pods at MTU underlay − 57 carrying traffic across nodes, the
 * ESP counters moving; a node joining gets and gives states, one leaving is removed from every peer;
 * and `down` leaving nothing (withLab asserts it).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ip } from '../../src/lib/netns';
import { nodeDir, nodeNetns, runDir } from '../../src/lab/names';
import { joinNode, leaveNode } from '../../src/lab/nodes';
import { IPSEC_KEY_FILE, IPSEC_OVERHEAD, parseXfrm } from '../../src/flannel/backends/ipsec';
import type { LabState } from '../../src/lab/state';
import { proveWire } from '../../src/lab/wire-proof';
import { transfer, waitUntil, withLab, WAIT_SCALE } from '../integration/helpers';
import { kernelTest } from '../integration/kernel';

const xfrm = async (lab: string, node: string, what: 'state' | 'policy'): Promise<string> =>
  (await ip({ name: nodeNetns(lab, node) }, ['xfrm', what, 'list'])).stdout;
const underlayIp = (s: LabState, node: string): string => s.topology.nodes.find((n) => n.name === node)!.underlayIp;

kernelTest(
  'flannel-ipsec: ESP tunnels per peer from one static key, policies per subnet pair, traffic, join and leave',
  ['esp4'],
  () =>
    withLab(
      't-kl-ipsec',
      'flannel-ipsec',
      async (s) => {
        const lab = s.lab;
        const key = readFileSync(join(runDir(lab), IPSEC_KEY_FILE), 'utf8');
        for (const n of ['node1', 'node2']) {
          const file = join(nodeDir(lab, n), IPSEC_KEY_FILE);
          assert.equal(statSync(file).mode & 0o777, 0o600, `${n}'s key file`);
          assert.equal(readFileSync(file, 'utf8'), key, `${n} holds the cluster key`);
        }
        const secret = key.split(' ')[2]!;
        for (const f of readdirSync(join(runDir(lab), 'logs')))
          assert.ok(!readFileSync(join(runDir(lab), 'logs', f), 'utf8').includes(secret), `the key in ${f}`);
        assert.ok(
          s.pods.every((p) => p.mtu === s.topology.underlay.mtu - IPSEC_OVERHEAD),
          'pods at MTU − 57',
        );
        const [a, b] = [underlayIp(s, 'node1'), underlayIp(s, 'node2')];
        assert.deepEqual(
          parseXfrm(await xfrm(lab, 'node1', 'state'))
            .map((e) => `${e.src}>${e.dst}`)
            .sort(),
          [`0.0.0.0>${a}`, `${a}>${b}`].sort(),
        );
        assert.deepEqual(
          parseXfrm(await xfrm(lab, 'node1', 'policy'))
            .filter((e) => e.dir !== undefined)
            .map((e) => e.dir)
            .sort(),
          ['fwd', 'in', 'out'],
        );
        const p = (name: string): LabState['pods'][number] => s.pods.find((x) => x.name === name)!;
        await transfer(p('node1-p1'), p('node2-p1'), 2);
        // Proven on the wire: only ESP between the nodes, no marker, no pod address in the clear.
        const proof = (await proveWire(lab, { wire: { proto: 'esp' } })).verdict;
        assert.ok(proof.ok, proof.failures.join('; '));
        assert.ok(proof.design > 0 && proof.markers === 0 && proof.podAddressed === 0);
        // The bytes went through the states: their counters count them.
        const stats = (await ip({ name: nodeNetns(lab, 'node1') }, ['-s', 'xfrm', 'state', 'list'])).stdout;
        assert.match(stats, /lifetime current:\s*\n\s*[1-9]\d*\(bytes\)/, "bytes through node1's ESP states");

        const joined = await joinNode(lab, 'node3', 1);
        const c = underlayIp(joined, 'node3');
        await waitUntil(
          'node1 holds node3',
          async () => parseXfrm(await xfrm(lab, 'node1', 'state')).some((e) => e.dst === c),
          20_000 * WAIT_SCALE,
        );
        await transfer(
          p('node1-p1'),
          joined.pods.find((x) => x.node === 'node3')!,
          1,
        );
        await leaveNode(lab, 'node3');
        for (const n of ['node1', 'node2'])
          await waitUntil(
            `${n} drops node3's states and policies`,
            async () =>
              !(await xfrm(lab, n, 'state')).includes(c) &&
              parseXfrm(await xfrm(lab, n, 'policy')).filter((e) => e.dir !== undefined).length === 3,
            20_000 * WAIT_SCALE,
          );
      },
      'topology: {computeNodes: 2, defaults: {pods: 1}}',
    ),
);
