/** sockperf ping-pong's summary (run with --full-rtt), reduced to the percentiles cnilab reports. */

export interface LatencySummary {
  /** Round trips measured after sockperf's own warm-up. */
  readonly observations: number;
  /** Round-trip times in microseconds. */
  readonly avgUs: number;
  readonly minUs: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly maxUs: number;
  readonly dropped: number;
}

const ANSI = /\x1b\[[0-9;]*m/g;

export function parseSockperf(text: string): LatencySummary {
  const t = text.replace(ANSI, '');
  const err = /sockperf: ERROR: (.*)/.exec(t);
  if (err) throw new Error(`sockperf: ${err[1]!.trim()}`);
  if (!/avg-rtt=/.test(t)) throw new Error(/avg-latency=/.test(t) ? 'sockperf reported one-way latency: run it with --full-rtt' : 'sockperf output has no summary (avg-rtt=…)');
  const num = (re: RegExp, what: string): number => {
    const m = re.exec(t);
    if (!m) throw new Error(`sockperf output has no ${what}`);
    return Number(m[1]);
  };
  const pct = (p: string): number => num(new RegExp(`percentile ${p.replace('.', '\\.')} =\\s*([0-9.]+)`), `percentile ${p}`);
  return {
    observations: num(/Total (\d+) observations/, 'observation count'),
    avgUs: num(/avg-rtt=([0-9.]+)/, 'average'),
    minUs: num(/<MIN> observation =\s*([0-9.]+)/, 'minimum'),
    p50Us: pct('50.000'),
    p90Us: pct('90.000'),
    p99Us: pct('99.000'),
    p999Us: pct('99.900'),
    maxUs: num(/<MAX> observation =\s*([0-9.]+)/, 'maximum'),
    dropped: num(/# dropped messages = (\d+)/, 'dropped count'),
  };
}
