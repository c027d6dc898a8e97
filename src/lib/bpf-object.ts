/**
 * What an eBPF object file holds, read with the toolchain's own tools: its symbols' sections
 * (llvm-objdump), its structs' layouts and its functions (bpftool's BTF dump), and the members of
 * an enum of its C source. The tests that hold the TypeScript encodings to the C side (the CNI
 * data path's maps, the Service proxy's) read both sides through here.
 */
import { readFileSync } from 'node:fs';
import { run } from './exec';

/** A symbol of the object: its section ("tc", ".maps", "cgroup/connect4"), its kind (F function, O object). */
export interface ObjectSymbol {
  readonly section: string;
  readonly kind: 'F' | 'O';
  readonly name: string;
}

/** The object's function and object symbols, by `llvm-objdump -t`. */
export async function objectSymbols(file: string): Promise<ObjectSymbol[]> {
  const out = (await run('llvm-objdump', ['-t', file])).stdout;
  return [...out.matchAll(/^[0-9a-f]+\s.*?\s([FO])\s(\S+)\s+[0-9a-f]+\s(\S+)$/gm)].map((m) => ({
    kind: m[1] as 'F' | 'O',
    section: m[2]!,
    name: m[3]!,
  }));
}

/** The section symbol `name` is in, or undefined. */
export const sectionOf = (symbols: readonly ObjectSymbol[], name: string): string | undefined =>
  symbols.find((s) => s.name === name)?.section;

interface BtfType {
  readonly kind: string;
  readonly name: string;
  readonly size?: number;
  readonly members?: readonly { readonly name: string; readonly bits_offset: number }[];
}

/** The object's BTF: each struct's size and members' byte offsets, and its functions' names. */
export interface ObjectBtf {
  /** [size, [[member, byte offset], …]] of struct `name`; throws when the object has none. */
  struct(name: string): [number, [string, number][]];
  readonly functions: readonly string[];
}

export async function objectBtf(file: string): Promise<ObjectBtf> {
  const btf = JSON.parse((await run('bpftool', ['btf', 'dump', 'file', file, '-j'])).stdout) as {
    types: BtfType[];
  };
  return {
    struct(name) {
      const t = btf.types.find((x) => x.kind === 'STRUCT' && x.name === name);
      if (!t) throw new Error(`${file}: no struct ${name} in its BTF`);
      return [t.size!, t.members!.map((m) => [m.name, m.bits_offset / 8])];
    },
    functions: btf.types.filter((t) => t.kind === 'FUNC').map((t) => t.name),
  };
}

/** The members of `enum name { … }` in the C source `file`, lowercased, in order. */
export function cEnumMembers(file: string, name: string): string[] {
  const m = new RegExp(`enum ${name} \\{([^}]*)\\}`).exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`${file}: no enum ${name}`);
  return m[1]!.split(',').map((s) => s.trim().toLowerCase());
}
