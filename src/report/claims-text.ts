/**
 * What a run's results say in words (pure): the rounds and why they stopped, the rows it could not
 * resolve, the rankings its same-round intervals support, the paper's orderings checked, the
 * noise. The terminal summary and the HTML report print the same sentences.
 */
import type { RunResults } from '../run/results-schema';
import { runTests } from '../run/tests';

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
const span = (c: { low: number; high: number }): string => `${pct(c.low)}–${pct(c.high)}`;

const groupName = (g: { path: string; test: string; params: object }): string => {
  const label = runTests.get(g.test).label(g.params as never);
  return `${g.path} ${g.test}${label ? ` ${label}` : ''}`;
};

/**
 * When Open vSwitch ran its userspace (netdev) datapath — cnilab's choice on a kernel without the
 * openvswitch module — the rows of those architectures measure another datapath than the paper's
 * kernel OVS: said once, so that nobody mistakes one for the other.
 */
export function datapathNotes(r: RunResults): string[] {
  const userspace = r.architectures.filter((a) => a.datapath?.startsWith('openvswitch netdev'));
  if (userspace.length === 0) return [];
  return [
    `Open vSwitch ran in user space (its netdev datapath) for ${userspace.map((a) => a.name).join(', ')}: kernel ${r.environment.kernel} has no openvswitch module. The paper measured OVS's kernel datapath; user-space OVS moves every packet through ovs-vswitchd, so these rows are not comparable with it. On a kernel with the module, cnilab runs OVS in the kernel.`,
  ];
}

/** How the samples were taken and why the rounds stopped. */
export function scheduleLine(r: RunResults): string {
  const s = r.schedule;
  const why =
    s.stopped === 'converged'
      ? `every row within ±${s.precisionPct}%`
      : s.stopped === 'budget'
        ? `the budget of ${Math.round(s.budgetSec!)} s allowed no further round`
        : s.precisionPct === null
          ? 'the rounds asked for'
          : 'the most rounds allowed';
  const apart =
    s.mode === 'sequential'
      ? '; one lab at a time: a round\'s samples of two labs are minutes apart, so their "same-round" ratios pair less well'
      : '';
  return `${s.rounds} rounds, ${s.mode}${s.fallback ? ` (${s.fallback})` : ''}, seed ${s.seed}; stopped: ${why}${apart}`;
}

/** The rows whose ratio was not known within the precision, with their spread. */
export function unresolvedLines(r: RunResults): string[] {
  const u = r.noise.unresolved;
  if (u.length === 0) return [];
  const prec = r.schedule.precisionPct ?? 5;
  return [
    `${u.length} of ${r.rows.length} rows not resolved to ±${prec}% (more rounds would narrow them):`,
    ...u.map(
      (x) =>
        `  ${x.row}: CoV ${x.covPct.toFixed(1)}%${x.halfWidthPct !== null ? `, ratio ±${x.halfWidthPct.toFixed(1)}%` : ''}`,
    ),
  ];
}

/** Per path and test: the order, each step of it resolved or not. */
export function rankingLines(r: RunResults): string[] {
  return r.claims.rankings.map((g) => {
    const parts = [g.order[0]!];
    for (const s of g.steps) {
      const sep = s.verdict === 'better' ? ' > ' : s.verdict === 'worse' ? ' < ' : ' ≈ ';
      parts.push(`${sep}${s.b}`);
    }
    const resolved = g.steps.filter((s) => s.verdict !== 'indistinguishable').length;
    return `${groupName(g)}: ${parts.join('')}  (${resolved} of ${g.steps.length} steps resolved)`;
  });
}

/** The paper's orderings: holds, reversed, not resolved — with the same-round ratio's interval. */
export function paperLines(r: RunResults): string[] {
  return r.claims.paper.map((p) => {
    const ratio = p.ratio
      ? `: ${p.higher}/${p.lower} ${pct(p.ratio.geomean)} (${span(p.ratio.ci95)}, ${p.ratio.n} rounds)`
      : '';
    return `${p.figure} — ${p.claim}: ${p.verdict.toUpperCase()}${ratio}`;
  });
}

/** The noise the run saw. */
export function noiseLine(r: RunResults): string {
  const n = r.noise;
  const idle = n.idleLabs
    ? `; ${n.idleLabs.labs} idle labs used ${n.idleLabs.cpuPct}% of the CPUs and ${n.idleLabs.rssMiB} MiB`
    : '';
  return `noise: steal median ${n.stealPct.median}% (max ${n.stealPct.max}%), outside the labs median ${n.outsidePct.median}% (max ${n.outsidePct.max}%), load up to ${n.load1Max}; ${n.retried} of ${n.samples} samples taken again${n.disturbed ? `, ${n.disturbed} still disturbed` : ''}; noise floor ±${n.floorPct}%${idle}`;
}
