/**
 * The ebpf tests' one condition: the data path loads here (clang built it, bpftool runs, the
 * verifier accepts it, tc attaches it — `cnilab doctor`'s `ebpf` feature, probed for real). Where it
 * does not, they skip with that reason — except where CNILAB_REQUIRE_EBPF=1 (.ci/run sets it) and in
 * the kernel tier's VM: there an eBPF skip is a failure, so CI can never pass by skipping them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addNetns, deleteNetns, ip } from '../../src/lib/netns';
import { PREFIX } from '../../src/lab/names';
import { probeEbpf } from '../../src/ebpf/probe';

let probed: Promise<string | false> | undefined;

/** Why the eBPF data path cannot run here, or false. */
export function ebpfMissing(): Promise<string | false> {
  probed ??= (async () => {
    const ns = `${PREFIX}t-ebpfprobe`;
    await deleteNetns(ns).catch(() => undefined);
    await addNetns(ns);
    try {
      await ip({ name: ns }, ['link', 'add', 'pv0', 'type', 'veth', 'peer', 'name', 'pv1']);
      const r = await probeEbpf(ns, 'pv0');
      return r.ok ? false : r.detail;
    } finally {
      await deleteNetns(ns);
    }
  })();
  return probed;
}

/** A test that needs the eBPF data path: skipped with the reason where it cannot load, failed where it must. */
export function ebpfTest(name: string, fn: (t: test.TestContext) => Promise<void>): void {
  test(name, async (t) => {
    const missing = await ebpfMissing();
    if (missing && process.env.CNILAB_REQUIRE_EBPF === '1')
      assert.fail(`CNILAB_REQUIRE_EBPF=1 and the eBPF data path cannot load here: ${missing}`);
    if (missing && process.env.CNILAB_KERNEL_TIER === '1')
      assert.fail(`the kernel tier proves the eBPF data path on its kernel, and it cannot load: ${missing}`);
    if (missing) return t.skip(missing);
    await fn(t);
  });
}
