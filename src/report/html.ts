/**
 * report.html: one self-contained file — inline CSS and SVG, no script, nothing fetched — that
 * opens anywhere. The forest plot (every architecture's ratio to host) and the headline findings
 * first, then the claims, the charts, the data paths the kernel counted, every row with its
 * interval, and the environment the numbers came from.
 */
import { duration, figure } from '../lib/format';
import { METRIC_INFO, type ResultRow, type RunResults, type TestName } from '../run/results-schema';
import { runTests } from '../run/tests';
import { type Chart } from './charts';
import { escapeXml, pathDiagram } from './diagram';
import {
  designLines,
  serviceHopLines,
  familyLines,
  archLabel,
  readerNotes,
  linkLine,
  moreRoundsText,
  noiseLine,
  paperLines,
  rankingLegend,
  rankingLines,
  scheduleLine,
} from './claims-text';
import { equivalenceBand, equivalenceOf, ratioInterval } from './forest';
import { mtuTable, perMtu } from './mtu';
import { proofsHtml, skippedLabel } from './proofs';
import { afterParts, afterTests } from '../run/after';
import { CSS, DATAPATH_HEAD, LEGEND, PATHS_NOTE, td, ths } from './html-text';

const e = escapeXml;

/** Findings a reader wants first; with several underlay MTUs, each MTU's findings under its name. */
export function headlines(r: RunResults): string[] {
  const views = perMtu(r);
  const out = views.flatMap(({ mtu, run }) =>
    findings(run).map((h) => (mtu === undefined ? h : `At underlay MTU ${mtu}: ${h}`)),
  );
  return [
    ...out,
    ...afterParts(r).flatMap(({ test, part }) => test.report.headline(part) ?? []),
    ...readerNotes(r).map((n) => `<span class="warn">${e(n)}</span>`),
    ...(r.rows.length ? [unresolvedLine(r)] : []),
  ];
}

/** Findings computed from the rows of one MTU (none when the rows cannot say). */
function findings(r: RunResults): string[] {
  const out: string[] = [];
  const tcpInter = r.rows.filter((x) => x.test === 'tcp' && x.path === 'inter-node' && x.family !== 'baseline');
  const by = (rows: ResultRow[], get: (x: ResultRow) => number): ResultRow[] =>
    [...rows].sort((a, b) => get(b) - get(a));
  const ranking = r.claims.rankings.find((g) => g.path === 'inter-node' && g.test === 'tcp');
  if (ranking && ranking.order.length >= 2) {
    const row = (a: string): ResultRow => tcpInter.find((x) => x.arch === a)!;
    const pct = (x: ResultRow): string => {
      const iv = ratioInterval(x);
      return x.ratio && iv
        ? `, ${(x.ratio.median * 100).toFixed(0)}% of host ` +
            `(${(iv.low * 100).toFixed(0)}–${(iv.high * 100).toFixed(0)}%)`
        : '';
    };
    const [top, low] = [row(ranking.order[0]!), row(ranking.order[ranking.order.length - 1]!)];
    out.push(leadLine(top, ranking.steps[0], pct(top), equivalenceOf(r)));
    out.push(
      `The slowest was <b>${e(low.arch)}</b> (${figure(low.metrics.gbps!.median)} Gbit/s${pct(low)}). In order ` +
        `(${e(rankingLegend(r))}): ${e(rankingLines(r).find((l) => l.startsWith('inter-node tcp')) ?? '')}.`,
    );
  }
  const costed = tcpInter.filter((x) => x.coreSecondsPerGbit && x.coreSecondsPerGbit.total > 0);
  if (costed.length >= 2) {
    const s = by(costed, (x) => x.coreSecondsPerGbit!.total);
    const [dear, cheap] = [s[0]!, s[s.length - 1]!];
    out.push(
      `The costliest in CPU was <b>${e(dear.arch)}</b>: ${figure(dear.coreSecondsPerGbit!.total)} core-seconds ` +
        `per Gbit, ${figure(dear.coreSecondsPerGbit!.total / cheap.coreSecondsPerGbit!.total)}× ` +
        `<b>${e(cheap.arch)}</b> (${figure(cheap.coreSecondsPerGbit!.total)}).`,
    );
  }
  const lat = r.rows.filter((x) => x.test === 'latency' && x.path === 'inter-node');
  if (lat.length >= 2) {
    const s = by(lat, (x) => -x.metrics.rttP50Us!.median);
    const [fast, slow] = [s[0]!, s[s.length - 1]!];
    out.push(
      `Idle round trips across nodes (p50) ran from ${figure(fast.metrics.rttP50Us!.median)} µs ` +
        `(<b>${e(fast.arch)}</b>) to ${figure(slow.metrics.rttP50Us!.median)} µs (<b>${e(slow.arch)}</b>).`,
    );
  }
  // The eBPF data path against the first design it replaces that the run measured across nodes.
  const design = (r.claims.designs ?? []).findIndex((d) => d.path === 'inter-node');
  if (design >= 0) out.push(`${e(designLines(r)[design]!)} (a/b of the same rounds, 95% interval).`);
  const routed = r.rows.filter((x) => x.test === 'tcp' && x.path === 'routed');
  if (routed.length >= 1) {
    const cost = routed.map((x) => {
      const inter = tcpInter.find((y) => y.arch === x.arch);
      const share = inter
        ? ` (${figure((x.metrics.gbps!.median / inter.metrics.gbps!.median) * 100)}% of its inter-node)`
        : '';
      return `<b>${e(x.arch)}</b> ${figure(x.metrics.gbps!.median)} Gbit/s${share}`;
    });
    out.push(`From A to C via the router on B (two networks, three nodes): ${cost.join(', ')}.`);
  }
  return out;
}

