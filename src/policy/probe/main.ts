#!/usr/bin/env node
/**
 * The probe matrix's tool, run inside a pod's namespace:
 *   serve --ports 80,81,8080   listens on each port over TCP (answers "ok" and closes) and UDP
 *                              (echoes), on every address; prints "listening" once all are bound
 *   probe --timeout-ms 1000    reads targets [{ip, port, protocol}] as JSON on stdin, tries them all
 *         [--payload TEXT]     at once, prints [{...target, allowed, ms}]: TCP allowed = connected and
 *                              answered; UDP allowed = an echo came back (three tries in the time).
 *                              With --payload, TCP writes TEXT once connected and UDP sends TEXT (the
 *                              wire proof's marker, lab/wire-proof.ts)
 *   watch --targets JSON --ms D --every E   tries each target every E ms for D ms (or
 *                              until SIGTERM), each try bounded by E: prints [{...target, attempts,
 *                              allowed}] — how many got through while something changed (an agent's
 *                              restart)
 * Denied is silence until the timeout: the designs drop, as Calico and Cilium do.
 */
import { createSocket } from 'node:dgram';
import { createServer, connect } from 'node:net';

export interface ProbeTarget {
  readonly ip: string;
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
}

export interface ProbeResult extends ProbeTarget {
  readonly allowed: boolean;
  readonly ms: number;
}

function serve(ports: number[]): void {
  let bound = 0;
  const ready = (): void => {
    if (++bound === ports.length * 2) process.stdout.write('listening\n');
  };
  for (const port of ports) {
    createServer((s) => s.end('ok\n'))
      .on('error', (e) => fail(e))
      .listen(port, '0.0.0.0', ready);
    const u = createSocket('udp4');
    u.on('message', (m, r) => u.send(m, r.port, r.address));
    u.on('error', (e) => fail(e));
    u.bind(port, '0.0.0.0', ready);
  }
}

function tcp(t: ProbeTarget, timeoutMs: number, payload?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: t.ip, port: t.port });
    if (payload !== undefined) s.on('connect', () => s.write(payload));
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.on('data', () => done(true));
    s.on('error', () => done(false));
  });
}

function udp(t: ProbeTarget, timeoutMs: number, payload?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const u = createSocket('udp4');
    const tries: NodeJS.Timeout[] = [];
    const done = (ok: boolean): void => {
      tries.forEach(clearTimeout);
      clearTimeout(timer);
      u.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    u.on('message', () => done(true));
    u.on('error', () => undefined);
    for (const at of [0, timeoutMs / 4, timeoutMs / 2])
      tries.push(setTimeout(() => u.send(payload ?? `probe ${t.port}`, t.port, t.ip, () => undefined), at));
  });
}

async function probe(targets: ProbeTarget[], timeoutMs: number, payload?: string): Promise<ProbeResult[]> {
  return Promise.all(
    targets.map(async (t) => {
      const t0 = performance.now();
      const allowed = await (t.protocol === 'tcp' ? tcp(t, timeoutMs, payload) : udp(t, timeoutMs, payload));
      return { ...t, allowed, ms: Math.round(performance.now() - t0) };
    }),
  );
}

async function watch(targets: ProbeTarget[], ms: number, every: number): Promise<unknown[]> {
  let end = performance.now() + ms;
  process.on('SIGTERM', () => (end = 0));
  process.stdout.write('watching\n');
  return Promise.all(
    targets.map(async (t) => {
      let attempts = 0;
      let allowed = 0;
      while (performance.now() < end) {
        const t0 = performance.now();
        attempts++;
        if (await (t.protocol === 'tcp' ? tcp(t, every) : udp(t, every))) allowed++;
        const rest = every - (performance.now() - t0);
        if (rest > 0) await new Promise((r) => setTimeout(r, rest));
      }
      return { ...t, attempts, allowed };
    }),
  );
}

function fail(e: unknown): never {
  process.stderr.write(`cnilab-probe: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}

function flag(name: string, fallback?: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) fail(`${name} is required`);
  return v;
}

if (require.main === module) {
  const verb = process.argv[2];
  if (verb === 'serve') serve(flag('--ports').split(',').map(Number));
  else if (verb === 'watch')
    watch(JSON.parse(flag('--targets')) as ProbeTarget[], Number(flag('--ms')), Number(flag('--every', '50'))).then(
      (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
      fail,
    );
  else if (verb === 'probe') {
    let input = '';
    process.stdin.on('data', (d: Buffer) => (input += d.toString()));
    process.stdin.on('end', () => {
      const payload = process.argv.includes('--payload') ? flag('--payload') : undefined;
      probe(JSON.parse(input) as ProbeTarget[], Number(flag('--timeout-ms', '1000')), payload).then(
        (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
        fail,
      );
    });
  } else
    fail(
      'usage: main.js serve --ports P,… | probe [--timeout-ms MS] [--payload TEXT] < targets.json | watch --targets JSON --ms D [--every E]',
    );
}
