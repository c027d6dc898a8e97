/**
 * The wire proofs of a run's encrypted architectures (results.json `proofs`, run/wire-proofs.ts),
 * for the terminal and the report (pure): per architecture, the design's wire, how many of its
 * packets passed between the nodes, how many markers were seen (0, or plaintext), and the verdict.
 * Nothing when no architecture of the run encrypts.
 */
import type { RunResults } from '../run/results-schema';
import { escapeXml as e } from './diagram';

type Proof = NonNullable<RunResults['proofs']>[number];

const archOf = (p: Proof): string => `${p.arch}${p.underlayMtu !== undefined ? ` (mtu ${p.underlayMtu})` : ''}`;

const controlPlane = (p: Proof): string =>
  Object.entries(p.controlPlane)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');

/** One line of a proof's verdict. */
export function proofVerdict(p: Proof): string {
  const cp = controlPlane(p);
  const clear = cp ? `; in the clear, as in real clusters: ${cp}` : '';
  return p.ok
    ? `proven: ${p.designPackets} ${p.wire} packets between the nodes, 0 markers, 0 pod-addressed frames${clear}`
    : `FAILED, its rows are errors: ${p.failures.join('; ')}`;
}

/** The terminal's lines: one per proof, under a heading. */
export function proofLines(r: RunResults): string[] {
  if (!r.proofs?.length) return [];
  return [
    'Proven encrypted on the wire (a capture on the switch during one extra sample, kept out of the figures):',
    ...r.proofs.map((p) => `  ${archOf(p)} ${p.wire}: ${proofVerdict(p)}`),
    '',
  ];
}

/** A skipped row's line: an error (a failed proof) says so. */
export function skippedLabel(s: RunResults['skipped'][number]): string {
  return s.failed ? 'error' : 'skipped';
}

/** The report's section: a table, architecture by architecture. */
export function proofsHtml(r: RunResults): string {
  if (!r.proofs?.length) return '';
  const row = (p: Proof): string =>
    `<tr><td>${e(archOf(p))}</td><td>${e(p.design)}: ${e(p.wire)}</td><td class="num">${p.designPackets}</td>` +
    `<td class="num">${p.markers}</td><td>${p.ok ? '✔ ' : '✘ '}${e(proofVerdict(p))}</td></tr>`;
  return [
    '<h2>Proven encrypted on the wire</h2>',
    '<p class="meta">Before its rows count, each encrypted architecture is captured on the switch (the underlay ' +
      'bridge) during one extra sample, kept out of the figures, while a random marker crosses pod to pod between ' +
      'two nodes over TCP and UDP. Proven: the marker never appears on the wire, no frame carries a pod address ' +
      "in its own IP header, and packets of the design's wire pass between the two nodes' addresses. A failed " +
      'proof turns the rows into errors.</p>',
    '<table><tr><th>architecture</th><th>wire</th><th>packets of the design</th><th>markers seen</th>' +
      '<th>verdict</th></tr>',
    ...r.proofs.map(row),
    '</table>',
  ].join('\n');
}
