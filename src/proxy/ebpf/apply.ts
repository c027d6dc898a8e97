/**
 * Writing a plan (plan.ts) to the pinned maps, in its order, each step one bpf(2) batch call made
 * in-process (koffi; src/lib/bpf.ts): at 30,000 Service ports that is four system calls where
 * `bpftool map update` would be a process per entry and `bpftool batch` a parse per line.
 */
import { BpfMap } from '../../lib/bpf';
import {
  ADDR_SIZE,
  BACKEND_KEY_SIZE,
  encodeAddr,
  encodeBackendKey,
  encodeServiceKey,
  encodeServiceValue,
  pins,
  readServices,
  SVC_KEY_SIZE,
  SVC_VALUE_SIZE,
  type ServiceKey,
  type ServiceValue,
} from './maps';
import type { Plan } from './plan';

/** What the services map holds, by serviceId. */
export function readHeld(dir: string): Map<string, { key: ServiceKey; value: ServiceValue }> {
  return BpfMap.with(pins(dir).maps.services, readServices);
}

export function applyPlan(dir: string, plan: Plan): void {
  const p = pins(dir).maps;
  BpfMap.with(p.services, (services) =>
    BpfMap.with(p.backends, (backends) => {
      const bw = plan.backendWrites;
      const bk = new Uint8Array(bw.length * BACKEND_KEY_SIZE);
      const bv = new Uint8Array(bw.length * ADDR_SIZE);
      bw.forEach((w, i) => {
        encodeBackendKey(w.id, w.slot, bk, i * BACKEND_KEY_SIZE);
        encodeAddr(w.addr, bv, i * ADDR_SIZE);
      });
      backends.updateBatch(bk, bv, bw.length);

      const sw = plan.serviceWrites;
      const sk = new Uint8Array(sw.length * SVC_KEY_SIZE);
      const sv = new Uint8Array(sw.length * SVC_VALUE_SIZE);
      sw.forEach((w, i) => {
        encodeServiceKey(w.key, sk, i * SVC_KEY_SIZE);
        encodeServiceValue(w.value, sv, i * SVC_VALUE_SIZE);
      });
      services.updateBatch(sk, sv, sw.length);

      const sd = new Uint8Array(plan.serviceDeletes.length * SVC_KEY_SIZE);
      plan.serviceDeletes.forEach((k, i) => encodeServiceKey(k, sd, i * SVC_KEY_SIZE));
      services.deleteBatch(sd, plan.serviceDeletes.length);

      const bd = new Uint8Array(plan.backendDeletes.length * BACKEND_KEY_SIZE);
      plan.backendDeletes.forEach((d, i) => encodeBackendKey(d.id, d.slot, bd, i * BACKEND_KEY_SIZE));
      backends.deleteBatch(bd, plan.backendDeletes.length);
    }),
  );
}
