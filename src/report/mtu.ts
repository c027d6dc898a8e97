/**
 * The underlay MTU as a dimension of a run (pure): one view of the results per MTU, and the table
 * that puts each row's figures at every MTU side by side. A table, because the question a reader
 * brings — what do jumbo frames change for this architecture on this path? — is answered by two
 * numbers next to each other and their change; the charts show the same split as one column per
 * MTU on a shared axis (charts.ts).
 */
import { figure } from '../lib/format';
import { METRIC_INFO, type ResultRow, type RunResults } from '../run/results-schema';
import { runTests } from '../run/tests';
import { escapeXml as e } from './diagram';

/** The results of one MTU each (rows, paths, claims); one view with no MTU for a run without the dimension. */
export function perMtu(r: RunResults): { mtu?: number; run: RunResults }[] {
  const mtus = r.lab.underlayMtus;
  if (!mtus) return [{ run: r }];
  return mtus.map((mtu) => {
    const at = <T extends { underlayMtu?: number }>(xs: readonly T[]): T[] => xs.filter((x) => x.underlayMtu === mtu);
    return {
      mtu,
      run: {
        ...r,
        rows: at(r.rows),
        paths: at(r.paths),
        claims: {
          rankings: at(r.claims.rankings),
          paper: at(r.claims.paper),
          ...(r.claims.designs ? { designs: at(r.claims.designs) } : {}),
        },
      },
    };
  });
}

const rowName = (x: ResultRow): string => {
  const label = runTests.get(x.test).label(x.params);
  return `${x.arch} ${x.path} ${x.test}${label ? ` ${label}` : ''}`;
};

/** Every row at each MTU side by side: median and % of host (of the same MTU), and the change from the first MTU. */
export function mtuTable(r: RunResults): string {
  const mtus = r.lab.underlayMtus;
  if (!mtus) return '';
  const groups = new Map<string, Map<number, ResultRow>>();
  for (const x of r.rows) {
    const g = groups.get(rowName(x)) ?? new Map<number, ResultRow>();
    g.set(x.underlayMtu!, x);
    groups.set(rowName(x), g);
  }
  const cell = (x: ResultRow | undefined): string => {
    if (!x) return '<td class="n">—</td><td class="n">—</td>';
    const m = x.metrics[x.primary]!;
    return (
      `<td class="n">${figure(m.median)} ${METRIC_INFO[x.primary].unit}</td><td ` +
      `class="n">${x.baselinePct === null ? '—' : `${x.baselinePct.toFixed(0)}%${x.resolved ? '' : ' ?'}`}</td>`
    );
  };
  const change = (g: Map<number, ResultRow>): string => {
    const [a, b] = [g.get(mtus[0]!), g.get(mtus[mtus.length - 1]!)];
    const [ma, mb] = [a?.metrics[a.primary]?.median, b?.metrics[b.primary]?.median];
    return ma && mb ? `${mb >= ma ? '+' : ''}${figure(((mb - ma) / ma) * 100)}%` : '—';
  };
  const head =
    `<tr><th>row</th>${mtus.map((m) => `<th>MTU ${m}</th><th>of host</th>`).join('')}<th>MTU ` +
    `${mtus[mtus.length - 1]} ` +
    `vs ${mtus[0]}</th></tr>`;
  const body = [...groups]
    .map(
      ([name, g]) =>
        `<tr><td>${e(name)}</td>${mtus.map((m) => cell(g.get(m))).join('')}<td class="n">${change(g)}</td></tr>`,
    )
    .join('\n');
  return (
    `<h2>Underlay MTU side by side</h2>
<p class="meta">Each MTU ran in labs of its own; "of host" pairs a row with host at the same MTU, so it says what ` +
    `the architecture costs at that MTU, and the last column what the MTU changed in the median (for latency, + ` +
    `is slower).</p>
<table class="mtu"><thead>${head}</thead><tbody>
${body}
</tbody></table>
`
  );
}
