/**
 * What one ping with DF set (`ping -M do -s SIZE -c 1`) says about the path: an echo reply came back; the sender's own
 * kernel refused it (EMSGSIZE: larger than its device or its cached path MTU); a hop answered with ICMP
 * "fragmentation needed" (type 3 code 4) naming its MTU; something else answered (another ICMP error); or nothing came
 * back at all — a black hole. Parsed from iputils ping's text (recorded outputs in ping-outcome.test.ts).
 */

export type ProbeOutcome =
  | { readonly kind: 'reply' }
  /** The sender's kernel refused to send it: ping says "message too long"; mtu when ping prints it. */
  | { readonly kind: 'emsgsize'; readonly mtu?: number }
  /** An ICMP frag-needed came back from `from`, naming the MTU of the hop that could not forward it. */
  | { readonly kind: 'frag-needed'; readonly mtu: number; readonly from: string }
  /** Another ICMP error came back (e.g. Destination Host Unreachable): its line. */
  | { readonly kind: 'other'; readonly line: string }
  /** Nothing came back within the wait. */
  | { readonly kind: 'silent' };

const REPLY = /^\d+ bytes from \S+: icmp_seq=\d+/m;
const LOCAL = /(?:local error: message too long(?:, mtu=(\d+))?|sendmsg: Message too long)/i;
const FRAG = /^From (\S+?):? icmp_seq=\d+ Frag needed and DF set \(mtu = (\d+)\)/m;
const OTHER = /^From \S+ icmp_seq=\d+ (.+)$/m;

/** The outcome of one probe from ping's stdout and stderr (either may hold its error line). */
export function parsePing(stdout: string, stderr = ''): ProbeOutcome {
  const text = `${stdout}\n${stderr}`;
  if (REPLY.test(text)) return { kind: 'reply' };
  const local = LOCAL.exec(text);
  if (local) return local[1] ? { kind: 'emsgsize', mtu: Number(local[1]) } : { kind: 'emsgsize' };
  const frag = FRAG.exec(text);
  if (frag) return { kind: 'frag-needed', mtu: Number(frag[2]), from: frag[1]! };
  const other = OTHER.exec(text);
  if (other) return { kind: 'other', line: other[0].trim() };
  return { kind: 'silent' };
}

/** How a packet one byte larger than the path carries fails. */
export type FailureMode = 'loud' | 'silent';

/**
 * Loud when the sender learns of it (its kernel refuses, or a frag-needed comes back: an application's TCP lowers its
 * segments and goes on); silent when nothing comes back (the connection hangs: the black hole). Another ICMP error is
 * neither: undefined.
 */
export function failureMode(o: ProbeOutcome): FailureMode | undefined {
  if (o.kind === 'emsgsize' || o.kind === 'frag-needed') return 'loud';
  if (o.kind === 'silent') return 'silent';
  return undefined;
}

/** IPv4 header and ICMP echo header: what `ping -s SIZE` adds to SIZE on the wire (no IP options). */
export const ICMP_ECHO_OVERHEAD = 28;