type PairClaim = RunResults['claims']['rankings'][number]['steps'][number];

const moreRounds = moreRoundsText;

/** The first finding: the highest across nodes, and what the interval of its lead over the next says. */
function leadLine(top: ResultRow, first: PairClaim | undefined, ofHost: string, m: number): string {
  const had =
    `Across nodes, <b>${e(top.arch)}</b> had the highest median (${figure(top.metrics.gbps!.median)} ` +
    `Gbit/s${ofHost})`;
  if (!first) return `${had}.`;
  const ci = first.ratio.ci95;
  const same = `the interval of their same-round ratio (${figure(ci.low)}–${figure(ci.high)})`;
  const [lo, hi] = equivalenceBand(m);
  switch (first.verdict) {
    case 'better':
      return (
        `Across nodes, the fastest pod network was <b>${e(top.arch)}</b> (${figure(top.metrics.gbps!.median)} ` +
        `Gbit/s${ofHost}), ahead of <b>${e(first.b)}</b> by ${figure((first.ratio.geomean - 1) * 100)}% ` +
        `(same-round ratio ${figure(ci.low)}–${figure(ci.high)}).`
      );
    case 'equivalent':
      return `${had} and is <b>within ±${m}% of</b> <b>${e(first.b)}</b>: ${same} lies inside ±${m}%.`;
    case 'worse':
      return `${had} but is <b>behind</b> <b>${e(first.b)}</b> in the rounds they shared: ${same} lies below 1.`;
    default:
      return (
        `${had} but is <b>not resolved</b> against <b>${e(first.b)}</b>: ${same} holds 1` +
        `${ci.low < lo || ci.high > hi ? ` but reaches beyond ±${m}%` : ''}${moreRounds(first.moreRounds)}.`
      );
  }
}

