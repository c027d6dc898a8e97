/**
 * The eBPF programs' own counters around a row's counted sample (ControlPlane.meters): for each
 * node on the path whose data path is pinned in the lab's bpffs, what each program did
 * (redirected, left to the stack, dropped) while the sample ran. What proves the programs, not the
 * IP stack, carried the packets.
 */
import { existsSync } from 'node:fs';
import type { Meter, MeterGroup, MeterReading } from '../arch/architecture';
import { ACTIONS, PROGRAMS, pins, readCounters, type Counters, type ProgramName } from '../cni/plugins/ebpf/maps';

const GROUP = {
  meter: 'eBPF programs',
  tag: 'bpf',
  about:
    "Packets each program handled during the row's counted sample, by its own per-CPU counters: redirected " +
    'straight to a pod (peer), to a device with the kernel resolving the next hop (neigh) or with the MACs ' +
    "set (redirect), or left to the node's IP stack (pass). A program's counters are its node's: both " +
    'directions, every interface it sits on.',
} as const;

/**
 * Where each program sits: the ingress of a pod's host-side veth, of the node's eth0, of its VXLAN
 * device; from_netkit is a netkit pair's own (the pod end's transmit).
 */
const ON: Record<ProgramName, MeterReading['on']> = {
  from_pod: [{ ifname: 'lxc*' }],
  from_netdev: [{ ifname: 'eth0' }],
  from_tunnel: [{ kind: 'vxlan' }],
  from_netkit: [{ kind: 'netkit' }],
};

type Delta = Record<(typeof ACTIONS)[number], { packets: number; bytes: number }>;

const reading = (node: string, program: ProgramName, d: Delta): MeterReading => ({
  node,
  name: program,
  on: ON[program],
  counts: {
    peer: d.redirect_peer.packets,
    neigh: d.redirect_neigh.packets,
    redirect: d.redirect.packets,
    pass: d.pass.packets,
    drop: d.drop.packets,
    redirectedBytes: d.redirect_peer.bytes + d.redirect_neigh.bytes + d.redirect.bytes,
    passedBytes: d.pass.bytes,
  },
});

export class ProgramMeter implements Meter {
  private readonly nodes: { node: string; pin: string; before?: Counters; after?: Counters }[];

  /** `nodes`: each with the bpffs folder its data path is pinned in. */
  constructor(nodes: readonly { readonly node: string; readonly dir: string }[]) {
    this.nodes = nodes.map(({ node, dir }) => ({ node, pin: pins(dir).counters })).filter((n) => existsSync(n.pin));
  }

  start(): void {
    for (const n of this.nodes) n.before = readCounters(n.pin);
  }

  stop(): void {
    for (const n of this.nodes) n.after = readCounters(n.pin);
  }

  /** Per node and program that saw packets, the difference; undefined where no program is pinned. */
  results(): MeterGroup | undefined {
    if (this.nodes.length === 0) return undefined;
    const readings = this.nodes.flatMap(({ node, before, after }) =>
      !before || !after
        ? []
        : PROGRAMS.flatMap((program) => {
            const d = Object.fromEntries(
              ACTIONS.map((a) => [
                a,
                {
                  packets: after[program][a].packets - before[program][a].packets,
                  bytes: after[program][a].bytes - before[program][a].bytes,
                },
              ]),
            ) as Delta;
            // A program that saw no packet during the sample is left out.
            return ACTIONS.some((a) => d[a].packets > 0) ? [reading(node, program, d)] : [];
          }),
    );
    return { ...GROUP, readings };
  }
}

/** The counters results v4–v6 held in rows' `ebpf` and paths' `programs`, as this meter's readings. */
export function legacyProgramMeters(old: readonly unknown[]): MeterGroup {
  const readings = (old as Record<string, number | string>[]).map((o) => ({
    node: String(o['node']),
    name: String(o['program']),
    on: ON[o['program'] as ProgramName] ?? [],
    counts: {
      peer: Number(o['redirectPeer']),
      neigh: Number(o['redirectNeigh']),
      redirect: Number(o['redirect']),
      pass: Number(o['pass']),
      drop: Number(o['drop']),
      redirectedBytes: Number(o['redirectedBytes']),
      passedBytes: Number(o['passedBytes']),
    },
  }));
  return { ...GROUP, readings };
}
