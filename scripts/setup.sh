#!/usr/bin/env bash
# Installs whatever cnilab needs that is missing (Debian/Ubuntu, as root), then its npm
# dependencies, then builds it. Safe to run again: it installs only what is missing.
#   scripts/setup.sh           what `cnilab run` and the tests need
#   scripts/setup.sh --test    also what the tests need (Chromium, to open the report)
#   scripts/setup.sh --bench   also what the benchmarks compare against (Mininet) and perf
#   scripts/setup.sh --kernel-vm  also the kernel tier's VM (npm run test:kernel): qemu, busybox and
#                              Debian's stock kernels 6.1 and 6.12, unpacked into a cache folder,
#                              never installed (scripts/kernel-vm.sh --kernel S fetch)
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "setup: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (cnilab creates network namespaces): sudo $0 $*"
command -v node >/dev/null ||
  die "Node.js 20 or newer is needed: install it first (https://nodejs.org or your distribution)"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || die "Node.js $(node -v) is too old: cnilab needs 20 or newer"

# iproute2: ip/bridge; iperf3: throughput; sockperf: latency (IPv4 only in Debian 12's 3.7); iperf (iperf 2): the
# rtt test's TCP round trips (--bounceback), in IPv6 as in IPv4; procps: sysctl; util-linux: nsenter,
# taskset; kmod: modprobe -n; fonts-dejavu-core: the text of the charts' PNGs; openvswitch-switch:
# the Kuryr architectures' OVS (the lab runs its own instances); ethtool: offloads off for OVS' userspace datapath;
# iptables, nftables: the CNI plugins' ipMasq and macspoofchk, and the proxy modes; ipvsadm, ipset: the ipvs
# proxy mode; containernetworking-plugins: the reference
# CNI plugins (/usr/lib/cni), which the conformance tests and bench:cni compare cnilab's plugins against;
# clang, llvm, libbpf-dev: `npm run build` compiles the eBPF data path (src/ebpf/bpf/datapath.c);
# bpftool: the ebpf architectures' agents load it (without them those architectures skip, saying why);
# bird2: the calico-bgp architecture's BGP speaker (the lab runs one per node, in its namespace);
# wireguard-tools: `wg`, which configures the WireGuard architectures' devices; wireguard-go: their device on a kernel
# without WireGuard (each node's in a mount namespace of its own); tcpdump: the proof that encrypted rows were
# encrypted, captured on the lab's switch
kernel_vm=0
pkgs=(iproute2 iperf3 sockperf iperf iputils-ping procps util-linux kmod fonts-dejavu-core openvswitch-switch ethtool
  iptables nftables ipvsadm ipset containernetworking-plugins clang llvm libbpf-dev bpftool bird2 wireguard-tools
  wireguard-go tcpdump)
for arg in "$@"; do
  case "$arg" in
    --test) pkgs+=(chromium) ;;
    --bench) pkgs+=(mininet bridge-utils socat openvpn linux-perf) ;;
    --kernel-vm) pkgs+=(qemu-system-x86 qemu-system-data busybox-static xz-utils zstd) kernel_vm=1 ;;
    *) die "unknown option $arg (known: --test, --bench, --kernel-vm)" ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # No package may start its service in the host's namespaces (bird2 starts bird.service, which
  # would speak BGP there): policy-rc.d says no while we install, and goes with us.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$kernel_vm" -eq 1 ]; then
  apt-cache show linux-image-amd64 linux-image-6.12-amd64 >/dev/null 2>&1 || apt-get update -qq
  # Both series the kernel tier runs on (npm run test:kernel): Debian 12's 6.1 and its 6.12.
  scripts/kernel-vm.sh --kernel 6.1 fetch
  scripts/kernel-vm.sh --kernel 6.12 fetch
fi

# npm ci also installs Bun (the optional @oven/bun-linux-x64, pinned): the CNI plugins' runtime,
# which starts in ~6 ms where Node takes ~70 (scripts/make-cni-bin.js; cnilab doctor reports it).
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
runtime=$(node -p 'require("./dist/cni-bin/.runtime.json").runtime')
[ -f dist/bpf/datapath.o ] ||
  echo "setup: the eBPF data path did not build ($(node -p 'require("./dist/bpf/build.json").reason'));" \
    "the ebpf architectures will skip" >&2
[ "$runtime" = bun ] ||
  echo "setup: Bun did not install or run here;" \
    "cnilab's CNI plugins will run under Node, each start ~70 ms slower" >&2
