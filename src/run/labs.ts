/**
 * The labs of a run: one per architecture, each under a name of its own (`<lab>-<architecture>`),
 * so that all can be up at once. Brought up, measured idle, torn down — always, on error and abort.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Architecture } from '../arch/architecture';
import type { FeatureReport } from '../doctor/features';
import { CnilabError } from '../lib/errors';
import { sleep } from '../lib/exec';
import { labExists, up } from '../lab/lab';
import { conflistFile } from '../lab/pods';
import type { LabState } from '../lab/state';
import { labNamespaces, pidsInNetns, teardownLab } from '../lab/teardown';
import { serviceSpecSchema } from '../apiserver/model';
import { endpointsFor } from './paths';
import { baseName, runService } from './proxied';
import type { Topology } from '../topology/schema';
import type { Family } from '../lib/ip';
import { CLK_TCK } from '../traffic/cpu/proc-pid';
import { labProcesses, type IdleLabs } from './noise';

/**
 * The lab name of an architecture in a run: the run's lab name, cut to fit, then the
 * architecture's, then `-m<MTU>` when the underlay MTU is a dimension of the run — within the 32
 * characters of a lab name (topology/schema.ts; interface names never hold it: lab/names.ts).
 */
export function labName(base: string, arch: string, mtu?: number, ipFamily?: Family): string {
  // A variant (base+mode, base+bigtcp) is named with a dash: lab names are letters, digits and dashes.
  const suffix = `-${arch.replaceAll('+', '-')}${dimensionSuffix({ mtu, ipFamily })}`;
  const room = 32 - suffix.length;
  return `${base.slice(0, Math.max(1, room)).replace(/-+$/, '')}${suffix}`.slice(0, 32);
}

/** A lab's dimensions in a name: "-m9000", "-v6" ('' without dimensions). */
const dimensionSuffix = (d: { mtu?: number | undefined; ipFamily?: Family | undefined }): string =>
  `${d.mtu === undefined ? '' : `-m${d.mtu}`}${d.ipFamily === undefined ? '' : `-v${d.ipFamily}`}`;

/**
 * A lab of the run: its key (plan.ts `labKey`), its architecture, its underlay MTU and IP family when the run has
 * several.
 */
export interface LabSpec {
  readonly key: string;
  readonly arch: Architecture;
  readonly mtu?: number;
  readonly ipFamily?: Family;
}

/** Memory one idle lab holds, measured with the default topology (docs/measurements.md), with room. */
export const LAB_MEMORY_MIB = 150;
/** What the machine keeps for the tools and itself while every lab is up. */
export const RESERVE_MIB = 1024;

/** Whether `labs` labs fit in memory at once; when not, why (for the fallback to --sequential). */
export function memoryVerdict(labs: number, availableMiB: number): string | undefined {
  const need = labs * LAB_MEMORY_MIB + RESERVE_MIB;
  if (availableMiB >= need) return undefined;
  return (
    `${labs} labs up at once need about ${need} MiB (${LAB_MEMORY_MIB} MiB each and ${RESERVE_MIB} MiB to ` +
    `spare); ${availableMiB} MiB is available`
  );
}

export function availableMiB(): number {
  const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Math.floor(Number(m[1]) / 1024) : 0;
}

export interface LabSetOptions {
  readonly topology: Topology;
  readonly features: FeatureReport;
  readonly outDir: string;
  readonly signal?: AbortSignal;
  readonly progress: (step: string) => void;
  readonly timed: <T>(phase: 'setupSec' | 'teardownSec', plannedSec: number, body: () => Promise<T>) => Promise<T>;
}

/** Seconds planned for a lab's set-up and tear-down (measured: 0.6–1.4 s up, 0.25 s down). */
export const LAB_PLAN_SEC = { setup: 1.5, teardown: 0.5 };

/**
 * The topology of a lab of `arch`: for a proxied variant, its proxy on every compute node and the
 * run's Service in front of the service path's server pod.
 */
function withProxy(t: Topology, arch: Architecture): Topology {
  if (!arch.proxied) return t;
  const ends = endpointsFor(t, arch, 'service');
  const list = t.services?.list ?? [];
  return {
    ...t,
    proxy: arch.proxied.proxy,
    services: {
      ...(t.services?.cidr !== undefined ? { cidr: t.services.cidr } : {}),
      list: typeof ends === 'string' ? list : [...list, serviceSpecSchema.parse(runService(t, ends.server))],
    },
  };
}

