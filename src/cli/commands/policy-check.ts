/**
 * `cnilab policy check`: the probe matrix of the lab now against the oracle — or, with
 * --catalogue, of each case of the catalogue in turn. Exit 1 when any cell differs.
 */
import type { Command } from 'commander';
import { CnilabError } from '../../lib/errors';
import { enforcementOf } from '../../lab/policy-apply';
import { runCatalogue } from '../../lab/policy-catalogue';
import { probeMatrix } from '../../lab/policy-probe';
import { pickLab } from '../../lab/state';
import { matrixText } from '../../policy/matrix';
import { printJson, runCommand } from '../context';

interface CheckOptions {
  lab?: string;
  json?: boolean;
  timeoutMs: string;
  catalogue?: boolean;
  cases?: string;
}

function timeout(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 100 || n > 10_000)
    throw new CnilabError('INVALID_INPUT', `--timeout-ms: ${JSON.stringify(v)} must be whole ms from 100 to 10000`);
  return n;
}

export function registerPolicyCheck(policy: Command): void {
  policy
    .command('check')
    .description('probe every pod pair (TCP and UDP, ports 80, 81, 8080) and compare with what the policies say')
    .option(
      '--catalogue',
      "run the catalogue's cases instead (the lab must hold no policies; pods' labels are restored)",
    )
    .option('--cases <a,b>', 'with --catalogue: only these cases')
    .option('--timeout-ms <ms>', 'how long a denied probe waits', '1000')
    .option('--lab <name>', 'the lab (default: the only one up)')
    .option('--json', 'print the matrix (or the cases) as JSON')
    .action((o: CheckOptions) =>
      runCommand(o.json, async () => {
        const timeoutMs = timeout(o.timeoutMs);
        const lab = pickLab(o.lab);
        if (o.cases !== undefined && !o.catalogue)
          throw new CnilabError('INVALID_INPUT', '--cases: give it with --catalogue');
        if (o.catalogue) {
          const r = await runCatalogue(lab, {
            timeoutMs,
            ...(o.cases ? { cases: o.cases.split(',').map((c) => c.trim()) } : {}),
            progress: o.json ? undefined : (l) => process.stderr.write(`${l}\n`),
          });
          if (o.json) printJson(r);
          else
            for (const c of r.cases) {
              process.stdout.write(`\n== ${c.name}: ${c.about}\n${matrixText(c.matrix)}\n`);
              if (c.afterDelete) process.stdout.write(`-- after the delete:\n${matrixText(c.afterDelete)}\n`);
            }
          if (!r.enforcement.enforced) process.stderr.write(`warning: not enforced: ${r.enforcement.reason}\n`);
          if (!o.json)
            process.stdout.write(`\n${r.cases.length} cases, ${r.differences} difference(s) from the oracle\n`);
          if (r.differences) process.exitCode = 1;
          return;
        }
        const enforcement = enforcementOf(lab);
        const m = await probeMatrix(lab, { timeoutMs });
        if (o.json) return printJson({ ...m, enforcement });
        process.stdout.write(`${matrixText(m)}\n`);
        if (!enforcement.enforced) process.stderr.write(`warning: not enforced: ${enforcement.reason}\n`);
        if (m.differences) process.exitCode = 1;
      }),
    );
}
