/**
 * The mtu test in the report: a section with one row per architecture and underlay MTU (pod MTU, the largest packet
 * that crossed with DF set, the overhead, how one byte more failed) and the terminal's lines. Bytes, not ratios: no %
 * of host, not in the rows, the claims or `compare`.
 */
import { escapeXml as e } from '../../report/diagram';
import { sectionHtml } from '../after/report-kit';
import type { MtuFigures, MtuJson } from './schema';

/** How one byte more than the path carries failed, in words. */
export function aboveText(x: MtuFigures): string {
  const a = x.above;
  const named = a.reportedMtu === null ? '' : ` (mtu ${a.reportedMtu})`;
  if (a.outcome === 'emsgsize') return `loud: refused by the sender${named}`;
  if (a.outcome === 'frag-needed') return `loud: ICMP frag-needed from ${a.from ?? '?'}${named}`;
  if (a.outcome === 'silent') return 'SILENT: nothing came back (a black hole)';
  if (a.outcome === 'other') return `other: ${a.line ?? ''}`;
  return 'crossed';
}

/** Whether the pod MTU is more than the path carries: a pod's full-size packet does not cross. */
export const podMtuExceedsPath = (x: MtuFigures): boolean => x.podMtu > x.largestPacket;

export function mtuTable(j: MtuJson): string {
  return sectionHtml({
    id: 'mtu',
    title: 'MTU, measured',
    meta:
      'Per architecture and underlay MTU: the MTU of the client pod’s eth0; the largest IP packet that crossed from ' +
      'a pod on one compute node to a pod on another with DF set (<code>ping -M do -s SIZE -c 1</code>, a binary ' +
      'search; packet = ICMP payload + 28, and the largest UDP payload with DF is the same payload); the overhead ' +
      '(underlay MTU − that packet); and what a packet one byte larger met: <b>loud</b> — the sender’s kernel ' +
      'refused it (EMSGSIZE) or an ICMP frag-needed came back, so TCP shrinks its segments — or <b>silent</b>: ' +
      'nothing came back, a black hole where connections hang. The sender’s route cache is flushed before each ' +
      `probe. A pod MTU above the largest packet is the users’ trap: marked ✗.`,
    head: [
      'architecture',
      'family',
      'encryption',
      'underlay MTU',
      'pod MTU',
      'largest packet (payload)',
      'overhead',
      'one byte more',
    ],
    rows: j.archs.map((x) => [
      x.arch,
      x.family,
      x.encryption ?? '—',
      { n: String(x.underlayMtu) },
      { n: `${x.podMtu}${podMtuExceedsPath(x) ? ' ✗' : ''}` },
      { n: `${x.largestPacket} (${x.largestPayload})` },
      { n: String(x.overhead) },
      aboveText(x),
    ]),
  });
}

export function mtuLines(j: MtuJson): string[] {
  return [
    'MTU, measured: the largest IP packet between pods on two nodes with DF set (ICMP payload + 28), and how one ' +
      'byte more failed:',
    `  ${'ARCH'.padEnd(20)} ${'UNDERLAY'.padStart(8)} ${'POD MTU'.padStart(8)} ${'LARGEST'.padStart(8)} ` +
      `${'OVERHEAD'.padStart(8)}  ONE BYTE MORE`,
    ...j.archs.map(
      (x) =>
        `  ${x.arch.padEnd(20)} ${String(x.underlayMtu).padStart(8)} ` +
        `${`${x.podMtu}${podMtuExceedsPath(x) ? '!' : ''}`.padStart(8)} ${String(x.largestPacket).padStart(8)} ` +
        `${String(x.overhead).padStart(8)}  ${aboveText(x)}`,
    ),
  ];
}

/** The headline: the black holes found, else the overheads. */
export function mtuHeadline(j: MtuJson): string | undefined {
  if (!j.archs.length) return undefined;
  const at = (x: MtuFigures): string => `<b>${e(x.arch)}</b> (underlay ${x.underlayMtu})`;
  const holes = j.archs.filter((x) => x.above.mode === 'silent');
  if (holes.length)
    return (
      `MTU: a black hole in ${holes.map(at).join(', ')}: a packet above what the path carries vanishes, no ICMP ` +
      'comes back; see <a href="#mtu">MTU, measured</a>.'
    );
  const overheads = [...new Set(j.archs.map((x) => x.overhead))].sort((p, q) => p - q);
  const inOverhead = (o: number): string =>
    [...new Set(j.archs.filter((x) => x.overhead === o).map((x) => `<b>${e(x.arch)}</b>`))].join(', ');
  return (
    `MTU: every pod path fails loudly above its largest packet; its overhead ` +
    `${overheads.map((o) => `${o} B in ${inOverhead(o)}`).join('; ')}; see <a href="#mtu">MTU, measured</a>.`
  );
}