function unresolvedLine(r: RunResults): string {
  const open = r.noise.unresolved;
  const pct = r.schedule.precisionPct ?? 5;
  if (!open.length) return `Every row's ratio to host is known within ±${pct}%.`;
  const more = open.length > 6 ? ` and ${open.length - 6} more` : '';
  const names = open.slice(0, 6).map((x) => e(x.row));
  return (
    `${open.length} of ${r.rows.length} rows are <span class="warn">not resolved</span> to ±${pct}% of their ` +
    `ratio in ${r.schedule.rounds} rounds: ${names.join(', ')}${more}. ` +
    'More rounds (a larger --budget) narrow them.'
  );
}

/** How the report's intervals of a ratio to host were computed, in words. */
function ofHostInterval(r: RunResults): string {
  return r.rows.some((x) => x.ratio?.moderated)
    ? 'moderated: t on the logs, the spread borrowed from the rows of the same test and the run-to-run part added'
    : 't on the logs';
}

function rowTable(r: RunResults): string {
  const mtus = r.lab.underlayMtus !== undefined;
  const head = [
    'architecture',
    'path',
    ...(mtus ? ['underlay MTU'] : []),
    'test',
    'metric',
    'median',
    '95% CI',
    'CoV',
    'of host',
    'core-s/Gbit',
    'samples',
  ];
  const body = r.rows
    .map((x) => {
      const m = x.metrics[x.primary]!;
      const iv = ratioInterval(x);
      const info = METRIC_INFO[x.primary];
      const p = x.params;
      const params = [
        p.streams && p.streams > 1 ? `${p.streams} streams` : '',
        x.test === 'udp' ? `${p.rateMbps} Mbit/s` : '',
        x.test === 'sweep' ? `${p.payloadBytes} B` : '',
      ]
        .filter(Boolean)
        .join(' ');
      const band = iv ? ` <small>(${(iv.low * 100).toFixed(0)}–${(iv.high * 100).toFixed(0)})</small>` : '';
      const ofHost = x.baselinePct === null ? '—' : `${x.baselinePct.toFixed(0)}%${band}${x.resolved ? '' : ' ?'}`;
      const cells = [
        td(e(archLabel(x))),
        td(x.path),
        mtus ? td(x.underlayMtu ?? '', 'n') : '',
        td(`${x.test}${params ? ` ${params}` : ''}`),
        td(`${info.label} (${info.unit})`),
        td(figure(m.median), 'n'),
        td(`${figure(m.ci95.low)}–${figure(m.ci95.high)}`, 'n'),
        td(`${m.covPct.toFixed(1)}%${x.unstable ? ' ⚠' : ''}`, 'n'),
        td(ofHost, 'n'),
        td(x.coreSecondsPerGbit ? x.coreSecondsPerGbit.total.toFixed(3) : '—', 'n'),
        td(m.samples.map(figure).join(' '), 'n samples'),
      ];
      return `<tr${x.unstable ? ' class="unstable"' : ''}>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<table class="rows"><thead><tr>${ths(head)}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function datapathTable(r: RunResults): string {
  const rows = r.rows.flatMap((x) => (x.datapath ?? []).map((d) => ({ x, d })));
  if (!rows.length) return '';
  const body = rows
    .map(({ x, d }) => {
      const cells = [
        td(e(archLabel(x))),
        td(x.path),
        td(`${e(d.process)}@${e(d.node)} (${e(d.device)})`),
        td(`${d.cpu.user.toFixed(0)}/${d.cpu.system.toFixed(0)}`, 'n'),
        td((d.wirePackets ?? d.packets).toLocaleString('en-US'), 'n'),
        td(d.syscallsPerWirePacket?.toFixed(2) ?? '—', 'n'),
        td(d.syscallsPerMB?.toFixed(0) ?? '—', 'n'),
        td((d.contextSwitchesPerPacket.voluntary + d.contextSwitchesPerPacket.involuntary).toFixed(3), 'n'),
      ];
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('');
  const head = `<thead><tr>${ths(DATAPATH_HEAD)}</tr></thead>`;
  return `<h3>User-space data-path processes</h3><table>${head}<tbody>${body}</tbody></table>`;
}

/** A table per kind's meter: what it counted during each row's counted sample (ControlPlane.meters). */
function metersTable(r: RunResults): string {
  const groups = new Map<string, { about: string; rows: { x: ResultRow; m: Reading }[] }>();
  for (const x of r.rows)
    for (const g of x.meters ?? []) {
      const t = groups.get(g.meter) ?? { about: g.about, rows: [] };
      t.rows.push(...g.readings.map((m) => ({ x, m })));
      groups.set(g.meter, t);
    }
  const n = (k: string, v: number): string => (k.endsWith('Bytes') ? (v / 1e6).toFixed(1) : v.toLocaleString('en-US'));
  return [...groups]
    .filter(([, t]) => t.rows.length)
    .map(([meter, t]) => {
      const keys = [...new Set(t.rows.flatMap(({ m }) => Object.keys(m.counts)))];
      const head = keys.map((k) => (k.endsWith('Bytes') ? `MB ${k.slice(0, -'Bytes'.length)}` : k));
      const th = ths(['architecture', 'path', 'test', 'name@node', ...head.map((h) => e(h))]);
      const body = t.rows
        .map(({ x, m }) => {
          const counts = keys.map((k) => td(m.counts[k] === undefined ? '—' : n(k, m.counts[k]), 'n'));
          const cells = [td(e(x.arch)), td(x.path), td(x.test), td(`${e(m.name)}@${e(m.node)}`), ...counts];
          return `<tr>${cells.join('')}</tr>`;
        })
        .join('');
      const table = `<table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
      return `<h3>${e(meter)}</h3><p class="meta">${e(t.about)}</p>${table}`;
    })
    .join('');
}

