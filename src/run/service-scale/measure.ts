/**
 * The service-scale test, measured in running labs with a Service proxy. Before: a crr server in
 * each of the probed Service's two backend pods (on another node than the client), the first one
 * labelled into its selector. Then for each N ascending: every lab is brought to N Services —
 * fillers added to the ones already there (each with one endpoint, so its rules are real), then
 * the probed Service created anew, last, its name after every other (services.ts) — through the
 * API server's batch POST, and waited for until every node's proxy agent has programmed that
 * revision (its `synced` file: an event, not a pause). Then the labs are measured in BLOCKS
 * blocks, in a seeded order per block, each block a share of each lab's:
 *   - first-packet latency: fresh TCP connections to the ClusterIP, one at a time, each one's
 *     connect time (the SYN's round trip through the node's NAT);
 *   - CRR: as many again, 4 in flight, answered per second;
 *   - programming latency: changes — the other backend labelled into the selector (one API
 *     change, one revision) while a client connects 1 ms apart (or 1% of its wait so far, when
 *     more) until that backend answers; then the first one labelled out again (untimed; synced
 *     before the next).
 * Interleaved so that whatever else the machine does for a moment falls on every proxy alike.
 * And each agent's syncs of the N Services (syncs.jsonl) and its resident memory. Afterwards (also
 * on error, not on abort: the run's tear-down removes the lab) every Service the test created is
 * deleted, the backends' labels are restored, the servers stopped, and the proxies synced again: the
 * lab holds what it held before.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiRequest, createServices, deleteServices } from '../../apiserver/client';
import type { Labels, Pod, ServiceView } from '../../apiserver/model';
import { CnilabError } from '../../lib/errors';
import { PROXY_ROLE, proxiesSynced, proxyDir } from '../../lab/services';
import type { LabState, ProcessState } from '../../lab/state';
import type { SyncRecord } from '../../proxy/agent/agent';
import { SYNCS_FILE } from '../../proxy/agent/agent';
import type { CrrResult } from '../../traffic/crr/client';
import { runCrr, startCrrServer, watchCrr, type CrrServer } from '../../traffic/crr/run';
import { msStat } from '../after/ms-stat';
import type { AfterMeasureOptions } from '../after/test';
import { roundOrder } from '../schedule';
import type { ServiceScaleCell, ServiceScaleSettings } from './plan';
import type { ServiceScaleArch, ServiceScaleJson } from './schema';
import {
  batches,
  BACKEND_PORT,
  checkOwnServices,
  fillerName,
  fillerSpecs,
  PROBE_LABEL,
  PROBE_LABEL_VALUE,
  PROBE_PORT,
  PROBE_SERVICE,
  probeSpec,
} from './services';

export interface ServiceScaleLab {
  readonly cell: ServiceScaleCell;
  readonly state: LabState;
}

type CountFigures = ServiceScaleArch['counts'][number];

/** Connections in flight for the connection rate. */
export const CRR_CONCURRENCY = 4;
/**
 * The programming probe's connections start this far apart, ms, and at least 1% of the time since
 * its first answer: within 1% of the latency measured, and a few hundred connections a change
 * rather than thousands (each leaves a TIME_WAIT on the client's ephemeral ports).
 */
const CHANGE_INTERVAL_MS = 1;
const CHANGE_INTERVAL_PCT = 1;
/** How long a change may take to show before the run fails, s. */
const CHANGE_DEADLINE_SEC = 60;

const wallMs = (): number => performance.timeOrigin + performance.now();

/**
 * How long the agents may take to program N Services (or their removal): the lab's usual 180 s, or
 * N² µs where that is more — iptables-nft's restore is quadratic (docs/services.md: 10,000 in 26 s),
 * so 30,000 through it may take many minutes; 15 minutes at 30,000.
 */
export const syncTimeoutMs = (n: number): number => Math.max(180_000, (n * n) / 1000);

interface LabRun {
  readonly lab: ServiceScaleLab;
  readonly proxies: readonly ProcessState[];
  readonly client: LabState['pods'][number];
  /** Fillers created so far (scale-f00001 … this one). */
  fillers: number;
  probe: boolean;
  /** The backends' labels before the test, to restore. */
  readonly labels: Map<string, Labels>;
  /** The backend the probed Service selects now (index into cell.backends). */
  current: 0 | 1;
  readonly servers: CrrServer[];
  readonly counts: CountFigures[];
}

const failedOf = (r: CrrResult): number => r.refused + r.timedOut + Object.values(r.failed).reduce((a, b) => a + b, 0);

async function revision(lab: string): Promise<number> {
  return (await apiRequest<{ revision: number }>(lab, 'GET', '/api/services')).revision;
}

