/**
 * The probe matrix for the report: one small table per protocol/port, rows from, columns to, each
 * cell what the lab did, marked where the oracle said otherwise (cyclonus's truth tables). Inline
 * styles only: the report's stylesheet is not the policy module's.
 */
import { escapeXml } from '../report/diagram';
import type { Matrix } from './matrix';

const STYLE = {
  ok: 'background:#e8f5e9',
  denied: 'background:#eceff1',
  diff: 'background:#ffcdd2;font-weight:bold',
};

/** A cell: ✓ allowed, · denied as expected; a difference in bold red, saying which way. */
function cell(expected: boolean, observed: boolean | undefined): string {
  if (observed === expected)
    return expected
      ? `<td style="${STYLE.ok}" title="allowed, as expected">✓</td>`
      : `<td style="${STYLE.denied}" title="denied, as expected">·</td>`;
  const what = observed ? 'allowed where the policies deny' : 'denied where the policies allow';
  return `<td style="${STYLE.diff}" title="${what}">${observed ? 'A' : 'D'}</td>`;
}

export function matrixHtml(m: Matrix): string {
  const idx = new Map(m.pods.map((p, i) => [p, i]));
  const keys = [...new Set(m.cells.map((c) => `${c.protocol}/${c.port}`))];
  const tables = keys.map((key) => {
    const grid: string[][] = m.pods.map(() => m.pods.map(() => '<td>–</td>'));
    for (const c of m.cells)
      if (`${c.protocol}/${c.port}` === key) grid[idx.get(c.from)!]![idx.get(c.to)!] = cell(c.expected, c.observed);
    const head = `<tr><th>${escapeXml(key)}</th>${m.pods.map((_, i) => `<th>${i + 1}</th>`).join('')}</tr>`;
    const rows = m.pods.map((p, i) => `<tr><th>${i + 1} ${escapeXml(p)}</th>${grid[i]!.join('')}</tr>`);
    return `<table class="matrix" style="display:inline-table;margin:0 1em 1em 0">${head}${rows.join('')}</table>`;
  });
  return `<div>${tables.join('')}</div><p class="meta">✓ allowed, · denied, as the policies say; <b>A</b> allowed where they deny, <b>D</b> denied where they allow: ${m.differences} difference(s) in ${m.cells.length} probes.</p>`;
}
