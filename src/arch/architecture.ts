/**
 * A data-path architecture: its name, what the report says of it, the kernel features it needs —
 * and its control plane, the one thing that differs in kind between architectures. The lab, the
 * run and the CLI only ever talk to a `ControlPlane`; which kinds exist is listed once, in
 * arch/index.ts. Adding an architecture of an existing kind is one registry line; a new kind is
 * one folder implementing `ControlPlane` plus its line there (docs/design.md has the recipe).
 */
import type { FeatureProbe, FeatureReport } from '../doctor/features';
import type { LabState, PodState, ProcessState } from '../lab/state';
import type { NodeSpec, PodSpec, Topology } from '../topology/schema';
import type { PolicyDesign } from '../policy/design';
import type { ArchFamily, PathName } from './vocabulary';
import type { Family } from '../lib/ip';

export interface Architecture {
  readonly name: string;
  /** One line for `cnilab run --help` and the report. */
  readonly summary: string;
  /** How the report groups it (vocabulary.ts says what each family means). */
  readonly family: ArchFamily;
  /**
   * Features the data path needs, by name: the doctor's own (`Feature`) or one its kind's `probes`
   * add; a missing one makes the architecture skip.
   */
  readonly requires: readonly string[];
  /** Paths this architecture cannot carry, each with the reason. */
  readonly unsupported?: Partial<Record<PathName, string>>;
  /** Measured by a plain `cnilab run`. Default: true; a variant says false and is run by name. */
  readonly inDefaultMatrix?: boolean;
  /** What starts, wires and attaches it. */
  readonly control: ControlPlane;
  /**
   * Set on a run's variant of a registered architecture (run/proxied.ts): the same control plane,
   * with a Service proxy on every compute node (`--proxy`). `base` is the registered name its labs
   * are built from; the variant's own name is `base+proxy`.
   */
  readonly proxied?: { readonly base: string; readonly proxy: string };
  /**
   * BIG TCP is an option of it (docs/big-tcp.md): a topology's `bigTcp: true` gives its pods' devices and its nodes'
   * the larger GSO/GRO sizes — its plugin sets them on what it creates, the lab on the underlay. Absent: a topology
   * asking it is refused, and a run's `--big-tcp on` leaves it as it is.
   */
  readonly bigTcp?: true;
  /**
   * Set on a run's variant of an architecture (run/big-tcp.ts): the same, its labs built with `bigTcp: true`, named
   * `base+bigtcp`; `base` is the registered architecture its labs are built from.
   */
  readonly bigTcpVariant?: { readonly base: string };
  /**
   * Set on an architecture that encrypts pod traffic between nodes: what the wire between nodes
   * must show (the proof every run makes, docs/encryption.md) and the unencrypted twin its figures
   * are compared with.
   */
  readonly encryption?: Encryption;
}

/** How an architecture encrypts, and what proves it did. */
export interface Encryption {
  /** The design, e.g. "wireguard" or "ipsec". */
  readonly design: string;
  /** What carries pod packets between nodes: UDP to `port` (WireGuard), or ESP (IP protocol 50). */
  readonly wire: { readonly proto: 'udp'; readonly port: number } | { readonly proto: 'esp' };
  /** The registered architecture that is the same but for the encryption (its figures' reference). */
  readonly twin: string;
}

/** What a control plane gets to bring a lab up, once the nodes and the switch stand. */
export interface UpContext {
  readonly topology: Topology;
  readonly features: FeatureReport;
  readonly signal?: AbortSignal;
  /** A progress line. */
  readonly step: (line: string) => void;
  /** Called with every process the control plane runs, as soon as it runs (tear-down finds them on error). */
  readonly record: (processes: readonly ProcessState[]) => void;
}

/** A compute node joining a running lab: its namespace is up and plugged into the switch. */
export interface JoinContext {
  /** The lab's state, the new node and its pods already in its topology. */
  readonly state: LabState;
  readonly node: NodeSpec;
  readonly pods: readonly PodSpec[];
  readonly signal?: AbortSignal;
  readonly record: (processes: readonly ProcessState[]) => void;
}

/** How compute nodes join and leave a lab while it runs. */
export interface Membership {
  /** Starts the node's part of the control plane and attaches its pods; undoes its own part on failure. */
  join(ctx: JoinContext): Promise<PodState[]>;
  /** After the node's processes have stopped: releases what the control plane holds for it. */
  leave(state: LabState, node: string): Promise<void>;
  /**
   * Once `node` has joined: the moments this control plane records of it (its own clocks), such
   * as when the last peer's session with it came up. The join test times them from `node add`.
   */
  details?(state: LabState, node: string): Promise<MembershipDetail[]>;
}

/** A moment a control plane records of a node joining, named for results.json and the report. */
export interface MembershipDetail {
  /** Its key in results.json, camelCase, e.g. "bgpSessionUp". */
  readonly key: string;
  /** The report's column, e.g. "BGP session up". */
  readonly label: string;
  /** What the moment is, one line (results.json and the report keep it). */
  readonly about: string;
  /** When, in ms since the epoch. */
  readonly at: number;
}

/** The router a routed path crosses: its node, namespace, and which leg faces an address. */
export interface RouterOnPath {
  readonly node: string;
  readonly netns: string;
  legTo(ip: string): string | undefined;
}

