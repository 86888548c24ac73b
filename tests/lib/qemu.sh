# Sourceable helpers that boot Debian's generic kernel in QEMU (software
# emulation only: KVM hangs on the build host, so -enable-kvm is never used).
#
#   qemu_kernel
#       Fetch and unpack Debian 12's linux-image-amd64 once (cached in
#       ${BUILD}/cache/qemu/ by debian_kernel, scripts/debian-kernel.sh),
#       then set:
#         QEMU_KVER        kernel release, e.g. 6.1.0-56-amd64
#         QEMU_VMLINUZ     the kernel image
#         QEMU_KROOT       unpacked tree: $QEMU_KROOT/lib/modules/$QEMU_KVER
#                          (depmod -b has been run on it)
#         QEMU_KERNEL_DEB  the linux-image-*.deb it came from
#
#   qemu_initramfs OUT.cpio.gz [ITEM…] [--modules "virtio_blk dm-mod …"]
#                  [--script FILE] [--net static|dhcp]
#       A busybox (busybox-static) initramfs. Its /init mounts proc, sys and
#       devtmpfs, loads the modules (and their dependencies from modules.dep,
#       in order), configures eth0 when asked, runs FILE with sh and powers
#       off. ITEM is
#         DIR        its content is copied into the initramfs root
#         FILE       copied to the same absolute path
#         SRC=DEST   SRC copied to DEST (absolute path inside)
#       An ELF executable item brings its ld.so and the libraries ldd
#       names, so it runs inside. Serial-console markers:
#         "HARNESS: init", "HARNESS: modules loaded", "HARNESS: net up …",
#         "HARNESS-EXIT: N" (the script's exit status), "HARNESS: poweroff".
#       The net mode may also come from the kernel command line:
#       harness.net=static|dhcp. QEMU's user network: the guest is
#       10.0.2.15/24, the host's 127.0.0.1 is reachable as 10.0.2.2.
#
#   qemu_deb PKG
#       Download Debian package PKG (once, cached in ${BUILD}/cache/qemu/)
#       and print the directory it is unpacked in, e.g. to put mdadm into a
#       guest without installing it on the host.
#
#   qemu_run KERNEL INITRD [--disk IMG]… [--disk-ro IMG]… [--net]
#            [--append ARGS] [--timeout S] [--log FILE] [--mem MB]
#            [--extra QEMU-ARG]…
#       Boot (KERNEL may be "" to boot without -kernel, e.g. with --extra
#       -cdrom …). Serial console goes to the log; returns 0 when the guest
#       powered off by itself, 124 on timeout, else qemu's status. Sets
#         QEMU_LOG      the serial log
#         QEMU_GUEST_RC the script's exit status from "HARNESS-EXIT: N"
#                       (empty when the marker is missing)
#
# Depends on BUILD and, when QEMU_TMP is unset, on $T (tests/integration/lib.sh).

: "${DEBIAN_MIRROR:=http://deb.debian.org/debian}"

qemu_require() {
  local p
  for p in qemu-system-x86_64 busybox cpio depmod dpkg-deb apt-get; do
    command -v "$p" >/dev/null 2>&1 || { echo "qemu.sh: $p missing (make deps)"; return 1; }
  done
  # The static busybox: the initramfs has no libc of its own.
  if ! file -L "$(command -v busybox)" 2>/dev/null | grep -q 'statically linked'; then
    echo "qemu.sh: busybox is not static (apt-get install busybox-static)"; return 1
  fi
}

# The kernel and package cache: scripts/debian-kernel.sh (shared with the
# rescue ISO build); these keep the QEMU_* names the tests use.
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/debian-kernel.sh"

qemu_kernel() {
  debian_kernel || return 1
  QEMU_KVER=$DEBIAN_KVER
  QEMU_KERNEL_DEB=$DEBIAN_KERNEL_DEB
  QEMU_KROOT=$DEBIAN_KROOT
  QEMU_VMLINUZ=$DEBIAN_VMLINUZ
  export QEMU_KVER QEMU_KERNEL_DEB QEMU_KROOT QEMU_VMLINUZ
}

