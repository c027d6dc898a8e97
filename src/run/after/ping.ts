/** The first answered ping, by ping's own reply timestamp: when a path first carried a packet. */
import { runIn } from '../../lib/netns';

/** The time of the first echo reply `ping -D` printed, in ms since the epoch. */
export function firstReplyMs(pingOutput: string): number | undefined {
  const m = /^\[(\d+\.\d+)\] \d+ bytes from/m.exec(pingOutput);
  return m ? Number(m[1]) * 1000 : undefined;
}

/**
 * Pings `ip` from namespace `ns` every 2 ms until the first answer: its time (ms since the epoch), or undefined after
 * `deadlineSec`.
 */
export async function firstReply(
  ns: string,
  ip: string,
  deadlineSec: number,
  signal?: AbortSignal,
): Promise<number | undefined> {
  const ping = await runIn(
    { name: ns },
    'ping',
    ['-n', '-D', '-c', '1', '-i', '0.002', '-w', String(deadlineSec), ip],
    {
      signal,
      check: false,
    },
  );
  return firstReplyMs(ping.stdout);
}
