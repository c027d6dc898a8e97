/**
 * What changed between two renderings of a node's policy programming, for the netfilter designs'
 * partial syncs: each design renders its input to named parts (chains → their rules, sets → their
 * members) and writes only the parts whose text differs, adds the new ones and deletes the gone.
 */

/** The parts of `next` that are new or differ from `prev`, and the names `prev` has and `next` lacks. */
export interface PartsDiff {
  readonly changed: readonly string[];
  readonly gone: readonly string[];
}

const same = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

export function diffParts(
  prev: ReadonlyMap<string, readonly string[]> | undefined,
  next: ReadonlyMap<string, readonly string[]>,
): PartsDiff {
  const changed = [...next].filter(([k, v]) => !prev?.has(k) || !same(prev.get(k)!, v)).map(([k]) => k);
  const gone = prev ? [...prev.keys()].filter((k) => !next.has(k)) : [];
  return { changed, gone };
}

/**
 * An edit of a chain's rules from `prev` to `next` as what differs between their common head and
 * common tail: the old middle's rules removed at `at` (1-based, each delete shifting the next
 * up), the new middle's inserted from `at`. Undefined when the middle is more than half the chain:
 * rewriting it whole is then as cheap. A policy added to a pod's 10,000 is two rules inserted, not
 * 20,000 rules written again (Felix edits its chains rule by rule for the same reason).
 */
export interface ChainEdit {
  /** 1-based position of the first rule that differs. */
  readonly at: number;
  readonly remove: number;
  readonly insert: readonly string[];
}

export function chainEdit(prev: readonly string[], next: readonly string[]): ChainEdit | undefined {
  let head = 0;
  while (head < prev.length && head < next.length && prev[head] === next[head]) head++;
  let tail = 0;
  while (
    tail < prev.length - head &&
    tail < next.length - head &&
    prev[prev.length - 1 - tail] === next[next.length - 1 - tail]
  )
    tail++;
  const remove = prev.length - head - tail;
  const insert = next.slice(head, next.length - tail);
  if (remove + insert.length > Math.max(next.length, prev.length) / 2) return undefined;
  return { at: head + 1, remove, insert };
}
