/**
 * Spec versions: comparison, and conversion of results between the versions cnilab speaks
 * (0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0). Results are held internally in the 1.x shape; 0.x results
 * carry each IP's family as `version`, and fields new in 1.1.0 do not exist before it.
 */
import {
  CniCode,
  CniError,
  SUPPORTED_VERSIONS,
  type Result,
  type ResultInterface,
  type ResultIp,
  type ResultRoute,
} from './types';

/** -1, 0 or 1; versions are MAJOR.MINOR.PATCH. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

export function isSupportedVersion(v: unknown): v is string {
  return typeof v === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

export function atLeast(v: string, min: string): boolean {
  return compareVersions(v, min) >= 0;
}

/** The highest of `offered` that `supported` also has (a conflist's `cniVersions`), or undefined. */
export function negotiate(
  offered: readonly string[],
  supported: readonly string[] = SUPPORTED_VERSIONS,
): string | undefined {
  return [...offered]
    .filter((v) => supported.includes(v))
    .sort(compareVersions)
    .pop();
}

const IFACE_1_1 = ['mtu', 'socketPath', 'pciID'] as const;
const ROUTE_1_1 = ['mtu', 'advmss', 'priority', 'table', 'scope'] as const;

function without<T extends object>(o: T, keys: readonly string[]): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!keys.includes(k)) out[k] = v;
  return out as T;
}

/** Reads a result of any supported version into the internal (1.x) shape. */
export function parseResult(value: unknown, what: string): Result {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CniError(CniCode.DECODE_FAILURE, `${what}: must be a result object`);
  const r = value as Record<string, unknown>;
  if (!isSupportedVersion(r.cniVersion))
    throw new CniError(
      CniCode.INCOMPATIBLE_VERSION,
      `${what}: cniVersion ${JSON.stringify(r.cniVersion)} is not one of ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  for (const key of ['interfaces', 'ips', 'routes'] as const) {
    if (r[key] !== undefined && !Array.isArray(r[key]))
      throw new CniError(CniCode.DECODE_FAILURE, `${what}.${key}: must be an array`);
    for (const [i, item] of ((r[key] as unknown[] | undefined) ?? []).entries()) {
      if (typeof item !== 'object' || item === null || Array.isArray(item))
        throw new CniError(CniCode.DECODE_FAILURE, `${what}.${key}[${i}]: must be an object`);
    }
  }
  const ips = (r.ips as Record<string, unknown>[] | undefined)?.map((ip, i) => {
    if (typeof ip.address !== 'string')
      throw new CniError(CniCode.DECODE_FAILURE, `${what}.ips[${i}].address: must be a CIDR string`);
    return without(ip, ['version']) as unknown as ResultIp;
  });
  return { ...(r as unknown as Result), ...(ips ? { ips } : {}) };
}

/** A result in the shape of `cniVersion`; empty lists are left out, as the reference plugins leave them out. */
export function convertResult(result: Result, cniVersion: string): Result {
  const old = !atLeast(cniVersion, '1.1.0');
  const zero = cniVersion.startsWith('0.');
  const out: Record<string, unknown> = { ...result, cniVersion };
  if (result.interfaces?.length)
    out.interfaces = result.interfaces.map((i): ResultInterface => (old ? without(i, IFACE_1_1) : i));
  if (result.routes?.length) out.routes = result.routes.map((r): ResultRoute => (old ? without(r, ROUTE_1_1) : r));
  // as the reference plugins print them
  for (const key of ['interfaces', 'ips', 'routes'] as const) if (result[key]?.length === 0) delete out[key];
  if (result.ips?.length)
    out.ips = result.ips.map((ip): ResultIp =>
      zero
        ? ({ version: ip.address.includes(':') ? '6' : '4', ...without(ip, ['version']) } as ResultIp)
        : without(ip, ['version']),
    );
  return out as unknown as Result;
}
