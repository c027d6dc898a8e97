/**
 * `npm run docs:figures [NAME…]`: runs the command of every figure in README.md and docs/*.md again
 * and writes its output, dated, between the figure's markers, so that no pasted output goes stale.
 *
 *   <!-- figures:NAME cmd="cnilab doctor" -->
 *   …written by this script: the date and the machine, then the command and its output…
 *   <!-- /figures -->
 *
 * `cmd` is split on spaces (no shell: no pipes, no quotes); a leading `cnilab` is this tree's
 * dist/src/cli/main.js. A figure marked `netns` builds labs: its command runs in a scratch network
 * namespace made for it and deleted after (`ip netns add`, `nsenter --net=…`), never in the one
 * the script runs in. NAMEs on the command line regenerate only those figures; `--list` lists them.
 * A command that exits non-zero keeps its old figure and fails the script.
 */
import { spawnSync } from 'node:child_process';
import { cpus, release } from 'node:os';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Figure {
  readonly name: string;
  readonly cmd: string;
  /** Builds labs: run in a scratch network namespace. */
  readonly netns: boolean;
}

const OPEN = /^<!-- figures:([\w.-]+) cmd="([^"]+)"( netns)? -->$/;
const CLOSE = '<!-- /figures -->';

/**
 * For each line, whether it is inside a fenced code block (its fences included): a marker there is
 * an example in the text, not a figure.
 */
function inFence(lines: readonly string[]): boolean[] {
  let fence: string | undefined;
  return lines.map((line) => {
    const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence === undefined) {
      fence = m?.[1];
      return m !== null;
    }
    if (m && m[1]![0] === fence[0] && m[1]!.length >= fence.length && line.trim() === m[1]) fence = undefined;
    return true;
  });
}

/** The figures of a document, in order; throws on a marker left open, a close without an open, a name used twice. */
export function figuresIn(text: string, file = 'document'): Figure[] {
  const figures: Figure[] = [];
  let open: Figure | undefined;
  const lines = text.split('\n');
  const fenced = inFence(lines);
  lines.forEach((line, i) => {
    if (fenced[i]) return;
    const m = OPEN.exec(line.trim());
    const where = `${file}:${i + 1}`;
    if (m) {
      if (open) throw new Error(`${where}: figure ${m[1]} opens inside figure ${open.name}`);
      if (figures.some((f) => f.name === m[1])) throw new Error(`${where}: figure ${m[1]} is named twice`);
      open = { name: m[1]!, cmd: m[2]!, netns: m[3] !== undefined };
      figures.push(open);
    } else if (line.trim() === CLOSE) {
      if (!open) throw new Error(`${where}: ${CLOSE} closes no figure`);
      open = undefined;
    } else if (line.includes('<!-- figures:'))
      throw new Error(`${where}: not a figure marker: <!-- figures:NAME cmd="COMMAND" [netns] -->`);
  });
  if (open) throw new Error(`${file}: figure ${open.name} is not closed by ${CLOSE}`);
  return figures;
}

/**
 * The document with each figure that `bodies` holds (by name) replaced between its markers; the
 * markers and every other line stay as they were.
 */
export function rewrite(text: string, bodies: ReadonlyMap<string, string>, file = 'document'): string {
  figuresIn(text, file);
  const out: string[] = [];
  let skipping = false;
  const lines = text.split('\n');
  const fenced = inFence(lines);
  for (const [i, line] of lines.entries()) {
    const m = fenced[i] ? null : OPEN.exec(line.trim());
    if (skipping && (fenced[i] || line.trim() !== CLOSE)) continue;
    skipping = false;
    out.push(line);
    const fresh = m ? bodies.get(m[1]!) : undefined;
    if (fresh !== undefined) {
      out.push(...fresh.replace(/\n$/, '').split('\n'));
      skipping = true;
    }
  }
  return out.join('\n');
}

/**
 * A figure's body: when and where it ran, then the command and its output as a transcript, in a
 * fence longer than any backtick run in it.
 */
export function body(cmd: string, output: string, date: Date, machine: string): string {
  const ticks = Math.max(2, ...[...output.matchAll(/`+/g)].map((m) => m[0].length)) + 1;
  const fence = '`'.repeat(ticks);
  return [
    `On ${date.toISOString().slice(0, 10)} (${machine}):`,
    '',
    `${fence}text`,
    `$ ${cmd}`,
    output.replace(/\s+$/, ''),
    fence,
  ].join('\n');
}

const ROOT = join(__dirname, '..', '..');

function documents(): string[] {
  const docs = join(ROOT, 'docs');
  return [
    join(ROOT, 'README.md'),
    ...readdirSync(docs)
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((f) => join(docs, f)),
  ];
}

/** Runs a figure's command from the repository root; its stdout, or an error naming the command and its exit. */
function produce(f: Figure): string {
  const words = f.cmd.split(/\s+/).filter(Boolean);
  const argv =
    words[0] === 'cnilab' ? [process.execPath, join(ROOT, 'dist/src/cli/main.js'), ...words.slice(1)] : words;
  const ns = `cnilab-docs-${process.pid}`;
  const run = (a: string[]) => spawnSync(a[0]!, a.slice(1), { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (f.netns && run(['ip', 'netns', 'add', ns]).status !== 0) throw new Error(`${f.name}: ip netns add ${ns} failed`);
  try {
    if (f.netns) run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    const r = run(f.netns ? ['nsenter', `--net=/run/netns/${ns}`, ...argv] : argv);
    if (r.status !== 0) throw new Error(`${f.name}: \`${f.cmd}\` exited ${r.status ?? r.signal}: ${r.stderr.trim()}`);
    return r.stdout;
  } finally {
    if (f.netns) run(['ip', 'netns', 'del', ns]);
  }
}

function main(args: string[]): void {
  const wanted = args.filter((a) => !a.startsWith('--'));
  const machine = `Linux ${release()}, ${cpus().length} CPUs`;
  const seen = new Set<string>();
  let failed = 0;
  for (const file of documents()) {
    const rel = file.slice(ROOT.length + 1);
    const text = readFileSync(file, 'utf8');
    const figures = figuresIn(text, rel).filter((f) => wanted.length === 0 || wanted.includes(f.name));
    for (const f of figures) seen.add(f.name);
    if (args.includes('--list')) {
      for (const f of figures) console.log(`${rel}  ${f.name}${f.netns ? ' (netns)' : ''}  ${f.cmd}`);
      continue;
    }
    const bodies = new Map<string, string>();
    for (const f of figures) {
      try {
        process.stderr.write(`${rel}: ${f.name}: ${f.cmd}\n`);
        bodies.set(f.name, body(f.cmd, produce(f), new Date(), machine));
      } catch (e) {
        failed++;
        process.stderr.write(`docs:figures: ${(e as Error).message}\n`);
      }
    }
    if (bodies.size > 0) writeFileSync(file, rewrite(text, bodies, rel));
  }
  for (const name of wanted.filter((n) => !seen.has(n))) {
    failed++;
    process.stderr.write(`docs:figures: no figure is named ${name}\n`);
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

if (require.main === module) main(process.argv.slice(2));
