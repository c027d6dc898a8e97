/**
 * `cnilab cni add|check|del|status|gc NETWORK NETNS` — cnitool's interface over cnilab's CNI runtime:
 * the network is found by name in NETCONFPATH (default /etc/cni/net.d), plugins on CNI_PATH
 * (default: cnilab's own, `cnilab cni path`), CNI_ARGS and CAP_ARGS (JSON) as cnitool reads them,
 * the interface from --ifname, CNI_IFNAME or eth0, and the container ID derived from the namespace
 * path as cnitool derives it ("cnitool-" + the first 10 bytes of its SHA-512, in hex). Plugins run
 * in this process's network namespace, as with cnitool.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CniRuntime, type RuntimeConf } from '../../cni/runtime';
import { cnitoolContainerId, loadNetworkByName } from '../../cni/conf-dir';
import { outOfCni, type GcAttachment } from '../../cni/types';
import { CNI_BIN_DIR } from '../../lib/paths';
import { CnilabError } from '../../lib/errors';
import { printJson, runCommand } from '../context';

interface CniOptions {
  readonly ifname?: string;
  readonly cacheDir: string;
  readonly json?: boolean;
  readonly valid?: string;
}

function cniPath(): string[] {
  const v = process.env.CNI_PATH;
  return v ? v.split(':').filter(Boolean) : [CNI_BIN_DIR];
}

function parseCniArgs(): [string, string][] {
  const text = process.env.CNI_ARGS ?? '';
  if (text === '') return [];
  return text.split(';').map((pair) => {
    const kv = pair.split('=');
    if (kv.length !== 2 || kv[0] === '' || kv[1] === '')
      throw new CnilabError('INVALID_INPUT', `CNI_ARGS: ${JSON.stringify(pair)} is not KEY=VALUE`);
    return [kv[0]!, kv[1]!];
  });
}

function capabilityArgs(): Record<string, unknown> | undefined {
  const text = process.env.CAP_ARGS ?? '';
  if (text === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new CnilabError('INVALID_INPUT', 'CAP_ARGS: not JSON; give an object such as {"portMappings": [...]}');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new CnilabError('INVALID_INPUT', 'CAP_ARGS: must be a JSON object');
  return v as Record<string, unknown>;
}

function runtimeConf(netns: string, o: CniOptions): RuntimeConf {
  const path = resolve(netns);
  const caps = capabilityArgs();
  return {
    containerId: cnitoolContainerId(path),
    netns: path,
    ifName: o.ifname || process.env.CNI_IFNAME || 'eth0',
    args: parseCniArgs(),
    ...(caps ? { capabilityArgs: caps } : {}),
  };
}

/** "CONTAINERID/IFNAME,…" */
function validAttachments(text: string | undefined): GcAttachment[] {
  if (!text) return [];
  return text.split(',').map((s) => {
    const [containerID, ifname, extra] = s.split('/');
    if (!containerID || !ifname || extra !== undefined)
      throw new CnilabError('INVALID_INPUT', `--valid: ${JSON.stringify(s)} is not CONTAINERID/IFNAME`);
    return { containerID, ifname };
  });
}

async function withCniErrors(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    throw outOfCni(e);
  }
}

/** A CNI runtime with the plugins on CNI_PATH and the cache directory of --cache-dir. */
function cniRuntime(o: CniOptions): CniRuntime {
  return new CniRuntime({ cniPath: cniPath(), cacheDir: o.cacheDir });
}

/** Adds the options every network subcommand takes: --ifname, --cache-dir and --json. */
function withCommonOptions(c: Command): Command {
  return c
    .option('-i, --ifname <name>', 'interface name (default: CNI_IFNAME or eth0)')
    .option('--cache-dir <dir>', 'where results are cached, as libcni does', '/var/lib/cni')
    .option('--json', 'errors as JSON');
}

/** The network configuration list named `name` in NETCONFPATH (default /etc/cni/net.d). */
function network(name: string): ReturnType<typeof loadNetworkByName> {
  return loadNetworkByName(process.env.NETCONFPATH || '/etc/cni/net.d', name);
}

