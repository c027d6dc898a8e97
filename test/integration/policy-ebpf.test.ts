/**
 * The eBPF NetworkPolicy design (src/ebpf/policy/) on real namespaces: an ebpf-vxlan lab (packets
 * from the other node reach deliver() by from_tunnel; ebpf-native's from_netdev runs the catalogue
 * in policy.test.ts, one lab fewer in the suite's budget), the
 * design's sync called directly with a PolicyInput made from the lab's pods, and real TCP and UDP
 * connects from the pods' namespaces. node1-p1 (a) is ingress-isolated: b may reach it on TCP
 * 8000–8003 and UDP 9000, node2's subnet but node2-p2 (except) on UDP 9000. node1-p2 (b) is
 * egress-isolated: only a on TCP 8000–8010. So on one node a denial by the ingress alone (b→a TCP
 * 8004) and by the egress alone (b→a UDP 9000) each show; replies of the egress-isolated b pass;
 * a re-sync without `previous` over the pinned maps changes nothing and keeps denying; removing
 * the policies opens everything; cleanup and `down` leave nothing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { LabState } from '../../src/lab/state';
import type { PolicyInput } from '../../src/policy/model';
import type { PolicyNode } from '../../src/policy/design';
import { nodeNetns } from '../../src/lab/names';
import { run, stopPid } from '../../src/lib/exec';
import { pins, readCounters } from '../../src/cni/plugins/ebpf/maps';
import { nodeBpfDir } from '../../src/ebpf/control-plane';
import { ebpfPolicy } from '../../src/ebpf/policy/design';
import { test } from 'node:test';
import { apiRequest } from '../../src/apiserver/client';
import type { ServiceView } from '../../src/apiserver/model';
import { proxiesSynced } from '../../src/lab/services';
import { untilListening, withLab } from './helpers';
import { ebpfMissing, ebpfTest } from './ebpf-skip';
import { PORT, topology } from './services-check';

const TOPOLOGY = 'topology: {computeNodes: 2, defaults: {pods: 2}}';
type Pod = LabState['pods'][number];

/** Echo servers on TCP and UDP ports, in one process. */
const SERVER = `
const net = require('node:net'), dgram = require('node:dgram');
const [ip, tcp, udp] = process.argv.slice(1);
for (const p of tcp.split(',').filter(Boolean)) net.createServer((s) => s.pipe(s)).listen(Number(p), ip);
for (const p of udp.split(',').filter(Boolean)) {
  const u = dgram.createSocket('udp4');
  u.on('message', (m, r) => u.send(m, r.port, r.address));
  u.bind(Number(p), ip);
}`;

/** One connect (TCP) or three datagrams (UDP): prints ok when the echo came back, else fail. */
const CLIENT = `
const net = require('node:net'), dgram = require('node:dgram');
const [proto, ip, port] = process.argv.slice(1);
const done = (r) => { process.stdout.write(r); process.exit(0); };
setTimeout(() => done('fail'), 1500);
if (proto === 'tcp') {
  const s = net.connect(Number(port), ip, () => s.write('x'));
  s.on('data', () => done('ok'));
  s.on('error', () => done('fail'));
} else {
  const u = dgram.createSocket('udp4');
  u.on('message', () => done('ok'));
  u.on('error', () => undefined);
  for (let i = 0; i < 3; i++) setTimeout(() => u.send('x', Number(port), ip, () => undefined), i * 300);
}`;

async function reaches(from: Pod, to: Pod | string, proto: 'tcp' | 'udp', port: number): Promise<boolean> {
  const host = typeof to === 'string' ? to : to.ip;
  const r = await run('ip', ['netns', 'exec', from.netns, process.execPath, '-e', CLIENT, proto, host, String(port)]);
  return r.stdout.trim() === 'ok';
}

/** The PolicyInput of `node`, from the lab's pods. */
function inputOf(
  s: LabState,
  node: string,
  policies: PolicyInput['policies'],
  iso: Record<string, [string[], string[]]>,
): PolicyInput {
  return {
    node,
    revision: 1,
    pods: [...s.pods]
      .sort((x, y) => x.name.localeCompare(y.name))
      .map((p) => ({ name: p.name, ip: p.ip, node: p.node, labels: { 'cnilab.io/pod': p.name } })),
    policies,
    endpoints: s.pods
      .filter((p) => p.node === node)
      .map((p) => ({ pod: p.name, ip: p.ip, ingress: iso[p.name]?.[0] ?? [], egress: iso[p.name]?.[1] ?? [] })),
  };
}

