import type { Command } from 'commander';
import { apiRequest } from '../../apiserver/client';
import { serviceSpecSchema, type Pod, type ServiceView } from '../../apiserver/model';
import { applyLabelChanges, parseNames, parsePorts, parseSelector } from '../../apiserver/spec';
import { pickLab } from '../../lab/state';
import { CnilabError } from '../../lib/errors';
import { printJson, runCommand } from '../context';
import { table } from '../output';

/** The flag each field of a Service spec comes from, for one-line refusals. */
const FLAGS: Readonly<Record<string, string>> = {
  name: 'NAME',
  ports: '--port',
  selector: '--selector',
  pods: '--pods',
  affinitySeconds: '--affinity',
  clusterIp: '--cluster-ip',
};

interface AddOptions {
  port?: string[];
  selector?: string;
  pods?: string;
  clusterIp?: string;
  affinity?: string;
  lab?: string;
  json?: boolean;
}

/** The spec `cnilab service add` asks for, checked here: nothing is sent that the API server would refuse for its form. */
function addSpec(name: string, o: AddOptions): unknown {
  if ((o.selector === undefined) === (o.pods === undefined))
    throw new CnilabError('INVALID_INPUT', '--selector, --pods: give exactly one');
  const affinity = o.affinity === undefined ? undefined : Number(o.affinity);
  if (affinity !== undefined && (!Number.isInteger(affinity) || affinity < 1 || affinity > 86400))
    throw new CnilabError(
      'INVALID_INPUT',
      `--affinity: ${JSON.stringify(o.affinity)} must be whole seconds from 1 to 86400`,
    );
  const spec = {
    name,
    ports: parsePorts(o.port ?? []),
    ...(o.selector !== undefined ? { selector: parseSelector(o.selector) } : {}),
    ...(o.pods !== undefined ? { pods: parseNames(o.pods, '--pods') } : {}),
    ...(o.clusterIp !== undefined ? { clusterIp: o.clusterIp } : {}),
    ...(affinity !== undefined ? { affinitySeconds: affinity } : {}),
  };
  const r = serviceSpecSchema.safeParse(spec);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const flag = FLAGS[String(i.path[0])] ?? String(i.path[0]);
    throw new CnilabError('INVALID_INPUT', `${flag}: ${i.message}`);
  }
  return spec;
}

const portsText = (s: ServiceView): string =>
  s.ports
    .map(
      (p) => `${p.name ? `${p.name}=` : ''}${p.port}${p.targetPort !== p.port ? `:${p.targetPort}` : ''}/${p.protocol}`,
    )
    .join(',');

export function registerService(program: Command): void {
  const service = program.command('service').description("the lab's Services (its controller's API server)");
  service
    .command('add')
    .description('create a Service: a ClusterIP, ports, and the pods behind it (a selector or a list)')
    .argument('<name>', 'Service name (a DNS label)')
    .option('--port <spec>', '[name=]port[:targetPort][/tcp|udp]; repeat or comma-separate', (v, a: string[] = []) => [
      ...a,
      v,
    ])
    .option('--selector <k=v,...>', 'the pods whose labels hold every pair')
    .option('--pods <a,b>', 'the pods, by name')
    .option('--cluster-ip <ip>', 'its address (default: the lowest free of the range)')
    .option('--affinity <seconds>', 'ClientIP session affinity, 1–86400 s')
    .option('--lab <name>', 'the lab (default: the only one up)')
    .option('--json', 'print the Service as JSON')
    .action((name: string, o: AddOptions) =>
      runCommand(o.json, async () => {
        const spec = addSpec(name, o);
        const made = await apiRequest<ServiceView>(pickLab(o.lab), 'POST', '/api/services', spec);
        if (o.json) printJson(made);
        else
          process.stdout.write(
            `${made.name}: ${made.clusterIp} ${portsText(made)}, ${made.endpoints.length} endpoints\n`,
          );
      }),
    );
  service
    .command('list')
    .description('the Services, with their ClusterIPs, ports and endpoint counts')
    .option('--lab <name>', 'the lab (default: the only one up)')
    .option('--json', 'print them as JSON')
    .action((o: { lab?: string; json?: boolean }) =>
      runCommand(o.json, async () => {
        const r = await apiRequest<{ revision: number; services: ServiceView[] }>(
          pickLab(o.lab),
          'GET',
          '/api/services',
        );
        if (o.json) return printJson(r);
        const rows = r.services.map((s) => [s.name, s.clusterIp, portsText(s), s.endpoints.length]);
        process.stdout.write(`${table(['NAME', 'CLUSTER-IP', 'PORTS', 'ENDPOINTS'], rows, [3])}\n`);
      }),
    );
  service
    .command('remove')
    .description('remove a Service')
    .argument('<name>', 'Service name')
    .option('--lab <name>', 'the lab (default: the only one up)')
    .option('--json', 'print what was removed as JSON')
    .action((name: string, o: { lab?: string; json?: boolean }) =>
      runCommand(o.json, async () => {
        const r = await apiRequest<{ name: string }>(
          pickLab(o.lab),
          'DELETE',
          `/api/services/${encodeURIComponent(name)}`,
        );
        if (o.json) printJson(r);
        else process.stderr.write(`removed Service ${name}\n`);
      }),
    );
}

export function registerPod(program: Command): void {
  const pod = program.command('pod').description("the lab's pods as its controller's API server holds them");
  pod
    .command('label')
    .description('change a pod’s labels, as kubectl label: KEY=VALUE sets, KEY- removes')
    .argument('<pod>', 'pod name')
    .argument('<changes...>', 'KEY=VALUE or KEY-')
    .option('--overwrite', 'change a label that has another value')
    .option('--lab <name>', 'the lab (default: the only one up)')
    .option('--json', 'print the pod as JSON')
    .action((name: string, changes: string[], o: { overwrite?: boolean; lab?: string; json?: boolean }) =>
      runCommand(o.json, async () => {
        const lab = pickLab(o.lab);
        const path = `/api/pods/${encodeURIComponent(name)}`;
        const { pods } = await apiRequest<{ pods: Pod[] }>(lab, 'GET', '/api/pods');
        const current = pods.find((p) => p.name === name);
        if (!current) throw new CnilabError('POD_NOT_FOUND', `pod ${name}: no such pod in lab ${lab}`);
        const labels = applyLabelChanges(current.labels, changes, o.overwrite === true);
        const r = await apiRequest<Pod>(lab, 'PUT', `${path}/labels`, { labels });
        if (o.json) printJson(r);
        else
          process.stdout.write(
            `${name}: ${Object.entries(r.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(',')}\n`,
          );
      }),
    );
}