qemu_deb() {
  debian_deb "$@"
}

# The module files for the names given, dependencies first (see
# debian_modules_resolve), from the kernel qemu_kernel set up.
qemu_modules_resolve() {
  DEBIAN_KROOT=$QEMU_KROOT DEBIAN_KVER=$QEMU_KVER debian_modules_resolve "$@"
}

# Copy an ELF executable's ld.so and libraries (as ldd resolves them) into ROOT.
_qemu_copy_libs() {
  local root=$1 bin=$2 lib
  ldd "$bin" >/dev/null 2>&1 || return 0   # static, or not ELF
  for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
    [ -e "$lib" ] || continue
    [ -e "$root$lib" ] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

_qemu_add_item() {
  local root=$1 item=$2 src dest
  if [ -d "$item" ]; then
    cp -a "$item/." "$root/"
    return
  fi
  case $item in
    *=*) src=${item%%=*}; dest=${item#*=};;
    *) src=$item; dest=$(readlink -f "$item");;
  esac
  [ -e "$src" ] || { echo "qemu_initramfs: no such file: $src" >&2; return 1; }
  case $dest in /*) ;; *) echo "qemu_initramfs: destination must be absolute: $dest" >&2; return 1;; esac
  mkdir -p "$root$(dirname "$dest")"
  cp -L "$src" "$root$dest"
  [ -x "$src" ] && _qemu_copy_libs "$root" "$src"
  return 0
}

qemu_initramfs() {
  local out=${1:?usage: qemu_initramfs OUT.cpio.gz [ITEM…] [--modules LIST] [--script FILE] [--net MODE]}
  shift
  local modules="" script="" net="" items=()
  while [ $# -gt 0 ]; do
    case $1 in
      --modules) modules=$2; shift 2;;
      --script) script=$2; shift 2;;
      --net) net=$2; shift 2;;
      --) shift; items+=("$@"); break;;
      *) items+=("$1"); shift;;
    esac
  done
  case $net in ""|static|dhcp) ;; *) echo "qemu_initramfs: --net static|dhcp" >&2; return 1;; esac
  [ -n "${QEMU_KVER:-}" ] || qemu_kernel || return 1
  local root
  root=$(mktemp -d "${QEMU_TMP:-${T:?}}/initramfs.XXXXXX")
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc/harness,harness,mnt,root}
  # busybox and its applets as symlinks; items added later may replace them.
  cp "$(command -v busybox)" "$root/bin/busybox"
  local a
  for a in $("$root/bin/busybox" --list-full); do
    [ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
  done
  # The kernel opens /dev/console for init before devtmpfs exists.
  mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

  local mdir="$QEMU_KROOT/lib/modules/$QEMU_KVER" rel list=()
  if [ -n "$modules" ]; then
    # shellcheck disable=SC2086
    qemu_modules_resolve $modules >"$root/.modules" || return 1
    mapfile -t list <"$root/.modules"
    rm -f "$root/.modules"
  fi
  : >"$root/etc/harness/modules"
  for rel in "${list[@]}"; do
    mkdir -p "$root/lib/modules/$QEMU_KVER/$(dirname "$rel")"
    cp "$mdir/$rel" "$root/lib/modules/$QEMU_KVER/$rel"
    echo "/lib/modules/$QEMU_KVER/$rel" >>"$root/etc/harness/modules"
  done
  echo "$net" >"$root/etc/harness/net"

  local item
  for item in "${items[@]}"; do _qemu_add_item "$root" "$item" || return 1; done
  if [ -n "$script" ]; then
    cp "$script" "$root/harness/script" || return 1
  fi

  cat >"$root/etc/harness/udhcpc.sh" <<'EOF'
#!/bin/sh
# udhcpc calls this with the lease in the environment.
case $1 in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    for r in $router; do ip route add default via "$r" dev "$interface"; break; done
    : >/etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done;;
esac
exit 0
EOF
  cat >"$root/init" <<'EOF'
#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
echo "HARNESS: init $(uname -r)"
while read -r m; do
  [ -n "$m" ] || continue
  insmod "$m" || echo "HARNESS: insmod $m failed"
done </etc/harness/modules
echo "HARNESS: modules loaded"
ip link set lo up
net=$(cat /etc/harness/net)
for w in $(cat /proc/cmdline); do
  case $w in harness.net=*) net=${w#harness.net=};; esac
done
if [ -n "$net" ]; then
  i=0
  while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  ip link set eth0 up
  case $net in
    dhcp) udhcpc -q -n -t 10 -T 1 -i eth0 -s /etc/harness/udhcpc.sh >/dev/null 2>&1 ||
            echo "HARNESS: dhcp failed";;
    *) ip addr add 10.0.2.15/24 dev eth0
       ip route add default via 10.0.2.2
       echo "nameserver 10.0.2.3" >/etc/resolv.conf;;
  esac
  echo "HARNESS: net up $(ip -4 -o addr show dev eth0 | awk '{print $4}')"
fi
rc=0
if [ -f /harness/script ]; then
  sh /harness/script
  rc=$?
fi
echo "HARNESS-EXIT: $rc"
sync
echo "HARNESS: poweroff"
poweroff -f
EOF
  chmod 755 "$root/init" "$root/etc/harness/udhcpc.sh"
  mkdir -p "$(dirname "$out")"
  (cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$out.tmp" &&
    mv "$out.tmp" "$out" || return 1
  rm -rf "$root"
}

qemu_run() {
  local kernel=$1 initrd=$2
  shift 2 || { echo "usage: qemu_run KERNEL INITRD [options]" >&2; return 2; }
  local append="" timeout=120 log="" mem=512 net=0 args=() ndisk=0
  while [ $# -gt 0 ]; do
    case $1 in
      --disk|--disk-ro)
        local fmt=raw ro=""
        case $2 in *.qcow2) fmt=qcow2;; esac
        [ "$1" = --disk-ro ] && ro=",readonly=on"
        args+=(-drive "file=$2,format=$fmt,if=virtio,cache=unsafe$ro")
        ndisk=$((ndisk + 1)); shift 2;;
      --net) net=1; shift;;
      --append) append="$append $2"; shift 2;;
      --timeout) timeout=$2; shift 2;;
      --log) log=$2; shift 2;;
      --mem) mem=$2; shift 2;;
      --extra) args+=("$2"); shift 2;;
      *) echo "qemu_run: unknown option $1" >&2; return 2;;
    esac
  done
  if [ -z "$log" ]; then
    log=$(mktemp "${QEMU_TMP:-${T:?}}/qemu-log.XXXXXX")
  fi
  : >"$log"
  [ "$net" = 1 ] && args+=(-netdev user,id=n0 -device virtio-net-pci,netdev=n0)
  if [ -n "$kernel" ]; then
    args+=(-kernel "$kernel" -append "console=ttyS0 panic=-1 $append")
    [ -n "$initrd" ] && args+=(-initrd "$initrd")
  fi
  QEMU_LOG=$log
  QEMU_GUEST_RC=""
  local rc=0
  # No KVM: it hangs on the build host. -no-reboot turns a panic into an exit.
  timeout -k 5 "$timeout" qemu-system-x86_64 -machine pc -accel tcg -m "$mem" -smp 1 \
    -nodefaults -display none -monitor none -serial "file:$log" -no-reboot \
    "${args[@]}" </dev/null >"$log.qemu" 2>&1 || rc=$?
  [ -s "$log.qemu" ] && cat "$log.qemu" >&2
  QEMU_GUEST_RC=$(sed -n 's/^HARNESS-EXIT: \([0-9]*\).*/\1/p' "$log" | tr -d '\r' | tail -1)
  export QEMU_LOG QEMU_GUEST_RC
  return $rc
}
