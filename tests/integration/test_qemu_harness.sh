#!/bin/bash
# The QEMU harness (tests/lib/qemu.sh) that the boot tests share: Debian's
# kernel boots under TCG with a busybox initramfs, runs a script, sees a
# virtio disk's bytes, reaches the host's loopback sshd through user
# networking, hands back the script's exit status and powers off.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd.sh"
. "$TOP/tests/lib/qemu.sh"

qemu_require || skip "$(qemu_require)"
qemu_kernel || skip "no Debian kernel package (apt mirror unreachable?)"

step "module resolution follows modules.dep and refuses unknown names"
qemu_modules_resolve virtio_blk dm-mod >"$T/mods"
assert_grep 'kernel/drivers/virtio/virtio.ko' "$T/mods"
assert_grep 'kernel/drivers/md/dm-mod.ko' "$T/mods"
# virtio.ko, a dependency, comes before virtio_blk.ko.
[ "$(grep -n 'virtio/virtio.ko' "$T/mods" | cut -d: -f1)" -lt \
  "$(grep -n 'virtio_blk.ko' "$T/mods" | cut -d: -f1)" ] || fail "dependency order: $(cat "$T/mods")"
expect_fail qemu_modules_resolve no_such_module_xyz
assert_grep "no module 'no_such_module_xyz'" "$T/err"

start_sshd

step "a random marker on a raw disk image"
marker=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
truncate -s 16M "$T/disk.img"
# At 1 MiB + 512: a read from the wrong place cannot find it.
printf 'MARK%sKRAM' "$marker" | dd of="$T/disk.img" bs=1 seek=$((1048576 + 512)) conv=notrunc status=none

cat >"$T/script.sh" <<'EOF'
echo "GUEST-MARKER: inside $(uname -r)"
port=$(sed -n 's/.*harness_test.port=\([0-9]*\).*/\1/p' /proc/cmdline)
echo "GUEST-DISKS: $(ls /sys/block | tr '\n' ' ')"
echo "GUEST-READ: $(dd if=/dev/vda bs=512 skip=2049 count=1 2>/dev/null | head -c 32)"
banner=$(timeout 10 nc 10.0.2.2 "$port" </dev/null | head -1)
echo "GUEST-BANNER: $banner"
exit 7
EOF

step "build the initramfs"
qemu_initramfs "$T/initrd.gz" --modules "virtio_pci virtio_blk virtio_net" \
  --script "$T/script.sh" --net dhcp

step "boot"
start=$(date +%s.%N)
qemu_run "$QEMU_VMLINUZ" "$T/initrd.gz" --disk "$T/disk.img" --net \
  --append "harness_test.port=$SSHD_PORT" --timeout 120 ||
  { cat "$QEMU_LOG"; fail "qemu_run returned $?"; }
echo "boot to poweroff: $(echo "$(date +%s.%N) - $start" | bc) s"
grep -E '^(HARNESS|GUEST)' "$QEMU_LOG"

assert_grep "^GUEST-MARKER: inside $QEMU_KVER" "$QEMU_LOG"
assert_grep '^GUEST-DISKS: .*vda' "$QEMU_LOG"
assert_grep "^GUEST-READ: MARK${marker}KRAM" "$QEMU_LOG"
assert_grep '^HARNESS: net up 10.0.2.15/24' "$QEMU_LOG"
assert_grep '^GUEST-BANNER: SSH-2.0-OpenSSH' "$QEMU_LOG"
assert_grep '^HARNESS: poweroff' "$QEMU_LOG"
[ "$QEMU_GUEST_RC" = 7 ] || fail "guest script status '$QEMU_GUEST_RC', expected 7"
# The connection really came through user networking to the loopback sshd.
grep -q 'Connection from 127.0.0.1' "$SSHD_DIR/log" || { cat "$SSHD_DIR/log"; fail "sshd saw no connection"; }

step "a guest that never powers off hits the timeout"
printf 'sleep 600\n' >"$T/hang.sh"
qemu_initramfs "$T/hang.gz" --script "$T/hang.sh"
rc=0
qemu_run "$QEMU_VMLINUZ" "$T/hang.gz" --timeout 4 || rc=$?
[ "$rc" = 124 ] || fail "expected timeout status 124, got $rc"
[ -z "$QEMU_GUEST_RC" ] || fail "no exit marker expected after a timeout"
echo "ok"
