/**
 * The Service checks every proxy mode must pass in a lab (services.test.ts on this host, the
 * kernel tier's ipvs test in a VM): pod → ClusterIP → a backend pod on the other node — the spread
 * over endpoints, a removed endpoint that gets no new connection, a Service without endpoints
 * refused, the source address a backend sees, a change programmed partially.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiRequest } from '../../src/apiserver/client';
import type { ServiceView } from '../../src/apiserver/model';
import type { LabState } from '../../src/lab/state';
import { proxiesSynced, proxyDir } from '../../src/lab/services';
import type { SyncRecord } from '../../src/proxy/agent/agent';
import { runCrr, startCrrServer, type CrrServer } from '../../src/traffic/crr/run';
import { cli } from './helpers';

export const PORT = 8080;

export const topology = (proxy: string): string => `
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
      - {name: sticky, ports: [{port: 82, targetPort: ${PORT}}], selector: {app: web}, affinitySeconds: 60}
`;

export const pod = (s: LabState, name: string): LabState['pods'][number] => s.pods.find((p) => p.name === name)!;

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

export async function correctness(s: LabState, mode: string): Promise<void> {
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
    // Spread: 300 connections, both endpoints, a chi-square (1 degree of freedom) below p = 1e-5's 19.51 — a
    // split as uneven as 65/35 fails it; an even spread fails it once in 100,000 runs (each of the 8 cases).
    const spread = await runCrr({ name: client.netns }, { host: web.clusterIp, port: 80, count: 300, concurrency: 4 });
    assert.equal(spread.ok, 300, `every connection answered: ${JSON.stringify(spread)}`);
    const counts = backends.map((b) => spread.servers[b] ?? 0);
    assert.ok(chiSquare(counts) < 19.51, `${mode}: spread ${counts.join('/')} is not even`);
    // The source a backend sees: the client pod's own address (no masquerade from inside the cluster range).
    assert.deepEqual(Object.keys(spread.sources), [client.ip]);
    // ClientIP session affinity: every connection of one client to the same endpoint, within the timeout.
    const sticky = await apiRequest<ServiceView>(lab, 'GET', '/api/services/sticky');
    const stuck = await runCrr({ name: client.netns }, { host: sticky.clusterIp, port: 82, count: 30 });
    assert.equal(stuck.ok, 30, `${mode}: ${JSON.stringify(stuck)}`);
    assert.equal(Object.keys(stuck.servers).length, 1, `${mode}: affinity: ${JSON.stringify(stuck.servers)}`);
    // A removed endpoint: node2-p2 relabelled out of the Service gets no new connection.
    const r = await cli(['pod', 'label', '--lab', lab, 'node2-p2', 'app=other', '--overwrite']);
    assert.equal(r.code, 0, r.stderr);
    await proxiesSynced(
      lab,
      s.processes.filter((p) => p.role === 'proxy'),
    );
    const after = await runCrr({ name: client.netns }, { host: web.clusterIp, port: 80, count: 60, concurrency: 4 });
    assert.deepEqual(after.servers, { 'node2-p1': 60 });
    // A client on the backend's own node: the reply never leaves the node, and is translated back all the same.
    const local = await runCrr({ name: pod(s, 'node2-p2').netns }, { host: web.clusterIp, port: 80, count: 20 });
    assert.deepEqual(local.servers, { 'node2-p1': 20 }, `${mode}: from node2-p2: ${JSON.stringify(local)}`);
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
