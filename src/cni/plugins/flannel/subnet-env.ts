/** flannel's /run/flannel/subnet.env: what the node agent tells the CNI plugin about this node. */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../../lib/fs';
import { CnilabError } from '../../../lib/errors';

export interface SubnetEnv {
  /** FLANNEL_NETWORK: the whole pod network, e.g. 10.244.0.0/16. */
  readonly network: string;
  /** FLANNEL_SUBNET: this node's subnet as its gateway address, e.g. 10.244.1.1/24. */
  readonly subnet: string;
  /** FLANNEL_MTU: the MTU pods must use. */
  readonly mtu: number;
  /** FLANNEL_IPMASQ. */
  readonly ipMasq: boolean;
}

export function formatSubnetEnv(e: SubnetEnv): string {
  return `FLANNEL_NETWORK=${e.network}\nFLANNEL_SUBNET=${e.subnet}\nFLANNEL_MTU=${e.mtu}\nFLANNEL_IPMASQ=${e.ipMasq}\n`;
}

export function parseSubnetEnv(text: string, source: string): SubnetEnv {
  const vars = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z_]+)=(.*)$/.exec(line);
    if (m) vars.set(m[1]!, m[2]!.trim());
  }
  const need = (k: string): string => {
    const v = vars.get(k);
    if (!v) throw new CnilabError('INVALID_INPUT', `${source}: ${k} is missing`);
    return v;
  };
  const mtu = Number(need('FLANNEL_MTU'));
  if (!Number.isInteger(mtu) || mtu < 68)
    throw new CnilabError(
      'INVALID_INPUT',
      `${source}: FLANNEL_MTU ${JSON.stringify(vars.get('FLANNEL_MTU'))} is not an MTU`,
    );
  return {
    network: need('FLANNEL_NETWORK'),
    subnet: need('FLANNEL_SUBNET'),
    mtu,
    ipMasq: vars.get('FLANNEL_IPMASQ') === 'true',
  };
}

export function writeSubnetEnv(file: string, e: SubnetEnv): void {
  writeFileAtomic(file, formatSubnetEnv(e));
}

export function readSubnetEnv(file: string): SubnetEnv {
  return parseSubnetEnv(readFileSync(file, 'utf8'), file);
}