type Reading = NonNullable<ResultRow['meters']>[number]['readings'][number];

/** The data paths the kernel counted, one diagram each. */
function diagramsHtml(r: RunResults): string {
  const archs = new Map(r.architectures.map((a) => [a.name, a]));
  return r.paths
    .map((p, i) => {
      const a = archs.get(p.arch);
      const m = p.underlayMtu === undefined ? '' : `-m${p.underlayMtu}`;
      const at = p.underlayMtu === undefined ? '' : ` (underlay MTU ${p.underlayMtu})`;
      const encap =
        p.encapBytes > 0 ? `, ${p.encapBytes} bytes of encapsulation per packet on the underlay` : ', no encapsulation';
      const head = `<h3>${e(p.arch)} — ${p.path}${at}: ${e(p.client)} → ${e(p.server)}</h3>`;
      const note = `<p>Pod MTU ${p.mtu}${encap}; counters read during the ${p.measuredWith} test.</p>`;
      const id = `path-${e(p.arch)}-${p.path}${m}`;
      return `<div class="dp" id="${id}">${head}<p>${e(a?.summary ?? '')}</p>${note}${pathDiagram(p, `dp${i}`)}</div>`;
    })
    .join('\n');
}

function chartFigure({ chart, svg }: { chart: Chart; svg: string }): string {
  const links = `<a href="charts/${chart.name}.png">PNG</a> · <a href="charts/${chart.name}.svg">SVG</a>`;
  const caption = `<figcaption>${e(chart.caption)} ${links}</figcaption>`;
  const head = `<h3>${e(chart.title)}</h3>`;
  return `<figure class="chart" id="chart-${chart.name}" data-chart="${chart.name}">${head}${svg}${caption}</figure>`;
}