async function podLabels(lab: string, pod: string): Promise<Labels> {
  const p = (await apiRequest<{ pods: Pod[] }>(lab, 'GET', '/api/pods')).pods.find((x) => x.name === pod);
  if (!p) throw new CnilabError('NOT_FOUND', `lab ${lab}: pod ${pod} is not registered with the API server`);
  return p.labels;
}

/** Labels `pod` into (or out of) the probed Service's selector: one API change. */
async function select(l: LabRun, pod: string, into: boolean): Promise<void> {
  const { [PROBE_LABEL]: _was, ...rest } = await podLabels(l.lab.state.lab, pod);
  const labels = into ? { ...rest, [PROBE_LABEL]: PROBE_LABEL_VALUE } : rest;
  await apiRequest(l.lab.state.lab, 'PUT', `/api/pods/${pod}/labels`, { labels });
}

/** The probed Service's address now. */
async function probeIp(lab: string): Promise<string> {
  return (await apiRequest<ServiceView>(lab, 'GET', `/api/services/${PROBE_SERVICE}`)).clusterIp;
}

/** Each agent's syncs after revision `after`, and its resident memory. */
export function agentFigures(
  lab: string,
  proxies: readonly ProcessState[],
  after: number,
  read: (node: string) => string = (node) => readFileSync(join(proxyDir(lab, node), SYNCS_FILE), 'utf8'),
  rss: (pid: number) => number | undefined = rssKiB,
): CountFigures['agents'] {
  return proxies.map((p) => {
    const recs = read(p.node)
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((x) => JSON.parse(x) as SyncRecord)
      .filter((r) => r.revision > after);
    const mem = rss(p.pid);
    return {
      node: p.node,
      syncs: recs.length,
      kinds: recs.map((r) => r.kind),
      syncMs: Math.round(recs.reduce((a, r) => a + r.ms, 0) * 100) / 100,
      lastSyncMs: recs.at(-1)?.ms ?? 0,
      ...(mem !== undefined ? { rssKiB: mem } : {}),
    };
  });
}

/**
 * VmRSS of the agent: `pid` is the wrapper the lab started it with (`ip netns exec` execs it, so
 * usually the agent itself); undefined when it cannot be read.
 */
export function rssKiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Brings the lab to `n` Services: the fillers missing, then the probed Service anew, last. */
async function fillTo(
  l: LabRun,
  n: number,
  signal?: AbortSignal,
): Promise<{ createMs: number; syncedMs: number; before: number }> {
  const lab = l.lab.state.lab;
  const before = await revision(lab);
  const t0 = wallMs();
  if (l.probe) {
    await apiRequest(lab, 'DELETE', `/api/services/${PROBE_SERVICE}`);
    l.probe = false;
  }
  const endpoint = l.lab.cell.backends[0];
  for (const b of batches(fillerSpecs(l.fillers + 1, n - 1, endpoint))) {
    await createServices(lab, b);
    l.fillers += b.length;
  }
  await createServices(lab, [probeSpec()]);
  l.probe = true;
  const createMs = wallMs() - t0;
  await proxiesSynced(lab, l.proxies, signal, syncTimeoutMs(n));
  return { createMs, syncedMs: wallMs() - t0, before };
}

/** One timed change: the other backend labelled in, until it answers; the old one labelled out (untimed). */
async function change(l: LabRun, ip: string, signal?: AbortSignal): Promise<number> {
  const { cell, state } = l.lab;
  const next = (1 - l.current) as 0 | 1;
  const w = watchCrr(
    { name: l.client.netns },
    {
      host: ip,
      port: PROBE_PORT,
      count: 1_000_000,
      durationSec: CHANGE_DEADLINE_SEC,
      until: cell.backends[next],
      intervalMs: CHANGE_INTERVAL_MS,
      intervalPct: CHANGE_INTERVAL_PCT,
      timeoutMs: 1000,
    },
  );
  let r: CrrResult;
  let t0: number;
  try {
    await w.first;
    signal?.throwIfAborted();
    t0 = wallMs();
    await select(l, cell.backends[next], true);
    r = await w.done;
  } catch (e) {
    await w.stop();
    throw e;
  }
  if (r.untilAt === undefined)
    throw new CnilabError(
      'TRAFFIC_FAILED',
      `service-scale in lab ${state.lab}: ${cell.backends[next]} got no connection within ${CHANGE_DEADLINE_SEC} s ` +
        `of joining ${PROBE_SERVICE}: ${JSON.stringify({ ok: r.ok, servers: r.servers, failed: failedOf(r) })}`,
    );
  await select(l, cell.backends[l.current], false);
  l.current = next;
  await proxiesSynced(state.lab, l.proxies, signal);
  return r.untilAt - t0;
}

