#!/usr/bin/env bash
# Runs a command inside a throw-away VM on one of Debian's stock kernels, with every module that
# kernel has (openvswitch, 8021q, ipvlan, sch_netem, …), for the code paths this host's kernel
# cannot take. The guest's root file system is this host's own `/`, shared read-only over
# virtio-9p with a tmpfs overlay on top: the guest runs the same node, plugins and tools as the
# host, and whatever it writes is gone when it stops — except in a folder given with --share, which
# it writes through to. The command's output streams to this terminal; its exit code is this script's.
#
# Software emulation (qemu -accel tcg): everything runs 15–60× slower than on the host. The VM
# proves function, never speed.
#
#   scripts/kernel-vm.sh [--kernel S] fetch     download and unpack series S's kernel (scripts/setup.sh --kernel-vm fetches both)
#   scripts/kernel-vm.sh [--kernel S] version   the guest kernel's version in series S (what `fetch` unpacked last)
#   scripts/kernel-vm.sh [--kernel S] check     exits non-zero, saying what to install or fetch, if a VM cannot start
#   scripts/kernel-vm.sh [--kernel S] [options] -- CMD ARG…  run CMD in the guest, in this folder
#     --kernel S       the kernel series (default 6.1):
#                        6.1   Debian 12's own kernel, the package behind linux-image-amd64
#                        6.12  the newer one bookworm ships, behind linux-image-6.12-amd64 (netkit built in)
#     --share DIR      DIR (made if missing) is writable in the guest, at the same path
#     --timeout SEC    stop the VM after SEC seconds (default 1800); exit code 124
#     --mem MIB        guest memory (default 3072)
#     --cpus N         guest CPUs (default: this host's, at most 4)
#     --env NAME       pass this environment variable to the guest (PATH, HOME and CNILAB_* always pass)
#
# The kernel is never installed on the host (a boot menu must not change): `fetch` downloads the
# package behind the series' metapackage with `apt-get download`, unpacks it with `dpkg -x` into
# $CNILAB_KERNEL_VM_CACHE/<version> (default /var/cache/cnilab/kernel-vm), names that version in
# the cache's current-<series> file, and removes the series' previous version (the other series'
# kernel stays). The guest bind-mounts that folder's modules over /lib/modules. The guest boots the
# raw ELF vmlinux (unpacked once from the compressed bzImage) through qboot and PVH, which saves
# seconds per boot against a BIOS.
# Ctrl-C, a timeout or any exit of this script stops the VM (by its PID) and removes its files.
set -euo pipefail

CACHE=${CNILAB_KERNEL_VM_CACHE:-/var/cache/cnilab/kernel-vm}
QBOOT=/usr/share/qemu/qboot.rom
die() {
  echo "kernel-vm: $*" >&2
  exit 2
}

# The kernel series and the Debian metapackage each follows: the package it depends on is the
# series' current kernel (linux-image-amd64 moves with Debian 12's point releases).
declare -A METAPACKAGE=([6.1]=linux-image-amd64 [6.12]=linux-image-6.12-amd64)
KNOWN_SERIES='6.1, 6.12'
series=6.1

# The file naming the series' current version. Before there were two series the cache had one,
# `current`: it still names 6.1's, for the checkouts whose kernel-vm.sh reads only that.
current_file() { echo "$CACHE/current-$series"; }