/** The lab, the run and how it sampled, under the title. */
function labLine(r: RunResults): string {
  const s = r.settings;
  const link = linkLine(r);
  const mtus = r.lab.underlayMtus;
  const underlay = mtus
    ? `underlay MTUs ${mtus.join(' and ')} (each in labs of its own, every row paired with host of its MTU)`
    : `underlay MTU ${r.lab.underlayMtu}`;
  const lab =
    `Lab <b>${e(r.lab.name)}</b>: ${r.lab.nodes} nodes (${r.lab.computeNodes} compute), ${underlay}, ` +
    `pod network ${e(r.lab.podCidr)}${link ? `; ${e(link)}` : ''}.`;
  const run = `Run ${e(r.startedAt)}, took ${duration(r.durationSec)}.`;
  const rounds =
    `${s.repeats} rounds (${r.schedule.mode}: one sample of every row per round, in a random ` +
    `order), ${s.durationSec} s per throughput sample and one ${s.latencySec} s sockperf run per latency sample`;
  const warm = s.warmupSec ? `, after a ${s.warmupSec} s discarded warm-up per path` : '';
  const [client, server] = s.cpuAffinity?.split(',') ?? [];
  const pin = s.cpuAffinity ? `; clients pinned to CPU ${client}, servers to CPU ${server}` : '';
  return `<p class="meta">${lab} ${run} ${rounds}${warm}${pin}. cnilab ${e(r.tool.version)}.</p>`;
}

function claimsNote(r: RunResults): string {
  return (
    `<p class="meta">A ranks above B only when the 95% interval of their same-round ratio A/B excludes 1; ` +
    `they are equivalent when it lies within ±${equivalenceOf(r)}%; otherwise the step is not resolved ` +
    `(${e(rankingLegend(r))}). ${e(scheduleLine(r))}.</p>`
  );
}

/** What the Service hop costs, per proxied lab and test (claims.serviceHop). */
function serviceHopHtml(lines: readonly string[]): string {
  if (!lines.length) return '';
  return (
    `<h3 id="service-hop">The Service hop</h3><p>In each lab with a proxy, the same two pods: the service row ` +
    `(the client dials the ClusterIP) over the inter-node row (it dials the pod), the same-round ratio, 95% interval.` +
    `</p><ul class="claims">${lines.map((l) => `<li>${e(l)}</li>`).join('')}</ul>`
  );
}

/** What IPv6 costs, per architecture, path and test (claims.families). */
function familiesHtml(lines: readonly string[]): string {
  if (!lines.length) return '';
  return (
    `<h3 id="ip-families">IPv6 against IPv4</h3><p>Each IPv6 row over its IPv4 twin: the same architecture, path ` +
    `and test in single-stack labs of either family, the same-round ratio, 95% interval (docs/ipv6.md).</p>` +
    `<ul class="claims">${lines.map((l) => `<li>${e(l)}</li>`).join('')}</ul>`
  );
}

function designsHtml(designs: readonly string[]): string {
  if (!designs.length) return '';
  const items = designs.map((l) => `<li>${e(l)}</li>`).join('');
  return (
    '<h3>Designs compared</h3>' +
    `<p class="meta">Each ratio is a/b of the same round's samples, with its 95% interval; ` +
    'lower is better for latency and CPU per Gbit.</p>' +
    `<ul class="claims">${items}</ul>`
  );
}

function rowsNote(r: RunResults): string {
  const s = r.settings;
  const summary = (x: string): string =>
    e(afterTests.has(x) ? afterTests.get(x).summary : runTests.get(x as TestName).summary);
  const tests = s.tests.map((x) => `<b>${x}</b> — ${summary(x)}`).join('; ');
  return (
    `<p class="meta">95% confidence interval of the median by order statistics from 6 samples; below that, ` +
    `Student's t on the mean. Of host: the median of the same-round ratios to host, with the 95% interval of ` +
    `their geometric mean (${ofHostInterval(r)}); ? where that interval is wider than ` +
    `±${r.schedule.precisionPct ?? 5}% (not resolved). Unstable: coefficient of variation ` +
    `above ${s.covThresholdPct}%. Tests: ${tests}.</p>`
  );
}

