/** Numbers and durations as people read them, shared by the terminal and the report. */

/** 75 s → "1m15s", 42 s → "42s". */
export function duration(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** A measured value with about three significant figures: 12,345 · 123 · 12.3 · 1.23. */
export function figure(v: number): string {
  const a = Math.abs(v);
  return a >= 1000
    ? Math.round(v).toLocaleString('en-US')
    : a >= 100
      ? v.toFixed(0)
      : a >= 10
        ? v.toFixed(1)
        : v.toFixed(2);
}
