#!/usr/bin/env node
/**
 * `npm run fuzz:api`: hostile clients against the controller's HTTP APIs (issue 31). Starts the
 * real controller process with all three services and credentials in a network namespace of its
 * own, sends N seeded requests of random methods, paths, headers and bodies (most with a node's
 * valid credential), and fails when the controller died, answered 5xx, let a node write another
 * node's object, or left its stores inconsistent. Prints the status counts per route.
 *   npm run fuzz:api -- [--requests N] [--seed S] [--json]
 * The seed is printed; the same seed replays the same requests (a failure names its index).
 */
import { randomInt } from 'node:crypto';
import { count, parseBenchArgs, str, UsageError } from '../bench/args';
import { fuzzApi, type FuzzResult } from './fuzz-api/run';

const USAGE = 'npm run fuzz:api -- [--requests N] [--seed S] [--json]';

/** The result as a table: one line per route, its statuses with counts; then the failures and the verdict. */
export function formatResult(r: FuzzResult): string {
  const routes = Object.keys(r.counts).sort((a, b) => routeKey(a).localeCompare(routeKey(b)));
  const width = Math.max(...routes.map((x) => x.length), 10);
  const lines = routes.map((route) => {
    const row = r.counts[route]!;
    const cells = Object.keys(row)
      .sort()
      .map((s) => `${s} ×${row[s]}`);
    return `${route.padEnd(width)}  ${cells.join('  ')}`;
  });
  const totals: Record<string, number> = {};
  for (const row of Object.values(r.counts)) for (const [s, n] of Object.entries(row)) totals[s] = (totals[s] ?? 0) + n;
  const senders = Object.entries(r.senders).map(([k, n]) => `${k} ${n}`);
  return [
    ...lines,
    '',
    `statuses: ${Object.keys(totals)
      .sort()
      .map((s) => `${s} ×${totals[s]}`)
      .join('  ')}`,
    `senders: ${senders.join(', ')}; with a node's credential ${r.withNodeCredential}, of which ` +
      `${r.pastAuthentication} past authentication (${pct(r.pastAuthentication, r.requests)} of all requests)`,
    ...r.failures.map((f) => `FAIL #${f.index} ${f.sender} ${f.method} ${f.path} → ${f.status}: ${f.reason}`),
    ...(r.failureCount > r.failures.length ? [`… and ${r.failureCount - r.failures.length} more failures`] : []),
    ...r.invariants.map((p) => `INVARIANT ${p}`),
    `${r.requests} requests in ${r.seconds} s, seed ${r.seed} (replay: ${USAGE.split(' [')[0]} --requests ${r.requests} ` +
      `--seed ${r.seed}); controller ${r.controllerAlive ? 'alive' : `DIED: ${r.controllerLog ?? ''}`}`,
  ].join('\n');
}

/** Why the run failed, in one line, or undefined. */
export function verdict(r: FuzzResult): string | undefined {
  if (!r.controllerAlive) return 'the controller died';
  if (r.failureCount)
    return `${r.failureCount} requests broke a rule (first: #${r.failures[0]?.index}: ${r.failures[0]?.reason})`;
  if (r.invariants.length) return `${r.invariants.length} store checks failed (first: ${r.invariants[0]})`;
  if (r.pastAuthentication * 2 < r.requests) return 'fewer than half the requests got past authentication';
  return undefined;
}

const pct = (n: number, of: number): string => `${of ? Math.round((100 * n) / of) : 0}%`;
/** Routes by path, then method; the bracketed kinds of junk last. */
const routeKey = (route: string): string => (route.startsWith('(') ? `~${route}` : `${route.split(' ')[1]} ${route}`);

async function main(): Promise<number> {
  let o;
  try {
    o = parseBenchArgs({ requests: count(10_000), seed: str() }, process.argv.slice(2));
    if (o.seed !== undefined && !/^\d{1,10}$/.test(o.seed))
      throw new UsageError(`--seed ${o.seed}: not a whole number`);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`fuzz:api: ${e.message}\nusage: ${USAGE}\n`);
    return 2;
  }
  const seed = o.seed === undefined ? randomInt(2 ** 31) : Number(o.seed) >>> 0;
  if (!o.json) console.log(`fuzz:api: ${o.requests} requests, seed ${seed}`);
  const ac = new AbortController();
  const onInt = (): void => ac.abort();
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onInt);
  try {
    const r = await fuzzApi({ requests: o.requests, seed, signal: ac.signal });
    const why = verdict(r);
    console.log(
      o.json ? JSON.stringify({ ...r, ok: why === undefined, ...(why ? { reason: why } : {}) }) : formatResult(r),
    );
    if (why) process.stderr.write(`fuzz:api: FAILED: ${why}\n`);
    return why ? 1 : 0;
  } catch (e) {
    process.stderr.write(`fuzz:api: ${ac.signal.aborted ? 'interrupted' : (e as Error).message}\n`);
    return ac.signal.aborted ? 130 : 1;
  }
}

if (require.main === module) void main().then((code) => process.exit(code));
