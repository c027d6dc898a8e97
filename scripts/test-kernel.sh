#!/usr/bin/env bash
# npm run test:kernel: the kernel tier in a VM on each of Debian's stock kernel series, one VM after
# the other (scripts/kernel-vm.sh --kernel S): 6.1, Debian 12's own, then 6.12, the newer one
# bookworm ships (netkit built in).
#
# The split: 6.1 runs the whole tier (node scripts/test.js --kernel); 6.12 runs the part that
# changes from kernel to kernel (node scripts/test.js --kernel-subset: the files named ebpf,
# encryption, doctor, netkit or policy — the eBPF programs on that kernel's verifier and helpers,
# its WireGuard, what doctor finds there, netkit). The whole tier on both kernels would take longer
# than the tier's 30-minute budget (docs/kernel-vm.md, "What it costs"); --full runs it anyway.
#
# It stops at the first kernel whose tier fails, with that tier's exit code; every line it prints
# names the kernel.
#   npm run test:kernel                    6.1 whole, then 6.12's part
#   npm run test:kernel -- 6.12            one kernel (the series as scripts/kernel-vm.sh --kernel takes it)
#   npm run test:kernel -- --full [S…]     the whole tier on each kernel
# Before anything is built or booted, every kernel's VM must be able to start (kernel-vm.sh check
# says what to install or fetch, and exits 2).
set -euo pipefail
cd "$(dirname "$0")/.."

full=0 kernels=()
for arg in "$@"; do
  case "$arg" in
    --full) full=1 ;;
    -*)
      echo "test:kernel: unknown option $arg (known: --full; see the head of $0)" >&2
      exit 2
      ;;
    *) kernels+=("$arg") ;;
  esac
done
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12)

# What the tier runs on kernel $1: the first series (6.1, what most users run) whole, the others
# their part that changes with the kernel, unless --full.
tier_option() {
  if [ "$full" -eq 1 ] || [ "$1" = 6.1 ]; then echo --kernel; else echo --kernel-subset; fi
}

# What a kernel must have beyond its modules, where a test would otherwise skip (CNILAB_REQUIRE_FEATURES,
# test/integration/kernel.ts): 6.12 has netkit and IPv4 BIG TCP, so their tests fail there instead of
# skipping; 6.1 has neither, and its tier skips them with the probes' reasons.
required_features() {
  case "$1" in
    6.12) echo netkit,big-tcp ;;
    *) echo '' ;;
  esac
}

for k in "${kernels[@]}"; do scripts/kernel-vm.sh --kernel "$k" check; done
npm run build
for k in "${kernels[@]}"; do
  ver=$(scripts/kernel-vm.sh --kernel "$k" version)
  option=$(tier_option "$k")
  echo "test:kernel: kernel $k ($ver): node scripts/test.js $option" >&2
  start=$SECONDS rc=0
  CNILAB_REQUIRE_FEATURES=$(required_features "$k") \
    scripts/kernel-vm.sh --kernel "$k" --timeout 1800 -- node scripts/test.js "$option" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "test:kernel: FAILED on kernel $k ($ver), exit code $rc after $((SECONDS - start)) s;" \
      "not run: the kernels after it" >&2
    exit "$rc"
  fi
  echo "test:kernel: passed on kernel $k ($ver) in $((SECONDS - start)) s" >&2
done
echo "test:kernel: passed on kernels ${kernels[*]}" >&2
