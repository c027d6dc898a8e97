#!/usr/bin/env node
/**
 * The realization probe, run in the second client's namespace (lab-run.ts starts it there):
 *   --host IP --port P --deadline-sec S [--every-ms I] [--every-pct P] [--timeout-ms T]
 * starts a fresh TCP connection every I ms (and at least P% of the time since it began: within P%
 * of the wait, without thousands of half-open sockets on a long one), each on its own — not after
 * the last one failed, so a dropped SYN costs the measurement nothing but the spacing. It prints
 * "started" once its first connection is under way, and at the first connection established (the
 * SYN that the new rule let through, and its SYN-ACK) one JSON line {firstAt (ms since the epoch),
 * attempts}; {attempts} alone when the deadline passes first.
 *
 * Why not the crr client's `--until`: its connections run one after another, each waiting out its
 * timeout when dropped, so a change shows only at the next timeout — the measure would be the
 * timeout's, not the design's.
 */
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    'deadline-sec': { type: 'string', default: '60' },
    'every-ms': { type: 'string', default: '1' },
    'every-pct': { type: 'string', default: '1' },
    'timeout-ms': { type: 'string', default: '900' },
  },
});
const [host, port] = [values.host ?? '', Number(values.port)];
const [everyMs, everyPct, timeoutMs] = [values['every-ms'], values['every-pct'], values['timeout-ms']].map(Number);
const t0 = performance.now();
const deadline = t0 + Number(values['deadline-sec']) * 1000;
const open = new Set<Socket>();
let attempts = 0;
let over = false;

const finish = (firstAt?: number): void => {
  if (over) return;
  over = true;
  for (const s of open) s.destroy();
  console.log(JSON.stringify({ ...(firstAt !== undefined ? { firstAt } : {}), attempts }));
  process.exit(0);
};

function attempt(): void {
  if (over) return;
  if (performance.now() > deadline) return finish();
  attempts++;
  const s = connect({ host, port });
  open.add(s);
  const done = (): void => {
    clearTimeout(timer);
    open.delete(s);
    s.destroy();
  };
  const timer = setTimeout(done, timeoutMs);
  s.on('connect', () => finish(performance.timeOrigin + performance.now()));
  s.on('error', done);
  s.on('close', done);
  if (attempts === 1) console.log('started');
  setTimeout(attempt, Math.max(everyMs!, ((performance.now() - t0) * everyPct!) / 100));
}

if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('realize-probe: --host IP --port P');
  process.exit(2);
}
process.on('SIGTERM', () => finish());
attempt();
