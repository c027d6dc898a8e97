/** What the report sections of the tests after the rounds share: a heading, what was done, a table. */
import { escapeXml } from '../../report/diagram';

export interface SectionTable {
  /** The heading's id (the headline links to it): the test's name. */
  readonly id: string;
  readonly title: string;
  /** What was measured and how, as HTML. */
  readonly meta: string;
  readonly head: readonly string[];
  /** Cells as HTML; a number cell is { n: text }, right-aligned. */
  readonly rows: readonly (readonly (string | { readonly n: string })[])[];
}

export function sectionHtml(t: SectionTable): string {
  const cell = (c: string | { readonly n: string }): string =>
    typeof c === 'string' ? `<td>${escapeXml(c)}</td>` : `<td class="n">${c.n}</td>`;
  return `<h2 id="${t.id}">${escapeXml(t.title)}</h2>
<p class="meta">${t.meta}</p>
<table class="attach"><thead><tr>${t.head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>
${t.rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('\n')}
</tbody></table>`;
}
