#!/usr/bin/env node
/**
 * The crr tool as a process, run in a namespace (run.ts starts it there):
 *   serve --port P --name N [--bind IP]    prints "listening" once it listens, serves until SIGTERM;
 *   connect --host IP --port P --count N [--concurrency C] [--duration S] [--timeout-ms T]
 *           [--until NAME [--interval-ms I] [--interval-pct P]]
 *                                          prints one CrrResult as JSON; with --until it stops once
 *                                          server NAME answers, and prints "first" at the first answer.
 */
import { parseArgs } from 'node:util';
import { crr } from './client';
import { crrServer } from './server';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string' },
    name: { type: 'string', default: 'server' },
    bind: { type: 'string', default: '0.0.0.0' },
    host: { type: 'string' },
    count: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '1' },
    duration: { type: 'string' },
    'timeout-ms': { type: 'string', default: '2000' },
    until: { type: 'string' },
    'interval-ms': { type: 'string', default: '0' },
    'interval-pct': { type: 'string', default: '0' },
  },
});

const fail = (m: string): never => {
  console.error(`cnilab-crr: ${m}`);
  process.exit(2);
};
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) fail('--port: a port from 1 to 65535');

if (positionals[0] === 'serve') {
  const server = crrServer(values.name);
  server.on('error', (e) => fail(`cannot listen on ${values.bind}:${port}: ${e.message}`));
  server.listen(port, values.bind, () => console.log('listening'));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else if (positionals[0] === 'connect') {
  if (!values.host) fail('--host is required');
  crr({
    host: values.host!,
    port,
    count: Number(values.count),
    concurrency: Number(values.concurrency),
    timeoutMs: Number(values['timeout-ms']),
    ...(values.duration ? { durationSec: Number(values.duration) } : {}),
    ...(values.until
      ? {
          until: values.until,
          intervalMs: Number(values['interval-ms']),
          intervalPct: Number(values['interval-pct']),
          onFirst: () => console.log('first'),
        }
      : {}),
  }).then((r) => console.log(JSON.stringify(r)));
} else fail('usage: serve --port P --name N | connect --host IP --port P --count N');