need_tools() {
  local missing=()
  command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
  # The initramfs' init is busybox itself: it must be the static build (Debian's plain busybox is not).
  [ -x /bin/busybox ] && /bin/busybox --list | grep -x cpio >/dev/null && ! ldd /bin/busybox >/dev/null 2>&1 ||
    missing+=(busybox-static)
  [ -f "$QBOOT" ] || missing+=(qemu-system-data)
  [ ${#missing[@]} -eq 0 ] || die "missing ${missing[*]}: run scripts/setup.sh --kernel-vm (as root)"
}

# Unpacks the compressed kernel's payload into a raw ELF vmlinux. Which compressor a kernel used is
# probed, not assumed from its version: Debian's 6.1 uses xz, its 6.12 zstd.
extract_vmlinux() {
  local image=$1 out=$2
  try_payload "$image" "$out" '\375\067\172\130\132\000' '\n12345' xz ||
    try_payload "$image" "$out" '\050\265\057\375' '\n123' zstd ||
    die "no xz- or zstd-compressed ELF kernel inside $image"
}

# Tries each place the compressor's magic (octal bytes `magic`) starts in the image. The magic's
# first byte becomes a newline and the rest digits (`marks`), so each candidate starts a line
# whose 0-based offset is the magic's 1-based one.
try_payload() {
  local image=$1 out=$2 magic=$3 marks=$4 tool=$5 off
  command -v "$tool" >/dev/null || die "missing $tool (to unpack the kernel): run scripts/setup.sh --kernel-vm (as root)"
  for off in $(LC_ALL=C tr "$magic" "$marks" <"$image" |
    LC_ALL=C grep -abo "^${marks:2}" | cut -d: -f1); do
    tail -c +"$off" "$image" | "$tool" -dc >"$out" 2>/dev/null || true
    if [ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" = '177ELF' ]; then return 0; fi
  done
  rm -f "$out"
  return 1
}

fetch() {
  [ "$(id -u)" -eq 0 ] || die "fetch: run as root"
  local meta=${METAPACKAGE[$series]} pkg ver dir tmp previous
  pkg=$(apt-cache depends "$meta" 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
  [ -n "$pkg" ] || die "apt knows no $meta (is this Debian 12? run apt-get update)"
  ver=${pkg#linux-image-}
  dir=$CACHE/$ver
  previous=$(current_recorded)
  if [ -f "$dir/vmlinux" ]; then
    record_current "$ver"
    echo "kernel-vm: kernel $ver (series $series) is in $dir" >&2
    return 0
  fi
  mkdir -p "$CACHE"
  tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "kernel-vm: fetching $pkg into $dir (not installed on this host)" >&2
  local deb='' try
  for try in 1 2; do
    (cd "$tmp" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) || true
    deb=$(compgen -G "$tmp/*.deb" | head -1) || true
    [ -z "$deb" ] && [ "$try" -eq 1 ] || break
    echo "kernel-vm: download failed; refreshing the package lists (apt-get update) and trying again" >&2
    apt-get update -qq || true
  done
  [ -n "$deb" ] || die "apt-get download $pkg failed (see above)"
  dpkg-deb -f "$deb" Version >"$tmp/package-version"
  dpkg -x "$deb" "$tmp/root"
  rm -f "$deb"
  depmod -b "$tmp/root" "$ver"
  extract_vmlinux "$tmp/root/boot/vmlinuz-$ver" "$tmp/vmlinux"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  trap - EXIT
  record_current "$ver"
  # The series' earlier kernel (its metapackage moved on): ~440 MB, no longer used. Only the one
  # this series' current file named: the other series' kernel stays.
  if [ -n "$previous" ] && [ "$previous" != "$ver" ] && [ -d "$CACHE/$previous" ]; then
    echo "kernel-vm: removing the previous $series kernel $previous" >&2
    rm -rf "${CACHE:?}/$previous"
  fi
  echo "kernel-vm: kernel $ver ($(cat "$dir/package-version")) ready in $dir" >&2
}

# The version the series' current file names (6.1's may still be in the old `current`), or nothing.
current_recorded() {
  local ver
  ver=$(cat "$(current_file)" 2>/dev/null) || true
  [ -n "$ver" ] || [ "$series" != 6.1 ] || ver=$(cat "$CACHE/current" 2>/dev/null) || true
  echo "$ver"
}

record_current() {
  echo "$1" >"$(current_file)"
  [ "$series" != 6.1 ] || echo "$1" >"$CACHE/current"
}

current_version() {
  local ver
  ver=$(current_recorded)
  [ -n "$ver" ] && [ -f "$CACHE/$ver/vmlinux" ] ||
    die "kernel $series is not fetched: run scripts/kernel-vm.sh --kernel $series fetch (or scripts/setup.sh --kernel-vm), as root"
  echo "$ver"
}

# The initramfs: busybox and the modules that mount the shared root (9p over virtio-pci, overlay).
make_initramfs() {
  local ver=$1 job=$2 root=$CACHE/$ver/root dir=$job/initramfs m
  mkdir -p "$dir"/{bin,dev,proc,sys,mnt/lower,mnt/upper,mnt/root,lib/modules}
  cp /bin/busybox "$dir/bin/busybox"
  : >"$dir/modules"
  while read -r m; do
    cp "$m" "$dir/lib/modules/"
    echo "/lib/modules/$(basename "$m")" >>"$dir/modules"
  done < <(modprobe -d "$root" -S "$ver" --show-depends -a 9p 9pnet_virtio virtio_pci overlay |
    awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++')
  cat >"$dir/init" <<'EOF'
#!/bin/busybox sh
# Stage 1: mount this host's / read-only (9p) under a tmpfs overlay, then hand over to the job's guest.sh.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
fail() { echo "kernel-vm guest: $*" >/dev/console; echo o >/proc/sysrq-trigger; sleep 5; }
for m in $(cat /modules); do insmod "$m" || fail "insmod $m"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 root /mnt/lower || fail "mount root"
mount -t tmpfs -o mode=755 upper /mnt/upper && mkdir -p /mnt/upper/u /mnt/upper/w
mount -t overlay -o lowerdir=/mnt/lower,upperdir=/mnt/upper/u,workdir=/mnt/upper/w overlay /mnt/root ||
  fail "mount overlay"
# A fresh /run: the host's holds its own labs' state and namespaces. /tmp stays the host's, under
# the overlay like everything else (a checkout or a --share folder may live there).
mount -t tmpfs -o mode=755 run /mnt/root/run
mkdir -p /mnt/root/run/kernel-vm
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 job /mnt/root/run/kernel-vm || fail "mount job"
for d in proc sys dev; do mount --move "/$d" "/mnt/root/$d"; done
exec switch_root /mnt/root /bin/bash /run/kernel-vm/guest.sh
EOF
  chmod 755 "$dir/init"
  (cd "$dir" && find . | /bin/busybox cpio -o -H newc 2>/dev/null) >"$job/initramfs.cpio"
  rm -rf "$dir"
}

# Stage 2, in the guest's root: the kernel's modules, the usual mounts, the command, its exit code.
write_guest() {
  local ver=$1 job=$2
  {
    echo '#!/bin/bash'
    echo "KVER=$(printf %q "$ver")"
    echo "KERNEL_MODULES=$(printf %q "$CACHE/$ver/root/lib/modules/$ver")"
    echo "SHARE=$(printf %q "${share:-}")"
    echo "WORKDIR=$(printf %q "$PWD")"
    cat <<'EOF'
set -u
exec </dev/null >/dev/console 2>&1
# (Every program started costs ~60 ms under emulation: builtins where they do.)
mkdir -p "/lib/modules/$KVER" && mount --bind "$KERNEL_MODULES" "/lib/modules/$KVER"
mkdir -p /dev/pts /dev/shm /sys/fs/cgroup
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
ln -sf /proc/self/fd /dev/fd; ln -sf fd/0 /dev/stdin; ln -sf fd/1 /dev/stdout; ln -sf fd/2 /dev/stderr
# The device nodes that load their module on first open (/dev/net/tun, …), as a booted system's
# kmod static-nodes makes them: devtmpfs has them only once their module is loaded.
while read -r mod name dev; do
  [ "${mod:0:1}" != '#' ] && [ -n "$dev" ] && [ ! -e "/dev/$name" ] || continue
  [ "${name%/*}" = "$name" ] || mkdir -p "/dev/${name%/*}"
  nums=${dev:1}
  mknod "/dev/$name" "${dev:0:1}" "${nums%:*}" "${nums#*:}"
done <"/lib/modules/$KVER/modules.devname"
mkdir -p /var/run /var/tmp && chmod 1777 /var/tmp
hostname kernel-vm
ip link set lo up
# ipip loaded now, as a host that uses it has it: loading it makes the fallback tunl0 in every
# namespace, this root one too, and the suite compares the root namespace before and after.
modprobe ipip 2>/dev/null || true
# br_netfilter, as a Kubernetes node has it (kubeadm requires it; this host's kernel has it built
# in): a bridged packet crosses netfilter, so a netfilter Service proxy sees a same-node backend's
# reply to undo its DNAT. Loading it sets nothing in the root namespace but its sysctls' defaults.
modprobe br_netfilter 2>/dev/null || true
if [ -n "$SHARE" ]; then
  mkdir -p "$SHARE" && mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 share "$SHARE"
fi
set -a; . /run/kernel-vm/env; set +a
if ! cd "$WORKDIR"; then
  echo "kernel-vm: the guest has no $WORKDIR (the host's /run is not shared): run from another folder"
  echo 125 >/run/kernel-vm/rc; sync; echo o >/proc/sysrq-trigger; sleep 10
fi
echo "kernel-vm: guest kernel $(uname -r), $(nproc) CPUs; running: $(cat /run/kernel-vm/cmd.txt)"
bash /run/kernel-vm/cmd.sh
echo $? >/run/kernel-vm/rc
sync
echo o >/proc/sysrq-trigger
sleep 10
EOF
  } >"$job/guest.sh"
}

run_vm() {
  local timeout=1800 mem=3072 cpus share='' envs=()
  cpus=$(nproc)
  [ "$cpus" -le 4 ] || cpus=4
  while [ $# -gt 0 ]; do
    case "$1" in
      --share) share=$(realpath -m "${2:?--share needs a folder}"); shift 2 ;;
      --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
      --mem) mem=${2:?--mem needs MiB}; shift 2 ;;
      --cpus) cpus=${2:?--cpus needs a number}; shift 2 ;;
      --env) envs+=("${2:?--env needs a name}"); shift 2 ;;
      --) shift; break ;;
      *) die "unknown option $1 (see the head of $0)" ;;
    esac
  done
  [ $# -gt 0 ] || die "no command: scripts/kernel-vm.sh [options] -- CMD ARG…"
  [[ "$timeout" =~ ^[1-9][0-9]*$ ]] || die "--timeout $timeout: must be a whole number of seconds"
  [ "$(id -u)" -eq 0 ] || die "run as root (the guest's tests create network namespaces)"
  local ver rc
  ver=$(current_version)
  need_tools
  job='' qemu_pid=''
  job=$(mktemp -d /tmp/cnilab-kernel-vm.XXXXXX)
  cleanup() {
    trap '' INT TERM # a second Ctrl-C must not cut the clean-up short
    [ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true
    [ -z "$qemu_pid" ] || wait "$qemu_pid" 2>/dev/null || true
    [ -z "$job" ] || rm -rf "$job"
  }
  trap cleanup EXIT
  trap 'echo "kernel-vm: interrupted; VM stopped" >&2; exit 130' INT
  trap 'echo "kernel-vm: terminated; VM stopped" >&2; exit 143' TERM
  [ -z "$share" ] || mkdir -p "$share"
  echo "kernel-vm: Debian kernel $ver ($(cat "$CACHE/$ver/package-version" 2>/dev/null || echo 'version unknown'))," \
    "series $series, software emulation: function, not speed" >&2
  make_initramfs "$ver" "$job"
  write_guest "$ver" "$job"
  printf '%q ' "$@" >"$job/cmd.sh"
  printf '%s ' "$@" >"$job/cmd.txt"
  {
    local n
    for n in PATH HOME TERM NODE_OPTIONS "${envs[@]}" $(compgen -e | grep '^CNILAB_' || true); do
      [ -z "${!n+x}" ] || echo "$n=$(printf %q "${!n}")"
    done
  } >"$job/env"
  local jobq=${job//,/,,} shareq=${share//,/,,}
  local fs=(
    -fsdev "local,id=root,path=/,security_model=passthrough,readonly=on,multidevs=remap"
    -device virtio-9p-pci,fsdev=root,mount_tag=root
    -fsdev "local,id=job,path=$jobq,security_model=passthrough"
    -device virtio-9p-pci,fsdev=job,mount_tag=job
  )
  [ -z "$share" ] || fs+=(
    -fsdev "local,id=share,path=$shareq,security_model=passthrough"
    -device virtio-9p-pci,fsdev=share,mount_tag=share
  )
  # `timeout` stops qemu at the deadline (and kills it 10 s later if it has not ended), and passes
  # on the TERM that cleanup sends it.
  timeout -k 10 "$timeout" qemu-system-x86_64 -machine pc,accel=tcg -cpu max -smp "$cpus" -m "$mem" \
    -nodefaults -no-user-config -display none -no-reboot \
    -bios "$QBOOT" -kernel "$CACHE/$ver/vmlinux" -initrd "$job/initramfs.cpio" \
    -append "console=ttyS0 quiet loglevel=1 panic=-1 rdinit=/init" \
    -serial stdio "${fs[@]}" </dev/null &
  qemu_pid=$!
  rc=0
  wait "$qemu_pid" || rc=$?
  qemu_pid=''
  if [ "$rc" -eq 124 ]; then
    echo "kernel-vm: timed out after ${timeout}s; VM stopped" >&2
  elif [ -f "$job/rc" ]; then
    rc=$(cat "$job/rc")
  else
    echo "kernel-vm: the VM stopped before the command ended (see its console above)" >&2
    rc=125
  fi
  return "$rc"
}

# --kernel S, before the verb or among the run's options (never after `--`: that is the command's).
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --kernel)
      [ $# -ge 2 ] || die "--kernel needs a series: known: $KNOWN_SERIES"
      series=$2
      shift 2
      ;;
    --)
      args+=("$@")
      break
      ;;
    *)
      args+=("$1")
      shift
      ;;
  esac
done
[ -n "${METAPACKAGE[$series]+x}" ] || die "--kernel $series: unknown; known: $KNOWN_SERIES"
set -- "${args[@]+"${args[@]}"}"

case "${1:-}" in
  fetch) fetch ;;
  version) current_version ;;
  check) need_tools && current_version >/dev/null ;;
  '') die "usage: scripts/kernel-vm.sh [--kernel S] fetch | version | check | [options] -- CMD ARG…" ;;
  *) run_vm "$@" ;;
esac