const subnet24 = (ip: string): string => `${ip.split('.').slice(0, 3).join('.')}.0/24`;

interface Pods {
  readonly a: Pod;
  readonly b: Pod;
  readonly c: Pod;
  readonly d: Pod;
}

/** Starts the echo servers of `p` (its pid into `servers`), resolved once every port is bound. */
async function serve(p: Pod, tcp: number[], udp: number[], servers: number[]): Promise<void> {
  const args = ['netns', 'exec', p.netns, process.execPath, '-e', SERVER, p.ip, tcp.join(','), udp.join(',')];
  servers.push(spawn('ip', args, { stdio: 'ignore' }).pid!);
  for (const port of tcp) await untilListening(p.netns, port);
  for (const port of udp) await untilListening(p.netns, port, 'udp');
}

/** a's ingress: b on TCP 8000–8003 and UDP 9000, node2's /24 but d on UDP 9000; b's egress: a on TCP 8000–8010. */
function policiesOf({ a, b, c, d }: Pods): PolicyInput['policies'] {
  return [
    {
      key: 'default/a-in',
      ingress: [
        {
          peers: { pods: [b.name], blocks: [] },
          ports: [
            { protocol: 'tcp', from: 8000, to: 8003 },
            { protocol: 'udp', from: 9000, to: 9000 },
          ],
        },
        {
          peers: { pods: [], blocks: [{ cidr: subnet24(c.ip), except: [`${d.ip}/32`] }] },
          ports: [{ protocol: 'udp', from: 9000, to: 9000 }],
        },
      ],
    },
    {
      key: 'default/b-out',
      egress: [{ peers: { pods: [a.name], blocks: [] }, ports: [{ protocol: 'tcp', from: 8000, to: 8010 }] }],
    },
  ];
}

type Proto = 'tcp' | 'udp';
async function expect(what: string, from: Pod, to: Pod, proto: Proto, port: number, ok: boolean): Promise<void> {
  assert.equal(await reaches(from, to, proto, port), ok, `${what}: ${from.name}→${to.name} ${proto} ${port}`);
}

/** Every check of policiesOf's policies in force. */
async function enforced(when: string, { a, b, c, d }: Pods): Promise<void> {
  await expect(`${when}, allowed, one node, in the port range`, b, a, 'tcp', 8001, true);
  await expect(`${when}, denied by a's ingress alone, one node`, b, a, 'tcp', 8004, false);
  await expect(`${when}, denied by b's egress alone, one node`, b, a, 'udp', 9000, false);
  await expect(`${when}, ipBlock`, c, a, 'udp', 9000, true);
  await expect(`${when}, ipBlock's except`, d, a, 'udp', 9000, false);
  await expect(`${when}, no rule for it`, d, a, 'tcp', 8001, false);
  await expect(`${when}, a's egress open, the replies pass a's ingress and b's egress`, a, b, 'tcp', 8001, true);
  await expect(`${when}, replies of egress-isolated b, across nodes`, c, b, 'tcp', 8001, true);
  await expect(`${when}, UDP replies of egress-isolated b`, c, b, 'udp', 9000, true);
  await expect(`${when}, b's egress to another node`, b, c, 'tcp', 8001, false);
}

const drops = (lab: string): number => readCounters(pins(nodeBpfDir(lab, 'node1')).counters).from_pod.drop.packets;

