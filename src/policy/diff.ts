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
