/**
 * A Lab turns a Topology and an Architecture into running namespaces, links, processes and pods —
 * and removes them again. The underlay is the lab's; everything after it is the architecture's
 * control plane (arch/architecture.ts). `up` either completes or leaves nothing behind (on error and on abort).
 */
import { setMaxListeners } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { architectures, bigTcpArchitectures, DEFAULT_LAB_ARCH } from '../arch';
import { refuseBigTcp, refuseFamilies, type Architecture } from '../arch/architecture';
import { probeFeatures, missingReason, type FeatureReport } from '../doctor/features';
import { CnilabError } from '../lib/errors';
import { listNamedNetns } from '../lib/netns';
import type { Topology } from '../topology/schema';
import { refuseTooLarge } from './capacity';
import { refuseUnemulatable } from './link-emulation';
import { labOfNetns, runDir } from './names';
import { chooseControlAuth } from './credentials';
import { writeState, type LabState, type ProcessState } from './state';
import { teardownLab, type TeardownReport } from './teardown';
import { buildUnderlay } from './underlay';
import { refuseServices, startServices } from './services';
import { checkPolicy, policyDesign } from './policy';
import { proxyModes } from '../proxy';

export interface UpOptions {
  readonly topology: Topology;
  /** Architecture name. Default: DEFAULT_LAB_ARCH (arch/index.ts). */
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
export async function preflight(
  topology: Topology,
  archName: string,
  features?: FeatureReport,
): Promise<{ arch: Architecture; features: FeatureReport }> {
  const arch = architectures.get(archName);
  if (labExists(topology.name)) {
    throw new CnilabError(
      'LAB_EXISTS',
      `lab ${JSON.stringify(topology.name)} is already up; remove it with: cnilab down --lab ${topology.name}`,
    );
  }
  refuseTooLarge(topology);
  const refused = arch.control.refuse?.(topology) ?? refuseFamilies(arch, topology.ipFamilies);
  if (refused) throw new CnilabError('INVALID_INPUT', `architecture ${arch.name}: ${refused}`);
  const bigTcp = refuseBigTcp(arch, topology.bigTcp, bigTcpArchitectures());
  if (bigTcp) throw new CnilabError('INVALID_INPUT', bigTcp);
  const services = refuseServices(topology, arch.control.attachesPods);
  if (services) throw new CnilabError('INVALID_INPUT', services);
  checkPolicy(topology, arch);
  const report = features ?? (await probeFeatures());
  if (!report.root.ok) throw new CnilabError('NOT_ROOT', report.root.detail);
  const missing = missingReason(report, ['iproute2', ...arch.requires]);
  if (missing) throw new CnilabError('FEATURE_MISSING', `architecture ${arch.name} ${missing}`);
  const bigTcpMissing = topology.bigTcp && missingReason(report, ['big-tcp']);
  if (bigTcpMissing) throw new CnilabError('FEATURE_MISSING', `bigTcp: ${bigTcpMissing}`);
  const proxyMissing = topology.proxy && missingReason(report, proxyModes.get(topology.proxy).requires);
  if (proxyMissing) throw new CnilabError('FEATURE_MISSING', `proxy ${topology.proxy} ${proxyMissing}`);
  const design = policyDesign(topology, arch);
  const policyMissing = design && missingReason(report, design.requires);
  if (policyMissing) throw new CnilabError('FEATURE_MISSING', `policyDataplane ${design.name} ${policyMissing}`);
  refuseUnemulatable(topology, report);
  return { arch, features: report };
}

export async function up(opts: UpOptions): Promise<LabState> {
  const { topology } = opts;
  const lab = topology.name;
  const { arch, features } = await preflight(topology, opts.arch ?? DEFAULT_LAB_ARCH, opts.features);
  const step = opts.onStep ?? (() => undefined);
  // Every node's waits and every attach in flight listen on the signal: tens of them in a large lab.
  if (opts.signal) setMaxListeners(0, opts.signal);
  let state: LabState = {
    version: 1,
    lab,
    arch: arch.name,
    status: 'creating',
    createdAt: new Date().toISOString(),
    topology,
    pods: [],
    processes: [],
  };
  mkdirSync(runDir(lab), { recursive: true });
  writeState(state);
  chooseControlAuth(lab);
  try {
    step(`underlay: ${topology.nodes.length} nodes on one switch`);
    await buildUnderlay(topology, opts.signal);
    const pods = await arch.control.up({
      topology,
      features,
      signal: opts.signal,
      step,
      record: (processes) => writeState((state = { ...state, processes })),
    });
    state = { ...state, pods };
    const record = (processes: readonly ProcessState[]): void => writeState((state = { ...state, processes }));
    await startServices(state, record, opts.signal);
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