/** `cnilab cni add NETWORK NETNS`: ADD, print the result, and DEL again when Ctrl-C stopped it. */
function registerAdd(cni: Command): void {
  withCommonOptions(
    cni
      .command('add')
      .argument('<network>')
      .argument('<netns>')
      .description('ADD the network to the namespace; prints the result'),
  ).action((net: string, netns: string, o: CniOptions) =>
    runCommand(o.json, (signal) =>
      withCniErrors(async () => {
        const list = network(net);
        const rt = runtimeConf(netns, o);
        const r = cniRuntime(o);
        try {
          printJson(await r.addNetworkList(list, rt, signal));
        } catch (e) {
          // Ctrl-C stopped a plugin half-way: DEL what it may have made, so nothing is left
          if (signal.aborted) await r.delNetworkList(list, rt).catch(() => undefined);
          throw e;
        }
      }),
    ),
  );
}

/** `cnilab cni check NETWORK NETNS`. */
function registerCheck(cni: Command): void {
  withCommonOptions(
    cni
      .command('check')
      .argument('<network>')
      .argument('<netns>')
      .description('CHECK the namespace against the cached ADD result'),
  ).action((net: string, netns: string, o: CniOptions) =>
    runCommand(o.json, () => withCniErrors(() => cniRuntime(o).checkNetworkList(network(net), runtimeConf(netns, o)))),
  );
}

/** `cnilab cni del NETWORK NETNS`. */
function registerDel(cni: Command): void {
  withCommonOptions(
    cni.command('del').argument('<network>').argument('<netns>').description('DEL the network from the namespace'),
  ).action((net: string, netns: string, o: CniOptions) =>
    runCommand(o.json, () => withCniErrors(() => cniRuntime(o).delNetworkList(network(net), runtimeConf(netns, o)))),
  );
}

/** `cnilab cni status NETWORK [NETNS]`. */
function registerStatus(cni: Command): void {
  withCommonOptions(
    cni
      .command('status')
      .argument('<network>')
      .argument('[netns]', 'accepted for cnitool compatibility; not used')
      .description('STATUS of every plugin of the network (1.1.0 and later)'),
  ).action((net: string, _netns: string | undefined, o: CniOptions) =>
    runCommand(o.json, () => withCniErrors(() => cniRuntime(o).statusNetworkList(network(net)))),
  );
}

/** `cnilab cni gc NETWORK [NETNS] [--valid …]`: prints the deleted attachments, or the result with --json. */
function registerGc(cni: Command): void {
  withCommonOptions(
    cni
      .command('gc')
      .argument('<network>')
      .argument('[netns]', 'accepted for cnitool compatibility; not used')
      .option('--valid <attachments>', 'attachments to keep, CONTAINERID/IFNAME,… (default: none, as cnitool)')
      .description('GC: DEL every cached attachment not kept, then GC every plugin (1.1.0 and later)'),
  ).action((net: string, _netns: string | undefined, o: CniOptions) =>
    runCommand(o.json, () =>
      withCniErrors(async () => {
        const r = await cniRuntime(o).gcNetworkList(network(net), validAttachments(o.valid));
        if (o.json) printJson(r);
        else for (const d of r.deleted) process.stderr.write(`deleted stale attachment ${d.containerID} ${d.ifname}\n`);
      }),
    ),
  );
}

/** `cnilab cni path`: prints the directory of cnilab's plugins. */
function registerPath(cni: Command): void {
  cni
    .command('path')
    .description("print the directory of cnilab's plugin executables (put it on CNI_PATH)")
    .action(() => {
      process.stdout.write(`${CNI_BIN_DIR}\n`);
    });
}

/** `cnilab cni version PLUGIN`: prints the plugin's VERSION answer. */
function registerVersion(cni: Command): void {
  cni
    .command('version')
    .argument('<plugin>', 'a plugin type, found on CNI_PATH')
    .option('--json', 'errors as JSON')
    .description('the spec versions a plugin speaks (its VERSION answer)')
    .action((type: string, o: { json?: boolean }) =>
      runCommand(o.json, () =>
        withCniErrors(async () =>
          printJson(await new CniRuntime({ cniPath: cniPath(), cacheDir: '/nonexistent' }).versionInfo(type)),
        ),
      ),
    );
}

export function registerCni(program: Command): void {
  const cni = program
    .command('cni')
    .description(
      'run a CNI network configuration on a namespace, as cnitool does (add, check, del, status, gc), or print ' +
        "where cnilab's plugins are (path)",
    );
  registerAdd(cni);
  registerCheck(cni);
  registerDel(cni);
  registerStatus(cni);
  registerGc(cni);
  registerPath(cni);
  registerVersion(cni);
}
