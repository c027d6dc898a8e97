/** What `cnilab run` prints when it is done: the rows, then what the run may claim, the noise, the time. */
import { METRIC_INFO, type ResultRow, type RunResults } from '../../run/results-schema';
import { runTests } from '../../run/tests';
import {
  readerNotes,
  linkLine,
  noiseLine,
  designLines,
  serviceHopLines,
  familyLines,
  archLabel,
  paperLines,
  rankingLegend,
  rankingLines,
  scheduleLine,
  unresolvedLines,
  warningLines,
} from '../../report/claims-text';
import { afterParts, afterTests } from '../../run/after';
import { duration, table } from '../output';
import { proofLines, skippedLabel } from '../../report/proofs';

const params = (r: ResultRow): string => runTests.get(r.test).label(r.params);

const fmt = (v: number, unit: string): string =>
  unit === 'packets/s' ? Math.round(v).toLocaleString('en-US') : v >= 100 ? v.toFixed(0) : v.toFixed(2);

/** What one sample was, for the tests that ran: "2 s throughput", "1 s latency runs". */
function sampleKinds(r: RunResults): string[] {
  // latency, latency-loaded and rtt take one latency run (latencySec) per sample
  const isLatency = (t: string): boolean => t.startsWith('latency') || t === 'rtt';
  const latency = r.settings.tests.some(isLatency);
  const throughput = r.settings.tests.some((t) => !isLatency(t) && !afterTests.has(t));
  return [
    ...(throughput ? [`${r.settings.durationSec} s throughput`] : []),
    ...(latency ? [`${r.settings.latencySec} s latency runs`] : []),
  ];
}

function extra(x: ResultRow): string {
  if (x.metrics.rttP99Us) return `p99 ${fmt(x.metrics.rttP99Us.median, 'µs')}`;
  if (x.metrics.lossPct) return `loss ${x.metrics.lossPct.median.toFixed(2)}%`;
  return x.retransmits !== undefined ? `retr ${x.retransmits}` : '';
}

function row(x: ResultRow, mtus: boolean): string[] {
  const m = x.metrics[x.primary]!;
  const info = METRIC_INFO[x.primary];
  // The moderated interval is symmetric around the geometric mean (files before v6: the median and the plain t
  // interval).
  const mod = x.ratio?.moderated;
  const ratio = x.ratio
    ? `${((mod ? x.ratio.geomean : x.ratio.median) * 100).toFixed(0)}% ` +
      (`(${((mod ?? x.ratio).ci95.low * 100).toFixed(0)}–${((mod ?? x.ratio).ci95.high * 100).toFixed(0)})` +
        `${x.resolved ? '' : ' ?'}`)
    : '—';
  return [
    archLabel(x),
    x.path,
    ...(mtus ? [String(x.underlayMtu ?? '')] : []),
    `${x.test}${params(x) ? ` ${params(x)}` : ''}`,
    `${fmt(m.median, info.unit)} ${info.unit}`,
    `${m.covPct.toFixed(1)}%${x.unstable ? ' UNSTABLE' : ''}`,
    ratio,
    x.coreSecondsPerGbit ? x.coreSecondsPerGbit.total.toFixed(3) : '—',
    extra(x),
  ];
}

function datapathLines(r: RunResults): string[] {
  return r.rows.flatMap((x) =>
    (x.datapath ?? []).map(
      (d) =>
        `${x.arch} ${x.path}${x.underlayMtu === undefined ? '' : ` mtu ${x.underlayMtu}`} ${x.test}: ` +
        `${d.process}@${d.node} ` +
        `moved ${d.wirePackets ?? d.packets} packets on the wire (${d.packets} through ${d.device}) ` +
        (`at ${(d.cpu.user + d.cpu.system).toFixed(0)}% of a core (${d.cpu.user.toFixed(0)} ` +
          `usr/${d.cpu.system.toFixed(0)} `) +
        (`sys); syscalls ${d.syscallsPerWirePacket?.toFixed(2) ?? '?'} per wire ` +
          `packet, ${d.syscallsPerMB?.toFixed(0) ?? '?'} `) +
        `per MB; ${(d.contextSwitchesPerPacket.voluntary + d.contextSwitchesPerPacket.involuntary).toFixed(3)} ` +
        `context switches per device packet`,
    ),
  );
}

export function printResults(r: RunResults, outDir: string, written: readonly string[]): void {
  if (process.stderr.isTTY && !process.env.CI) process.stderr.write('\r\x1b[2K');
  const t = r.timing;
  // Several underlay MTUs: a column after PATH, each row paired with host of its own MTU.
  const mtus = r.lab.underlayMtus !== undefined;
  const link = linkLine(r);
  const rows = r.rows.length > 0;
  const out = [
    ...(rows
      ? [
          table(
            ['ARCH', 'PATH', ...(mtus ? ['MTU'] : []), 'TEST', 'MEDIAN', 'COV', 'OF HOST (95% CI)', 'CORE-S/GBIT', ''],
            r.rows.map((x) => row(x, mtus)),
            mtus ? [2, 4, 5, 6, 7] : [3, 4, 5, 6],
          ),
          '',
        ]
      : []),
    ...afterParts(r).flatMap(({ test, part }) => [...test.report.lines(part), '']),
    ...datapathLines(r),
    ...readerNotes(r),
    ...proofLines(r),
    ...r.skipped.map(
      (s) => `${skippedLabel(s)} ${s.arch}${s.path ? ` ${s.path}` : ''}${s.test ? ` ${s.test}` : ''}: ${s.reason}`,
    ),
    // A run of tests after the rounds alone has no rows: nothing to pair with host, rank or claim.
    ...(rows ? rowLines(r, mtus, link) : link ? [link] : []),
    ...(rows ? [noiseLine(r)] : []),
    `took ${duration(r.durationSec)}: set-up ${duration(t.setupSec)}, warm-up ${duration(t.warmupSec)}, ` +
      `measuring ${duration(t.measureSec)}, tear-down ${duration(t.teardownSec)}, other ${duration(t.otherSec)}`,
    `written to ${outDir}: results.json, ${written.join(', ')}`,
  ];
  process.stdout.write(out.join('\n') + '\n');
}

/** What the rows say: how they were measured, what is unresolved, what the run can claim. */
function rowLines(r: RunResults, mtus: boolean, link: string | undefined): string[] {
  return [
    `${r.rows.length} rows, ${r.settings.repeats} rounds (${sampleKinds(r).join(', ')}); of host = geometric mean ` +
      `of the same-round ratios to ` +
      `host${mtus ? ` of the same underlay MTU (${r.lab.underlayMtus!.join(', ')})` : ''}, 95% moderated ` +
      `interval (the spread of the rows of its test and path borrowed, the run-to-run part added: ` +
      `docs/measurements.md); ? = not within ±${r.schedule.precisionPct ?? 5}%`,
    ...(link ? [link] : []),
    scheduleLine(r),
    ...warningLines(r),
    ...unresolvedLines(r),
    '',
    `what this run can say (by the interval of the same-round ratio A/B: ${rankingLegend(r)}):`,
    ...rankingLines(r).map((l) => `  ${l}`),
    ...paperLines(r).map((l) => `  ${l}`),
    ...designLines(r).map((l) => `  ${l}`),
    ...serviceHopLines(r).map((l) => `  ${l}`),
    ...familyLines(r).map((l) => `  ${l}`),
    '',
  ];
}
