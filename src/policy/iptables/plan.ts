/**
 * What one sync of the iptables design writes, as three texts run in order: an `ipset restore`
 * that creates the new sets and swaps in the changed ones (filled under a temporary name, then
 * `swap`ped: the rules see the old members or the new, never an empty set), one `iptables-restore
 * --noflush` of the filter table (a chain that changed little edited in place, by position; the
 * other changed chains declared, so flushed, and refilled; gone chains
 * flushed and deleted; FORWARD's jump inserted when missing), then an `ipset restore` destroying the
 * sets no rule names any more. A full sync is the same with everything changed and "gone" being
 * whatever of ours the kernel holds that the input does not need.
 */
import { chainEdit, diffParts, type ChainEdit } from '../diff';
import { DISPATCH, JUMP, tmpSet, type IptRender } from './rules';

/** What the kernel holds of ours, read before a full sync; for a partial one, what the last sync wrote. */
export interface IptExisting {
  readonly chains: readonly string[];
  readonly sets: readonly string[];
  /** FORWARD already jumps to the dispatch chain. */
  readonly jump: boolean;
}

export interface IptPlan {
  readonly ipsetBefore: string;
  readonly restore: string;
  readonly ipsetAfter: string;
  readonly written: number;
}

const HASH = 'hash:net family inet';

/** Chain names in descending byte order, the order iptables-nft declares fastest (see the proxy's rules.ts). */
const largestFirst = (names: readonly string[]): string[] => [...names].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));

/** The ipset lines that make `set` hold `members`: created, or (already there) filled aside and swapped. */
export function setLines(set: string, members: readonly string[], there: boolean): string[] {
  const name = there ? tmpSet(set) : set;
  const out = [`create ${name} ${HASH}`, `flush ${name}`, ...members.map((m) => `add ${name} ${m}`)];
  if (there) out.push(`swap ${name} ${set}`, `destroy ${name}`);
  return out;
}

/** `e` as iptables-restore lines: the deletes at its position, then the inserts from it (`-A C spec` → `-I C n spec`). */
export function editLines(chain: string, e: ChainEdit): string[] {
  const out: string[] = [];
  for (let i = 0; i < e.remove; i++) out.push(`-D ${chain} ${e.at}`);
  e.insert.forEach((l, i) => out.push(l.replace(`-A ${chain} `, `-I ${chain} ${e.at + i} `)));
  return out;
}

/**
 * The plan from `next` to: `prev` (a partial sync: what the last sync rendered), or, when it is
 * undefined, whatever `existing` says the kernel holds (a full sync: every chain and set rewritten).
 */
export function planSync(next: IptRender, prev: IptRender | undefined, existing: IptExisting): IptPlan {
  const chains = prev ? diffParts(prev.chains, next.chains) : undefined;
  const sets = prev ? diffParts(prev.sets, next.sets) : undefined;
  const changed = chains?.changed ?? [...next.chains.keys()];
  // a chain that changed little is edited in place (positional -D and -I); the others are rewritten
  const edits = new Map<string, ChainEdit>();
  if (prev)
    for (const c of changed) {
      const old = prev.chains.get(c);
      const e = old && chainEdit(old, next.chains.get(c)!);
      if (e) edits.set(c, e);
    }
  const changedChains = changed.filter((c) => !edits.has(c));
  const goneChains = chains?.gone ?? existing.chains.filter((c) => !next.chains.has(c));
  const changedSets = sets?.changed ?? [...next.sets.keys()];
  const goneSets = sets?.gone ?? existing.sets.filter((s) => !next.sets.has(s));
  const there = new Set(prev ? prev.sets.keys() : existing.sets);
  const before: string[] = [];
  for (const s of changedSets) for (const l of setLines(s, next.sets.get(s)!, there.has(s))) before.push(l);
  const filter = ['*filter'];
  for (const c of largestFirst([...changedChains, ...goneChains])) filter.push(`:${c} - [0:0]`);
  if (!existing.jump) filter.push(JUMP.replace('-A FORWARD', '-I FORWARD 1'));
  for (const c of changedChains) for (const l of next.chains.get(c)!) filter.push(l);
  for (const [c, e] of edits) filter.push(...editLines(c, e));
  for (const c of goneChains) if (c !== DISPATCH) filter.push(`-X ${c}`);
  filter.push('COMMIT');
  const after = goneSets.map((s) => `destroy ${s}`);
  const written =
    filter.filter((l) => /^-[AIXD] /.test(l)).length + before.filter((l) => l.startsWith('add ')).length + after.length;
  const text = (lines: readonly string[]): string => (lines.length > 0 ? lines.join('\n') + '\n' : '');
  // Nothing of the filter table changed (a set's members did): no restore at all.
  const restore = filter.length > 2 ? text(filter) : '';
  return { ipsetBefore: text(before), restore, ipsetAfter: text(after), written };
}
