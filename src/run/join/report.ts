/**
 * The join test in the report: its own section (a table of node add, convergence, the control
 * plane's own moments and node remove per architecture) and the terminal's lines. Join figures are
 * milliseconds of one node joining a running lab, never ratios to host: they stay out of the
 * rows, the claims and `compare`.
 */
import { figure } from '../../lib/format';
import { escapeXml as e } from '../../report/diagram';
import { msPercentiles as pct, type MsStat } from '../after/ms-stat';
import { sectionHtml } from '../after/report-kit';
import type { JoinJson } from './schema';

type Arch = JoinJson['archs'][number];

/** The control plane's moments any architecture recorded, in the order first seen: label and what it is. */
function detailColumns(j: JoinJson): { key: string; label: string; about: string }[] {
  const seen = new Map<string, { key: string; label: string; about: string }>();
  for (const d of j.archs.flatMap((x) => x.details ?? [])) if (!seen.has(d.key)) seen.set(d.key, d);
  return [...seen.values()];
}

const detail = (x: Arch, key: string): MsStat | undefined => x.details?.find((d) => d.key === key)?.ms;

/** The section: per architecture, p50 / p90 / p99 of each time. */
export function joinTable(j: JoinJson): string {
  const cols = detailColumns(j);
  const peers = [...new Set(j.archs.map((x) => x.peers))].join(' or ');
  const moments = cols.length
    ? ` The columns ${cols.map((c) => `<b>${e(c.label)}</b>`).join(', ')} are the control plane's own times, ` +
      `where it records them: ${cols.map((c) => e(c.about)).join('; ')}.`
    : '';
  return sectionHtml({
    id: 'join',
    title: 'Node join',
    meta:
      `p50 / p90 / p99 in milliseconds over ${j.samples} joins per architecture, each into a lab of ${peers} ` +
      `compute nodes, one at a time. Node add is <code>cnilab node add</code> with one pod, start to end. ` +
      `Converged runs from the start of node add until the new pod has answered a ping from one pod on every ` +
      `other compute node (pings 2 ms apart, started when node add returned; ping's own reply timestamps).${moments} ` +
      `Then the node is removed (node remove). Times, not ratios: no % of host.`,
    head: ['architecture', 'family', 'node add', 'converged', ...cols.map((c) => e(c.label)), 'node remove'],
    rows: j.archs.map((x) => [
      x.arch,
      x.family,
      { n: pct(x.join) },
      { n: pct(x.converged) },
      ...cols.map((c) => {
        const s = detail(x, c.key);
        return { n: s ? pct(s) : '—' };
      }),
      { n: pct(x.leave) },
    ]),
  });
}

/** The terminal's lines: a header, then one per architecture; of the control plane's moments, the last. */
export function joinLines(j: JoinJson): string[] {
  const w = 22;
  const col = (s: MsStat | undefined): string => (s ? pct(s) : '—').padStart(w);
  const last = detailColumns(j).at(-1);
  return [
    `node join, ms, p50 / p90 / p99 over ${j.samples} joins per architecture (a node with one pod into the ` +
      `running lab; not rows, no % of host):`,
    `  ${'ARCH'.padEnd(20)} ${'NODE ADD'.padStart(w)} ${'CONVERGED'.padStart(w)} ` +
      `${last ? `${last.label.toUpperCase().padStart(w)} ` : ''}${'NODE REMOVE'.padStart(w)}`,
    ...j.archs.map(
      (x) =>
        `  ${x.arch.padEnd(20)} ${col(x.join)} ${col(x.converged)} ` +
        `${last ? `${col(detail(x, last.key))} ` : ''}${col(x.leave)}`,
    ),
  ];
}

/** The report's headline of the join test: converged p50 per architecture, fastest first. */
export function joinHeadline(j: JoinJson): string | undefined {
  if (!j.archs.length) return undefined;
  const at = [...j.archs].sort((p, q) => p.converged.p50 - q.converged.p50);
  return (
    `Node join: a new node's pod reachable from every other node (p50) ` +
    `after ${at.map((x) => `${figure(x.converged.p50)} ms (<b>${e(x.arch)}</b>)`).join(', ')}; the steps under ` +
    `<a href="#join">Node join</a>.`
  );
}
