/**
 * The policy-scale test, measured in running labs whose kind enforces NetworkPolicy. Before: a crr
 * server and an iperf3 server in each lab's server pod. A lab enforces with one design at a time,
 * so the designs are measured in phases: in phase k every lab enforces with its k-th design
 * (switched: lab/policy.ts; labs with fewer designs sit it out), and for each N ascending every such
 * lab is brought to N rules (policies.ts: fillers, then the probe policy, last) — applied in
 * batches and waited for until every node's agent enforces them (an event, not a pause) — then the
 * labs are measured in BLOCKS blocks, in a seeded order per block, each block a share of each
 * lab's:
 *   - throughput: one short iperf3 TCP run, client to server;
 *   - CRR: connections one at a time (connect, request, response, close), their rate and each
 *     one's connect time;
 *   - realization (N ≥ 1): a policy allowing the second client — isolated from the server until
 *     then — sent while that client connects, timed to its first answered connection; deleted.
 * Interleaved so that whatever else the machine does for a moment falls on every lab alike. Each
 * agent's syncs (syncs.jsonl) of the N policies and of each change are recorded. At the end of a
 * phase every policy the test made is deleted; afterwards (also on error, not on abort: the run's
 * tear-down removes the lab) the servers are stopped and each lab enforces with its own design
 * again: it holds what it held before.
 */
import { runCatalogue } from '../../lab/policy-catalogue';
import { compactMatrix } from '../../policy/matrix';
import { CnilabError } from '../../lib/errors';
import type { CrrResult } from '../../traffic/crr/client';
import { runCrr } from '../../traffic/crr/run';
import { tcpSample } from '../../traffic/iperf3/run';
import { msStat } from '../after/ms-stat';
import type { AfterMeasureOptions } from '../after/test';
import { roundOrder } from '../schedule';
import { blockSizes, mergeCrr } from '../service-scale/measure';
import {
  agentFigures,
  agentsOf,
  fillTo,
  prepare,
  removeAll,
  restore,
  startServers,
  syncRecords,
  useDesign,
  type LabRun,
  type PolicyScaleLab,
} from './lab-run';
import type { PolicyScaleSettings } from './plan';
import { realize } from './realize';
import { CRR_PORT, IPERF_PORT } from './policies';
import type { PolicyScaleJson } from './schema';

/** The measurements of each design and N are taken in this many blocks, the labs interleaved block by block. */
export const BLOCKS = 5;

const failedOf = (r: CrrResult): number => r.refused + r.timedOut + Object.values(r.failed).reduce((a, b) => a + b, 0);

/** A lab at `n` rules, filled and answering: what its measurements add up. */
interface AtN {
  readonly l: LabRun;
  readonly fill: { applyMs: number; before: number; filled: number };
  readonly tput: number[];
  readonly crr: CrrResult[];
  readonly times: number[];
  readonly changes: { after: number; revision: number }[];
}

/** Brings a lab to `n` rules and checks the client still reaches the server. */
async function fillAt(l: LabRun, n: number, o: AfterMeasureOptions): Promise<AtN> {
  const lab = l.lab.state.lab;
  o.progress(`policy-scale: ${l.lab.cell.arch.name} (${l.design}): ${n} rules`);
  const fill = await fillTo(l, n);
  // One connection first: the caches warm, and the probe policy lets the client through at all.
  const warm = await runCrr({ name: l.client.netns }, { host: l.server.ip, port: CRR_PORT, count: 1 });
  if (warm.ok !== 1)
    throw new CnilabError(
      'TRAFFIC_FAILED',
      `policy-scale in lab ${lab} (${l.design}): ${l.client.name} did not reach ${l.server.name} at ${n} rules: ` +
        JSON.stringify(warm),
    );
  return { l, fill, tput: [], crr: [], times: [], changes: [] };
}

