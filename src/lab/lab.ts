/**
 * A Lab turns a Topology and an Architecture into running namespaces, links, processes and pods —
 * and removes them again. `up` either completes or leaves nothing behind (on error and on abort).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { architectures } from '../arch';
import type { Architecture } from '../arch/architecture';
import { probeFeatures, missingReason, type FeatureReport } from '../doctor/features';
import { CnilabError } from '../lib/errors';
import { listNamedNetns } from '../lib/netns';
import { settleAll } from '../lib/settle';
import type { Topology } from '../topology/schema';
import { nodeDir, startControlPlane, waitForPeers, waitForSubnet } from './control-plane';
import { labOfNetns, runDir, UNDERLAY_IF } from './names';
import { upKuryr } from '../kuryr/control-plane';
import { attachPods, writeConflist } from './pods';
import { writeState, type LabState } from './state';
import { teardownLab, type TeardownReport } from './teardown';
import { buildUnderlay } from './underlay';

export interface UpOptions {
  readonly topology: Topology;
  /** Architecture name. Default: flannel-vxlan. */
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
  const { arch, features } = await preflight(topology, opts.arch ?? 'flannel-vxlan', opts.features);
  const step = opts.onStep ?? (() => undefined);
  let state: LabState = { version: 1, lab, arch: arch.name, status: 'creating', createdAt: new Date().toISOString(), topology, pods: [], processes: [] };
  mkdirSync(runDir(lab), { recursive: true });
  writeState(state);
  try {
    step(`underlay: ${topology.nodes.length} nodes on one switch`);
    await buildUnderlay(topology, opts.signal);
    const conflist = arch.conflist;
    if (arch.backend !== undefined && conflist) {
      const compute = topology.nodes.filter((x) => x.role === 'compute').map((n) => n.name);
      step(`control plane: lease store and ${compute.length} agents (backend ${arch.backend.type}); ${topology.pods.length} pods through CNI`);
      const processes = startControlPlane(topology, arch.backend);
      state = { ...state, processes };
      writeState(state);
      // Each node's pods are attached as soon as its agent has a lease, while the others still start.
      const perNode = await settleAll(
        compute.map(async (node) => {
          const subnetEnv = await waitForSubnet(lab, node, processes, opts.signal);
          const list = conflist({ subnetEnv, nodeDir: nodeDir(lab, node), ipamDir: join(nodeDir(lab, node), 'ipam'), underlayIf: UNDERLAY_IF });
          writeConflist(lab, node, list);
          return attachPods(lab, topology.pods.filter((p) => p.node === node), list, opts.signal);
        }),
      );
      await waitForPeers(lab, compute, processes, opts.signal);
      state = { ...state, pods: topology.pods.map((p) => perNode.flat().find((x) => x.name === p.name)!) };
    } else if (arch.kuryr) {
      const compute = topology.nodes.filter((x) => x.role === 'compute').length;
      step(`control plane: port controller, ${compute} node daemons (${arch.kuryr.driver})${arch.kuryr.driver === 'openvswitch' ? ` and ${compute} Open vSwitch instances` : ''}; ${topology.pods.length} pods through CNI`);
      const pods = await upKuryr(topology, arch, features, (processes) => writeState((state = { ...state, processes })), opts.signal);
      state = { ...state, pods };
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
