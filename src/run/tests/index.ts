/** Every test a run knows, by name: one module each beside this file. */
import { Registry } from '../../lib/registry';
import { TESTS } from '../results-schema';
import { crr } from './crr';
import { latency } from './latency';
import { latencyLoaded } from './latency-loaded';
import { pps } from './pps';
import { rtt } from './rtt';
import { sweep } from './sweep';
import { tcp } from './tcp';
import { tcpParallel } from './tcp-parallel';
import type { RunTest } from './test';
import { udp } from './udp';

export const runTests = new Registry<RunTest>('test', 'INVALID_INPUT');
for (const t of [tcp, tcpParallel, udp, pps, sweep, latency, latencyLoaded, rtt, crr]) runTests.register(t.name, t);

// results.json names its tests in a schema enum: the registry and the schema must agree.
if (runTests.names().join() !== TESTS.join())
  throw new Error(`run tests ${runTests.names().join()} differ from the results schema's ${TESTS.join()}`);
