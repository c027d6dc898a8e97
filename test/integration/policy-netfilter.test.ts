/**
 * The iptables and nftables NetworkPolicy designs on a real calico-bgp lab (routed pods: every
 * packet between pods crosses a node's FORWARD, same-node pairs too). No agent: each design's
 * `sync` is called with handcrafted PolicyInputs built from the lab's real pods, and TCP and UDP
 * probes from the pods' namespaces check what passes: allowed passes, denied is dropped, replies
 * of an allowed connection pass though the replier is egress-isolated, a same-node pair is checked
 * on both ends, full re-syncs over the rules never let a denied packet through, a partial sync
 * after a change takes effect, and clean-up leaves nothing (`withLab` then checks the lab's `down`).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { missingReason, probeFeatures } from '../../src/doctor/features';
import { startWatched, stopPid } from '../../src/lib/exec';
import { inNetns, runIn } from '../../src/lib/netns';
import { nodeNetns } from '../../src/lab/names';
import type { LabState } from '../../src/lab/state';
import type { PolicyDesign, PolicyNode } from '../../src/policy/design';
import { iptablesPolicy } from '../../src/policy/iptables/design';
import { nftablesPolicy } from '../../src/policy/nftables/design';
import type { PolicyEndpoint, PolicyInput, ResolvedPolicy } from '../../src/policy/model';
import { withLab } from './helpers';

const DESIGNS = [iptablesPolicy, nftablesPolicy];

/** Every pod: TCP and UDP on 80 and 81, answering "ok"; says "ready" once all four are bound. */
const SERVER = `const net = require('net'), dgram = require('dgram'); let n = 0;
const up = () => { if (++n === 4) console.log('ready'); };
for (const p of [80, 81]) { net.createServer((s) => s.end('ok')).listen(p, up);
  const u = dgram.createSocket('udp4'); u.on('message', (m, r) => u.send('ok', r.port, r.address)); u.bind(p, up); }`;

/** Probes [ip, port, proto] all at once, each 'ok' or why not ('timeout': dropped). */
const CLIENT = `const net = require('net'), dgram = require('dgram'); const probes = JSON.parse(process.argv[1]);
const one = ([h, p, proto]) => new Promise((res) => { const t = setTimeout(() => { done('timeout'); }, 1500);
  let s; const done = (r) => { clearTimeout(t); try { s.destroy ? s.destroy() : s.close(); } catch {} res(r); };
  if (proto === 'tcp') { let d = ''; s = net.connect(p, h); s.on('data', (c) => (d += c));
    s.on('end', () => done(d)); s.on('error', (e) => done(e.code)); }
  else { s = dgram.createSocket('udp4'); s.on('message', (m) => done(String(m))); s.on('error', (e) => done(e.code));
    s.send('hi', p, h); } });
Promise.all(probes.map(one)).then((r) => console.log(JSON.stringify(r)));`;

/** Tries TCP connects from one pod to another for `ms`: how many were answered. */
const LOOP = `const net = require('net'); const [h, p, ms] = process.argv.slice(1); let ok = 0, tries = 0;
const end = Date.now() + +ms; const attempt = () => { if (Date.now() > end) return console.log(JSON.stringify({ ok, tries }));
  tries++; const s = net.connect(+p, h); let over = false;
  const finish = () => { if (over) return; over = true; clearTimeout(t); s.destroy(); setTimeout(attempt, 5); };
  const t = setTimeout(finish, 100); s.on('data', () => ok++); s.on('close', finish); s.on('error', () => {}); };
attempt();`;

type Pod = LabState['pods'][number];
type Probe = readonly [from: Pod, to: Pod, port: number, proto: 'tcp' | 'udp'];

const ipOf = (p: Pod): string => p.ip.split('/')[0]!;

