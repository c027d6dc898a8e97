/**
 * `cnilab policy apply|list|delete|check`: Kubernetes NetworkPolicy in a lab, as kubectl would
 * take it, and the probe matrix that checks what the lab's data path does against the oracle.
 */
import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { readPolicyFile } from '../../policy/file';
import { POD_NAMESPACE, policyKey, type LabelSelector, type NetworkPolicy } from '../../policy/model';
import { applyPolicies, deletePolicies, listPolicies, enforcementOf, type PolicyChange } from '../../lab/policy-apply';
import { pickLab } from '../../lab/state';
import { printJson, runCommand } from '../context';
import { table } from '../output';
import { registerPolicyCheck } from './policy-check';

function say(change: PolicyChange, json: boolean | undefined): void {
  if (json) return printJson(change);
  for (const r of change.results) process.stdout.write(`networkpolicy ${r.key} ${r.outcome}\n`);
  const e = change.enforcement;
  if (!e.enforced) process.stderr.write(`warning: not enforced: ${e.reason}; the policies are stored only\n`);
  else if (change.enforcedMs !== undefined)
    process.stderr.write(
      `enforced by ${e.design} on ${e.nodes.join(', ')} (revision ${change.revision}) in ${Math.round(change.enforcedMs)} ms\n`,
    );
  else process.stderr.write(`sent (revision ${change.revision}); not waiting for ${e.design} to enforce it\n`);
}

const selectorText = (s: LabelSelector): string => {
  const parts = [
    ...Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(s.matchExpressions ?? []).map((e) => `${e.key} ${e.operator}${e.values ? ` (${e.values.join(',')})` : ''}`),
  ];
  return parts.length ? parts.join(',') : '<all pods>';
};

/** The keys `target` names: the policies of a file, or one name (in `namespace`). */
function keysOf(target: string, namespace: string): string[] {
  if (existsSync(target) && statSync(target).isFile()) return readPolicyFile(target).map(policyKey);
  return [`${namespace}/${target}`];
}

interface Common {
  lab?: string;
  json?: boolean;
  wait?: boolean;
}

export function registerPolicy(program: Command): void {
  const policy = program
    .command('policy')
    .description("Kubernetes NetworkPolicy in the lab: stored by its API server, enforced by its kind's design");
  policy
    .command('apply')
    .description(
      'create or replace the NetworkPolicies of a YAML file (kubectl apply -f); waits until every node enforces them',
    )
    .argument('<file>', 'YAML (or JSON): NetworkPolicy documents, --- separated, or a List')
    .option('--lab <name>', 'the lab (default: the only one up)')
    .option('--no-wait', 'return once stored, without waiting for the nodes to enforce')
    .option('--json', 'print the outcome as JSON')
    .action((file: string, o: Common) =>
      runCommand(o.json, async () => {
        const policies = readPolicyFile(file);
        say(await applyPolicies(pickLab(o.lab), policies, o.wait !== false), o.json);
      }),
    );
  policy
    .command('list')
    .description('the NetworkPolicies, and who enforces them')
    .option('--lab <name>', 'the lab (default: the only one up)')
    .option('--json', 'print them as JSON')
    .action((o: Common) =>
      runCommand(o.json, async () => {
        const lab = pickLab(o.lab);
        const r = await listPolicies(lab);
        const enforcement = enforcementOf(lab);
        if (o.json) return printJson({ ...r, enforcement });
        const rows = r.policies.map((p: NetworkPolicy) => [
          p.namespace,
          p.name,
          selectorText(p.podSelector),
          p.policyTypes.join(','),
          p.policyTypes.includes('Ingress') ? p.ingress.length : '-',
          p.policyTypes.includes('Egress') ? p.egress.length : '-',
        ]);
        process.stdout.write(
          `${table(['NAMESPACE', 'NAME', 'POD-SELECTOR', 'TYPES', 'INGRESS', 'EGRESS'], rows, [4, 5])}\n`,
        );
        process.stderr.write(
          enforcement.enforced
            ? `enforced by ${enforcement.design} on ${enforcement.nodes.join(', ')}\n`
            : `warning: not enforced: ${enforcement.reason}\n`,
        );
      }),
    );
  policy
    .command('delete')
    .description('delete NetworkPolicies: one by name, or those of a file; waits until every node enforces the change')
    .argument('<name|file>', 'a policy name, or a file of policies')
    .option('-n, --namespace <ns>', 'the namespace of a policy given by name', POD_NAMESPACE)
    .option('--lab <name>', 'the lab (default: the only one up)')
    .option('--no-wait', 'return once deleted, without waiting for the nodes')
    .option('--ignore-not-found', 'delete those there, saying nothing of the others (kubectl’s flag)')
    .option('--json', 'print the outcome as JSON')
    .action((target: string, o: Common & { namespace: string; ignoreNotFound?: boolean }) =>
      runCommand(o.json, async () => {
        const keys = keysOf(target, o.namespace);
        say(await deletePolicies(pickLab(o.lab), keys, o.wait !== false, o.ignoreNotFound === true), o.json);
      }),
    );
  registerPolicyCheck(policy);
}
