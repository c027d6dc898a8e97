/**
 * CNI spec 1.1 data types: network configuration, results, errors.
 * https://github.com/containernetworking/cni/blob/main/SPEC.md
 */
import { CnilabError } from '../lib/errors';

export const SPEC_VERSION = '1.1.0';
export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

/** Error codes the spec reserves (1–99); plugins use 100 and above for their own. */
export const CniCode = {
  INCOMPATIBLE_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENV: 4,
  IO_FAILURE: 5,
  DECODE_FAILURE: 6,
  INVALID_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  NOT_AVAILABLE: 50,
  NOT_AVAILABLE_LIMITED: 51,
  /** cnilab's own: a kernel operation (ip, sysctl) failed. */
  KERNEL_OPERATION: 100,
  /** cnilab's own: the IPAM range is exhausted. */
  NO_ADDRESS: 101,
  /** cnilab's own: CHECK found the container's networking different from prevResult. */
  CHECK_FAILED: 102,
  /** Anything else that went wrong inside a plugin (the reference plugins' generic code). */
  INTERNAL: 999,
} as const;

export interface IpamConf {
  readonly type: string;
  readonly [key: string]: unknown;
}

/** One plugin's configuration as the plugin receives it on stdin. */
export interface NetConf {
  readonly cniVersion: string;
  readonly name: string;
  readonly type: string;
  readonly ipam?: IpamConf;
  readonly dns?: Dns;
  readonly prevResult?: Result;
  readonly runtimeConfig?: Record<string, unknown>;
  readonly capabilities?: Record<string, boolean>;
  readonly args?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** A network configuration list (a .conflist file). */
export interface NetConfList {
  readonly cniVersion: string;
  readonly cniVersions?: readonly string[];
  readonly name: string;
  readonly disableCheck?: boolean;
  readonly disableGC?: boolean;
  readonly plugins: readonly PluginConf[];
}

export type PluginConf = Omit<NetConf, 'name' | 'cniVersion'> & { readonly type: string };

export interface Dns {
  readonly nameservers?: readonly string[];
  readonly domain?: string;
  readonly search?: readonly string[];
  readonly options?: readonly string[];
}

export interface ResultInterface {
  readonly name: string;
  readonly mac?: string;
  /** 1.1.0 and later. */
  readonly mtu?: number;
  readonly sandbox?: string;
  /** 1.1.0 and later. */
  readonly socketPath?: string;
  /** 1.1.0 and later. */
  readonly pciID?: string;
}

export interface ResultIp {
  /** CIDR notation: the address and its subnet's prefix length. */
  readonly address: string;
  readonly gateway?: string;
  /** Index into `interfaces`. */
  readonly interface?: number;
}

export interface ResultRoute {
  readonly dst: string;
  readonly gw?: string;
  /** This field and the ones below: 1.1.0 and later. */
  readonly mtu?: number;
  readonly advmss?: number;
  readonly priority?: number;
  readonly table?: number;
  readonly scope?: number;
}

/** One attachment the runtime still uses, as GC's `cni.dev/valid-attachments` lists them. */
export interface GcAttachment {
  readonly containerID: string;
  readonly ifname: string;
}

export const VALID_ATTACHMENTS = 'cni.dev/valid-attachments';

export interface Result {
  readonly cniVersion: string;
  readonly interfaces?: readonly ResultInterface[];
  readonly ips?: readonly ResultIp[];
  readonly routes?: readonly ResultRoute[];
  readonly dns?: Dns;
}

export interface ErrorBody {
  readonly cniVersion: string;
  readonly code: number;
  readonly msg: string;
  readonly details?: string;
}

export interface VersionResult {
  readonly cniVersion: string;
  readonly supportedVersions: readonly string[];
}

/** The error a plugin reports: becomes the spec's error JSON on stdout. */
export class CniError extends Error {
  override readonly name = 'CniError';
  constructor(
    readonly code: number,
    msg: string,
    readonly details?: string,
  ) {
    super(msg);
  }

  toJSON(cniVersion: string): ErrorBody {
    return { cniVersion, code: this.code, msg: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

/** The spec's names of its error codes, for messages. */
const CODE_NAMES: Record<number, string> = {
  1: 'incompatible CNI version',
  2: 'unsupported field',
  3: 'container unknown',
  4: 'invalid environment',
  5: 'I/O failure',
  6: 'decode failure',
  7: 'invalid network configuration',
  11: 'try again later',
  50: 'plugin not available',
  51: 'plugin not available, existing containers may be limited',
};

/**
 * A CniError leaving the CNI layer (to the lab, the CLI) becomes a CnilabError with code CNI_ERROR,
 * its message naming the spec's code, the CniError as its cause; anything else passes unchanged.
 */
export function outOfCni(e: unknown, where = ''): unknown {
  if (!(e instanceof CniError)) return e;
  const name = CODE_NAMES[e.code] ? ` (${CODE_NAMES[e.code]})` : '';
  return new CnilabError(
    'CNI_ERROR',
    `${where}CNI error ${e.code}${name}: ${e.message}${e.details ? ` — ${e.details}` : ''}`,
    { cause: e },
  );
}