/** The measurements of each N are taken in this many blocks, the labs interleaved block by block. */
export const BLOCKS = 5;

/** `total` split into `blocks` nearly equal parts, none empty (fewer parts when `total` is smaller). */
export const blockSizes = (total: number, blocks: number): number[] => {
  const k = Math.max(1, Math.min(blocks, total));
  return Array.from({ length: k }, (_, i) => Math.floor((total * (i + 1)) / k) - Math.floor((total * i) / k));
};

/** One result of several runs of the crr client: their answers, failures and times together. */
export function mergeCrr(rs: readonly CrrResult[]): CrrResult {
  const add = (a: Record<string, number>, b: Readonly<Record<string, number>>): Record<string, number> => {
    for (const [k, v] of Object.entries(b)) a[k] = (a[k] ?? 0) + v;
    return a;
  };
  const ok = rs.reduce((a, r) => a + r.ok, 0);
  const elapsedSec = rs.reduce((a, r) => a + r.elapsedSec, 0);
  return {
    ok,
    refused: rs.reduce((a, r) => a + r.refused, 0),
    timedOut: rs.reduce((a, r) => a + r.timedOut, 0),
    failed: rs.reduce((a, r) => add(a, r.failed), {} as Record<string, number>),
    servers: rs.reduce((a, r) => add(a, r.servers), {} as Record<string, number>),
    sources: rs.reduce((a, r) => add(a, r.sources), {} as Record<string, number>),
    connectMs: rs.flatMap((r) => r.connectMs),
    elapsedSec,
    perSec: elapsedSec > 0 ? ok / elapsedSec : 0,
  };
}

/** A lab at `n` Services, filled and answering: what its measurements add up. */
interface AtN {
  readonly l: LabRun;
  readonly ip: string;
  readonly fill: { createMs: number; syncedMs: number; before: number };
  readonly agents: CountFigures['agents'];
  readonly first: CrrResult[];
  readonly rate: CrrResult[];
  readonly times: number[];
}

/** Brings a lab to `n` Services and checks the probed Service answers. */
async function fillAt(l: LabRun, n: number, o: AfterMeasureOptions): Promise<AtN> {
  const lab = l.lab.state.lab;
  o.progress(`service-scale: ${l.lab.cell.arch.name}: ${n} Services`);
  const fill = await fillTo(l, n, o.signal);
  const agents = agentFigures(lab, l.proxies, fill.before);
  const ip = await probeIp(lab);
  // One connection first: the client's ARP and route caches warm, the ClusterIP answers at all.
  const warm = await runCrr({ name: l.client.netns }, { host: ip, port: PROBE_PORT, count: 1 });
  if (warm.ok !== 1)
    throw new CnilabError(
      'TRAFFIC_FAILED',
      `service-scale in lab ${lab}: ${PROBE_SERVICE} (${ip}) did not answer at ${n} Services: ${JSON.stringify(warm)}`,
    );
  return { l, ip, fill, agents, first: [], rate: [], times: [] };
}

/**
 * Every lab at `n` Services: filled one after another, then measured block by block — each block
 * a share of the first-packet connections, of the CRR connections and of the changes of every
 * lab, the labs in a seeded order per block — so that whatever else the machine does in a moment
 * falls on every proxy alike, not on the one whose turn it was.
 */
async function measureN(
  runs: readonly LabRun[],
  i: number,
  n: number,
  s: ServiceScaleSettings,
  o: AfterMeasureOptions,
) {
  const seed = o.seed + 104_729;
  const at: AtN[] = [];
  for (const l of roundOrder(runs, seed, i, () => 'service-scale')) at.push(await fillAt(l, n, o));
  const first = blockSizes(s.connections, BLOCKS);
  const changes = blockSizes(s.changes, BLOCKS);
  for (let b = 0; b < BLOCKS; b++)
    for (const a of roundOrder(at, seed + 1 + i, b, () => 'service-scale')) {
      o.signal?.throwIfAborted();
      const name = a.l.lab.cell.arch.name;
      const ns = { name: a.l.client.netns };
      if (b === 0) o.progress(`service-scale: ${name}: ${n} Services, ${s.connections} connections`);
      if (first[b]) {
        a.first.push(await runCrr(ns, { host: a.ip, port: PROBE_PORT, count: first[b]! }));
        a.rate.push(await runCrr(ns, { host: a.ip, port: PROBE_PORT, count: first[b]!, concurrency: CRR_CONCURRENCY }));
      }
      for (let k = 0; k < (changes[b] ?? 0); k++) {
        o.progress(`service-scale: ${name}: ${n} Services, change ${a.times.length + 1}/${s.changes}`);
        a.times.push(await change(a.l, a.ip, o.signal));
      }
    }
  for (const a of at) {
    const firstAll = mergeCrr(a.first);
    const rate = mergeCrr(a.rate);
    if (firstAll.connectMs.length === 0)
      throw new CnilabError(
        'TRAFFIC_FAILED',
        `service-scale in lab ${a.l.lab.state.lab}: no connection answered at ${n} Services`,
      );
    a.l.counts.push({
      n,
      fillers: n - 1,
      createMs: Math.round(a.fill.createMs * 100) / 100,
      syncedMs: Math.round(a.fill.syncedMs * 100) / 100,
      firstPacket: msStat(firstAll.connectMs),
      failed: failedOf(firstAll),
      crr: {
        perSec: Math.round(rate.perSec * 10) / 10,
        concurrency: CRR_CONCURRENCY,
        ok: rate.ok,
        failed: failedOf(rate),
      },
      programming: msStat(a.times),
      agents: a.agents,
    });
  }
}

