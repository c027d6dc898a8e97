/** Formatting for the terminal: aligned tables (durations: lib/format). */

export function table(
  headers: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  rightAlign: readonly number[] = [],
): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (rightAlign.includes(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export { duration } from '../lib/format';
