/**
 * A ping at 10/s between two lab namespaces that must lose nothing while something else happens
 * (the controller killed): when it stops, every request it sent is accounted for — answered, lost
 * (unanswered below the last answered), or unanswered after it (a path that died for good).
 * Stopping asks ping how many it has sent (SIGQUIT: its running count), waits for the answer to the
 * last of those (at most `settleMs`: an answer late under load is not a loss), then stops it.
 */
import { CnilabError } from '../lib/errors';
import { startWatched } from '../lib/exec';

export interface PingSeen {
  readonly answered: number;
  /** Sequence numbers unanswered below the last answered one. */
  readonly lost: readonly number[];
  /** Requests sent before the stop and never answered, after the last answered one. */
  readonly unanswered: number;
}

export interface PingWatch {
  /** performance.now() of the first request. */
  readonly startedAt: number;
  stop(): Promise<PingSeen>;
}

/** The lost sequence numbers as ranges of seconds since the first request (request i at (i − 1) / 10 s). */
export function lostRanges(lost: readonly number[]): string[] {
  const out: string[] = [];
  const at = (seq: number): string => ((seq - 1) / 10).toFixed(1);
  for (let i = 0; i < lost.length; i++) {
    let j = i;
    while (j + 1 < lost.length && lost[j + 1] === lost[j]! + 1) j++;
    out.push(i === j ? `${at(lost[i]!)} s` : `${at(lost[i]!)}–${at(lost[j]!)} s`);
    i = j;
  }
  return out;
}

/** Of `lost`, those sent within one of `windows` ([from, to] in seconds since the first request). */
export function lostWithin(lost: readonly number[], windows: readonly (readonly [number, number])[]): number[] {
  return lost.filter((seq) => windows.some(([from, to]) => (seq - 1) / 10 >= from && (seq - 1) / 10 <= to));
}

/** What ping's output says: the sequence numbers answered. */
export function answeredSeqs(stdout: string): Set<number> {
  return new Set([...stdout.matchAll(/bytes from .*icmp_seq=(\d+)/g)].map((m) => Number(m[1])));
}

/** `seen` of a ping that had sent `sent` requests when asked to stop. */
export function accountFor(seen: ReadonlySet<number>, sent: number): PingSeen {
  const last = Math.max(0, ...seen);
  const lost = Array.from({ length: last }, (_, i) => i + 1).filter((s) => !seen.has(s));
  return { answered: seen.size, lost, unanswered: Math.max(0, sent - last) };
}

/** Starts pinging `toIp` from namespace `fromNetns` at 10/s; resolves once the first answer came. */
export async function watchPing(fromNetns: string, toIp: string, settleMs = 3000): Promise<PingWatch> {
  const startedAt = performance.now();
  const p = startWatched('ip', ['netns', 'exec', fromNetns, 'ping', '-n', '-i', '0.1', '-W', '1', toIp]);
  let out = '';
  let err = '';
  const changed = new Set<() => void>();
  const on = (): void => changed.forEach((f) => f());
  p.stdout!.on('data', (d: Buffer) => ((out += d.toString()), on()));
  p.stderr!.on('data', (d: Buffer) => ((err += d.toString()), on()));
  const closed = new Promise<void>((r) => p.on('close', () => (on(), r())));
  /** Resolves once `ready()` holds, or `ms` went by or ping ended (false). */
  const until = (ready: () => boolean, ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      const done = (ok: boolean): void => (clearTimeout(timer), changed.delete(check), resolve(ok));
      const check = (): void => (ready() ? done(true) : p.exitCode !== null ? done(false) : undefined);
      const timer = setTimeout(() => done(ready()), ms);
      changed.add(check);
      check();
    });
  if (!(await until(() => out.includes('bytes from'), 10_000))) {
    p.kill('SIGINT');
    throw new CnilabError('AGENT_FAILED', `ping ${toIp} from ${fromNetns}: no answer within 10 s ${err.trim()}`);
  }
  const stop = async (): Promise<PingSeen> => {
    const asked = err.length;
    p.kill('SIGQUIT');
    const count = (): RegExpExecArray | null => /(\d+)\/(\d+) packets/.exec(err.slice(asked));
    await until(() => count() !== null, settleMs);
    const sent = Number(count()?.[2] ?? 0);
    await until(() => Math.max(0, ...answeredSeqs(out)) >= sent, settleMs);
    p.kill('SIGINT');
    await closed;
    return accountFor(answeredSeqs(out), sent);
  };
  return { startedAt, stop };
}
