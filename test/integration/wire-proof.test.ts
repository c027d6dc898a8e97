/**
 * The wire proof on planted plaintext paths: flannel-vxlan (pods' packets in VXLAN, the marker
 * readable inside) and flannel-host-gw (pods' packets on the wire as they are) must fail it, naming
 * the marker and the pod-addressed frames; the capture leaves no tcpdump, no pcap file, nothing.
 * In a run, an architecture that says it encrypts but does not (flannel-vxlan registered with a
 * WireGuard `encryption`) has its rows turned into errors, and the report says why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { architectures } from '../../src/arch';
import { probeFeatures } from '../../src/doctor/features';
import { BASELINE_ARCH } from '../../src/arch/vocabulary';
import { writeOutputs } from '../../src/report/outputs';
import { proofLines } from '../../src/report/proofs';
import { runBenchmark } from '../../src/run/run';
import { resultsSchema } from '../../src/run/results-schema';
import { parseTopology } from '../../src/topology/load';
import { BENCH_RUN } from '../../bench/common';
import { namedNetnsInodes, netnsInodeOf } from '../../src/lib/netns';
import { runDir, switchNetns } from '../../src/lab/names';
import { proveWire } from '../../src/lab/wire-proof';
import { verdictLine } from '../../src/lab/wire-verdict';
import { assertNothingLeft, rootSnapshot, withLab } from './helpers';

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

/** Why architecture `name` cannot run here (the doctor's words for its first missing feature), or undefined. */
async function cannotRun(name: string): Promise<string | undefined> {
  const features = await probeFeatures();
  const missing = architectures
    .get(name)
    .requires.map((f) => features[f])
    .find((f) => !f?.ok);
  return missing ? `${name} cannot run here: ${missing.feature}: ${missing.detail}` : undefined;
}

for (const [name, lab] of [
  ['flannel-wireguard', 't-proof-fwg'],
  ['calico-wireguard', 't-proof-cwg'],
] as const)
  test(`the proof passes on ${name}: WireGuard between the nodes, no marker, no pod address`, async (t) => {
    const why = await cannotRun(name);
    if (why) return t.skip(why);
    const enc = architectures.get(name).encryption!;
    await withLab(lab, name, async () => {
      const v = (await proveWire(lab, { wire: enc.wire })).verdict;
      t.diagnostic(verdictLine(v, enc.wire));
      assert.equal(v.ok, true, v.failures.join('; '));
      assert.equal(v.markers, 0);
      assert.equal(v.podAddressed, 0);
      assert.ok(v.design > 0, 'WireGuard packets between the two nodes');
      assert.deepEqual(v.delivered, { tcp: true, udp: true });
      // Between the two nodes: WireGuard, and Calico's BGP (control plane, in the clear as in real clusters).
      assert.deepEqual(
        Object.keys(v.betweenNodes).filter((k) => k !== 'udp/51820' && k !== 'tcp/179'),
        [],
        `only WireGuard between the nodes: ${JSON.stringify(v.betweenNodes)}`,
      );
      assert.equal(v.controlPlane['bgp tcp/179'] ?? 0, v.betweenNodes['tcp/179'] ?? 0, 'BGP is said as such');
      assertNoCaptureLeft(lab);
    });
  });

// A planted architecture: flannel-vxlan claiming WireGuard.
const planted = {
  ...architectures.get('flannel-vxlan'),
  name: 't-planted-wg',
  encryption: { design: 'wireguard', wire: WIRE, twin: 'flannel-vxlan' },
};
architectures.register(planted.name, planted);

test('a run: flannel-wireguard proven, the planted one fails, its rows are errors; host not captured', async (t) => {
  const why = await cannotRun('flannel-wireguard');
  if (why) return t.skip(why);
  const wg = architectures.get('flannel-wireguard');
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-proof-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'run');
  const root = await rootSnapshot();
  const res = await runBenchmark({
    ...BENCH_RUN,
    warmupSec: 0,
    topology: parseTopology('', 'test', { name: 't-proof-run' }),
    archs: [architectures.get(BASELINE_ARCH), planted, wg],
    paths: ['inter-node'],
    tests: ['tcp'],
    durationSec: 1,
    rounds: { fixed: 1 },
    seed: 3,
    outDir: out,
  });
  await assertNothingLeft('t-proof-run', root);
  resultsSchema.parse(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
  for (const line of proofLines(res)) t.diagnostic(line);
  assert.deepEqual(
    res.proofs?.map((x) => [x.arch, x.ok]),
    [
      [planted.name, false],
      [wg.name, true],
    ],
    'a proof of each encrypted architecture, none of host',
  );
  const ok = res.proofs[1]!;
  assert.ok(ok.designPackets > 0 && ok.markers === 0 && ok.podAddressed === 0, JSON.stringify(ok));
  assert.equal(ok.sample, 'tcp 1 s inter-node');
  const p = res.proofs[0]!;
  assert.equal(p.arch, planted.name);
  assert.equal(p.ok, false);
  assert.equal(p.wire, 'udp/51820');
  assert.equal(p.sample, 'tcp 1 s inter-node');
  assert.ok(p.markers >= 2);
  assert.equal(p.designPackets, 0);
  assert.deepEqual(
    res.rows.map((r) => r.arch),
    [BASELINE_ARCH, wg.name],
    'no figure of the architecture whose proof failed; the proven one measured',
  );
  assert.equal(res.rows[1]!.metrics.gbps?.n, 1, 'the proof sample is not among the figures');
  const err = res.skipped.find((s) => s.arch === planted.name);
  assert.equal(err?.failed, true);
  assert.equal(err?.path, 'inter-node');
  assert.match(err?.reason ?? '', /^the wire proof failed, so no figure: plaintext: the marker sent pod to pod/);
  await writeOutputs(res, out);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /<h2>Proven encrypted on the wire<\/h2>/);
  assert.match(html, /<td>t-planted-wg<\/td><td>wireguard: udp\/51820<\/td><td class="num">0<\/td>/);
  assert.match(html, /✘ FAILED, its rows are errors: plaintext/);
  assert.match(
    html,
    /<td>flannel-wireguard<\/td><td>wireguard: udp\/51820<\/td><td class="num">[1-9]\d*<\/td><td class="num">0<\/td><td>✔ proven/,
  );
  assert.deepEqual(
    readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.pcap')),
    [],
    'no capture in the --out folder',
  );
});
