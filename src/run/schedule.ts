/**
 * The order of a run's samples (pure). A round takes one sample of every row; rows of one test go
 * together (so that sockperf's pause can be overlapped, see sampling.ts), the tests' blocks in
 * a random order and the rows of each block shuffled — afresh every round, from the run's seed,
 * so that the same seed gives the same order, and drift on the machine cannot line up with one
 * architecture. `sequential` keeps one lab at a time: all rounds of a lab, then the next lab.
 */

/** A small, well-mixed 32-bit PRNG (mulberry32): the same seed, the same numbers. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A new seed for a run that was given none. */
export const randomSeed = (): number => Math.floor(Math.random() * 2 ** 31);

/** Fisher–Yates with the given random numbers; the input is left as it is. */
export function shuffle<T>(xs: readonly T[], rand: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** The random numbers of one round: a function of the seed and the round alone. */
const roundRand = (seed: number, round: number): (() => number) => prng((seed ^ Math.imul(round, 0x9e3779b1)) >>> 0);

/**
 * One round: every row once; blocks of one kind (`toolOf`: the run groups by test) in random
 * order, each block shuffled.
 * Rows are shuffled from their given order, so the same rows in the same order give the same round.
 */
export function roundOrder<T>(rows: readonly T[], seed: number, round: number, toolOf: (r: T) => string): T[] {
  const rand = roundRand(seed, round);
  const tools = shuffle([...new Set(rows.map(toolOf))].sort(), rand);
  return tools.flatMap((tool) =>
    shuffle(
      rows.filter((r) => toolOf(r) === tool),
      rand,
    ),
  );
}

/** The labs in the order `sequential` visits them: as the rows first name them. */
export const labOrder = (rows: readonly { readonly lab: string }[]): string[] => [...new Set(rows.map((r) => r.lab))];
