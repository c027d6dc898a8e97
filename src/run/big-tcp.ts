/**
 * BIG TCP as a dimension of a run (`--big-tcp off,on`, the scenario's `bigTcp`; docs/big-tcp.md): each
 * architecture with pods becomes a variant per mode — `off` the architecture as registered, `on` the
 * same with its labs built with `bigTcp: true`, named `base+bigtcp` (ebpf-native+bigtcp). Rows, claims
 * and the report take a variant as one more architecture; the designs compared gain, for every
 * `X+bigtcp` the run measured beside `X`, the pair on each path both were measured on.
 *
 * An architecture BIG TCP is not an option of keeps its `+bigtcp` variant only to be skipped with the
 * reason (plan.ts): the run says why, and measures the architecture as it is. The baseline has no
 * pods: no variant.
 */
import type { Architecture } from '../arch/architecture';
import type { DesignComparison } from '../arch/claims';
import { PATHS, type PathName } from '../arch/vocabulary';

const isPath = (p: string): p is PathName => (PATHS as readonly string[]).includes(p);
import { CnilabError } from '../lib/errors';
import { BIG_TCP_SIZE } from '../lib/netlink/big-tcp';

export const BIG_TCP_MODES = ['off', 'on'] as const;
export type BigTcpMode = (typeof BIG_TCP_MODES)[number];

/** The name of an architecture's BIG TCP variant: `base+bigtcp`. */
export const BIG_TCP_SUFFIX = '+bigtcp';

/** The modes `--big-tcp` names (or the scenario's `bigTcp`: true, false, or a list of both), checked, each once. */
export function bigTcpModes(given: readonly (string | boolean)[], field = '--big-tcp'): BigTcpMode[] {
  if (given.length === 0) throw new CnilabError('INVALID_INPUT', `${field}: give off, on, or off,on`);
  const modes = given.map((g): BigTcpMode => {
    if (g === true || g === 'on') return 'on';
    if (g === false || g === 'off') return 'off';
    throw new CnilabError(
      'INVALID_INPUT',
      `${field}: ${JSON.stringify(g)} is not a BIG TCP mode; give off, on, or off,on (both, side by side)`,
    );
  });
  return [...new Set(modes)].sort((a, b) => BIG_TCP_MODES.indexOf(a) - BIG_TCP_MODES.indexOf(b));
}

/** The modes of a run: `--big-tcp`'s, else the scenario's `bigTcp`; undefined when neither says (no dimension). */
export function bigTcpOption(
  flag: readonly string[] | undefined,
  scenario: boolean | readonly boolean[] | undefined,
): BigTcpMode[] | undefined {
  if (flag) return bigTcpModes(flag);
  return scenario === undefined ? undefined : bigTcpModes([scenario].flat(), 'bigTcp');
}

/** `--big-tcp`'s help, naming the architectures BIG TCP is an option of. */
export const bigTcpHelp = (able: readonly string[]): string =>
  "BIG TCP (GSO/GRO 192 KiB on the pods' and nodes' devices, MTU unchanged): on makes each architecture it is an " +
  'option of a variant in labs of its own, named <arch>+bigtcp; off,on measures both side by side ' +
  `(default: off; an option of ${able.join(', ')})`;

/** `arch` with BIG TCP on its pods' and nodes' devices: a variant named base+bigtcp, which needs the kernel's BIG TCP. */
export function withBigTcp(arch: Architecture): Architecture {
  return {
    ...arch,
    name: `${arch.name}${BIG_TCP_SUFFIX}`,
    summary: `${arch.summary}; BIG TCP (GSO/GRO ${BIG_TCP_SIZE} bytes on the pods' and nodes' devices)`,
    requires: [...new Set([...arch.requires, 'big-tcp'])],
    inDefaultMatrix: false,
    bigTcpVariant: { base: arch.proxied?.base ?? arch.name },
  };
}

/**
 * The run's architectures with the BIG TCP dimension: each with pods once per mode (`off`: as it is), in the
 * modes' order; one that cannot use BIG TCP stays as it is, its variant there to be skipped with the reason.
 */
export function bigTcpArchs(archs: readonly Architecture[], modes: readonly BigTcpMode[] | undefined): Architecture[] {
  if (modes === undefined) return [...archs];
  return archs.flatMap((a) => {
    if (!a.control.attachesPods) return [a];
    const variants = modes.map((m) => (m === 'off' ? a : withBigTcp(a)));
    return a.bigTcp || modes.includes('off') ? variants : [a, ...variants];
  });
}

/**
 * The pairs BIG TCP adds to the designs compared: every `X+bigtcp` against `X` on each path, where the run
 * measured both there (`measured`: the rows' architectures and paths).
 */
export function bigTcpComparisons(
  measured: readonly { readonly arch: string; readonly path: string }[],
): DesignComparison[] {
  const seen = new Set<string>();
  const out: DesignComparison[] = [];
  for (const { arch, path } of measured) {
    if (!arch.endsWith(BIG_TCP_SUFFIX) || !isPath(path)) continue;
    const base = arch.slice(0, -BIG_TCP_SUFFIX.length);
    const key = `${arch} ${path}`;
    if (seen.has(key) || !measured.some((m) => m.arch === base && m.path === path)) continue;
    seen.add(key);
    out.push({
      design: `BIG TCP (GSO/GRO ${BIG_TCP_SIZE} bytes, IPv6 and IPv4, MTU unchanged) against the kernel's 64 KiB`,
      a: arch,
      b: base,
      path,
    });
  }
  return out;
}
