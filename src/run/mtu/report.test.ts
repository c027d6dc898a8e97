import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aboveText, mtuHeadline, mtuLines, mtuTable } from './report';
import { mtuSchema, type MtuFigures } from './schema';

const base: MtuFigures = {
  arch: 'flannel-vxlan',
  family: 'overlay',
  encryption: null,
  lab: 'r-flannel-vxlan-m1500',
  underlayMtu: 1500,
  client: 'node1-p1',
  server: 'node2-p1',
  podMtu: 1450,
  largestPayload: 1422,
  largestPacket: 1450,
  overhead: 50,
  above: { outcome: 'emsgsize', mode: 'loud', reportedMtu: 1450, from: null, line: null },
  probes: 2,
  sec: 0.5,
};
const hole: MtuFigures = {
  ...base,
  arch: 'flannel-host-gw',
  family: 'l3',
  podMtu: 1500,
  largestPayload: 1372,
  largestPacket: 1400,
  overhead: 100,
  above: { outcome: 'silent', mode: 'silent', reportedMtu: null, from: null, line: null },
};
const frag: MtuFigures = {
  ...hole,
  arch: 'calico-bgp',
  above: { outcome: 'frag-needed', mode: 'loud', reportedMtu: 1400, from: '198.18.0.3', line: null },
};

test('one byte more, in words: refused by the sender, frag-needed from whom, a black hole', () => {
  assert.equal(aboveText(base), 'loud: refused by the sender (mtu 1450)');
  assert.equal(aboveText(frag), 'loud: ICMP frag-needed from 198.18.0.3 (mtu 1400)');
  assert.equal(aboveText(hole), 'SILENT: nothing came back (a black hole)');
});

test('the section: a row per architecture and MTU, a pod MTU above the path marked; the terminal lines alike', () => {
  const j = mtuSchema.parse({ archs: [base, hole] });
  const html = mtuTable(j);
  assert.match(html, /<h2 id="mtu">MTU, measured<\/h2>/);
  assert.match(
    html,
    /<td>flannel-vxlan<\/td><td>overlay<\/td><td>—<\/td><td class="n">1500<\/td><td class="n">1450<\/td>/,
  );
  assert.match(html, /<td class="n">1500 ✗<\/td><td class="n">1400 \(1372\)<\/td><td class="n">100<\/td>/);
  const lines = mtuLines(j);
  assert.equal(lines.length, 4);
  assert.match(lines[2]!, /^ {2}flannel-vxlan\s+1500\s+1450\s+1450\s+50 {2}loud: refused by the sender \(mtu 1450\)$/);
  assert.match(lines[3]!, /^ {2}flannel-host-gw\s+1500\s+1500!\s+1400\s+100 {2}SILENT/);
});

test('the headline: the black holes first; else the overheads, grouped', () => {
  assert.match(
    mtuHeadline({ archs: [base, hole] })!,
    /^MTU: a black hole in <b>flannel-host-gw<\/b> \(underlay 1500\)/,
  );
  assert.equal(
    mtuHeadline({ archs: [base, { ...base, underlayMtu: 9000 }, frag] }),
    'MTU: every pod path fails loudly above its largest packet; its overhead 50 B in <b>flannel-vxlan</b>; 100 B in ' +
      '<b>calico-bgp</b>; see <a href="#mtu">MTU, measured</a>.',
  );
  assert.equal(mtuHeadline({ archs: [] }), undefined);
});
