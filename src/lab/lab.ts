/**
 * A Lab turns a Topology and an Architecture into running namespaces, links, processes and pods —
 * and removes them again. `up` either completes or leaves nothing behind (on error and on abort).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { architectures } from '../arch';
import type { Architecture } from '../arch/architecture';
import { readSubnetEnv } from '../agent/subnet-env';
import { probeFeatures, missingReason, type FeatureReport } from '../doctor/features';
import { CnilabError } from '../lib/errors';
import { listNamedNetns } from '../lib/netns';
import type { NetConfList } from '../cni/types';
import type { Topology } from '../topology/schema';
import { startControlPlane, nodeDir } from './control-plane';
import { labOfNetns, runDir, UNDERLAY_IF } from './names';
import { attachPods, writeConflist } from './pods';
import { writeState, type LabState } from './state';
import { teardownLab, type TeardownReport } from './teardown';
import { buildUnderlay } from './underlay';

export interface UpOptions {
  readonly topology: Topology;
  /** Architecture name. Default: vxlan. */
  readonly arch?: string;
  readonly signal?: AbortSignal;
  /** Called at each step, for progress display. */
  readonly onStep?: (step: string) => void;
  /** A probe already made (saves ~50 ms). Default: probed now. */
  readonly features?: FeatureReport;
}

export function labExists(lab: string): boolean {
  return existsSync(runDir(lab)) || listNamedNetns().some((ns) => labOfNetns(ns) === lab);
}

/** Checks everything that can be checked before anything is created. */
export async function preflight(topology: Topology, archName: string, features?: FeatureReport): Promise<{ arch: Architecture; features: FeatureReport }> {
  const arch = architectures.get(archName);
  if (labExists(topology.name)) {
    throw new CnilabError('LAB_EXISTS', `lab ${JSON.stringify(topology.name)} is already up; remove it with: cnilab down --lab ${topology.name}`);
  }
  const report = features ?? (await probeFeatures());
  if (!report.root.ok) throw new CnilabError('NOT_ROOT', report.root.detail);
  const missing = missingReason(report, ['iproute2', ...arch.requires]);
  if (missing) throw new CnilabError('FEATURE_MISSING', `architecture ${arch.name} ${missing}`);
  return { arch, features: report };
}

export async function up(opts: UpOptions): Promise<LabState> {
  const { topology } = opts;
  const lab = topology.name;
  const { arch } = await preflight(topology, opts.arch ?? 'vxlan', opts.features);
  const step = opts.onStep ?? (() => undefined);
  let state: LabState = { version: 1, lab, arch: arch.name, status: 'creating', createdAt: new Date().toISOString(), topology, pods: [], processes: [] };
  mkdirSync(runDir(lab), { recursive: true });
  writeState(state);
  try {
    step(`underlay: ${topology.nodes.length} nodes on one switch`);
    await buildUnderlay(topology, opts.signal);
    if (arch.backend !== undefined && arch.conflist) {
      step(`control plane: lease store and ${topology.nodes.length - 1} agents (backend ${arch.backend})`);
      const processes = await startControlPlane(topology, arch.backend, opts.signal);
      state = { ...state, processes };
      writeState(state);
      const lists = new Map<string, NetConfList>();
      for (const n of topology.nodes.filter((x) => x.role === 'compute')) {
        const list = arch.conflist({ subnetEnv: readSubnetEnv(join(nodeDir(lab, n.name), 'subnet.env')), ipamDir: join(nodeDir(lab, n.name), 'ipam'), underlayIf: UNDERLAY_IF });
        writeConflist(lab, n.name, list);
        lists.set(n.name, list);
      }
      step(`pods: ${topology.pods.length} attached through CNI`);
      state = { ...state, pods: await attachPods(lab, topology.pods, lists, opts.signal) };
    }
    state = { ...state, status: 'up' };
    writeState(state);
    return state;
  } catch (e) {
    await teardownLab(lab);
    throw e;
  }
}

export async function down(lab: string): Promise<TeardownReport> {
  return teardownLab(lab);
}
