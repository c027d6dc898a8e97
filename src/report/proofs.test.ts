import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT } from '../lib/paths';
import type { RunResults } from '../run/results-schema';
import { readResults } from './outputs';
import { renderHtml } from './html';
import { proofLines, proofsHtml, skippedLabel } from './proofs';

const recorded = (): RunResults => readResults(join(REPO_ROOT, 'test/fixtures/results-v5.json'));

const proven = {
  arch: 'flannel-wireguard',
  design: 'wireguard',
  wire: 'udp/51820',
  ok: true,
  failures: [],
  packets: 900,
  designPackets: 812,
  markers: 0,
  podAddressed: 0,
  betweenNodes: { 'udp/51820': 812 },
  controlPlane: { 'controller tcp/6443': 12 },
};
const failed = {
  ...proven,
  arch: 'calico-wireguard',
  underlayMtu: 9000,
  ok: false,
  failures: ['plaintext: the marker sent pod to pod was seen in 2 frames on the switch'],
  designPackets: 0,
  markers: 2,
};

test('a run without encrypted architectures: no proof section, no lines (files before proofs read as before)', () => {
  const r = recorded();
  assert.equal(r.proofs, undefined);
  assert.deepEqual(proofLines(r), []);
  assert.equal(proofsHtml(r), '');
  assert.doesNotMatch(renderHtml(r, []), /Proven encrypted/);
});

test('the proofs in the terminal and the report: the wire, its packets, the markers, the verdict', () => {
  const r = { ...recorded(), proofs: [proven, failed] };
  assert.deepEqual(proofLines(r), [
    'Proven encrypted on the wire (a capture on the switch during one extra sample, kept out of the figures):',
    '  flannel-wireguard udp/51820: proven: 812 udp/51820 packets between the nodes, 0 markers, 0 pod-addressed ' +
      'frames; in the clear, as in real clusters: controller tcp/6443: 12',
    '  calico-wireguard (mtu 9000) udp/51820: FAILED, its rows are errors: plaintext: the marker sent pod to pod ' +
      'was seen in 2 frames on the switch',
    '',
  ]);
  const html = renderHtml(r, []);
  assert.match(html, /<h2>Proven encrypted on the wire<\/h2>[^]*<h2>What this run can claim<\/h2>/);
  assert.match(
    html,
    /<tr><td>flannel-wireguard<\/td><td>wireguard: udp\/51820<\/td><td class="num">812<\/td><td class="num">0<\/td><td>✔ proven/,
  );
  assert.match(html, /<td>calico-wireguard \(mtu 9000\)<\/td>.*<td class="num">2<\/td><td>✘ FAILED/);
});

test('a row of a failed proof is an error, not a skip', () => {
  assert.equal(skippedLabel({ arch: 'a', reason: 'no vxlan' }), 'skipped');
  assert.equal(skippedLabel({ arch: 'a', reason: 'the wire proof failed', failed: true }), 'error');
  const r = {
    ...recorded(),
    skipped: [{ arch: 'x-wg', path: 'inter-node' as const, reason: 'proof', failed: true as const }],
  };
  assert.match(renderHtml(r, []), /error: x-wg inter-node: proof/);
});
