/**
 * The benchmarks' one argument parser. A benchmark declares its options (a number with its
 * default, a string, a flag); `--json` is every benchmark's. An unknown option, a missing value or
 * a number that is not one is refused with the usage line, rather than silently measured with the
 * default.
 */
import { parseArgs } from 'node:util';

export interface NumberOption {
  readonly kind: 'number';
  readonly default: number;
  /** A whole number. */
  readonly integer?: boolean;
  /** Above 0. */
  readonly positive?: boolean;
  /** At least this. */
  readonly min?: number;
}
export interface StringOption {
  readonly kind: 'string';
  readonly default?: string;
}
export interface FlagOption {
  readonly kind: 'flag';
}
export type OptionSpec = NumberOption | StringOption | FlagOption;

export type Spec = Readonly<Record<string, OptionSpec>>;

type ValueOf<O extends OptionSpec> = O extends NumberOption
  ? number
  : O extends FlagOption
    ? boolean
    : O extends { readonly default: string }
      ? string
      : string | undefined;

export type Options<S extends Spec> = { readonly [K in keyof S]: ValueOf<S[K]> } & { readonly json: boolean };

/** A number option, `--NAME N`: `value` without it. */
export const num = (value: number, bounds: Omit<NumberOption, 'kind' | 'default'> = {}): NumberOption => ({
  kind: 'number',
  default: value,
  ...bounds,
});
/** A whole number of at least 1 (rounds, repeats, pods). */
export const count = (value: number): NumberOption => num(value, { integer: true, min: 1 });
/** Seconds, above 0 (a sample's duration). */
export const seconds = (value: number): NumberOption => num(value, { positive: true });
/** A string option, `--NAME VALUE`. */
export function str(): StringOption;
export function str(value: string): StringOption & { readonly default: string };
export function str(value?: string): StringOption {
  return value === undefined ? { kind: 'string' } : { kind: 'string', default: value };
}
/** A flag, `--NAME`. */
export const flag: FlagOption = { kind: 'flag' };

export class UsageError extends Error {}

/** `argv` (the arguments after the script) read by `spec`; throws UsageError naming what is wrong. */
export function parseBenchArgs<S extends Spec>(spec: S, argv: readonly string[]): Options<S> {
  const options: Record<string, { type: 'boolean' | 'string' }> = { json: { type: 'boolean' } };
  for (const [k, o] of Object.entries(spec)) options[k] = { type: o.kind === 'flag' ? 'boolean' : 'string' };
  const values: Record<string, string | boolean | undefined> = (() => {
    try {
      return parseArgs({ args: [...argv], strict: true, allowPositionals: false, options }).values as Record<
        string,
        string | boolean | undefined
      >;
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  })();
  const out: Record<string, unknown> = { json: values.json === true };
  for (const [k, o] of Object.entries(spec)) {
    const v = values[k];
    if (o.kind === 'flag') out[k] = v === true;
    else if (o.kind === 'string') out[k] = typeof v === 'string' ? v : o.default;
    else if (typeof v !== 'string') out[k] = o.default;
    else {
      const n = Number(v);
      const bad =
        v.trim() === '' ||
        !Number.isFinite(n) ||
        (o.integer && !Number.isInteger(n)) ||
        (o.positive && n <= 0) ||
        (o.min !== undefined && n < o.min);
      const want = [
        o.integer ? 'a whole number' : 'a number',
        o.positive ? 'above 0' : '',
        o.min === undefined ? '' : `of at least ${o.min}`,
      ];
      if (bad) throw new UsageError(`--${k} ${v}: not ${want.filter(Boolean).join(' ')}`);
      out[k] = n;
    }
  }
  return out as Options<S>;
}

/** This process's options by `spec`; a usage error ends it with exit code 2 and the usage line. */
export function benchArgs<S extends Spec>(usage: string, spec: S): Options<S> {
  try {
    return parseBenchArgs(spec, process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`bench: ${e.message}\nusage: ${usage}\n`);
    process.exit(2);
  }
}