/** Runs probes grouped by source pod, in parallel: 'ok' or the failure, in the order given. */
async function probe(probes: readonly Probe[]): Promise<string[]> {
  const out: string[] = new Array<string>(probes.length);
  const bySource = new Map<Pod, number[]>();
  probes.forEach(([from], i) => bySource.set(from, [...(bySource.get(from) ?? []), i]));
  await Promise.all(
    [...bySource].map(async ([from, idx]) => {
      const list = idx.map((i) => [ipOf(probes[i]![1]), probes[i]![2], probes[i]![3]]);
      const r = await runIn({ name: from.netns }, process.execPath, ['-e', CLIENT, JSON.stringify(list)], {
        timeoutMs: 30_000,
      });
      (JSON.parse(r.stdout) as string[]).forEach((v, k) => (out[idx[k]!] = v));
    }),
  );
  return out;
}

/** Asserts each probe's outcome: pass ('ok') or denied (dropped: a timeout). */
async function expect(design: string, cases: readonly (readonly [...Probe, 'pass' | 'deny'])[]): Promise<void> {
  const got = await probe(cases.map(([f, t, p, proto]) => [f, t, p, proto] as const));
  const wrong = cases
    .map(([f, t, p, proto, want], i) => ({ what: `${f.name} → ${t.name} ${proto}/${p}`, want, got: got[i]! }))
    .filter((c) => (c.want === 'pass' ? c.got !== 'ok' : c.got !== 'timeout'));
  assert.deepEqual(wrong, [], `${design}: outcomes differ from the policies`);
}

async function startServers(pods: readonly Pod[]): Promise<number[]> {
  const pids: number[] = [];
  for (const p of pods) {
    const child = startWatched(...inNetns({ name: p.netns }, process.execPath, ['-e', SERVER]));
    pids.push(child.pid!);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    while (!out.includes('ready')) await once(child.stdout!, 'data');
  }
  return pids;
}

/** The lab's pods by role: a and b on node1, c and d on node2. */
function rolesOf(s: LabState): Record<'a' | 'b' | 'c' | 'd', Pod> {
  const nodes = [...new Set(s.pods.map((p) => p.node))].sort();
  const on = (n: string): Pod[] => s.pods.filter((p) => p.node === n).sort((x, y) => x.name.localeCompare(y.name));
  const [[a, b], [c, d]] = [on(nodes[0]!), on(nodes[1]!)];
  return { a: a!, b: b!, c: c!, d: d! };
}

type Roles = ReturnType<typeof rolesOf>;
const podsPeer = (...ps: Pod[]) => ({ pods: ps.map((p) => p.name), blocks: [] });
const tcp = (port: number) => ({ protocol: 'tcp' as const, from: port, to: port });
const udp = (port: number) => ({ protocol: 'udp' as const, from: port, to: port });

/**
 * The policies, version 1 and (after a change) 2. a: egress to b and c (2: and d, a set's members
 * change). b: ingress from a on TCP 80 and UDP 80 (2: from anyone, so its set goes, on TCP 81 and
 * UDP 80); egress TCP 81 to 0.0.0.0/0 except c. c: two ingress policies, TCP 81 from anyone (2:
 * not any more, so its chain goes) and anything from a. d: none.
 */
function policies(r: Roles, version: 1 | 2): ResolvedPolicy[] {
  return [
    {
      key: 'default/a-egress',
      egress: [{ peers: version === 1 ? podsPeer(r.b, r.c) : podsPeer(r.b, r.c, r.d), ports: 'any' }],
    },
    {
      key: 'default/b-egress',
      egress: [{ peers: { pods: [], blocks: [{ cidr: '0.0.0.0/0', except: [`${ipOf(r.c)}/32`] }] }, ports: [tcp(81)] }],
    },
    {
      key: 'default/b-ingress',
      ingress: [
        {
          peers: version === 1 ? podsPeer(r.a) : 'any',
          ports: version === 1 ? [tcp(80), udp(80)] : [tcp(81), udp(80)],
        },
      ],
    },
    { key: 'default/c-any', ingress: [{ peers: 'any', ports: [tcp(81)] }] },
    { key: 'default/c-from-a', ingress: [{ peers: podsPeer(r.a), ports: 'any' }] },
  ];
}

