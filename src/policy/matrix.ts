/**
 * The probe matrix (cyclonus's idea): every ordered pair of pods, over TCP and UDP on a few ports,
 * what the oracle expects set against what the lab's data path did. Pure: probe/ and the lab run
 * the probes; this builds the cells, compares, and writes the matrix for a terminal.
 */
import type { Pod } from '../apiserver/model';
import type { NetworkPolicy } from './model';
import { expectAllowed } from './oracle';

/** The ports every pod serves for the matrix: two apart and one far off, for ranges. */
export const PROBE_PORTS = [80, 81, 8080] as const;
export const PROBE_PROTOCOLS = ['tcp', 'udp'] as const;

export interface MatrixCell {
  readonly from: string;
  readonly to: string;
  readonly protocol: 'tcp' | 'udp';
  readonly port: number;
  readonly expected: boolean;
  /** undefined until probed. */
  readonly observed?: boolean;
}

export interface Matrix {
  readonly pods: readonly string[];
  readonly cells: readonly MatrixCell[];
  /** Cells where observed ≠ expected. */
  readonly differences: number;
}

/** The cells of `pods` (ordered pairs, no pod to itself) with the oracle's answer. */
export function expectedCells(
  policies: readonly NetworkPolicy[],
  pods: readonly Pod[],
  ports: readonly number[] = PROBE_PORTS,
): MatrixCell[] {
  const cells: MatrixCell[] = [];
  for (const from of pods)
    for (const to of pods) {
      if (from === to) continue;
      for (const protocol of PROBE_PROTOCOLS)
        for (const port of ports)
          cells.push({
            from: from.name,
            to: to.name,
            protocol,
            port,
            expected: expectAllowed(policies, {
              from: { ip: from.ip, pod: { labels: from.labels } },
              to: { ip: to.ip, pod: { labels: to.labels } },
              protocol,
              port,
            }),
          });
    }
  return cells;
}

export function matrixOf(pods: readonly string[], cells: readonly MatrixCell[]): Matrix {
  return { pods, cells, differences: cells.filter((c) => c.observed !== c.expected).length };
}

/**
 * The matrix as text: one block per protocol/port, rows from, columns to; "." allowed as
 * expected, "X" denied as expected, and a difference in capitals: "A" allowed where the oracle
 * denies, "D" denied where it allows.
 */
export function matrixText(m: Matrix): string {
  const idx = new Map(m.pods.map((p, i) => [p, i]));
  const width = Math.max(...m.pods.map((p) => p.length));
  const blocks: string[] = [];
  const keys = [...new Set(m.cells.map((c) => `${c.protocol}/${c.port}`))];
  for (const key of keys) {
    const grid = m.pods.map(() => m.pods.map(() => '-'));
    for (const c of m.cells.filter((x) => `${x.protocol}/${x.port}` === key)) {
      const mark = c.observed === c.expected ? (c.expected ? '.' : 'X') : c.observed ? 'A' : 'D';
      grid[idx.get(c.from)!]![idx.get(c.to)!] = mark;
    }
    const head = `${key.padEnd(width)}  ${m.pods.map((_, i) => String(i + 1).padStart(2)).join('')}`;
    const rows = m.pods.map(
      (p, i) =>
        `${`${i + 1} ${p}`.padEnd(width + 2).slice(0, width + 2)}${grid[i]!.map((g) => g.padStart(2)).join('')}`,
    );
    blocks.push([head, ...rows].join('\n'));
  }
  return `${blocks.join('\n\n')}\n. allowed  X denied  (as the oracle says); A allowed, D denied where it says otherwise: ${m.differences} difference(s)`;
}

/**
 * A matrix in a few bytes, for results.json: its pods, its probes ("tcp/80"), and one mark a cell —
 * `.` allowed and `X` denied as the oracle says, `A` allowed and `D` denied where it says otherwise —
 * in the order from × to (no pod to itself) × probe.
 */
export interface CompactMatrix {
  readonly pods: string[];
  readonly probes: string[];
  readonly marks: string;
  readonly differences: number;
}

const MARK = { '11': '.', '00': 'X', '01': 'A', '10': 'D' } as const;

export function compactMatrix(m: Matrix): CompactMatrix {
  const probes = [...new Set(m.cells.map((c) => `${c.protocol}/${c.port}`))];
  const at = new Map(m.cells.map((c) => [`${c.from} ${c.to} ${c.protocol}/${c.port}`, c]));
  let marks = '';
  for (const from of m.pods)
    for (const to of m.pods) {
      if (from === to) continue;
      for (const p of probes) {
        const c = at.get(`${from} ${to} ${p}`);
        marks += c ? MARK[`${c.expected ? 1 : 0}${c.observed ? 1 : 0}` as keyof typeof MARK] : '?';
      }
    }
  return { pods: [...m.pods], probes, marks, differences: m.differences };
}

/** The matrix of a compact one (cells of `?` left out). */
export function expandMatrix(c: CompactMatrix): Matrix {
  const cells: MatrixCell[] = [];
  let i = 0;
  for (const from of c.pods)
    for (const to of c.pods) {
      if (from === to) continue;
      for (const p of c.probes) {
        const mark = c.marks[i++];
        const [protocol, port] = p.split('/') as ['tcp' | 'udp', string];
        if (mark === '.' || mark === 'X' || mark === 'A' || mark === 'D')
          cells.push({
            from,
            to,
            protocol,
            port: Number(port),
            expected: mark === '.' || mark === 'D',
            observed: mark === '.' || mark === 'A',
          });
      }
    }
  return matrixOf(c.pods, cells);
}
