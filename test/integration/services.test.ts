/**
 * A lab's Services through each proxy mode, on two architectures: pod → ClusterIP → a backend pod
 * on the other node. Correct before fast: the spread over endpoints, a removed endpoint that gets
 * no new connection, a Service without endpoints refused, the source address a backend sees, and
 * a change programmed partially where the mode's anchor does so. Nothing left after `down`.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { apiRequest } from '../../src/apiserver/client';
import type { ServiceView } from '../../src/apiserver/model';
import type { LabState } from '../../src/lab/state';
import { runDir } from '../../src/lab/names';
import { proxiesSynced, proxyDir } from '../../src/lab/services';
import type { SyncRecord } from '../../src/proxy/agent/agent';
import { probeFeatures, missingReason } from '../../src/doctor/features';
import { proxyModes } from '../../src/proxy';
import { runCrr, startCrrServer, type CrrServer } from '../../src/traffic/crr/run';
import { cli, withLab } from './helpers';

const PORT = 8080;

const topology = (proxy: string): string => `
topology:
  defaults: {pods: 2}
  proxy: ${proxy}
  nodes:
    control: {role: control}
    node1: {role: compute}
    node2: {role: compute, labels: {app: web}}
  services:
    list:
      - {name: web, ports: [{port: 80, targetPort: ${PORT}}], selector: {app: web}}
`;

const pod = (s: LabState, name: string): LabState['pods'][number] => s.pods.find((p) => p.name === name)!;

/** Pearson's chi-square of `counts` against an even spread. */
function chiSquare(counts: readonly number[]): number {
  const n = counts.reduce((a, b) => a + b, 0);
  const e = n / counts.length;
  return counts.reduce((a, c) => a + (c - e) ** 2 / e, 0);
}

const syncs = (lab: string, node: string): SyncRecord[] =>
  readFileSync(join(proxyDir(lab, node), 'syncs.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as SyncRecord);

async function correctness(s: LabState, mode: string): Promise<void> {
  const lab = s.lab;
  const client = pod(s, 'node1-p1');
  const backends = ['node2-p1', 'node2-p2'];
  const servers: CrrServer[] = [];
  try {
    for (const b of backends) servers.push(await startCrrServer({ name: pod(s, b).netns }, PORT, b));
    const web = await apiRequest<ServiceView>(lab, 'GET', '/api/services/web');
    assert.deepEqual(web.endpoints.map((e) => e.pod).sort(), backends);
    const first = await runCrr({ name: client.netns }, { host: web.clusterIp, port: 80, count: 1 });
    assert.equal(first.ok, 1, `${mode}: the first connection answered: ${JSON.stringify(first)}`);
    // Spread: 200 connections, both endpoints, a chi-square (1 degree of freedom) below p = 0.001's 10.83.
    const spread = await runCrr({ name: client.netns }, { host: web.clusterIp, port: 80, count: 200, concurrency: 4 });
    assert.equal(spread.ok, 200, `every connection answered: ${JSON.stringify(spread)}`);
    const counts = backends.map((b) => spread.servers[b] ?? 0);
    assert.ok(chiSquare(counts) < 10.83, `${mode}: spread ${counts.join('/')} is not even`);
    // The source a backend sees: the client pod's own address (no masquerade from inside the cluster range).
    assert.deepEqual(Object.keys(spread.sources), [client.ip]);
    // A removed endpoint: node2-p2 relabelled out of the Service gets no new connection.
    const r = await cli(['pod', 'label', '--lab', lab, 'node2-p2', 'app=other', '--overwrite']);
    assert.equal(r.code, 0, r.stderr);
    await proxiesSynced(
      lab,
      s.processes.filter((p) => p.role === 'proxy'),
    );
    const after = await runCrr({ name: client.netns }, { host: web.clusterIp, port: 80, count: 60, concurrency: 4 });
    assert.deepEqual(after.servers, { 'node2-p1': 60 });
    // A Service with no endpoints refuses at once (kube-proxy's REJECT), it does not time out.
    const add = await cli([
      'service',
      'add',
      '--lab',
      lab,
      'empty',
      '--port',
      '81',
      '--selector',
      'app=none',
      '--json',
    ]);
    assert.equal(add.code, 0, add.stderr);
    const empty = JSON.parse(add.stdout) as ServiceView;
    await proxiesSynced(
      lab,
      s.processes.filter((p) => p.role === 'proxy'),
    );
    const refused = await runCrr(
      { name: client.netns },
      { host: empty.clusterIp, port: 81, count: 3, timeoutMs: 1500 },
    );
    assert.equal(refused.refused, 3, `${mode}: ${JSON.stringify(refused)}`);
    // Each change after the first was programmed as kube-proxy's partial sync.
    const node1 = syncs(lab, 'node1');
    assert.equal(node1[0]!.kind, 'full');
    assert.ok(
      node1.slice(1).every((x) => x.kind === 'partial'),
      `${mode}: ${JSON.stringify(node1)}`,
    );
  } finally {
    for (const x of servers) await x.stop();
  }
}

const ARCHS = ['flannel-vxlan', 'calico-bgp'];

describe('Services through each proxy mode', async () => {
  const features = await probeFeatures();
  for (const arch of ARCHS)
    for (const mode of proxyModes.names()) {
      const missing = missingReason(features, proxyModes.get(mode).requires);
      test(
        `${mode} on ${arch}: spread, a removed endpoint, no endpoints refused, the source seen, partial syncs`,
        {
          skip: missing ? `${mode} ${missing}` : false,
        },
        () => withLab(`svc-${mode.slice(0, 4)}-${arch.slice(0, 4)}`, arch, (s) => correctness(s, mode), topology(mode)),
      );
    }
  test('ebpf-native refuses a proxy in one line, before anything is made', async () => {
    const r = await cli(['up', '--arch', 'ebpf-native', '--lab', 'svc-refused', '--proxy', 'nftables']);
    assert.notEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /proxy: this data path's tc programs move pods' packets past the node's IP stack/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.equal(existsSync(runDir('svc-refused')), false);
  });
});
