/**
 * The proof that a lab's pod traffic crosses its switch encrypted (docs/encryption.md, "The proof").
 *
 * tcpdump captures on the switch's bridge, inside the lab's switch namespace, into a pcap file in the
 * lab's run folder (never the run's --out folder); once it says it listens, an optional traffic
 * sample runs, then a random marker goes from a pod on one compute node to a pod on another, over
 * TCP and UDP (the policy probe's tool, src/policy/probe/main.ts). tcpdump is stopped by its PID
 * (SIGINT: it writes what it holds and says what it dropped), the file is read (lib/pcap.ts),
 * judged (wire-verdict.ts) and deleted. Nothing else of the lab is touched.
 */
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CnilabError } from '../lib/errors';
import { startWatched, stopPid } from '../lib/exec';
import { inNetns } from '../lib/netns';
import { parsePcap } from '../lib/pcap';
import { runDir, switchNetns, SWITCH_BRIDGE } from './names';
import { probeFrom, startProbeServers } from './policy-probe';
import { requireState, type LabState, type PodState } from './state';
import { judgeCapture, wireName, type ProofVerdict, type Wire } from './wire-verdict';

export interface WireProofOptions {
  /** What the design puts on the wire (the architecture's `encryption.wire`). */
  readonly wire: Wire;
  /** Run inside the capture window before the markers (a traffic sample). Default: nothing. */
  readonly during?: () => Promise<void>;
  /** Bytes kept of each frame. Default 1024: a marker's packet whole, however encapsulated. */
  readonly snapLen?: number;
  /** The port the receiving pod listens on, TCP and UDP. Default 7357. */
  readonly port?: number;
  /** How long tcpdump may take to say it listens, ms. Default 10000. */
  readonly listenTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface PodEnd {
  readonly pod: string;
  readonly node: string;
  readonly ip: string;
  readonly underlayIp: string;
}

export interface WireProof {
  readonly lab: string;
  readonly wire: string;
  readonly from: PodEnd;
  readonly to: PodEnd;
  readonly verdict: ProofVerdict;
}

/** Captures on the lab's switch while a marker crosses pod to pod between two nodes; the verdict. */
export async function proveWire(lab: string, o: WireProofOptions): Promise<WireProof> {
  const state = requireState(lab);
  const [from, to] = podsAcross(state);
  const port = o.port ?? 7357;
  const file = join(runDir(lab), `wire-proof-${process.pid}-${randomBytes(4).toString('hex')}.pcap`);
  const marker = `cnilab-marker-${randomBytes(16).toString('hex')}`;
  const stopServer = await startProbeServers([to], [port]);
  let delivered: { tcp: boolean; udp: boolean };
  let dropped: number | undefined;
  try {
    const capture = await startCapture(lab, file, o.snapLen ?? 1024, o.listenTimeoutMs ?? 10_000);
    try {
      await o.during?.();
      if (o.signal?.aborted) throw new CnilabError('ABORTED', 'the wire proof was aborted');
      const got = await probeFrom(
        from,
        (['tcp', 'udp'] as const).map((protocol) => ({ ip: to.ip, port, protocol })),
        2000,
        marker,
      );
      delivered = { tcp: got[0]!.allowed, udp: got[1]!.allowed };
    } finally {
      dropped = await capture.stop();
    }
    if (dropped === undefined)
      throw new CnilabError(
        'EXEC_FAILED',
        `tcpdump on ${switchNetns(lab)} did not stop cleanly (no statistics): the capture may be incomplete`,
      );
    const frames = parsePcap(readFileSync(file), file).frames;
    const nodes = state.topology.nodes;
    const underlay = (p: PodState): string => nodes.find((n) => n.name === p.node)!.underlayIp;
    const verdict = judgeCapture({
      frames,
      marker,
      wire: o.wire,
      nodes: [underlay(from), underlay(to)],
      control: nodes.filter((n) => n.role === 'control').map((n) => n.underlayIp),
      podCidr: state.topology.podCidr,
      delivered,
      dropped,
    });
    const end = (p: PodState): PodEnd => ({ pod: p.name, node: p.node, ip: p.ip, underlayIp: underlay(p) });
    return { lab, wire: wireName(o.wire), from: end(from), to: end(to), verdict };
  } finally {
    rmSync(file, { force: true });
    await stopServer();
  }
}

/** The first pod, and the first pod on another compute node. */
export function podsAcross(state: Pick<LabState, 'lab' | 'pods'>): [PodState, PodState] {
  const a = state.pods[0];
  const b = a && state.pods.find((p) => p.node !== a.node);
  if (!a || !b)
    throw new CnilabError(
      'INVALID_TOPOLOGY',
      `lab ${state.lab}: topology.pods: the wire proof needs pods on two compute nodes (computeNodes ≥ 2)`,
    );
  return [a, b];
}

export interface Capture {
  /**
   * Stops tcpdump (SIGINT, by its PID), waits for it to exit: the packets it says it dropped;
   * undefined when it did not say (killed: what it had buffered is lost).
   */
  readonly stop: () => Promise<number | undefined>;
}

/** tcpdump on the switch's bridge, resolved once it says it listens (its stderr), never after a fixed wait. */
function startCapture(lab: string, file: string, snapLen: number, timeoutMs: number): Promise<Capture> {
  return captureOn(switchNetns(lab), SWITCH_BRIDGE, file, snapLen, timeoutMs);
}

/**
 * tcpdump on interface `iface` of the lab's namespace `ns` into `file` (`snapLen` bytes of each frame; a frame's
 * length is its whole length, a GSO packet's included), resolved once it says it listens, never after a fixed wait.
 */
export async function captureOn(
  ns: string,
  iface: string,
  file: string,
  snapLen: number,
  timeoutMs: number,
): Promise<Capture> {
  const [cmd, args] = inNetns({ name: ns }, 'tcpdump', [
    ...['-i', iface, '-w', file, '-s', String(snapLen)],
    // every packet handed over as it comes, into a 32 MiB ring (a traffic sample at full rate, on 2
    // CPUs, overflows the default 2 MiB); written buffered (one write per packet, -U, loses packets
    // under load), flushed when tcpdump exits; root keeps the file in the lab's folder writable
    ...['--immediate-mode', '-B', '32768', '-n', '-Z', 'root'],
  ]);
  const child = startWatched(cmd, args);
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let err = '';
  child.stdout!.resume();
  const listening = new Promise<void>((resolve) =>
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (/listening on /.test(err)) resolve();
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
  const first = await Promise.race([listening.then(() => 'ok' as const), exited.then(() => 'exited' as const), late]);
  clearTimeout(timer);
  if (first !== 'ok') {
    await stopPid(child.pid!);
    throw new CnilabError(
      'EXEC_FAILED',
      `tcpdump on ${ns} ${iface} ${first === 'late' ? `did not listen within ${timeoutMs} ms` : 'exited'}: ${err.trim() || 'no output'}`,
    );
  }
  return { stop: () => stopCapture(child, exited, () => err) };
}

async function stopCapture(
  child: ReturnType<typeof startWatched>,
  exited: Promise<unknown>,
  stderr: () => string,
): Promise<number | undefined> {
  try {
    process.kill(child.pid!, 'SIGINT');
  } catch {
    /* already gone */
  }
  let timer: NodeJS.Timeout | undefined;
  const gone = await Promise.race([
    exited.then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 5000))),
  ]);
  clearTimeout(timer);
  if (!gone) await stopPid(child.pid!);
  const m = /(\d+) packets? dropped by kernel/.exec(stderr());
  return m ? Number(m[1]) : undefined;
}
