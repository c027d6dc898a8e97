/**
 * The proxy modes on real namespaces, no lab: a "node" namespace routing for two "pods" (veths,
 * proxy ARP, the Service range routed to a veth of its own), a TCP server in pod B on ports 8080 and
 * 8081, and a client in pod A connecting to ClusterIPs. Each mode: a Service reaches its endpoint,
 * one without endpoints is refused at once, the spread over two endpoints is even (chi-square), an
 * endpoint removed gets no new connection, changes after the first sync are partial, and clean-up
 * leaves nothing. Namespaces are cnilabt-<random>-…, all deleted and checked gone at the end.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { addNetns, deleteNetns, ipBatch, listNamedNetns, runIn } from '../../src/lib/netns';
import { mountBpffs, mountsUnder, unmountUnder } from '../../src/lib/mounts';
import { probeFeatures, missingReason, type FeatureReport } from '../../src/doctor/features';
import { proxyModes } from '../../src/proxy';
import type { ProxyNode } from '../../src/proxy/mode';
import { endpoint, inputOf, service } from '../../src/proxy/sample';
import { waitUntil } from './helpers';

const PREFIX = `cnilabt-${randomBytes(3).toString('hex')}`;
const NODE = `${PREFIX}-node`;
const POD_A = `${PREFIX}-a`;
const POD_B = `${PREFIX}-b`;
const B = '10.244.1.3';
let server: ChildProcess | undefined;
let features: FeatureReport;

/** Pod A's client: `n` connections to ip:port, counted by what each read (the port served) or its error. */
const CLIENT = `const net = require('net'); const [h, p, n] = process.argv.slice(1); const out = {};
(async () => { for (let i = 0; i < +n; i++) { const r = await new Promise((res) => {
  const s = net.connect(+p, h); let d = ''; const t = setTimeout(() => { s.destroy(); res('timeout'); }, 3000);
  s.on('data', (c) => (d += c)); s.on('end', () => { clearTimeout(t); res(d); });
  s.on('error', (e) => { clearTimeout(t); res(e.code); }); });
  out[r] = (out[r] || 0) + 1; } console.log(JSON.stringify(out)); })();`;
const SERVER = `for (const p of [8080, 8081]) require('net').createServer((s) => s.end(String(p))).listen(p);`;

async function connect(ip: string, n: number): Promise<Record<string, number>> {
  const r = await runIn({ name: POD_A }, process.execPath, ['-e', CLIENT, ip, '80', String(n)], { timeoutMs: 60_000 });
  return JSON.parse(r.stdout) as Record<string, number>;
}

