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

// eslint-disable-next-line no-control-regex -- sockperf colours its output with ANSI escapes (ESC [ … m)
const ANSI = /\x1b\[[0-9;]*m/g;

export function parseSockperf(text: string): LatencySummary {
  const t = text.replace(ANSI, '');
  const err = /sockperf: ERROR: (.*)/.exec(t);
  if (err) throw new Error(`sockperf: ${err[1]!.trim()}`);
  if (!/avg-rtt=/.test(t))
    throw new Error(
      /avg-latency=/.test(t)
        ? 'sockperf reported one-way latency: run it with --full-rtt'
        : 'sockperf output has no summary (avg-rtt=…)',
    );
  const num = (re: RegExp, what: string): number => {
    const m = re.exec(t);
    if (!m) throw new Error(`sockperf output has no ${what}`);
    return Number(m[1]);
  };
  const pct = (p: string): number =>
    num(new RegExp(`percentile ${p.replace('.', '\\.')} =\\s*([0-9.]+)`), `percentile ${p}`);
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

/** Round-trip percentiles of one window of a full log. */
export interface LatencyWindow {
  readonly observations: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
}

/**
 * `sockperf … --full-log FILE` (its valid period only: one line `index, txTime(sec), rxTime(sec),
 * rtt(usec)` per message), cut into `n` windows of equal time: one sample per window. Percentiles
 * are nearest-rank.
 */
export function latencyWindows(text: string, n: number): LatencyWindow[] {
  const tx: number[] = [];
  const rtt: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*\d+,\s*([0-9.]+),\s*[0-9.]+,\s*([0-9.]+)\s*$/.exec(line);
    if (m) {
      tx.push(Number(m[1]));
      rtt.push(Number(m[2]));
    }
  }
  if (tx.length < n * 10) throw new Error(`sockperf full log has ${tx.length} messages: too few for ${n} windows`);
  const t0 = tx[0]!;
  const span = tx[tx.length - 1]! - t0 || 1;
  const buckets: number[][] = Array.from({ length: n }, () => []);
  tx.forEach((t, i) => buckets[Math.min(n - 1, Math.floor(((t - t0) / span) * n))]!.push(rtt[i]!));
  return buckets.map((b) => {
    const s = b.sort((x, y) => x - y);
    // The tolerance keeps 99.9% of 3000 at rank 2997, not 2998 (0.999 × 3000 is 2997.0000000000005).
    const at = (p: number): number => s[Math.max(0, Math.ceil((p * s.length) / 100 - 1e-9) - 1)]!;
    return { observations: s.length, p50Us: at(50), p90Us: at(90), p99Us: at(99), p999Us: at(99.9) };
  });
}
