/** results.csv: one line per row and metric (long format), for spreadsheets, R and pandas. */
import { METRIC_INFO, type MetricName, type RunResults } from '../run/results-schema';

export const CSV_HEADER = [
  'arch',
  'family',
  'path',
  'test',
  'streams',
  'rate_mbps',
  'payload_bytes',
  'metric',
  'unit',
  'primary',
  'n',
  'median',
  'ci95_low',
  'ci95_high',
  'ci_method',
  'mean',
  'sd',
  'cov_pct',
  'min',
  'max',
  'unstable',
  'baseline_pct',
  'baseline_ci95_low_pct',
  'baseline_ci95_high_pct',
  'resolved',
  'core_s_per_gbit',
  'retransmits',
] as const;

function cell(v: string | number | boolean | null | undefined): string {
  if (v === undefined || v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * With several underlay MTUs, an `underlay_mtu` column follows `path` (and `ip_family` with several families); a
 * run of neither has the file as before.
 */
export function toCsv(r: RunResults): string {
  const mtus = r.lab.underlayMtus !== undefined;
  // With several IP families, an `ip_family` column follows them.
  const families = r.lab.ipFamilyDimension === true;
  const header = [
    ...CSV_HEADER.slice(0, 3),
    ...(mtus ? ['underlay_mtu'] : []),
    ...(families ? ['ip_family'] : []),
    ...CSV_HEADER.slice(3),
  ];
  const lines = [header.join(',')];
  for (const row of r.rows) {
    for (const [m, s] of Object.entries(row.metrics) as [MetricName, NonNullable<(typeof row.metrics)[MetricName]>][]) {
      const primary = m === row.primary;
      lines.push(
        [
          row.arch,
          row.family,
          row.path,
          ...(mtus ? [row.underlayMtu] : []),
          ...(families ? [row.ipFamily] : []),
          row.test,
          row.params.streams,
          row.params.rateMbps,
          row.params.payloadBytes,
          m,
          METRIC_INFO[m].unit,
          primary,
          s.n,
          s.median,
          s.ci95.low,
          s.ci95.high,
          s.ci95.method,
          s.mean,
          s.sd,
          s.covPct,
          s.min,
          s.max,
          primary ? row.unstable : '',
          primary ? row.baselinePct : '',
          primary && row.ratio ? Math.round(row.ratio.ci95.low * 1000) / 10 : '',
          primary && row.ratio ? Math.round(row.ratio.ci95.high * 1000) / 10 : '',
          primary ? row.resolved : '',
          primary ? row.coreSecondsPerGbit?.total : '',
          primary ? row.retransmits : '',
        ]
          .map(cell)
          .join(','),
      );
    }
  }
  return lines.join('\n') + '\n';
}