/** Before the first N: the lab's own Services checked, the backends' labels kept, the servers started. */
async function prepare(lab: ServiceScaleLab): Promise<LabRun> {
  const { cell, state } = lab;
  const pod = (name: string) => {
    const p = state.pods.find((x) => x.name === name);
    if (!p) throw new CnilabError('NOT_FOUND', `lab ${state.lab}: no pod ${name}`);
    return p;
  };
  const own = (await apiRequest<{ services: ServiceView[] }>(state.lab, 'GET', '/api/services')).services;
  checkOwnServices(
    state.lab,
    own.map((x) => x.name),
  );
  const l: LabRun = {
    lab,
    proxies: state.processes.filter((p) => p.role === PROXY_ROLE),
    client: pod(cell.client),
    fillers: 0,
    probe: false,
    labels: new Map(),
    current: 0,
    servers: [],
    counts: [],
  };
  if (l.proxies.length === 0) throw new CnilabError('INVALID_INPUT', `lab ${state.lab} runs no Service proxy`);
  for (const b of cell.backends) l.labels.set(b, await podLabels(state.lab, b));
  return l;
}

/** The backends' servers started, the first one selected. */
async function start(l: LabRun): Promise<void> {
  const { cell, state } = l.lab;
  for (const b of cell.backends)
    l.servers.push(await startCrrServer({ name: state.pods.find((x) => x.name === b)!.netns }, BACKEND_PORT, b));
  await select(l, cell.backends[0], true);
}

/** Every Service the test created deleted, the labels as they were, the servers stopped, the proxies synced. */
async function restore(l: LabRun): Promise<void> {
  const lab = l.lab.state.lab;
  let failure: unknown;
  const attempt = async (f: () => Promise<unknown>): Promise<void> => {
    await f().catch((e: unknown) => (failure ??= e));
  };
  const names = [
    ...(l.probe ? [PROBE_SERVICE] : []),
    ...Array.from({ length: l.fillers }, (_, i) => fillerName(i + 1)),
  ];
  await attempt(() => deleteServices(lab, names));
  l.fillers = 0;
  l.probe = false;
  for (const [pod, labels] of l.labels)
    await attempt(() => apiRequest(lab, 'PUT', `/api/pods/${pod}/labels`, { labels }));
  for (const s of l.servers) await attempt(() => s.stop());
  await attempt(() => proxiesSynced(lab, l.proxies, undefined, syncTimeoutMs(names.length)));
  if (failure !== undefined) throw failure;
}

export async function measureServiceScale(
  labs: readonly ServiceScaleLab[],
  s: ServiceScaleSettings,
  o: AfterMeasureOptions,
): Promise<ServiceScaleJson['archs']> {
  const runs: LabRun[] = [];
  try {
    for (const lab of labs) runs.push(await prepare(lab));
    for (const l of runs) await start(l);
    for (const [i, n] of s.counts.entries()) await measureN(runs, i, n, s, o);
  } finally {
    if (!o.signal?.aborted) {
      o.progress('service-scale: removing the Services it created');
      for (const l of runs) await restore(l);
    } else for (const l of runs) for (const x of l.servers) await x.stop().catch(() => undefined);
  }
  return runs.map((l) => ({
    arch: l.lab.cell.arch.name,
    family: l.lab.cell.arch.family,
    proxy: l.lab.cell.proxy,
    lab: l.lab.state.lab,
    client: l.lab.cell.client,
    backends: [...l.lab.cell.backends],
    counts: l.counts,
  }));
}
