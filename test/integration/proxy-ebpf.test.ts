/**
 * Proxy mode `ebpf` on real namespaces, without a lab: a "node" namespace with veths to two "pod"
 * namespaces (A 10.244.1.2, B 10.244.1.3, the node their gateway .1 and their route to the
 * Service range), the proxy's object pinned in a bpffs mounted for the test. Connections from A to
 * ClusterIPs reach B's servers with A's address, A sees the ClusterIP as its peer, two endpoints
 * share the connections, a removed one gets none, a port without endpoints refuses at once (a
 * RST), UDP is translated both ways, the counters moved; cleanup leaves nothing, asserted.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isAlive, startServer, stopPid } from '../../src/lib/exec';
import { mountBpffs, mountsUnder, unmountUnder } from '../../src/lib/mounts';
import { addNetns, deleteNetns, ipBatch, listNamedNetns, runIn } from '../../src/lib/netns';
import type { ProxyInput, ProxyService } from '../../src/proxy/model';
import type { ProxyNode } from '../../src/proxy/mode';
import { ebpfProxy, ebpfSockProxy } from '../../src/proxy/ebpf';
import { nodeCgroup } from '../../src/proxy/ebpf/cgroup';
import { readCounters } from '../../src/proxy/ebpf/maps';
import { ebpfMissing, ebpfTest } from './ebpf-skip';
import { rootSnapshot, type RootSnapshot } from './helpers';
import { diffSnapshots } from '../netns-snapshot';

const TAG = `cnilabt-${randomBytes(3).toString('hex')}`;
const [NODE, A, B] = ['n', 'a', 'b'].map((s) => `${TAG}-${s}`) as [string, string, string];
let mnt = '';
let node: ProxyNode;
let server: number | undefined;
let root: RootSnapshot;

/** B's servers: TCP 8080 and 8081 answer with their port and the client's address; UDP 5353 echoes. */
const SERVER = `const net=require('net'),dgram=require('dgram');
for(const p of [8080,8081])net.createServer(s=>s.end(p+' '+s.remoteAddress)).listen(p,'0.0.0.0');
const u=dgram.createSocket('udp4');u.on('message',(m,r)=>u.send(m,r.port,r.address));u.bind(5353);`;

/** A's client: `n` connections one after the other, each's answer and peer, or error code. */
const CLIENT = `const net=require('net'),[h,p,n,wait]=JSON.parse(process.argv[1]);const out=[];
(async()=>{if(wait)await new Promise(r=>process.stdin.once('data',r));for(let i=0;i<n;i++)out.push(await new Promise(res=>{let d='';const s=net.connect(p,h);
s.setTimeout(3000,()=>{s.destroy();res({error:'TIMEOUT'})});
s.on('connect',()=>{s.peer=s.remoteAddress+':'+s.remotePort});s.on('data',c=>d+=c);
s.on('end',()=>res({data:d,peer:s.peer}));s.on('error',e=>res({error:e.code}))}));
console.log(JSON.stringify(out))})()`;

const UDP_CLIENT = `const u=require('dgram').createSocket('udp4');const t=setTimeout(()=>{console.log('{}');process.exit()},3000);
u.on('message',(m,r)=>{clearTimeout(t);console.log(JSON.stringify({data:String(m),peer:r.address+':'+r.port}));u.close()});
u.send('ping',53,'10.96.0.53');`;

interface Answer {
  data?: string;
  peer?: string;
  error?: string;
}
async function connect(host: string, port: number, n: number): Promise<Answer[]> {
  const r = await runIn({ name: A }, process.execPath, ['-e', CLIENT, JSON.stringify([host, port, n])]);
  return JSON.parse(r.stdout) as Answer[];
}

/** The client, moved into `cgroup` before it connects (as a pod's processes would be). */
function connectInCgroup(cgroup: string, host: string, port: number, n: number): Promise<Answer[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'ip',
      ['netns', 'exec', A, process.execPath, '-e', CLIENT, JSON.stringify([host, port, n, 1])],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.on('error', reject);
    child.on('close', () => resolve(JSON.parse(out) as Answer[]));
    writeFileSync(join(cgroup, 'cgroup.procs'), String(child.pid));
    child.stdin.end('go\n');
  });
}

const svc = (name: string, ip: string, port: number, eps: number[], protocol: 'tcp' | 'udp' = 'tcp'): ProxyService => ({
  name,
  portName: '',
  clusterIp: ip,
  port,
  protocol,
  endpoints: eps.map((p) => ({ ip: '10.244.1.3', port: p, node: 'n', pod: 'b' })),
});
const input = (services: ProxyService[]): ProxyInput => ({
  node: 'n',
  clusterCidr: '10.244.0.0/16',
  serviceCidr: '10.96.0.0/16',
  services,
});

