/** The policy-scale test's flags (--policy-rules, --policy-cases), parsed and checked, and its settings from them. */
import { z } from 'zod';
import { CnilabError } from '../../lib/errors';
import type { AfterFlag } from '../after/test';
import { CATALOGUE_CASES } from '../../policy/catalogue';
import { checkRules, POLICY_SCALE_DEFAULTS, POLICY_SCALE_MAX, type PolicyScaleSettings } from './plan';

/** Parses --policy-rules: whole numbers of rules from 0 to POLICY_SCALE_MAX, comma-separated. */
export function policyRules(v: string): number[] {
  const rules = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((x) => {
      const n = /^\d+$/.test(x) ? Number(x) : NaN;
      if (!Number.isInteger(n) || n > POLICY_SCALE_MAX)
        throw new CnilabError(
          'INVALID_INPUT',
          `--policy-rules: ${JSON.stringify(x)} must be a whole number of rules from 0 to ${POLICY_SCALE_MAX}, ` +
            `e.g. 0,100,1000`,
        );
      return n;
    });
  if (rules.length === 0)
    throw new CnilabError('INVALID_INPUT', '--policy-rules: give one rule count or more, e.g. 0,100,1000');
  return checkRules(rules);
}

/** Parses --policy-cases: names of the catalogue's cases, comma-separated, each once. */
export function policyCases(v: string): string[] {
  const names = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.find((n) => !CATALOGUE_CASES.includes(n));
  if (unknown !== undefined || names.length === 0)
    throw new CnilabError(
      'INVALID_INPUT',
      `--policy-cases: ${unknown === undefined ? 'give one case or more' : `no case ${JSON.stringify(unknown)}`}; known: ${CATALOGUE_CASES.join(', ')}`,
    );
  return [...new Set(names)];
}

export const POLICY_SCALE_FLAGS: readonly AfterFlag[] = [
  {
    flag: '--policy-rules <n,m>',
    key: 'policyRules',
    help:
      `policy-scale test: the NetworkPolicy rules selecting the probed pod it is measured with, 0 for none ` +
      `(default ${POLICY_SCALE_DEFAULTS.rules.join(',')}; at most ${POLICY_SCALE_MAX})`,
    parse: policyRules,
    scenario: z.array(z.number().int().min(0).max(POLICY_SCALE_MAX)).min(1),
  },
  {
    flag: '--policy-cases <a,b>',
    key: 'policyCases',
    help: `policy-scale test: the catalogue cases whose probe matrices it checks first, per design (default: all ${CATALOGUE_CASES.length})`,
    parse: policyCases,
    scenario: z.array(z.enum(CATALOGUE_CASES as [string, ...string[]])).min(1),
  },
];

/** Its settings: the flag's (or the scenario's) rules, sorted once; the defaults for the rest. */
export function policyScaleSettings(given: Readonly<Record<string, unknown>>): PolicyScaleSettings {
  const rules = given['policyRules'] as number[] | undefined;
  const cases = given['policyCases'] as string[] | undefined;
  return {
    ...POLICY_SCALE_DEFAULTS,
    rules: rules ? checkRules(rules) : POLICY_SCALE_DEFAULTS.rules,
    ...(cases ? { cases } : {}),
  };
}
