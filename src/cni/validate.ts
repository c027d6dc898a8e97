/**
 * Small, dependency-free checks for plugin configuration (plugins start once per ADD, so they load
 * as little as possible). Each failure is a CNI error 7 naming the field.
 */
import { CniCode, CniError } from './types';
import { isValidIfName } from './skel';

type Obj = Record<string, unknown>;

function invalid(field: string, what: string): CniError {
  return new CniError(CniCode.INVALID_CONFIG, `${field}: ${what}`);
}

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(o: Obj, key: string, field: string, dflt?: string): string {
  const v = o[key];
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'string' || v === '')
    throw invalid(field, v === undefined ? 'is required' : 'must be a non-empty string');
  return v;
}

export function optStr(o: Obj, key: string, field: string): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, field);
}

export function bool(o: Obj, key: string, field: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw invalid(field, 'must be true or false');
  return v;
}

export function int(o: Obj, key: string, field: string, min: number, max: number): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw invalid(field, `must be an integer from ${min} to ${max}`);
  return v;
}

/** A Linux interface name: 1–15 characters, no '/', no whitespace, not "." or "..". */
export function ifName(v: string, field: string): string {
  if (!isValidIfName(v)) {
    throw invalid(
      field,
      `${JSON.stringify(v)} is not a valid interface name ` + "(1–15 characters, no '/', ':' or spaces)",
    );
  }
  return v;
}

export function oneOf<T extends string>(o: Obj, key: string, field: string, values: readonly T[], dflt: T): T {
  const v = o[key] === undefined ? dflt : o[key];
  if (typeof v !== 'string' || !values.includes(v as T)) throw invalid(field, `must be one of ${values.join(', ')}`);
  return v as T;
}
