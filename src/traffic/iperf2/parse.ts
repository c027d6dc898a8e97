/**
 * iperf 2's bounceback client output (`-c … --bounceback -i 0.1 -e`, text: iperf 2 writes no JSON),
 * reduced to round trips per interval, and the flow's two ends as iperf 2 names them.
 *
 * A bounceback line: `[  1] 0.1000-0.2000 sec … 5118=0.019/0.017/0.075/0.002 ms … 53948 rps`: round
 * trips in the interval = mean/min/max/stdev in ms, printed to the microsecond, and the round trips
 * per second of one connection, 1/mean, to five digits. The last such line is the whole run's.
 * Its histogram line (`BB8(f)-PDF: bin(w=100us)`) has 100 µs bins, which this build cannot narrow
 * (`--histograms` sets other histograms' bins): too coarse to read a percentile of a 20 µs round trip.
 */

/** Round trips of one interval (or of the whole run). */
export interface BouncebackInterval {
  readonly startSec: number;
  readonly endSec: number;
  readonly count: number;
  /** Round-trip times in µs, as printed (ms to three decimals: to the µs). */
  readonly avgUs: number;
  readonly minUs: number;
  readonly maxUs: number;
  readonly stdevUs: number;
  /** Round trips per second of the one connection: 1/mean, finer than avgUs. */
  readonly rps: number;
}

export interface Bounceback {
  /** The flow's ends from iperf 2's "local … connected with …" line (a zone `%dev` dropped). */
  readonly local: string;
  readonly remote: string;
  /** The bounceback message size iperf 2 reports (`size=64.0 Byte`). */
  readonly messageBytes: number;
  readonly intervals: readonly BouncebackInterval[];
  readonly total: BouncebackInterval;
}

const NUM = '([0-9]+(?:\\.[0-9]+)?)';
const BB_LINE = new RegExp(
  `^\\[\\s*\\d+\\]\\s+${NUM}-${NUM} sec\\s.*?\\s(\\d+)=${NUM}/${NUM}/${NUM}/${NUM} ms\\s.*?\\s(\\d+) rps\\s*$`,
);

const ms = (s: string): number => Math.round(Number(s) * 1000 * 1000) / 1000;

export function parseBounceback(text: string): Bounceback {
  const err = /^(tcp connect failed: .*|ERROR: .*)$/im.exec(text);
  if (err) throw new Error(`iperf2: ${err[1]!.trim()}`);
  const size = /Bounce-back test \(size=([0-9.]+) Byte\)/.exec(text);
  if (!size) throw new Error('iperf2 output is not a bounceback test (no "Bounce-back test (size=…)" line)');
  const conn = /^\[\s*\d+\] local (\S+) port (\d+) connected with (\S+) port (\d+)/m.exec(text);
  if (!conn) throw new Error('iperf2 output has no "local … connected with …" line');
  if (conn[2] === '0') throw new Error(`iperf2 did not connect (local ${conn[1]} port 0)`);
  const lines: BouncebackInterval[] = [];
  for (const line of text.split('\n')) {
    if (line.includes('-PDF:')) continue;
    const m = BB_LINE.exec(line);
    if (!m) continue;
    lines.push({
      startSec: Number(m[1]),
      endSec: Number(m[2]),
      count: Number(m[3]),
      avgUs: ms(m[4]!),
      minUs: ms(m[5]!),
      maxUs: ms(m[6]!),
      stdevUs: ms(m[7]!),
      rps: Number(m[8]),
    });
  }
  const total = lines.pop();
  if (!total) throw new Error('iperf2 output has no bounceback summary (… cnt=avg/min/max/stdev ms … rps)');
  if (total.startSec !== 0 || total.count === 0)
    throw new Error(
      `iperf2 bounceback summary is not the whole run (${total.startSec}-${total.endSec} sec, ${total.count} round trips)`,
    );
  const inIntervals = lines.reduce((a, l) => a + l.count, 0);
  if (inIntervals > total.count)
    throw new Error(`iperf2 intervals hold ${inIntervals} round trips, more than the run's ${total.count}`);
  return {
    local: conn[1]!.replace(/%.*$/, ''),
    remote: conn[3]!.replace(/%.*$/, ''),
    messageBytes: Number(size[1]),
    intervals: lines,
    total,
  };
}

/** Round trips of a run from `fromSec` on (its first interval(s) warm the path): their mean from the rps figures. */
export interface RoundTrips {
  readonly count: number;
  /** The mean round trip in µs: Σ count·(1/rps) / Σ count over the intervals kept. */
  readonly meanUs: number;
  readonly minUs: number;
  readonly maxUs: number;
}

export function roundTrips(b: Bounceback, fromSec: number): RoundTrips {
  const kept = b.intervals.filter((i) => i.startSec >= fromSec - 1e-9 && i.count > 0);
  const count = kept.reduce((a, i) => a + i.count, 0);
  if (count === 0 || kept.some((i) => i.rps <= 0))
    throw new Error(`iperf2 bounceback has no round trips from ${fromSec} s on (${b.intervals.length} intervals)`);
  return {
    count,
    meanUs: kept.reduce((a, i) => a + (i.count * 1e6) / i.rps, 0) / count,
    minUs: Math.min(...kept.map((i) => i.minUs)),
    maxUs: Math.max(...kept.map((i) => i.maxUs)),
  };
}

/** An address's family: IPv4-mapped IPv6 (::ffff:a.b.c.d) is IPv4 on the wire. */
const familyOf = (a: string): 4 | 6 => (a.includes(':') && !/^::ffff:\d/i.test(a) ? 6 : 4);

/**
 * Why the flow is not of `serverIp`'s family or not to it (an iperf 2 that fell back to the other family),
 * or undefined when it is: iperf 2's "connected with" line, both ends.
 */
export function familyMismatch(b: Pick<Bounceback, 'local' | 'remote'>, serverIp: string): string | undefined {
  const want = familyOf(serverIp);
  if (familyOf(b.local) !== want || familyOf(b.remote) !== want)
    return `the flow ran over IPv${want === 6 ? 4 : 6} (${b.local} → ${b.remote}), not the IPv${want} of ${serverIp}`;
  return sameAddress(b.remote, serverIp) ? undefined : `the flow went to ${b.remote}, not ${serverIp}`;
}

/** Whether two addresses are the same (IPv6 spelled differently: zeros, case). */
function sameAddress(a: string, b: string): boolean {
  if (!a.includes(':') || !b.includes(':')) return a === b;
  const full = (x: string): string => {
    const [head, tail = ''] = x.toLowerCase().split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const mid = x.includes('::') ? Array<string>(8 - h.length - t.length).fill('0') : [];
    return [...h, ...mid, ...t].map((g) => g.replace(/^0+(?=.)/, '')).join(':');
  };
  return full(a) === full(b);
}