/** One block of one lab: its share of throughput, connections and changes. */
async function block(a: AtN, conns: number, changes: number, s: PolicyScaleSettings, o: AfterMeasureOptions) {
  const { l } = a;
  const ns = { name: l.client.netns };
  const t = await tcpSample({
    client: ns,
    serverIp: l.server.ip,
    port: IPERF_PORT,
    durationSec: s.throughputSec,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  a.tput.push(t.bitsPerSecond);
  if (conns) a.crr.push(await runCrr(ns, { host: l.server.ip, port: CRR_PORT, count: conns }, undefined, o.signal));
  for (let k = 0; k < changes; k++) {
    o.progress(`policy-scale: ${l.lab.cell.arch.name} (${l.design}): change ${a.times.length + 1}/${s.changes}`);
    const r = await realize(l, o.signal);
    a.times.push(r.ms);
    a.changes.push({ after: r.after, revision: r.revision });
  }
}

/** A lab's figures at `n`, from its blocks. */
function figuresOf(a: AtN, n: number): void {
  const { l } = a;
  const crr = mergeCrr(a.crr);
  if (crr.connectMs.length === 0)
    throw new CnilabError('TRAFFIC_FAILED', `policy-scale in lab ${l.lab.state.lab}: no connection answered at ${n}`);
  const recs = syncRecords(
    l.lab.state.lab,
    agentsOf(l.lab.state.lab).map((p) => p.node),
  );
  const r2 = (x: number): number => Math.round(x * 100) / 100;
  const rules = l.figures.get(l.design) ?? [];
  rules.push({
    n,
    policies: n ? n + 1 : 0,
    applyMs: r2(a.fill.applyMs),
    throughput: { bitsPerSecond: Math.round(a.tput.reduce((x, y) => x + y, 0) / a.tput.length), samples: a.tput },
    crr: {
      perSec: Math.round(crr.perSec * 10) / 10,
      samples: a.crr.map((c) => Math.round(c.perSec * 10) / 10),
      ok: crr.ok,
      failed: failedOf(crr),
    },
    connect: msStat(crr.connectMs),
    ...(a.times.length ? { realization: msStat(a.times) } : {}),
    agents: agentFigures(recs, a.fill.before, a.fill.filled, a.changes),
  });
  l.figures.set(l.design, rules);
}

/** Every lab of `runs` at `n` rules: filled one after another, then measured block by block, interleaved. */
async function measureN(
  runs: readonly LabRun[],
  seed: number,
  i: number,
  n: number,
  s: PolicyScaleSettings,
  o: AfterMeasureOptions,
) {
  const at: AtN[] = [];
  for (const l of roundOrder(runs, seed, i, () => 'policy-scale')) at.push(await fillAt(l, n, o));
  const conns = blockSizes(s.connections, BLOCKS);
  const changes = n ? blockSizes(s.changes, BLOCKS) : [];
  for (let b = 0; b < BLOCKS; b++)
    for (const a of roundOrder(at, seed + 1 + i, b, () => 'policy-scale')) {
      o.signal?.throwIfAborted();
      await block(a, conns[b] ?? 0, changes[b] ?? 0, s, o);
    }
  for (const a of at) figuresOf(a, n);
}

/** Phase k: every lab with a k-th design enforcing with it, measured at every N, its policies deleted after. */
async function phase(runs: readonly LabRun[], k: number, s: PolicyScaleSettings, o: AfterMeasureOptions) {
  const active = runs.filter((l) => l.lab.cell.designs[k] !== undefined);
  for (const l of active) {
    o.progress(`policy-scale: ${l.lab.cell.arch.name}: enforcing with ${l.lab.cell.designs[k]}`);
    await useDesign(l, l.lab.cell.designs[k]!, o.signal);
    // correctness first: the catalogue's matrices, before any filler is in
    const c = await runCatalogue(l.lab.state.lab, {
      ...(s.cases ? { cases: s.cases } : {}),
      progress: (line) => o.progress(`policy-scale: ${l.design}: ${line}`),
    });
    l.catalogues.set(l.design, {
      differences: c.differences,
      cases: c.cases.map((x) => ({
        name: x.name,
        about: x.about,
        differences: x.differences,
        matrix: compactMatrix(x.matrix),
        ...(x.afterDelete ? { afterDelete: compactMatrix(x.afterDelete) } : {}),
      })),
    });
  }
  const seed = o.seed + 7_919 * (k + 1);
  for (const [i, n] of s.rules.entries()) await measureN(active, seed, i, n, s, o);
  for (const l of active) {
    o.progress(`policy-scale: ${l.lab.cell.arch.name} (${l.design}): removing its policies`);
    await removeAll(l);
  }
}

export async function measurePolicyScale(
  labs: readonly PolicyScaleLab[],
  s: PolicyScaleSettings,
  o: AfterMeasureOptions,
): Promise<PolicyScaleJson['archs']> {
  const runs: LabRun[] = [];
  try {
    for (const lab of labs) runs.push(await prepare(lab));
    for (const l of runs) await startServers(l);
    const phases = Math.max(0, ...runs.map((l) => l.lab.cell.designs.length));
    for (let k = 0; k < phases; k++) await phase(runs, k, s, o);
  } finally {
    if (!o.signal?.aborted) {
      o.progress('policy-scale: removing the policies it created, each lab back to its own design');
      for (const l of runs) await restore(l);
    } else for (const l of runs) for (const stop of l.stops) await stop().catch(() => undefined);
  }
  return runs.map((l) => ({
    arch: l.lab.cell.arch.name,
    family: l.lab.cell.arch.family,
    lab: l.lab.state.lab,
    client: l.lab.cell.client,
    server: l.lab.cell.server,
    client2: l.lab.cell.client2,
    designs: l.lab.cell.designs.map((design) => ({
      design,
      ...(l.catalogues.has(design) ? { catalogue: l.catalogues.get(design)! } : {}),
      rules: l.figures.get(design) ?? [],
    })),
  }));
}
