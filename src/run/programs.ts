/**
 * The eBPF programs' own counters around a row's counted sample: for each node on the path whose
 * data path is pinned in the lab's bpffs, what each program did (redirected, left to the stack,
 * dropped) while the sample ran. What proves the programs, not the IP stack, carried the packets.
 */
import { existsSync } from 'node:fs';
import { ACTIONS, PROGRAMS, pins, readCounters, type Counters } from '../cni/plugins/ebpf/maps';
import { nodeBpfDir } from '../ebpf/control-plane';
import type { ProgramCounters } from './results-schema';

export class ProgramMeter {
  private readonly nodes: { node: string; pin: string; before?: Counters; after?: Counters }[];

  constructor(lab: string, nodes: readonly string[]) {
    this.nodes = [...new Set(nodes)]
      .map((node) => ({ node, pin: pins(nodeBpfDir(lab, node)).counters }))
      .filter((n) => existsSync(n.pin));
  }

  start(): void {
    for (const n of this.nodes) n.before = readCounters(n.pin);
  }

  stop(): void {
    for (const n of this.nodes) n.after = readCounters(n.pin);
  }

  /** Per node and program that saw packets, the difference; undefined where no program is pinned. */
  results(): ProgramCounters[] | undefined {
    if (this.nodes.length === 0) return undefined;
    return this.nodes.flatMap(({ node, before, after }) =>
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
            ) as Record<(typeof ACTIONS)[number], { packets: number; bytes: number }>;
            const total = ACTIONS.reduce((s, a) => s + d[a].packets, 0);
            if (total === 0) return []; // a program that saw no packet during the sample is left out
            return [
              {
                node,
                program,
                redirectPeer: d.redirect_peer.packets,
                redirectNeigh: d.redirect_neigh.packets,
                redirect: d.redirect.packets,
                pass: d.pass.packets,
                drop: d.drop.packets,
                redirectedBytes: d.redirect_peer.bytes + d.redirect_neigh.bytes + d.redirect.bytes,
                passedBytes: d.pass.bytes,
              },
            ];
          }),
    );
  }
}
