/**
 * NetworkPolicy on the kernel users run (Debian's stock kernel, in the kernel tier's VM): the eBPF
 * design's maps and checks through that kernel's verifier and LPM tries, and the nftables design's
 * verdict maps and interval sets in its nf_tables — two catalogue cases each, matrices against the
 * oracle, on three pods of two nodes (app a alone on node1; b and c together on node2, so the
 * ipBlock's except — b's node's subnet — holds a same-node peer). The host suite
 * runs the whole catalogue on every design (test/integration/policy.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCatalogue } from '../../src/lab/policy-catalogue';
import { matrixText } from '../../src/policy/matrix';
import { withLab, WAIT_SCALE } from '../integration/helpers';
import { KERNEL_TIER } from '../integration/kernel';

const CASES = ['allow-from-selector', 'ipblock-except'];
const topology = (design: string): string =>
  'topology: {nodes: {control: {role: control}, node1: {role: compute, pods: 1}, node2: {role: compute, pods: 2}}, ' +
  `policyDataplane: ${design}}`;

for (const [arch, design] of [
  ['ebpf-native', 'ebpf'],
  ['calico-bgp', 'nftables'],
] as const)
  test(
    `${design} on ${arch}: two catalogue cases match the oracle on this kernel`,
    { skip: KERNEL_TIER ? false : 'outside the kernel tier: test/integration/policy.test.ts runs every case' },
    async () => {
      const lab = `t-kpol-${design.slice(0, 4)}`;
      await withLab(
        lab,
        arch,
        async () => {
          const r = await runCatalogue(lab, { cases: CASES, timeoutMs: 400 * WAIT_SCALE });
          assert.equal(r.cases.length, CASES.length);
          for (const c of r.cases) assert.equal(c.differences, 0, `${c.name}\n${matrixText(c.matrix)}`);
        },
        topology(design),
      );
    },
  );
