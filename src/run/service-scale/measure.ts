/**
 * The service-scale test, measured in running labs with a Service proxy. Before: a crr server in
 * each of the probed Service's two backend pods (on another node than the client), the first one
 * labelled into its selector. Then for each N ascending, the labs in a seeded order: the lab is
 * brought to N Services — fillers added to the ones already there (each with one endpoint, so its
 * rules are real), then the probed Service created anew, last, its name after every other
 * (services.ts) — through the API server's batch POST; the wait for every node's proxy agent to
 * have programmed that revision (its `synced` file: an event, not a pause); then from the client:
 *   - first-packet latency: `connections` fresh TCP connections to the ClusterIP, one at a time,
 *     each one's connect time (the SYN's round trip through the node's NAT);
 *   - CRR: as many again, 4 in flight, answered per second;
 *   - programming latency: `changes` times, the other backend labelled into the selector (one API
 *     change, one revision) while a client connects 1 ms apart (or 1% of its wait so far, when
 *     more) until that backend answers; then the
 *     first one labelled out again (untimed; synced before the next).
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

/** The figures of one lab at `n` Services. */
async function measureAt(l: LabRun, n: number, s: ServiceScaleSettings, o: AfterMeasureOptions): Promise<void> {
  const lab = l.lab.state.lab;
  const name = l.lab.cell.arch.name;
  o.progress(`service-scale: ${name}: ${n} Services`);
  const { createMs, syncedMs, before } = await fillTo(l, n, o.signal);
  const agents = agentFigures(lab, l.proxies, before);
  const ip = await probeIp(lab);
  const ns = { name: l.client.netns };
  // One connection first: the client's ARP and route caches warm, the ClusterIP answers at all.
  const warm = await runCrr(ns, { host: ip, port: PROBE_PORT, count: 1 });
  if (warm.ok !== 1)
    throw new CnilabError(
      'TRAFFIC_FAILED',
      `service-scale in lab ${lab}: ${PROBE_SERVICE} (${ip}) did not answer at ${n} Services: ${JSON.stringify(warm)}`,
    );
  o.progress(`service-scale: ${name}: ${n} Services, ${s.connections} connections`);
  const first = await runCrr(ns, { host: ip, port: PROBE_PORT, count: s.connections });
  const rate = await runCrr(ns, { host: ip, port: PROBE_PORT, count: s.connections, concurrency: CRR_CONCURRENCY });
  const times: number[] = [];
  for (let k = 0; k < s.changes; k++) {
    o.signal?.throwIfAborted();
    o.progress(`service-scale: ${name}: ${n} Services, change ${k + 1}/${s.changes}`);
    times.push(await change(l, ip, o.signal));
  }
  if (first.connectMs.length === 0)
    throw new CnilabError('TRAFFIC_FAILED', `service-scale in lab ${lab}: no connection answered at ${n} Services`);
  l.counts.push({
    n,
    fillers: n - 1,
    createMs: Math.round(createMs * 100) / 100,
    syncedMs: Math.round(syncedMs * 100) / 100,
    firstPacket: msStat(first.connectMs),
    failed: failedOf(first),
    crr: {
      perSec: Math.round(rate.perSec * 10) / 10,
      concurrency: CRR_CONCURRENCY,
      ok: rate.ok,
      failed: failedOf(rate),
    },
    programming: msStat(times),
    agents,
  });
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
    for (const [i, n] of s.counts.entries())
      for (const l of roundOrder(runs, o.seed + 104_729, i, () => 'service-scale')) {
        o.signal?.throwIfAborted();
        await measureAt(l, n, s, o);
      }
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
