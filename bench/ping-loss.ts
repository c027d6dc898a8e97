/** A 10/s ping's losses, for benchmarks that must lose none: when they went out. */

/** The lost sequence numbers of `seqs` (answered, from 1) as ranges of seconds. */
export function lostRanges(seqs: ReadonlySet<number>): string[] {
  const out: string[] = [];
  const max = Math.max(0, ...seqs);
  for (let i = 1; i <= max; i++) {
    if (seqs.has(i)) continue;
    let j = i;
    while (j + 1 <= max && !seqs.has(j + 1)) j++;
    out.push(
      i === j ? `${((i - 1) / 10).toFixed(1)} s` : `${((i - 1) / 10).toFixed(1)}–${((j - 1) / 10).toFixed(1)} s`,
    );
    i = j;
  }
  return out;
}
