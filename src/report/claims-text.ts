/**
 * What a run's results say in words (pure): the rounds and why they stopped, the rows it could not
 * resolve, the rankings its same-round intervals support, the paper's orderings checked, the
 * noise. The terminal summary and the HTML report print the same sentences.
 */
import { architectures } from '../arch';
import type { ControlPlane } from '../arch/architecture';
import type { RunResults } from '../run/results-schema';
import { runTests } from '../run/tests';

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
const span = (c: { low: number; high: number }): string => `${pct(c.low)}–${pct(c.high)}`;

/** A claim's dimensions in words: " (MTU 9000)", " (IPv6)", " (MTU 9000, IPv6)"; '' without. */
const atMtu = (x: { underlayMtu?: number; ipFamily?: 4 | 6 }): string => {
  const parts = [
    ...(x.underlayMtu === undefined ? [] : [`MTU ${x.underlayMtu}`]),
    ...(x.ipFamily === undefined ? [] : [`IPv${x.ipFamily}`]),
  ];
  return parts.length ? ` (${parts.join(', ')})` : '';
};

/** A row's architecture, with " IPv6" on a row measured in IPv6 (IPv4 is every run's default). */
export const archLabel = (x: { arch: string; ipFamily?: 4 | 6 }): string =>
  `${x.arch}${x.ipFamily === 6 ? ' IPv6' : ''}`;

const groupName = (g: { path: string; test: string; params: object; underlayMtu?: number }): string => {
  const label = runTests.get(g.test).label(g.params as never);
  return `${g.path} ${g.test}${label ? ` ${label}` : ''}${atMtu(g)}`;
};

/**
 * What a reader must not miss before reading a figure: the run was on a software-emulated CPU (the
 * kernel tier's VM: it proves function, never speed), or what a kind says of its architectures in
 * this run (`ControlPlane.readerNote`: Kuryr's, that Open vSwitch ran in user space).
 */
export function readerNotes(r: RunResults): string[] {
  const out: string[] = [];
  if (/\bTCG\b/.test(r.environment.cpuModel))
    out.push(
      `This run's CPU was emulated in software (${r.environment.cpuModel}: a VM without hardware virtualization, ` +
        `such as scripts/kernel-vm.sh's): everything ran 15–60× slower than on hardware. It shows that each ` +
        `data path works; its figures are not figures of these architectures.`,
    );
  // Each note once, on the architectures of this run that carry it (Kuryr's: OVS ran in user space; WireGuard's:
  // wireguard-go ran) — architectures of one kind may carry different notes, or none.
  type Note = NonNullable<ControlPlane['readerNote']>;
  const notes = new Map<Note, RunResults['architectures'][number][]>();
  for (const a of r.architectures.filter((x) => architectures.has(x.name))) {
    const note = architectures.get(a.name).control.readerNote;
    if (note) notes.set(note, [...(notes.get(note) ?? []), a]);
  }
  for (const [note, archs] of notes) {
    const text = note(archs, r.environment.kernel);
    if (text) out.push(text);
  }
  return out;
}

/** How the samples were taken and why the rounds stopped. */
export function scheduleLine(r: RunResults): string {
  const s = r.schedule;
  const why =
    s.stopped === 'converged'
      ? `every row within ±${s.precisionPct}%, no named claim open that more rounds could decide`
      : s.stopped === 'budget'
        ? `the budget of ${Math.round(s.budgetSec!)} s allowed no further round`
        : s.precisionPct === null
          ? 'the rounds asked for'
          : 'the most rounds allowed';
  const apart =
    s.mode === 'sequential'
      ? "; one lab at a time: a round's samples of two labs are " +
        'minutes apart, so their "same-round" ratios pair less well'
      : '';
  const left = s.left?.length
    ? `; ${s.left.length} row${s.left.length === 1 ? '' : 's'} left the rounds early once within ` +
      `±${s.precisionPct}% (moderated)`
    : '';
  return (
    `${s.rounds} rounds, ${s.mode}${s.fallback ? ` (${s.fallback})` : ''}, ` +
    `seed ${s.seed}${left}; stopped: ${why}${apart}`
  );
}

