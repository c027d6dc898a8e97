/** The names `cnilab run` takes of paths and tests (--path, --tests, or the scenario's), checked. */
import type { Architecture } from '../../arch/architecture';
import { PATHS, type PathName } from '../../arch/vocabulary';
import { CnilabError } from '../../lib/errors';
import { proxyModes } from '../../proxy';
import { afterTests } from '../../run/after';
import { runTests } from '../../run/tests';

/** The paths a run measures when none are named: service only with a proxy. */
export const DEFAULT_PATHS: readonly PathName[] = PATHS.filter((p) => p !== 'service');

/** Checks the names of --path (or the scenario's paths); throws on an unknown one, and on service without a proxy. */
export function pathNames(names: readonly string[], proxied: boolean): PathName[] {
  return names.map((p) => {
    if (!(PATHS as readonly string[]).includes(p))
      throw new CnilabError('UNKNOWN_PATH', `--path: unknown path ${JSON.stringify(p)}; known: ${PATHS.join(', ')}`);
    if (p === 'service' && !proxied)
      throw new CnilabError(
        'INVALID_INPUT',
        `--path: service needs a Service proxy in the labs; add --proxy ${proxyModes.names().join(',')} (or some)`,
      );
    return p as PathName;
  });
}

/** Checks the names of --tests (or the scenario's tests), without repeats; throws on an unknown one. */
export function testNames(names: readonly string[]): string[] {
  return [...new Set(names)].map((t) => {
    if (t === 'service')
      throw new CnilabError(
        'INVALID_INPUT',
        `--tests: service is a path, measured by every test: --path service --proxy ${proxyModes.names().join(',')}`,
      );
    if (!runTests.has(t) && !afterTests.has(t))
      throw new CnilabError(
        'INVALID_INPUT',
        `--tests: unknown test ${JSON.stringify(t)}; known: ${[...runTests.names(), ...afterTests.names()].join(', ')}`,
      );
    return t;
  });
}

export const POLICY_DATAPLANE_HELP =
  "NetworkPolicy design of the kinds offering it: iptables, nftables (calico-*), ebpf (ebpf-*), none (default: each kind's first)";

/**
 * The topology with the run's policyDataplane (the flag's, else the scenario's), refused when none
 * of the run's architectures offers it ('none' is always fine).
 */
export function withPolicyDataplane<T extends { readonly policyDataplane?: string }>(
  topology: T,
  archs: readonly Architecture[],
  flag: string | undefined,
  scenario: string | undefined,
): T {
  const design = flag ?? scenario;
  if (design === undefined) return topology;
  checkPolicyDataplane(archs, design, flag !== undefined ? '--policy-dataplane' : 'policyDataplane');
  return { ...topology, policyDataplane: design };
}

function checkPolicyDataplane(archs: readonly Architecture[], design: string, flag: string): void {
  if (design === 'none') return;
  const offered = [...new Set(archs.flatMap((a) => a.control.policy?.designs.map((x) => x.name) ?? []))];
  if (!offered.includes(design))
    throw new CnilabError(
      'INVALID_INPUT',
      `${flag}: none of the run's architectures enforces NetworkPolicy with ${design}` +
        (offered.length ? `; they offer ${offered.join(', ')}` : '; none of them enforces any'),
    );
}