export interface ControlPlane {
  /** Which kind this is (arch/index.ts lists them); for the record, never to branch on. */
  readonly kind: string;
  /** False for a baseline that measures node to node: no pods, no CNI. */
  readonly attachesPods: boolean;
  /**
   * The IP families its pods can have (docs/ipv6.md); a topology asking another is refused before anything is
   * created, and a run skips it with the reason. Default: [4].
   */
  readonly ipFamilies?: readonly Family[];
  /** Starts the control plane and attaches the topology's pods. */
  up(ctx: UpContext): Promise<PodState[]>;
  /** Nodes joining and leaving a running lab, or why this kind's nodes are fixed at `up`. */
  readonly membership: Membership | string;
  /** The roles of the processes `restart` can start again (the lab's own, such as Open vSwitch, are not). */
  readonly restartable: readonly string[];
  /** Starts again a process of this control plane that was stopped (a crash, a restart). */
  restart(state: LabState, old: ProcessState): Promise<ProcessState>;
  /** What moves the packets, for the results: "kernel", or the user-space datapath. */
  datapath(features: FeatureReport): string;
  /**
   * Why this control plane cannot serve `topology` (one line naming the field), checked before
   * anything is created; undefined when it can.
   */
  refuse?(topology: Topology): string | undefined;
  /** The router between pod networks, for kinds that have one: what the `routed` path crosses. */
  router?(state: LabState): RouterOnPath;
  /**
   * What a reader of a run must know before reading its figures of this kind's architectures
   * (each with the datapath the run recorded, on the run's kernel), as one sentence; undefined
   * when nothing. The report and the terminal print it above everything.
   */
  readerNote?(
    archs: readonly { readonly name: string; readonly datapath?: string }[],
    kernel: string,
  ): string | undefined;
  /** Features this kind adds to `cnilab doctor`, each with its probe; its architectures' `requires` may name them. */
  readonly probes?: readonly FeatureProbe[];
  /**
   * How the kind enforces NetworkPolicy (docs/policy.md). Absent: it does not (flannel, macvlan,
   * Kuryr here), and a policy selecting its pods is reported as not enforced, never ignored.
   */
  readonly policy?: PolicyEnforcement;
  /**
   * Counters of its own data path (its programs', its processes') over `nodes` of lab `lab`, read
   * around a row's counted sample; undefined where it has nothing there to count.
   */
  meters?(lab: string, nodes: readonly string[]): Meter | undefined;
  /** Its counters as results before v7 held them (a field of their own: rows' `ebpf`, paths' `programs`). */
  readonly legacyMeters?: LegacyMeters;
}

/**
 * Where results before v7 held a kind's counters (fields of their own, named by the kind), and how they read as
 * meters.
 */
export interface LegacyMeters {
  /** The field of a row that held them. */
  readonly rowField: string;
  /** The field of a path that held them. */
  readonly pathField: string;
  read(old: readonly unknown[]): MeterGroup;
}

/** A kind's counters around one sample. */
export interface Meter {
  start(): void;
  stop(): void;
  /** What moved between start and stop; undefined when nothing was there to read. */
  results(): MeterGroup | undefined;
}

/** One meter's readings: what counted (per node, per thing on it) during a sample. */
export interface MeterGroup {
  /** What counted, e.g. "eBPF programs": the report's heading. */
  readonly meter: string;
  /** A short tag for the path diagram's chips, e.g. "bpf". */
  readonly tag: string;
  /** What its counters are, one paragraph for the report. */
  readonly about: string;
  readonly readings: readonly MeterReading[];
}

export interface MeterReading {
  readonly node: string;
  /** What on the node counted, e.g. a program's name. */
  readonly name: string;
  /**
   * The interfaces it sits on (ingress): by name (a trailing * a prefix) or by kind — where the path diagram shows
   * it.
   */
  readonly on: readonly { readonly ifname?: string; readonly kind?: string }[];
  /** Its counts by name, in the report's order: packets, or bytes where the name ends in "Bytes". */
  readonly counts: Readonly<Record<string, number>>;
}

/** Why `arch` cannot give pods the topology's families (one line naming the field), or undefined when it can. */
export function refuseFamilies(arch: Architecture, families: readonly Family[]): string | undefined {
  const can = arch.control.ipFamilies ?? [4];
  const missing = families.filter((f) => !can.includes(f));
  if (!missing.length) return undefined;
  const name = (f: Family): string => `IPv${f}`;
  return (
    `ipFamilies: ${arch.name} gives pods ${can.map(name).join(' and ')} only, not ${missing.map(name).join(' and ')}` +
    ` (docs/ipv6.md lists the architectures that have IPv6)`
  );
}

/**
 * Why `arch` cannot run with BIG TCP (one line naming the field), or undefined when it can or the topology does
 * not ask; `able` names the architectures that can.
 */
export function refuseBigTcp(
  arch: Architecture,
  bigTcp: boolean | undefined,
  able: readonly string[],
): string | undefined {
  if (!bigTcp || arch.bigTcp) return undefined;
  const why =
    arch.family === 'overlay'
      ? "its pods' packets between nodes go through a tunnel or an encrypting device, where cnilab raises no GSO/GRO " +
        "sizes: BIG TCP here is for paths without encapsulation, as Cilium's native routing"
      : arch.control.attachesPods
        ? 'its CNI plugin does not set the GSO/GRO sizes of the devices it creates'
        : 'it attaches no pods';
  return `bigTcp: ${arch.name} cannot use BIG TCP (${why}); it is an option of ${able.join(', ')}`;
}

/** The network name every architecture's configuration list uses. */
export const NETWORK_NAME = 'cnilab';
export const POD_IF = 'eth0';
export const NODE_BRIDGE = 'cni0';

/** A kind's NetworkPolicy enforcement: the designs its nodes can run, and where each works. */
export interface PolicyEnforcement {
  /** The designs it offers; the first is its default, the topology's policyDataplane picks another. */
  readonly designs: readonly PolicyDesign[];
  /**
   * The design's folder on `node` of `lab`, when it works on the kind's own state (the eBPF design:
   * the node's folder of the kind's bpffs, where its maps are pinned). Default: a folder of the
   * node's run folder.
   */
  stateDir?(lab: string, node: string): string;
}