before(async () => {
  if (await ebpfMissing()) return;
  root = await rootSnapshot();
  mnt = mkdtempSync(join(tmpdir(), 'cnilabt-bpf-'));
  await mountBpffs(mnt);
  node = { netns: NODE, dir: join(mnt, 'node') };
  for (const ns of [NODE, A, B]) await addNetns(ns);
  await ipBatch({ name: NODE }, [
    ['link', 'add', 'pa', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', A],
    ['link', 'add', 'pb', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', B],
  ]);
  await runIn({ name: NODE }, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  for (const [dev, pod] of [
    ['pa', '10.244.1.2'],
    ['pb', '10.244.1.3'],
  ] as const) {
    await runIn({ name: NODE }, 'sysctl', ['-qw', `net.ipv4.conf.${dev}.proxy_arp=1`]);
    await ipBatch({ name: NODE }, [
      ['addr', 'add', '10.244.1.1/32', 'dev', dev],
      ['link', 'set', dev, 'up'],
      ['route', 'add', `${pod}/32`, 'dev', dev],
    ]);
  }
  for (const [ns, addr] of [
    [A, '10.244.1.2/24'],
    [B, '10.244.1.3/24'],
  ] as const)
    await ipBatch({ name: ns }, [
      ['addr', 'add', addr, 'dev', 'eth0'],
      ['link', 'set', 'eth0', 'up'],
      ['route', 'add', '10.96.0.0/16', 'via', '10.244.1.1'],
    ]);
  server = startServer('ip', ['netns', 'exec', B, process.execPath, '-e', SERVER]).pid;
  for (let i = 0; i < 100; i++) {
    if ((await connect('10.244.1.3', 8080, 1))[0]?.data) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("pod B's server did not answer");
});

after(async () => {
  if (!root) return;
  if (server !== undefined) await stopPid(server);
  await ebpfProxy.cleanup(node).catch(() => undefined);
  await ebpfSockProxy.cleanup(node).catch(() => undefined);
  for (const ns of [A, B, NODE]) await deleteNetns(ns);
  await unmountUnder(mnt);
  rmdirSync(mnt);
  assert.deepEqual(
    listNamedNetns().filter((n) => n.startsWith(TAG)),
    [],
    'namespaces left',
  );
  assert.equal(existsSync(mnt), false, 'the bpffs folder left');
  assert.deepEqual(mountsUnder(mnt), [], 'the bpffs left mounted');
  assert.equal(server !== undefined && isAlive(server), false, 'the server left running');
  assert.deepEqual(diffSnapshots(root, await rootSnapshot()), [], 'the namespace the tests run in changed');
});

const one = svc('one', '10.96.0.10', 80, [8080]);
const two = svc('two', '10.96.0.20', 80, [8080, 8081]);
const none = svc('none', '10.96.0.30', 80, []);
const udp = svc('dns', '10.96.0.53', 53, [5353], 'udp');

ebpfTest('a ClusterIP reaches its endpoint; the client sees the ClusterIP, the server the client', async () => {
  const r = await ebpfProxy.sync(node, input([one, two, none, udp]), undefined);
  assert.equal(r.kind, 'full');
  assert.equal(r.written, 4 + 4 + 4); // 4 ports, 4 slots, 2 filters on each of 2 veths
  assert.deepEqual((await ebpfProxy.leftovers(node)).filter((l) => l.startsWith('tc ')).sort(), [
    'tc filter pa egress svc_to_pod',
    'tc filter pa ingress svc_from_pod',
    'tc filter pb egress svc_to_pod',
    'tc filter pb ingress svc_from_pod',
  ]);
  const answers = await connect('10.96.0.10', 80, 5);
  assert.deepEqual(answers, Array(5).fill({ data: '8080 10.244.1.2', peer: '10.96.0.10:80' }));
  const u = await runIn({ name: A }, process.execPath, ['-e', UDP_CLIENT]);
  assert.deepEqual(JSON.parse(u.stdout), { data: 'ping', peer: '10.96.0.53:53' });
});

ebpfTest('two endpoints share 200 connections; a removed one gets no new connection', async () => {
  const answers = await connect('10.96.0.20', 80, 200);
  const by = (p: string): number => answers.filter((a) => a.data?.startsWith(p)).length;
  assert.equal(by('8080') + by('8081'), 200, JSON.stringify(answers.filter((a) => !a.data)));
  const chi2 = ((by('8080') - 100) ** 2 + (by('8081') - 100) ** 2) / 100;
  assert.ok(chi2 < 15, `8080: ${by('8080')}, 8081: ${by('8081')} (χ² ${chi2})`); // p ≈ 1e-4, 1 dof
  const fewer = svc('two', '10.96.0.20', 80, [8080]);
  const r = await ebpfProxy.sync(node, input([one, fewer, none, udp]), input([one, two, none, udp]));
  assert.deepEqual([r.kind, r.written], ['partial', 3]); // the port, its slot 0, slot 1 deleted
  const after = await connect('10.96.0.20', 80, 50);
  assert.deepEqual(
    after.map((a) => a.data),
    Array(50).fill('8080 10.244.1.2'),
  );
});

ebpfTest('a Service port without endpoints refuses at once (a RST from the ClusterIP)', async () => {
  const started = Date.now();
  assert.deepEqual(await connect('10.96.0.30', 80, 3), Array(3).fill({ error: 'ECONNREFUSED' }));
  assert.ok(Date.now() - started < 2500, 'refused at once, not timed out');
});

ebpfTest('the counters show what the programs did; cleanup leaves nothing', async () => {
  const c = readCounters(node.dir);
  assert.ok(c.svc_from_pod.new_flow.packets >= 256, `new flows: ${c.svc_from_pod.new_flow.packets}`);
  assert.ok(c.svc_from_pod.established.packets > 256, `established: ${c.svc_from_pod.established.packets}`);
  assert.equal(c.svc_from_pod.refused.packets, 3);
  // A reply is translated back where it enters the node: here, the backend pod's own veth.
  const reverse = c.svc_from_pod.reverse.packets + c.svc_to_pod.reverse.packets;
  assert.ok(reverse > 256, `reverse NAT: ${reverse}`);
  assert.equal(c.svc_from_pod.error.packets + c.svc_to_pod.error.packets, 0);
  await ebpfProxy.cleanup(node);
  assert.deepEqual(await ebpfProxy.leftovers(node), []);
  const tc = await runIn({ name: NODE }, 'tc', ['qdisc', 'show', 'dev', 'pa']);
  assert.doesNotMatch(tc.stdout, /clsact/);
  // the node routes the ClusterIP as before: nowhere (no route to 10.96.0.0/16 there)
  assert.notDeepEqual(await connect('10.96.0.10', 80, 1), [{ data: '8080 10.244.1.2', peer: '10.96.0.10:80' }]);
});

ebpfTest("ebpf-sock: connect() in the pods' cgroup goes to the endpoint, no packet translated", async () => {
  const r = await ebpfSockProxy.sync(node, input([one, two, none, udp]), undefined);
  assert.equal(r.written, 4 + 4 + 4); // 4 ports, 4 slots, 4 programs on the cgroup
  const cg = nodeCgroup(NODE);
  assert.match(cg, /\/cnilab\/cnilabt-/);
  assert.equal((await ebpfSockProxy.leftovers(node)).filter((l) => l.startsWith('cgroup ')).length, 4);
  assert.deepEqual(
    await connectInCgroup(cg, '10.96.0.10', 80, 3),
    Array(3).fill({ data: '8080 10.244.1.2', peer: '10.96.0.10:80' }),
  );
  assert.deepEqual(await connectInCgroup(cg, '10.96.0.30', 80, 1), [{ error: 'EPERM' }]);
  const c = readCounters(node.dir);
  assert.equal(c.svc_connect4.new_flow.packets, 3);
  assert.equal(c.svc_connect4.refused.packets, 1);
  assert.ok(c.svc_getpeername4.reverse.packets >= 3);
  assert.equal(
    c.svc_from_pod.new_flow.packets + c.svc_from_pod.reverse.packets + c.svc_to_pod.reverse.packets,
    0,
    'no packet translated',
  );
  // a process outside the cgroup is not served: the node has no route to the ClusterIP
  assert.notDeepEqual(await connect('10.96.0.10', 80, 1), [{ data: '8080 10.244.1.2', peer: '10.96.0.10:80' }]);
  await ebpfSockProxy.cleanup(node);
  assert.deepEqual(await ebpfSockProxy.leftovers(node), []);
  assert.equal(existsSync(cg), false, 'the cgroup left');
  assert.equal(existsSync(dirname(cg)), false, 'cnilab/ left in the cgroup tree');
});
