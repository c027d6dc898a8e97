/**
 * bench/encryption.ts's targets, and its figures from a run's results (pure; unit-tested):
 *   - no plaintext: the markers every encrypted lab's wire proof saw, summed — 0;
 *   - every planted black hole found: the path narrowed below the underlay MTU is found silent, at
 *     the narrowed size less the design's overhead — none missed;
 *   - every encrypted row's throughput ratio to its unencrypted twin resolved (a verdict, not "not
 *     resolved"), at every underlay MTU, within the bench's budget;
 *   - what WireGuard's encryption adds to a user-space TUN + UDP tunnel (wireguard-go against
 *     flannel-udp), in host CPU per Gbit: at least 1× — reported with its interval.
 */
import type { RunResults } from '../src/run/results-schema';
import { designRatio } from './common';
import type { Measurement, Target } from './targets';

export const ENCRYPTION_TARGETS: readonly Target[] = [
  {
    name: 'plaintext markers seen on the wire, every encrypted lab',
    figure: 'markers',
    direction: 'at most',
    threshold: 0,
    unit: '',
    why: 'issue 34: a row whose packets were not encrypted is an error, not a figure',
  },
  {
    name: 'planted MTU black holes not found',
    figure: 'holesMissed',
    direction: 'at most',
    threshold: 0,
    unit: '',
    why: 'issue 34: a path narrower than the pods believe, with nothing answering, must read as silent',
  },
  {
    name: 'encrypted rows whose throughput ratio to their twin is not resolved (every MTU)',
    figure: 'unresolved',
    direction: 'at most',
    threshold: 0,
    unit: '',
    why: 'issue 34: a verdict for every encrypted architecture against its unencrypted twin within the budget',
  },
  {
    name: 'CPU per Gbit, wireguard-go against flannel-udp (both TUN + UDP in user space), inter-node',
    figure: 'wgOverUdpCpu',
    direction: 'at least',
    threshold: 1,
    unit: '×',
    why: 'the same tunnel built alike, one encrypting: what encryption adds per Gbit',
  },
];

/** A black hole planted in a lab of one architecture, and what the mtu probe found. */
export interface PlantedHole {
  readonly arch: string;
  /** The narrowed path's size in bytes (the switch's port toward the server's node). */
  readonly narrowed: number;
  /** The largest packet a pod can send across: the narrowed size less the design's overhead. */
  readonly expected: number;
  readonly largestPacket: number;
  readonly mode: string;
}

/** A planted hole is found when the probe says silent at the expected size. */
export const holeFound = (h: PlantedHole): boolean => h.mode === 'silent' && h.largestPacket === h.expected;

/** The figures of the targets from a run and its planted holes. */
export function encryptionFigures(
  res: RunResults,
  holes: readonly PlantedHole[],
  twins: readonly { readonly arch: string; readonly twin: string }[],
): Record<string, Measurement> {
  const proofs = res.proofs ?? [];
  const designs = res.claims.designs ?? [];
  const pairs = twins.flatMap((t) =>
    designs.filter((d) => d.a === t.arch && d.b === t.twin && d.path === 'inter-node'),
  );
  const unresolved = pairs.filter(
    (d) =>
      d.metrics.find((m) => m.metric === 'throughput')?.verdict !== 'better' &&
      d.metrics.find((m) => m.metric === 'throughput')?.verdict !== 'worse',
  );
  return {
    markers:
      proofs.length === 0
        ? undefined
        : {
            figure: proofs.reduce((s, p) => s + p.markers, 0),
            detail: proofs
              .map(
                (p) =>
                  `${p.arch}${p.underlayMtu ? ` mtu ${p.underlayMtu}` : ''}: ${p.designPackets} ${p.wire} frames, ${p.markers} markers${p.ok ? '' : ' FAILED'}`,
              )
              .join('; '),
          },
    holesMissed:
      holes.length === 0
        ? undefined
        : {
            figure: holes.filter((h) => !holeFound(h)).length,
            detail: holes.map((h) => `${h.arch}: ${h.largestPacket} of ${h.expected}, ${h.mode}`).join('; '),
          },
    unresolved:
      pairs.length === 0
        ? undefined
        : {
            figure: unresolved.length,
            detail:
              `${pairs.length - unresolved.length} of ${pairs.length} pairs resolved` +
              (unresolved.length
                ? `; not: ${unresolved.map((d) => `${d.a}/${d.b}${d.underlayMtu ? ` mtu ${d.underlayMtu}` : ''}`).join(', ')}`
                : ''),
          },
    wgOverUdpCpu: designRatio(res, {
      a: 'flannel-wireguard',
      b: 'flannel-udp',
      path: 'inter-node',
      metric: 'cpuPerGbit',
    }),
  };
}
