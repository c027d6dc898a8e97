/**
 * The correctness half of policy-scale's report: for each architecture and design, the policy
 * catalogue's cases with their differences from the oracle, and each case's probe matrix (a
 * difference in bold red, saying which way) — cyclonus's truth tables. A case that differs is shown
 * open; the others folded.
 */
import { escapeXml as e } from '../../report/diagram';
import { expandMatrix } from '../../policy/matrix';
import { matrixHtml } from '../../policy/matrix-html';
import type { PolicyScaleJson } from './schema';

/** Every (architecture, design) that ran the catalogue. */
const runs = (j: PolicyScaleJson) =>
  j.archs.flatMap((x) => x.designs.filter((d) => d.catalogue).map((d) => ({ x, d, c: d.catalogue! })));

export function catalogueHtml(j: PolicyScaleJson): string {
  const all = runs(j);
  if (!all.length) return '';
  const blocks = all.map(({ x, d, c }) => {
    const cases = c.cases.map((k) => {
      const open = k.differences > 0 ? ' open' : '';
      const after = k.afterDelete ? `<p>After the delete:</p>${matrixHtml(expandMatrix(k.afterDelete))}` : '';
      return `<details${open}><summary>${e(k.name)}: ${e(k.about)} — <b>${k.differences}</b> difference(s)</summary>${matrixHtml(expandMatrix(k.matrix))}${after}</details>`;
    });
    return `<h3>${e(x.arch)} · ${e(d.design)}: ${c.cases.length} cases, ${c.differences} difference(s)</h3>\n${cases.join('\n')}`;
  });
  return `<h2 id="policy-correctness">NetworkPolicy enforced as written</h2>
<p class="meta">Before the cost, each design's correctness: the policy catalogue (docs/policy.md) applied case by case,
every ordered pod pair probed over TCP and UDP on ports 80, 81 and 8080, and each probe set against an oracle of
Kubernetes' semantics written apart from the code that programs the data paths (cyclonus's method).</p>
${blocks.join('\n')}`;
}

/** The terminal's lines of the catalogue. */
export function catalogueLines(j: PolicyScaleJson): string[] {
  return runs(j).map(
    ({ x, d, c }) =>
      `  correctness ${x.arch} · ${d.design}: ${c.cases.length} cases, ${c.differences} difference(s) from the oracle` +
      (c.differences
        ? ` (${c.cases
            .filter((k) => k.differences)
            .map((k) => k.name)
            .join(', ')})`
        : ''),
  );
}

/** The headline's words on correctness: every design's differences. */
export function catalogueHeadline(j: PolicyScaleJson): string | undefined {
  const all = runs(j);
  if (!all.length) return undefined;
  const bad = all.filter((r) => r.c.differences > 0);
  return bad.length
    ? `differences from the oracle: ${bad.map((r) => `${r.x.arch} · ${r.d.design} ${r.c.differences}`).join(', ')}`
    : `every design's probe matrices match the oracle (${all.length} designs, ${all[0]!.c.cases.length} cases each)`;
}
