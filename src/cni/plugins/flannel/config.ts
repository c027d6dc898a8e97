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
  /** Fields merged into the delegate's configuration (type defaults to bridge). */
  readonly delegate: Readonly<Record<string, unknown>>;
  /** The whole configuration as received (runtimeConfig, args, … pass through to the delegate). */
  readonly raw: Readonly<Record<string, unknown>>;
}

export function parseFlannelConfig(stdin: string): FlannelConf {
  const o = parseJson(stdin);
  if (o.delegate !== undefined && !isObject(o.delegate))
    throw new CniError(CniCode.INVALID_CONFIG, 'delegate: must be an object');
  return {
    cniVersion: str(o, 'cniVersion', 'cniVersion'),
    name: str(o, 'name', 'name'),
    subnetFile: str(o, 'subnetFile', 'subnetFile', '/run/flannel/subnet.env'),
    dataDir: str(o, 'dataDir', 'dataDir', '/var/lib/cni/flannel'),
    delegate: (o.delegate as Record<string, unknown> | undefined) ?? {},
    raw: o,
  };
}
