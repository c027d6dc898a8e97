#!/usr/bin/env bash
# npm run test:kernel: the kernel tier (node scripts/test.js --kernel) in a VM on each of Debian's
# stock kernel series, one VM after the other (scripts/kernel-vm.sh --kernel S): 6.1, Debian 12's
# own, then 6.12, the newer one bookworm ships (netkit built in). Each kernel runs the whole tier.
# It stops at the first kernel whose tier fails, with that tier's exit code; every line it prints
# names the kernel.
#   npm run test:kernel               both kernels, 6.1 first
#   npm run test:kernel -- 6.12       one kernel (the series as scripts/kernel-vm.sh --kernel takes it)
# Before anything is built or booted, every kernel's VM must be able to start (kernel-vm.sh check
# says what to install or fetch, and exits 2).
set -euo pipefail
cd "$(dirname "$0")/.."

kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12)
for k in "${kernels[@]}"; do scripts/kernel-vm.sh --kernel "$k" check; done
npm run build
for k in "${kernels[@]}"; do
  ver=$(scripts/kernel-vm.sh --kernel "$k" version)
  echo "test:kernel: the kernel tier on kernel $k ($ver)" >&2
  start=$SECONDS rc=0
  scripts/kernel-vm.sh --kernel "$k" --timeout 1800 -- node scripts/test.js --kernel || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "test:kernel: FAILED on kernel $k ($ver), exit code $rc after $((SECONDS - start)) s;" \
      "not run: the kernels after it" >&2
    exit "$rc"
  fi
  echo "test:kernel: passed on kernel $k ($ver) in $((SECONDS - start)) s" >&2
done
echo "test:kernel: passed on kernels ${kernels[*]}" >&2