/** One node's share: its pods as endpoints, the policies selecting them. */
function inputFor(s: LabState, r: Roles, node: string, version: 1 | 2): PolicyInput {
  const isolation: Record<string, Pick<PolicyEndpoint, 'ingress' | 'egress'>> = {
    [r.a.name]: { ingress: [], egress: ['default/a-egress'] },
    [r.b.name]: { ingress: ['default/b-ingress'], egress: ['default/b-egress'] },
    [r.c.name]: { ingress: version === 1 ? ['default/c-any', 'default/c-from-a'] : ['default/c-from-a'], egress: [] },
  };
  const mine = s.pods.filter((p) => p.node === node).sort((x, y) => x.name.localeCompare(y.name));
  const endpoints = mine.map((p) => ({
    pod: p.name,
    ip: ipOf(p),
    ...(isolation[p.name] ?? { ingress: [], egress: [] }),
  }));
  const used = new Set(endpoints.flatMap((e) => [...e.ingress, ...e.egress]));
  return {
    node,
    revision: version,
    pods: [...s.pods]
      .sort((x, y) => x.name.localeCompare(y.name))
      .map((p) => ({ name: p.name, ip: ipOf(p), node: p.node, labels: {} })),
    policies: policies(r, version).filter((p) => used.has(p.key)),
    endpoints,
  };
}

/** What version 1 allows and denies (see policies()). */
const VERSION_1 = (r: Roles) =>
  [
    [r.a, r.b, 80, 'tcp', 'pass'], // the reply from b, egress-isolated, passes
    [r.a, r.b, 80, 'udp', 'pass'],
    [r.a, r.b, 81, 'tcp', 'deny'], // same node: a's egress allows, b's ingress denies
    [r.b, r.a, 80, 'tcp', 'deny'], // same node: b's egress denies
    [r.b, r.a, 81, 'tcp', 'pass'],
    [r.a, r.d, 80, 'tcp', 'deny'],
    [r.a, r.c, 80, 'tcp', 'pass'],
    [r.a, r.c, 81, 'udp', 'pass'],
    [r.d, r.c, 80, 'tcp', 'deny'],
    [r.d, r.c, 81, 'tcp', 'pass'],
    [r.d, r.c, 81, 'udp', 'deny'],
    [r.b, r.c, 81, 'tcp', 'deny'], // the except
    [r.b, r.d, 81, 'tcp', 'pass'],
    [r.b, r.d, 80, 'tcp', 'deny'],
    [r.d, r.a, 80, 'tcp', 'pass'],
    [r.c, r.b, 80, 'tcp', 'deny'],
  ] as const;

/** A denied connection tried over and over while the rules are rewritten whole, again and again. */
async function fullResyncsKeepDenying(
  s: LabState,
  r: Roles,
  design: PolicyDesign,
  nodes: Map<string, PolicyNode>,
): Promise<string> {
  const loop = runIn({ name: r.d.netns }, process.execPath, ['-e', LOOP, ipOf(r.c), '80', '3000'], {
    timeoutMs: 30_000,
  });
  let settled = false;
  void loop.finally(() => (settled = true)).catch(() => undefined);
  let syncs = 0;
  while (!settled) {
    for (const [name, node] of nodes) {
      const rep = await design.sync(node, inputFor(s, r, name, 1), undefined);
      assert.equal(rep.kind, 'full');
    }
    syncs++;
  }
  const { ok, tries } = JSON.parse((await loop).stdout) as { ok: number; tries: number };
  assert.ok(syncs >= 2 && tries > 0, `${design.name}: ${syncs} full syncs during ${tries} tries`);
  assert.equal(ok, 0, `${design.name}: ${ok} of ${tries} denied connections got through during ${syncs} full re-syncs`);
  return `${design.name}: ${tries} denied connects during ${syncs} full re-syncs of both nodes, none through`;
}

