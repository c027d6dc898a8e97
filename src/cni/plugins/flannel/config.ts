import { parseJson } from '../../skel';
import { isObject, str } from '../../validate';
import { CniCode, CniError } from '../../types';

/** flannel's CNI meta-plugin configuration. */
export interface FlannelConf {
  readonly cniVersion: string;
  readonly name: string;
  /** What the node agent wrote. Default: /run/flannel/subnet.env. */
  readonly subnetFile: string;
  /** Where each container's delegate configuration is kept for DEL. Default: /var/lib/cni/flannel. */
  readonly dataDir: string;
  /**
   * cnilab's: the order of the delegate's ranges by family, so a pod's first address is the first's.
   * Default: [4, 6], the reference plugin's (IPv4 first).
   */
  readonly ipFamilies: readonly (4 | 6)[];
  /** Fields merged into the delegate's configuration (type defaults to bridge). */
  readonly delegate: Readonly<Record<string, unknown>>;
  /** The whole configuration as received (runtimeConfig, args, … pass through to the delegate). */
  readonly raw: Readonly<Record<string, unknown>>;
}

export function parseFlannelConfig(stdin: string): FlannelConf {
  const o = parseJson(stdin);
  if (o.delegate !== undefined && !isObject(o.delegate))
    throw new CniError(CniCode.INVALID_CONFIG, 'delegate: must be an object');
  const families = o.ipFamilies ?? [4, 6];
  if (
    !Array.isArray(families) ||
    families.length === 0 ||
    families.some((f) => f !== 4 && f !== 6) ||
    new Set(families).size !== families.length
  )
    throw new CniError(CniCode.INVALID_CONFIG, 'ipFamilies: must list 4 and/or 6, each once, e.g. [4, 6]');
  return {
    cniVersion: str(o, 'cniVersion', 'cniVersion'),
    name: str(o, 'name', 'name'),
    subnetFile: str(o, 'subnetFile', 'subnetFile', '/run/flannel/subnet.env'),
    dataDir: str(o, 'dataDir', 'dataDir', '/var/lib/cni/flannel'),
    ipFamilies: families as (4 | 6)[],
    delegate: (o.delegate as Record<string, unknown> | undefined) ?? {},
    raw: o,
  };
}