/** What the run could not do as asked (schedule.warnings), one line each. */
export const warningLines = (r: RunResults): string[] => (r.schedule.warnings ?? []).map((w) => `warning: ${w}`);

/** The rows whose ratio was not known within the precision, with their spread. */
export function unresolvedLines(r: RunResults): string[] {
  const u = r.noise.unresolved;
  if (u.length === 0) return [];
  const prec = r.schedule.precisionPct ?? 5;
  return [
    `${u.length} of ${r.rows.length} rows not resolved to ±${prec}% (more rounds would narrow them):`,
    ...u.map(
      (x) =>
        `  ${x.row}: CoV ${x.covPct.toFixed(1)}%` +
        `${x.halfWidthPct !== null ? `, ratio ±${x.halfWidthPct.toFixed(1)}%` : ''}`,
    ),
  ];
}

/** How a not-resolved comparison could be decided, in words. */
export const moreRoundsText = (m: number | null | undefined): string =>
  m === undefined
    ? ''
    : m === null
      ? '; one run cannot decide it'
      : `; about ${m} more round${m === 1 ? '' : 's'} would decide it`;

export const eqOf = (r: RunResults): number => r.settings.equivalencePct ?? 3;

/** The legend of the rankings' signs. */
export const rankingLegend = (r: RunResults): string =>
  `> resolved higher, < resolved lower, ≈ equivalent within ±${eqOf(r)}%, ? not resolved`;

/** Per path and test: the order, each step of it: better, worse, equivalent, or not resolved. */
export function rankingLines(r: RunResults): string[] {
  return r.claims.rankings.map((g) => {
    const parts = [g.order[0]!];
    const sign = { better: ' > ', worse: ' < ', equivalent: ' ≈ ', 'not resolved': ' ? ' } as const;
    for (const s of g.steps) parts.push(`${sign[s.verdict]}${s.b}`);
    const resolved = g.steps.filter((s) => s.verdict !== 'not resolved').length;
    return `${groupName(g)}: ${parts.join('')}  (${resolved} of ${g.steps.length} steps resolved)`;
  });
}

/** The paper's orderings: holds, reversed, equivalent, not resolved — with the same-round ratio's interval. */
export function paperLines(r: RunResults): string[] {
  return r.claims.paper.map((p) => {
    const ratio = p.ratio
      ? `: ${p.higher}/${p.lower} ${pct(p.ratio.geomean)} (${span(p.ratio.ci95)}, ${p.ratio.n} rounds)`
      : '';
    const word =
      p.verdict === 'equivalent'
        ? `EQUIVALENT within ±${eqOf(r)}% (the ordering does not hold here)`
        : p.verdict.toUpperCase();
    return (
      `${p.figure} — ${p.claim}${atMtu(p)}: ${word}${ratio}` +
      `${p.verdict === 'not resolved' ? moreRoundsText(p.moreRounds) : ''}`
    );
  });
}

const METRIC_WORDS = { throughput: 'throughput', latency: 'latency p50', cpuPerGbit: 'CPU per Gbit' } as const;

/**
 * The designs compared: per pair, each metric's ratio a/b with its interval and what it means —
 * better, worse, equivalent within the margin, or not resolved.
 */
export function designLines(r: RunResults): string[] {
  return (r.claims.designs ?? []).map((d) => {
    const parts = d.metrics.map((m) => {
      const what = METRIC_WORDS[m.metric];
      if (!m.ratio) return `${what} not measured`;
      const word = m.verdict === 'equivalent' ? `equivalent (±${eqOf(r)}%)` : m.verdict;
      return `${what} ${pct(m.ratio.geomean)} (${span(m.ratio.ci95)}) ${word}`;
    });
    return `${d.design}${atMtu(d)} — ${d.a}/${d.b}, ${d.path}: ${parts.join('; ')}`;
  });
}