before(async () => {
  features = await probeFeatures();
  for (const ns of [NODE, POD_A, POD_B]) await addNetns(ns);
  await ipBatch({ name: NODE }, [
    ['link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', POD_A],
    ['link', 'add', 'vb', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', POD_B],
    ['link', 'add', 'svc0', 'type', 'veth', 'peer', 'name', 'svc1'], // no dummy module on every kernel
    ['addr', 'add', '10.244.1.1/32', 'dev', 'svc0'],
    ...['va', 'vb', 'svc0', 'svc1'].map((d) => ['link', 'set', d, 'up']),
    ['route', 'add', '10.244.1.2/32', 'dev', 'va'],
    ['route', 'add', `${B}/32`, 'dev', 'vb'],
    ['route', 'add', '10.96.0.0/16', 'dev', 'svc0'],
  ]);
  const sysctl = ['net.ipv4.ip_forward=1', 'net.ipv4.conf.va.proxy_arp=1', 'net.ipv4.conf.vb.proxy_arp=1'];
  await runIn({ name: NODE }, 'sysctl', ['-q', '-w', ...sysctl]);
  for (const [ns, ip] of [
    [POD_A, '10.244.1.2'],
    [POD_B, B],
  ] as const)
    await ipBatch({ name: ns }, [
      ['addr', 'add', `${ip}/24`, 'dev', 'eth0'],
      ['link', 'set', 'eth0', 'up'],
      ['route', 'add', 'default', 'via', '10.244.1.1'],
    ]);
  server = spawn('ip', ['netns', 'exec', POD_B, process.execPath, '-e', SERVER], { stdio: 'ignore' });
  await waitUntil('the server in pod B', async () => {
    const r = await runIn({ name: POD_B }, 'ss', ['-Hltn', 'sport = :8081'], { check: false });
    return r.stdout.includes('8081');
  });
});

after(async () => {
  if (server?.pid !== undefined) {
    server.kill('SIGTERM');
    await new Promise((r) => (server!.exitCode !== null ? r(undefined) : server!.once('exit', r)));
  }
  for (const ns of [POD_A, POD_B, NODE]) await deleteNetns(ns);
  assert.deepEqual(
    listNamedNetns().filter((n) => n.startsWith(PREFIX)),
    [],
    'the test namespaces are all gone',
  );
});

/** A bpffs of the test's own for a mode that pins (as the lab mounts one), gone after it. */
const BPFFS = `/tmp/${PREFIX}-bpffs`;
const nodeFor = async (pins: boolean | undefined): Promise<ProxyNode> => {
  if (!pins) return { netns: NODE, dir: '/nonexistent' };
  await mountBpffs(BPFFS);
  return { netns: NODE, dir: `${BPFFS}/proxy` };
};
after(async () => {
  await unmountUnder(BPFFS);
  rmSync(BPFFS, { recursive: true, force: true });
  assert.deepEqual(mountsUnder(BPFFS), [], 'the test bpffs is unmounted');
});
const WEB = '10.96.0.10';
const EMPTY = '10.96.0.11';
const web = (...ports: number[]) =>
  service(
    'web',
    WEB,
    ports.map((p) => endpoint(B, p)),
  );

for (const name of proxyModes.names()) {
  test(`${name}: Services reach their endpoints, spread evenly, update partially, clean up`, async (t) => {
    const mode = proxyModes.get(name);
    const missing = missingReason(features, mode.requires);
    if (missing) return t.skip(missing);
    t.diagnostic(`${name} on ${await mode.backend()}`);
    const node = await nodeFor(mode.pins);
    const one = inputOf([web(8080), service('empty', EMPTY, [])]);
    const first = await mode.sync(node, one, undefined);
    assert.equal(first.kind, 'full');
    assert.deepEqual(await connect(WEB, 5), { '8080': 5 }, 'the ClusterIP reaches the endpoint');
    assert.deepEqual(await connect(EMPTY, 1), { ECONNREFUSED: 1 }, 'no endpoints: refused, not a timeout');

    const two = inputOf([web(8080, 8081), service('empty', EMPTY, [])]);
    const spread = await mode.sync(node, two, one);
    assert.equal(spread.kind, 'partial');
    const counts = await connect(WEB, 200);
    const [a = 0, b = 0] = [counts['8080'], counts['8081']];
    assert.equal(a + b, 200, `every connection reached an endpoint: ${JSON.stringify(counts)}`);
    // Chi-square, 1 degree of freedom: 15 is p ≈ 0.0001 for a fair spread.
    const chi2 = ((a - 100) ** 2 + (b - 100) ** 2) / 100;
    t.diagnostic(`spread over 2 endpoints: ${a}/${b}, chi-square ${chi2.toFixed(2)}`);
    assert.ok(chi2 < 15, `spread ${a}/${b} is one-sided (chi-square ${chi2.toFixed(1)})`);

    const removed = await mode.sync(node, inputOf([web(8081), service('empty', EMPTY, [])]), two);
    assert.equal(removed.kind, 'partial');
    assert.deepEqual(await connect(WEB, 30), { '8081': 30 }, 'the removed endpoint gets no new connection');
    t.diagnostic(`syncs: ${JSON.stringify([first, spread, removed])}`);

    assert.notDeepEqual(await mode.leftovers(node), []);
    await mode.cleanup(node);
    assert.deepEqual(await mode.leftovers(node), [], `${name} left nothing in ${NODE}`);
  });
}
