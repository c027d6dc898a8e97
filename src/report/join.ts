/**
 * The join test in the report: its own section (a table of node add, convergence, BGP times and
 * node remove per architecture) and the terminal's lines. Join figures are milliseconds of one
 * node joining a running lab, never ratios to host: they stay out of the rows, the claims and
 * `compare`.
 */
import { figure } from '../lib/format';
import type { AttachStatJson } from '../run/results-attach-schema';
import type { RunResults } from '../run/results-schema';
import { escapeXml as e } from './diagram';

export const JOIN_SUMMARY =
  'node join: a compute node with one pod added to the running lab, until that pod answers a ping from a pod on every other node; then removed (ms; not rows, no % of host)';

const pct = (s: AttachStatJson): string => `${figure(s.p50)} / ${figure(s.p90)} / ${figure(s.p99)}`;

/** The section's table: per architecture, p50 / p90 / p99 of each time. */
export function joinTable(r: RunResults): string {
  const j = r.join;
  if (!j) return '';
  const head = [
    'architecture',
    'family',
    'node add',
    'converged',
    'BGP session up',
    'BGP route received',
    'node remove',
  ];
  const dash = '—';
  const body = j.archs
    .map(
      (x) =>
        `<tr><td>${e(x.arch)}</td><td>${e(x.family)}</td><td class="n">${pct(x.join)}</td><td class="n">${pct(x.converged)}</td><td class="n">${x.bgp ? pct(x.bgp.sessionUp) : dash}</td><td class="n">${x.bgp ? pct(x.bgp.routeReceived) : dash}</td><td class="n">${pct(x.leave)}</td></tr>`,
    )
    .join('\n');
  const peers = [...new Set(j.archs.map((x) => x.peers))].join(' or ');
  return `<h2 id="join">Node join</h2>
<p class="meta">p50 / p90 / p99 in milliseconds over ${j.samples} joins per architecture, each into a lab of ${peers} compute nodes, one at a time. Node add is <code>cnilab node add</code> with one pod, start to end. Converged runs from the start of node add until the new pod has answered a ping from one pod on every other compute node (pings 2 ms apart, started when node add returned; ping's own reply timestamps). The BGP columns, where routes travel by BGP, are BIRD's own times on the peers: the last session with the new node Established, the last peer importing its block. Then the node is removed (node remove). Times, not ratios: no % of host.</p>
<table class="attach"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>
${body}
</tbody></table>`;
}

/** The terminal's lines: a header, then one per architecture. */
export function joinLines(r: RunResults): string[] {
  const j = r.join;
  if (!j) return [];
  const w = 22;
  const col = (s: AttachStatJson | undefined): string => (s ? pct(s) : '—').padStart(w);
  return [
    `node join, ms, p50 / p90 / p99 over ${j.samples} joins per architecture (a node with one pod into the running lab; not rows, no % of host):`,
    `  ${'ARCH'.padEnd(20)} ${'NODE ADD'.padStart(w)} ${'CONVERGED'.padStart(w)} ${'BGP ROUTE RECEIVED'.padStart(w)} ${'NODE REMOVE'.padStart(w)}`,
    ...j.archs.map(
      (x) => `  ${x.arch.padEnd(20)} ${col(x.join)} ${col(x.converged)} ${col(x.bgp?.routeReceived)} ${col(x.leave)}`,
    ),
  ];
}

/** The report's headline of the join test: converged p50 per architecture, fastest first. */
export function joinHeadline(r: RunResults): string | undefined {
  const j = r.join;
  if (!j?.archs.length) return undefined;
  const at = [...j.archs].sort((p, q) => p.converged.p50 - q.converged.p50);
  return `Node join: a new node's pod reachable from every other node (p50) after ${at.map((x) => `${figure(x.converged.p50)} ms (<b>${e(x.arch)}</b>)`).join(', ')}; the steps under <a href="#join">Node join</a>.`;
}