/** Version 2 by partial syncs (what changed only), then version 1 again by full syncs over it. */
async function changeThenBack(
  s: LabState,
  r: Roles,
  design: PolicyDesign,
  nodes: Map<string, PolicyNode>,
  note: (m: string) => void,
): Promise<void> {
  for (const [name, node] of nodes) {
    const rep = await design.sync(node, inputFor(s, r, name, 2), inputFor(s, r, name, 1));
    assert.equal(rep.kind, 'partial');
    assert.ok(rep.written > 0, `${design.name}: ${name} changed`);
    note(`${design.name}: partial sync of ${name}: ${rep.written} written in ${rep.ms.toFixed(1)} ms`);
  }
  await expect(design.name, [
    [r.a, r.b, 81, 'tcp', 'pass'],
    [r.a, r.b, 80, 'tcp', 'deny'],
    [r.a, r.b, 80, 'udp', 'pass'],
    [r.c, r.b, 81, 'tcp', 'pass'],
    [r.c, r.b, 80, 'tcp', 'deny'],
    [r.a, r.d, 80, 'tcp', 'pass'],
    [r.d, r.c, 81, 'tcp', 'deny'],
    [r.d, r.c, 80, 'tcp', 'deny'],
    [r.a, r.c, 81, 'tcp', 'pass'],
    [r.b, r.c, 81, 'tcp', 'deny'],
  ]);
  for (const [name, node] of nodes)
    assert.equal((await design.sync(node, inputFor(s, r, name, 1), undefined)).kind, 'full');
  await expect(design.name, VERSION_1(r));
}

/** One design on the lab, start to clean-up. */
async function exercise(s: LabState, design: PolicyDesign, note: (m: string) => void): Promise<void> {
  const r = rolesOf(s);
  const dir = mkdtempSync(join(tmpdir(), 'cnilabt-policy-'));
  const nodes = new Map(
    [...new Set(s.pods.map((p) => p.node))].map((n) => [n, { netns: nodeNetns(s.lab, n), dir, timeoutMs: 30_000 }]),
  );
  try {
    // Nothing enforced yet: everything passes.
    await expect(design.name, [
      [r.a, r.b, 81, 'tcp', 'pass'],
      [r.d, r.c, 80, 'tcp', 'pass'],
    ]);
    for (const [name, node] of nodes) {
      const rep = await design.sync(node, inputFor(s, r, name, 1), undefined);
      assert.equal(rep.kind, 'full');
      assert.ok(rep.written > 0);
    }
    await expect(design.name, VERSION_1(r));
    note(await fullResyncsKeepDenying(s, r, design, nodes));
    await expect(design.name, VERSION_1(r));
    await changeThenBack(s, r, design, nodes, note);
    for (const node of nodes.values()) assert.notDeepEqual(await design.leftovers(node), []);
  } finally {
    for (const node of nodes.values()) await design.cleanup(node);
    rmSync(dir, { recursive: true, force: true });
  }
  for (const node of nodes.values()) assert.deepEqual(await design.leftovers(node), [], `${design.name} left`);
  for (const node of nodes.values()) await design.cleanup(node); // again: nothing there is fine
  await expect(design.name, [
    [r.b, r.c, 80, 'tcp', 'pass'],
    [r.a, r.d, 80, 'udp', 'pass'],
    [r.c, r.b, 80, 'tcp', 'pass'],
  ]);
}

describe('NetworkPolicy designs in netfilter on a calico-bgp lab', async () => {
  const features = await probeFeatures();
  const missing = DESIGNS.map((d) => missingReason(features, d.requires)).find((m) => m);
  test(
    'iptables then nftables: allowed passes, denied drops, replies, same node both ways, re-syncs, partial, clean-up',
    { skip: missing ?? false },
    (t) =>
      withLab(
        'cnilabt-pnf',
        'calico-bgp',
        async (s) => {
          const pids = await startServers(s.pods);
          try {
            for (const d of DESIGNS) {
              assert.match(await d.backend(), d.name === 'iptables' ? /^iptables .* \+ ipset v/ : /^nft v/);
              await exercise(s, d, (m) => t.diagnostic(m));
            }
          } finally {
            for (const pid of pids) await stopPid(pid);
          }
        },
        'topology: {computeNodes: 2, defaults: {pods: 2}}',
      ),
  );
});