/**
 * The run's policyDataplane (a scenario key, or the topology's) holds for the kinds that offer that
 * design; a kind that does not keeps its own default (a run of calico-bgp and ebpf-native with
 * nftables: calico-bgp through nftables, ebpf-native through its programs).
 */
function withPolicy(t: Topology, arch: Architecture): Topology {
  const want = t.policyDataplane;
  if (want === undefined || want === 'none' || arch.control.policy?.designs.some((d) => d.name === want)) return t;
  const { policyDataplane: _drop, ...rest } = t;
  return rest;
}

/** The run's labs, by lab key. */
export class LabSet {
  readonly up = new Map<string, LabState>();

  constructor(
    private readonly o: LabSetOptions,
    readonly names: ReadonlyMap<string, string>,
  ) {}

  static forRun(o: LabSetOptions, labs: readonly LabSpec[]): LabSet {
    const names = new Map(labs.map((l) => [l.key, labName(o.topology.name, l.arch.name, l.mtu, l.ipFamily)]));
    const taken = [...names.values()].filter(labExists);
    if (taken.length)
      throw new CnilabError(
        'LAB_EXISTS',
        `lab ${taken.join(', ')} is already up; remove it with: ` +
          `cnilab down --lab ${taken[0]} (or give --lab another name)`,
      );
    return new LabSet(o, names);
  }

  async bringUp(spec: LabSpec): Promise<LabState> {
    const { arch, mtu, ipFamily } = spec;
    const name = this.names.get(spec.key)!;
    this.o.progress(`${spec.key}: bringing the lab up`);
    const t = this.o.topology;
    const topology = withPolicy(
      withProxy(
        {
          ...t,
          name,
          underlay: { ...t.underlay, mtu: mtu ?? t.underlay.mtu },
          ...(ipFamily === undefined ? {} : { ipFamilies: [ipFamily] }),
          // a --big-tcp variant's lab: BIG TCP on its pods' and nodes' devices (run/big-tcp.ts)
          ...(arch.bigTcpVariant ? { bigTcp: true } : {}),
        },
        arch,
      ),
      arch,
    );
    const lab = await this.o.timed('setupSec', LAB_PLAN_SEC.setup, () =>
      up({ topology, arch: baseName(arch), signal: this.o.signal, features: this.o.features }),
    );
    this.up.set(spec.key, lab);
    if (arch.control.attachesPods)
      copyFileSync(
        conflistFile(lab.lab, topology.nodes.find((n) => n.role === 'compute')!.name),
        join(this.o.outDir, `${arch.name}${dimensionSuffix({ mtu, ipFamily })}.conflist`),
      );
    return lab;
  }

  async tearDown(key: string): Promise<void> {
    const lab = this.up.get(key);
    if (!lab) return;
    this.up.delete(key);
    this.o.progress(`${key}: tearing the lab down`);
    await this.o.timed('teardownSec', LAB_PLAN_SEC.teardown, () => teardownLab(lab.lab));
  }

  /** Every lab down; one that fails to go does not keep the others up (the first failure is thrown after). */
  async tearDownAll(): Promise<void> {
    let failure: unknown;
    for (const key of [...this.up.keys()]) {
      try {
        await this.tearDown(key);
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure !== undefined) throw failure;
  }

  /** The network namespaces of the labs up now. */
  namespaces(): string[] {
    return [...this.up.values()].flatMap((l) => labNamespaces(l.lab));
  }

  /** The labs' processes over `ms` at idle: CPU (% of all CPUs) and resident memory. */
  async idle(ms: number): Promise<IdleLabs> {
    const pids = pidsInNetns(this.namespaces());
    const before = labProcesses(pids);
    const t0 = performance.now();
    await sleep(ms, this.o.signal);
    const after = labProcesses(pids);
    const seconds = (performance.now() - t0) / 1000;
    return {
      labs: this.up.size,
      cpuPct: Math.round(((after.ticks - before.ticks) / CLK_TCK / seconds / cpus().length) * 1000) / 10,
      rssMiB: Math.round(after.pssKiB / 1024),
      processes: after.count,
    };
  }
}