/** The environment table and the links to the data. */
function environmentHtml(r: RunResults): string {
  const env = r.environment;
  const t = r.timing;
  const arch = (a: RunResults['architectures'][number]): string => {
    const dp = a.datapath && a.datapath !== 'kernel' ? `; datapath: ${e(a.datapath)}` : '';
    return `<b>${e(a.name)}</b> (${a.family}${dp}): ${e(a.summary)}`;
  };
  const skip = (k: RunResults['skipped'][number]): string =>
    e(
      `${k.failed ? `${skippedLabel(k)}: ` : ''}${k.arch}${k.path ? ` ${k.path}` : ''}${k.test ? ` ${k.test}` : ''}: ${k.reason}`,
    );
  const kernel = `${e(env.kernel)}${env.kernelBuild ? ` (${e(env.kernelBuild)})` : ''}`;
  const tools = [
    `iperf3 ${e(env.iperf3)}`,
    `sockperf ${e(env.sockperf)}`,
    `iproute2 ${e(env.iproute2)}`,
    `Node.js ${e(env.node)}`,
  ].join(', ');
  const time = [
    `set-up ${duration(t.setupSec)}`,
    `warm-up ${duration(t.warmupSec)}`,
    `measuring ${duration(t.measureSec)}`,
    `tear-down ${duration(t.teardownSec)}`,
    `other ${duration(t.otherSec)}`,
  ].join(', ');
  const json = `<a href="results.json">results.json</a> (schema v${r.schemaVersion})`;
  return [
    '<table>',
    `<tr><th>kernel</th><td>${kernel}</td></tr><tr><th>CPU</th><td>${env.cpus} × ${e(env.cpuModel)}</td></tr>`,
    `<tr><th>tools</th><td>${tools}</td></tr>`,
    `<tr><th>architectures</th><td>${r.architectures.map(arch).join('<br>')}</td></tr>`,
    `<tr><th>skipped</th><td>${r.skipped.length ? r.skipped.map(skip).join('<br>') : 'nothing'}</td></tr>`,
    `<tr><th>noise</th><td>${e(noiseLine(r))}</td></tr>`,
    `<tr><th>time</th><td>${time}</td></tr>`,
    '</table>',
    `<p class="meta">Data: ${json} · <a href="results.csv">results.csv</a></p>`,
  ].join('\n');
}

export function renderHtml(r: RunResults, charts: readonly { chart: Chart; svg: string }[]): string {
  // The forest plot opens the report; the other charts follow the claims.
  const forest = charts.find((c) => c.chart.name === 'forest');
  const figures = charts.filter((c) => c !== forest).map(chartFigure);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>cnilab run — ${e(r.lab.name)} — ${e(r.startedAt)}</title><style>${CSS}</style></head>
<body>
<h1>cnilab: container network architectures, measured</h1>
${labLine(r)}
<h2>At a glance</h2>
${forest ? chartFigure(forest) : ''}
<ul class="headlines">${headlines(r)
    .map((h) => `<li>${h}</li>`)
    .join('')}</ul>
<p class="meta legend">Colours of bars and points:${LEGEND}.</p>
${proofsHtml(r)}
<h2>What this run can claim</h2>
${claimsNote(r)}
<ul class="claims">${[...rankingLines(r), ...paperLines(r)].map((l) => `<li>${e(l)}</li>`).join('')}</ul>
${designsHtml(designLines(r))}
${serviceHopHtml(serviceHopLines(r))}
${familiesHtml(familyLines(r))}
${mtuTable(r)}${afterParts(r)
    .map(({ test, part }) => test.report.html(part))
    .join('')}<h2>Charts</h2>
${figures.join('\n')}
<h2>Cost</h2>
${datapathTable(r) || '<p class="meta">No user-space process carried traffic in this run.</p>'}${metersTable(r)}
<h2>Data paths, as the kernel counted them</h2>
${PATHS_NOTE}
${diagramsHtml(r) || '<p class="meta">No path was counted.</p>'}
<h2>Every row</h2>
${rowsNote(r)}
${rowTable(r)}
<h2>Environment</h2>
${environmentHtml(r)}
</body></html>
`;
}