/** A pair claim's verdict in words: the margin of equivalence, or the rounds a not resolved one needs. */
function pairWord(r: RunResults, c: { verdict: string; moreRounds?: number | null | undefined }): string {
  if (c.verdict === 'equivalent') return `equivalent (±${eqOf(r)}%)`;
  return c.verdict === 'not resolved' ? `not resolved${moreRoundsText(c.moreRounds)}` : c.verdict;
}

/**
 * What the Service hop costs: per proxied lab and test, the service row over the same pods talking
 * directly, with its interval and what it means.
 */
export function serviceHopLines(r: RunResults): string[] {
  return (r.claims.serviceHop ?? []).map((h) => {
    const word = pairWord(r, h);
    const label = runTests.get(h.test).label(h.params);
    return (
      `Service hop, ${h.arch}${atMtu(h)}, ${h.test}${label ? ` ${label}` : ''}: through the ClusterIP ` +
      `${pct(h.ratio.geomean)} of direct (${span(h.ratio.ci95)}) ${word}`
    );
  });
}

/**
 * What IPv6 costs: per architecture, path and test, the IPv6 row over its IPv4 twin (a run of --ip-family 4,6), with
 * its interval and what it means.
 */
export function familyLines(r: RunResults): string[] {
  return (r.claims.families ?? []).map((f) => {
    const word = pairWord(r, f);
    const label = runTests.get(f.test).label(f.params);
    return (
      `IPv6, ${f.arch} ${f.path} ${f.test}${label ? ` ${label}` : ''}${atMtu(f)}: ` +
      `${pct(f.ratio.geomean)} of IPv4 (${span(f.ratio.ci95)}) ${word}`
    );
  });
}

/** The link emulation of the underlay, in one line; undefined without one. */
export function linkLine(r: Pick<RunResults, 'lab'>): string | undefined {
  const links = r.lab.linkEmulation;
  if (!links?.length) return undefined;
  const text = (l: (typeof links)[number]): string =>
    [
      l.rate,
      l.delayMs !== undefined ? `${l.delayMs} ms one way` : '',
      l.lossPct !== undefined ? `${l.lossPct}% loss` : '',
    ]
      .filter(Boolean)
      .join(', ');
  const groups = new Map<string, string[]>();
  for (const l of links) groups.set(text(l), [...(groups.get(text(l)) ?? []), l.node]);
  const parts = [...groups].map(([t, nodes]) =>
    nodes.length === r.lab.nodes
      ? `${t} on every link`
      : `${t} on the link${nodes.length > 1 ? 's' : ''} of ${nodes.join(', ')}`,
  );
  const qdiscs = [...new Set(links.flatMap((l) => l.qdiscs))].join(' + ');
  return (
    `underlay links emulated (each direction, on the node's eth0 and its switch port; ${qdiscs}): ` +
    `${parts.join('; ')}`
  );
}

/** The noise the run saw. */
export function noiseLine(r: RunResults): string {
  const n = r.noise;
  const idle = n.idleLabs
    ? `; ${n.idleLabs.labs} idle labs used ${n.idleLabs.cpuPct}% of the CPUs and ${n.idleLabs.rssMiB} MiB`
    : '';
  return (
    `noise: steal median ${n.stealPct.median}% (max ${n.stealPct.max}%), outside the labs ` +
    (`median ${n.outsidePct.median}% (max ${n.outsidePct.max}%), load up to ${n.load1Max}; ${n.retried} ` +
      `of ${n.samples} `) +
    `samples taken again${n.disturbed ? `, ${n.disturbed} still disturbed` : ''}; noise floor ±${n.floorPct}%${idle}`
  );
}
