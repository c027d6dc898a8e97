/**
 * `cnilab run`: for each architecture, bring a lab up, measure each path with iperf3 (warm-up
 * discarded, N repeats), tear the lab down — always, also on error and abort — and return results
 * that validate against results-v1.
 */
import { mkdirSync, copyFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import type { Architecture, PathName } from '../arch/architecture';
import { probeFeatures, type FeatureReport } from '../doctor/features';
import { CnilabError } from '../lib/errors';
import { up } from '../lab/lab';
import { nodeNetns, podNetns } from '../lab/names';
import { conflistFile } from '../lab/pods';
import type { LabState } from '../lab/state';
import { teardownLab } from '../lab/teardown';
import type { Topology } from '../topology/schema';
import { startIperf3Server, tcpSample, type TcpSample } from '../traffic/iperf3/run';
import { DatapathMeter } from './datapath';
import { planCells, type Cell } from './matrix';
import { RESULTS_SCHEMA_VERSION, type ResultRow, type RunResults } from './results-schema';
import { median, round, summarize } from './stats';

export interface RunOptions {
  readonly topology: Topology;
  readonly archs: readonly Architecture[];
  readonly paths: readonly PathName[];
  /** Seconds measured per sample. */
  readonly durationSec: number;
  /** Seconds iperf3 runs first and discards. */
  readonly warmupSec: number;
  readonly repeats: number;
  /** Folder for results.json and the configuration lists; created. */
  readonly outDir: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: RunProgress) => void;
  readonly version: string;
}

export interface RunProgress {
  readonly message: string;
  /** Samples done and planned. */
  readonly done: number;
  readonly total: number;
  /** Estimated seconds left, once there is something to estimate from. */
  readonly etaSec?: number;
}

export async function runBenchmark(o: RunOptions): Promise<RunResults> {
  const started = new Date();
  const features = await probeFeatures();
  // What every cell needs, checked before any lab is built.
  for (const f of ['root', 'iproute2', 'iperf3'] as const) {
    if (!features[f].ok) throw new CnilabError(f === 'root' ? 'NOT_ROOT' : 'FEATURE_MISSING', features[f].detail);
  }
  const { cells, skipped } = planCells(o.topology, o.archs, o.paths, features);
  mkdirSync(o.outDir, { recursive: true });
  const byArch = new Map<Architecture, Cell[]>();
  for (const c of cells) byArch.set(c.arch, [...(byArch.get(c.arch) ?? []), c]);

  const total = cells.length * o.repeats;
  let done = 0;
  const t0 = Date.now();
  const sampleSec = o.durationSec + o.warmupSec + 0.5;
  const progress = (message: string): void => {
    const remaining = total - done;
    // Measured so far (lab set-up included) once a sample is done; until then, the plan.
    const etaSec = done > 0 ? ((Date.now() - t0) / 1000 / done) * remaining : remaining * sampleSec;
    o.onProgress?.({ message, done, total, etaSec: Math.round(etaSec) });
  };

  const rows: Omit<ResultRow, 'baselinePct'>[] = [];
  for (const [arch, archCells] of byArch) {
    progress(`${arch.name}: bringing the lab up`);
    const lab = await up({ topology: o.topology, arch: arch.name, signal: o.signal, features });
    try {
      if (arch.conflist) copyFileSync(conflistFile(lab.lab, o.topology.nodes.find((n) => n.role === 'compute')!.name), join(o.outDir, `${arch.name}.conflist`));
      for (const cell of archCells) {
        const samples: TcpSample[] = [];
        const { client, server, serverIp, mtu } = resolveEndpoints(lab, cell);
        const srv = startIperf3Server(server, serverIp);
        const meter = new DatapathMeter(lab.lab, nodesOf(lab, cell));
        try {
          for (let r = 1; r <= o.repeats; r++) {
            progress(`${arch.name} ${cell.path}: repeat ${r}/${o.repeats}`);
            await meter.start();
            samples.push(await tcpSample({ client, server, serverIp, durationSec: o.durationSec, omitSec: o.warmupSec, signal: o.signal }));
            await meter.stop();
            done++;
          }
        } finally {
          await srv.stop();
        }
        const gbps = samples.map((s) => round(s.bitsPerSecond / 1e9));
        const busyCores = (median(samples.map((s) => s.cpu.busy)) / 100) * cpus().length;
        rows.push({
          arch: arch.name,
          path: cell.path,
          test: 'tcp',
          streams: 1,
          client: cell.endpoints.client,
          server: cell.endpoints.server,
          gbps: { ...mapSummary(summarize(gbps)), samples: gbps },
          retransmits: samples.reduce((s, x) => s + x.retransmits, 0),
          mtu,
          cpu: {
            user: median(samples.map((s) => s.cpu.user)),
            system: median(samples.map((s) => s.cpu.system)),
            softirq: median(samples.map((s) => s.cpu.softirq)),
            busy: median(samples.map((s) => s.cpu.busy)),
          },
          ...(busyCores > 0 ? { gbpsPerBusyCore: round(summarize(gbps).median / busyCores, 2) } : {}),
          ...(meter.results() ? { datapath: meter.results() } : {}),
        });
      }
    } finally {
      progress(`${arch.name}: tearing the lab down`);
      await teardownLab(lab.lab);
    }
  }

  const host = rows.find((r) => r.arch === 'host');
  const finished = new Date();
  const results: RunResults = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: { name: 'cnilab', version: o.version },
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationSec: round((finished.getTime() - started.getTime()) / 1000, 1),
    lab: {
      name: o.topology.name,
      nodes: o.topology.nodes.length,
      computeNodes: o.topology.nodes.filter((n) => n.role === 'compute').length,
      underlayMtu: o.topology.underlay.mtu,
      podCidr: o.topology.podCidr,
    },
    settings: { durationSec: o.durationSec, warmupSec: o.warmupSec, repeats: o.repeats },
    environment: environment(features),
    rows: rows.map((r) => ({ ...r, baselinePct: host ? round((r.gbps.median / host.gbps.median) * 100, 1) : null })),
    skipped,
  };
  writeFileSync(join(o.outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  return results;
}

function mapSummary(s: { median: number; min: number; max: number }): { median: number; min: number; max: number } {
  return { median: round(s.median), min: round(s.min), max: round(s.max) };
}

function resolveEndpoints(lab: LabState, cell: Cell): { client: { name: string }; server: { name: string }; serverIp: string; mtu: number } {
  const { client, server } = cell.endpoints;
  if (!cell.arch.conflist) {
    const node = lab.topology.nodes.find((n) => n.name === server)!;
    return { client: { name: nodeNetns(lab.lab, client) }, server: { name: nodeNetns(lab.lab, server) }, serverIp: node.underlayIp, mtu: lab.topology.underlay.mtu };
  }
  const pod = (name: string) => lab.pods.find((p) => p.name === name)!;
  return { client: { name: podNetns(lab.lab, client) }, server: { name: podNetns(lab.lab, server) }, serverIp: pod(server).ip, mtu: pod(client).mtu };
}

/** The nodes a cell's traffic crosses. */
function nodesOf(lab: LabState, cell: Cell): string[] {
  if (!cell.arch.conflist) return [cell.endpoints.client, cell.endpoints.server];
  return [cell.endpoints.client, cell.endpoints.server].map((p) => lab.pods.find((x) => x.name === p)!.node);
}

function environment(features: FeatureReport): RunResults['environment'] {
  return {
    kernel: release(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    iperf3: features.iperf3.detail,
    iproute2: features.iproute2.detail,
    node: process.version,
  };
}