async function checks(lab: string, s: LabState, pods: Pods): Promise<void> {
  const { a, b, c, d } = pods;
  const node = (n: string): PolicyNode => ({ netns: nodeNetns(lab, n), dir: nodeBpfDir(lab, n) });
  assert.ok(await reaches(b, a, 'tcp', 8004), 'no policy: b→a TCP 8004');
  assert.ok(await reaches(d, a, 'udp', 9000), 'no policy: d→a UDP 9000');
  const iso: Record<string, [string[], string[]]> = {
    [a.name]: [['default/a-in'], []],
    [b.name]: [[], ['default/b-out']],
  };
  const in1 = inputOf(s, 'node1', policiesOf(pods), iso);
  assert.ok((await ebpfPolicy.sync(node('node1'), in1, undefined)).written > 0);
  await ebpfPolicy.sync(node('node2'), inputOf(s, 'node2', [], {}), undefined);
  const before = drops(lab);
  await enforced('programmed', pods);
  assert.deepEqual(
    (await ebpfPolicy.leftovers(node('node2'))).filter((l) => !l.startsWith('ipcache ')),
    [],
    'node2 has no endpoint with policy: nothing checked there, nothing tracked',
  );
  assert.ok(drops(lab) > before, 'the egress denials are counted as drops');

  // an agent's restart: no previous, the pinned maps read back — nothing to write, still enforced
  const again = await ebpfPolicy.sync(node('node1'), in1, undefined);
  assert.equal(again.written, 0, 'a re-sync over the pinned maps changes nothing');
  await enforced('after a re-sync without previous', pods);

  // removal: a partial sync to no policy opens everything
  const removed = await ebpfPolicy.sync(node('node1'), inputOf(s, 'node1', [], {}), in1);
  assert.ok(removed.written > 0);
  await expect('removed', b, a, 'tcp', 8004, true);
  await expect('removed', b, a, 'udp', 9000, true);
  await expect('removed', d, a, 'udp', 9000, true);
  await expect('removed', b, c, 'tcp', 8001, true);
  assert.deepEqual(
    (await ebpfPolicy.leftovers(node('node1'))).filter((l) => !l.startsWith('ipcache ')),
    [],
    'no endpoint, allow or tracked flow left once no policy selects a pod (the ipcache stays)',
  );
  for (const n of ['node1', 'node2']) {
    await ebpfPolicy.cleanup(node(n));
    assert.deepEqual(await ebpfPolicy.leftovers(node(n)), [], `${n}: nothing left after cleanup`);
  }
}

for (const arch of ['ebpf-vxlan'] as const)
  ebpfTest(
    `${arch} policy: allows, denials on each side, replies, ranges, ipBlock except, restart, removal`,
    async () => {
      const lab = `t-pol${arch.slice(5)}`;
      await withLab(
        lab,
        arch,
        async (s) => {
          const at = (n: string): Pod => s.pods.find((p) => p.name === n)!;
          const pods = { a: at('node1-p1'), b: at('node1-p2'), c: at('node2-p1'), d: at('node2-p2') };
          const servers: number[] = [];
          try {
            await serve(pods.a, [8001, 8004], [9000], servers);
            await serve(pods.b, [8001], [9000], servers);
            await serve(pods.c, [8001], [9000], servers);
            await checks(lab, s, pods);
          } finally {
            for (const pid of servers) await stopPid(pid);
          }
        },
        TOPOLOGY,
      );
    },
  );

/**
 * An ingress-isolated client that allows its Service's backends reaches them directly and through
 * the ClusterIP: the eBPF proxy turns the reply's source back into the ClusterIP before deliver()
 * looks for the client's flow (recorded with the backend's address), and passes the address it
 * replaced in skb->cb for that lookup (src/ebpf/policy/design.ts).
 */
test('ebpf-native + proxy ebpf: an ingress-isolated client gets its Service replies', async (t) => {
  const missing = await ebpfMissing();
  if (missing) return t.skip(missing);
  const lab = 't-polsvc';
  await withLab(
    lab,
    'ebpf-native',
    async (s) => {
      const at = (n: string): Pod => s.pods.find((p) => p.name === n)!;
      const [a, b1, b2] = [at('node1-p1'), at('node2-p1'), at('node2-p2')];
      const node = (n: string): PolicyNode => ({ netns: nodeNetns(lab, n), dir: nodeBpfDir(lab, n) });
      const servers: number[] = [];
      try {
        for (const b of [b1, b2]) await serve(b, [PORT], [], servers);
        await proxiesSynced(
          lab,
          s.processes.filter((p) => p.role === 'proxy'),
        );
        const vip = (await apiRequest<ServiceView>(lab, 'GET', '/api/services/web')).clusterIp;
        assert.ok(await reaches(a, vip, 'tcp', 80), 'no policy: a reaches the ClusterIP');
        const policies: PolicyInput['policies'] = [
          { key: 'default/a-in', ingress: [{ peers: { pods: [b1.name, b2.name], blocks: [] }, ports: 'any' }] },
        ];
        await ebpfPolicy.sync(
          node('node1'),
          inputOf(s, 'node1', policies, { [a.name]: [['default/a-in'], []] }),
          undefined,
        );
        assert.ok(await reaches(a, b1, 'tcp', PORT), 'isolated a reaches a backend directly: its reply passes');
        assert.ok(await reaches(a, vip, 'tcp', 80), 'isolated a reaches the ClusterIP: the reply passes');
      } finally {
        for (const pid of servers) await stopPid(pid);
        await ebpfPolicy.cleanup(node('node1'));
      }
    },
    topology('ebpf'),
  );
});
