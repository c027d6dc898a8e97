/** The run's dimensions on the command line: --underlay-mtu and --ip-family, parsed and checked. */
import { CnilabError } from '../../lib/errors';
import type { Family } from '../../lib/ip';
import { MTU_MAX, MTU_MIN } from '../../topology/schema';
import { list } from '../context';

export const IP_FAMILY_HELP =
  'IP families, e.g. 4,6: each in single-stack labs of its own (<lab>-<arch>-v6), every row paired with host ' +
  "of the same family, the families side by side (default: the topology's first; docs/ipv6.md)";

/** Parses --underlay-mtu: whole numbers from 1280 to 9000, comma-separated, each once. */
export function mtuList(v: string): number[] {
  const mtus = list(v).map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < MTU_MIN || n > MTU_MAX)
      throw new CnilabError(
        'INVALID_INPUT',
        `--underlay-mtu: ${JSON.stringify(x)} must be a whole number from ${MTU_MIN} to ${MTU_MAX}, e.g. 1500,9000`,
      );
    return n;
  });
  if (mtus.length === 0) throw new CnilabError('INVALID_INPUT', '--underlay-mtu: give one MTU or more, e.g. 1500,9000');
  return [...new Set(mtus)];
}

/** Parses --ip-family: 4 and 6 (ipv4 and ipv6 too), comma-separated, each once. */
export function familyList(v: string): Family[] {
  const families = list(v).map((x): Family => {
    if (x === '4' || x === 'ipv4') return 4;
    if (x === '6' || x === 'ipv6') return 6;
    throw new CnilabError('INVALID_INPUT', `--ip-family: ${JSON.stringify(x)} must be 4 or 6, e.g. 4,6`);
  });
  if (families.length === 0) throw new CnilabError('INVALID_INPUT', '--ip-family: give 4, 6 or 4,6');
  return [...new Set(families)];
}
