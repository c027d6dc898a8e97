/**
 * The wire proof on planted plaintext paths: flannel-vxlan (pods' packets in VXLAN, the marker
 * readable inside) and flannel-host-gw (pods' packets on the wire as they are) must fail it, naming
 * the marker and the pod-addressed frames; the capture leaves no tcpdump, no pcap file, nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { namedNetnsInodes, netnsInodeOf } from '../../src/lib/netns';
import { runDir, switchNetns } from '../../src/lab/names';
import { proveWire } from '../../src/lab/wire-proof';
import { verdictLine } from '../../src/lab/wire-verdict';
import { withLab } from './helpers';

const WIRE = { proto: 'udp', port: 51820 } as const;

/** PIDs of the processes in the lab's switch namespace (none but a running capture). */
function inSwitch(lab: string): number[] {
  const ns = namedNetnsInodes([switchNetns(lab)]);
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => ns.has(netnsInodeOf(p) ?? -1))
    .map(Number);
}

function assertNoCaptureLeft(lab: string): void {
  assert.deepEqual(inSwitch(lab), [], 'a process (the capture) left in the switch namespace');
  assert.deepEqual(
    readdirSync(runDir(lab)).filter((f) => f.endsWith('.pcap')),
    [],
    'a pcap file left in the lab folder',
  );
}

test('the proof fails on flannel-vxlan: the marker is read inside VXLAN, no WireGuard packet', async () => {
  const lab = 't-proof-vxlan';
  await withLab(lab, 'flannel-vxlan', async () => {
    const p = await proveWire(lab, { wire: WIRE });
    const v = p.verdict;
    assert.notEqual(p.from.node, p.to.node, 'the marker crosses between two nodes');
    assert.deepEqual(v.delivered, { tcp: true, udp: true }, 'the marker arrived both ways');
    assert.equal(v.ok, false);
    assert.ok(v.markers >= 2, `the marker seen on the wire (TCP and UDP): ${v.markers}`);
    assert.equal(v.podAddressed, 0, 'VXLAN hides the pod addresses in the outer header');
    assert.equal(v.design, 0);
    assert.ok((v.betweenNodes['udp/8472'] ?? 0) > 0, `VXLAN between the nodes: ${JSON.stringify(v.betweenNodes)}`);
    assert.ok(v.packets > 0);
    assert.equal(v.dropped ?? 0, 0);
    assert.match(verdictLine(v, WIRE), /^NOT proven: plaintext: the marker sent pod to pod was seen in \d+ frames/);
    assert.match(verdictLine(v, WIRE), /no udp\/51820 packet between 198\.18\.\d+\.\d+ and 198\.18\.\d+\.\d+/);
    assertNoCaptureLeft(lab);
  });
});

test('the proof fails on flannel-host-gw: pod packets on the wire, addresses and marker in the clear', async () => {
  const lab = 't-proof-hostgw';
  await withLab(lab, 'flannel-host-gw', async () => {
    const v = (await proveWire(lab, { wire: { proto: 'esp' } })).verdict;
    assert.equal(v.ok, false);
    assert.ok(v.markers >= 2, `the marker seen: ${v.markers}`);
    assert.ok(v.podAddressed > 0, 'frames carrying pod addresses in their own IP header');
    assert.equal(v.design, 0, 'no ESP');
    assert.match(v.failures.join('\n'), /carry a pod address \(10\.244\.0\.0\/16\) in their IP header/);
    assert.match(v.failures.join('\n'), /no esp packet between/);
    assertNoCaptureLeft(lab);
  });
});
