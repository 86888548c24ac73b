#!/bin/bash
# Never harm the source: every kind of run (p2v inventory, p2v check,
# p2v disk, p2v ct --device) over a source disk whose loop devices are
# WRITABLE - so nothing but p2v's own discipline keeps them unchanged -
# and the whole device and its backing file are checksummed before and
# after each run and must be equal. The disk holds an ext4 root (with an
# fstab that mounts a second partition), and an ext4 whose journal needs
# recovery, with a committed transaction in it where the kernel lets us
# make one (ext4 shutdown), else the needs_recovery flag set by debugfs:
# p2v must read it without replaying it. A control shows that a plain
# read-only mount of a copy does write (replays it), so the checks have
# teeth.
. "$(dirname "$0")/lib.sh"
for c in losetup sfdisk mkfs.ext4 debugfs sha256sum blkid findmnt; do
  command -v $c >/dev/null || skip "$c missing"
done
[ "$(id -u)" = 0 ] || skip "needs root (loop devices, mount)"
losetup -f >/dev/null 2>&1 || skip "no free loop device"

LOOPS=""
at_exit 'mountpoint -q "$T/mnt" 2>/dev/null && umount "$T/mnt"; for l in $LOOPS; do losetup -d $l 2>/dev/null; done'
# attach IMG [OFFSET SIZE]: a writable loop device in $DEV.
attach() {
  if [ $# -gt 1 ]; then DEV=$(losetup -f --show -o "$2" --sizelimit "$3" "$1")
  else DEV=$(losetup -f --show "$1"); fi || fail "losetup $1"
  [ "$(blockdev --getro "$DEV")" = 0 ] || fail "$DEV is read-only: the test would prove nothing"
  LOOPS="$DEV $LOOPS"
}
MiB=$((1024 * 1024))
P1=$MiB P1LEN=$((96 * MiB)) P2=$((97 * MiB)) P2LEN=$((64 * MiB))

step "a disk: ext4 root with fstab, ext4 data whose journal needs recovery"
IMG=$T/disk.img
truncate -s 192M "$IMG"
printf 'label: dos\nstart=2048, size=196608, type=83\nstart=198656, size=131072, type=83\n' |
  sfdisk -q "$IMG" || fail "sfdisk"
ROOT_UUID=$(cat /proc/sys/kernel/random/uuid) DATA_UUID=$(cat /proc/sys/kernel/random/uuid)
mkdir -p "$T/root/etc" "$T/root/data" "$T/root/usr/lib"
cat >"$T/root/etc/fstab" <<EOF
UUID=$ROOT_UUID / ext4 defaults 0 1
UUID=$DATA_UUID /data ext4 defaults 0 2
EOF
printf 'ID=debian\nVERSION_ID=12\nPRETTY_NAME="Debian GNU/Linux 12"\n' >"$T/root/usr/lib/os-release"
ln -s ../usr/lib/os-release "$T/root/etc/os-release"
echo web01 >"$T/root/etc/hostname"
head -c $((4 * MiB)) /dev/urandom >"$T/root/random"
attach "$IMG" $P1 $P1LEN; ROOT=$DEV
mkfs.ext4 -q -F -U "$ROOT_UUID" -d "$T/root" "$ROOT" || fail "mkfs root"
attach "$IMG" $P2 $P2LEN; DATA=$DEV
mkfs.ext4 -q -F -U "$DATA_UUID" "$DATA" || fail "mkfs data"
mkdir -p "$T/mnt"
mount "$DATA" "$T/mnt" || fail "mount data"
echo committed >"$T/mnt/before"; sync
echo in-journal >"$T/mnt/late"; sync -f "$T/mnt/late"
if command -v xfs_io >/dev/null && xfs_io -x -c shutdown "$T/mnt" 2>/dev/null; then
  how="shutdown with a committed, unreplayed transaction"
  umount "$T/mnt"
else
  umount "$T/mnt"
  debugfs -w -R 'feature needs_recovery' "$DATA" >/dev/null 2>&1
  how="needs_recovery set with debugfs"
fi
debugfs -R features "$DATA" 2>/dev/null | grep -q needs_recovery || fail "the journal is not dirty"
echo "dirty journal: $how"
attach "$IMG"; WHOLE=$DEV

step "control: a plain read-only mount of a copy replays the journal (writes)"
dd if="$DATA" of="$T/control.img" bs=1M status=none
before=$(sha256sum <"$T/control.img")
attach "$T/control.img"; CONTROL=$DEV
mount -o ro "$CONTROL" "$T/mnt" || fail "control mount"
umount "$T/mnt"; losetup -d "$CONTROL"; LOOPS=${LOOPS/$CONTROL /}
[ "$(sha256sum <"$T/control.img")" != "$before" ] || fail "control: the ro mount did not replay"
rm -f "$T/control.img"

# The sources: the whole disk, each partition's device, the backing file.
sums() {
  for d in "$WHOLE" "$ROOT" "$DATA"; do echo "$d $(sha256sum <"$d")"; done
  echo "file $(sha256sum <"$IMG")"
}
sync; sums >"$T/before"
# untouched WHAT: every checksum as before, the journal still dirty,
# nothing of ours left mounted.
untouched() {
  sums >"$T/after"
  diff "$T/before" "$T/after" >&2 || fail "$1 changed the source"
  debugfs -R features "$DATA" 2>/dev/null | grep -q needs_recovery || fail "$1 replayed the journal"
  ! findmnt -rn -o TARGET | grep -q '^/run/p2v/' || fail "$1 left a mount under /run/p2v"
  echo "  $1: source unchanged ($(wc -l <"$T/after") checksums)"
}

step "p2v inventory"
"$P2V" inventory --disk "$WHOLE" --disk "$ROOT" --disk "$DATA" >"$T/inv.txt" 2>"$T/log" ||
  { cat "$T/log" >&2; fail "p2v inventory"; }
"$P2V" inventory --json --disk "$WHOLE" --disk "$ROOT" --disk "$DATA" >"$T/inv.json" 2>>"$T/log" ||
  { cat "$T/log" >&2; fail "p2v inventory --json"; }
# It did look inside the filesystems (the root's OS was found).
grep -q "Debian GNU/Linux 12" "$T/inv.txt" "$T/inv.json" || { cat "$T/inv.txt" >&2; fail "inventory found no OS"; }
untouched "p2v inventory"

step "p2v check"
"$P2V" check --disk "$WHOLE" --disk "$ROOT" --disk "$DATA" >"$T/check" 2>"$T/log" ||
  { cat "$T/log" >&2; fail "p2v check"; }
untouched "p2v check"

step "p2v disk (used blocks, then every block)"
"$P2V" disk --name t --disk "$WHOLE" --output "$T/out.raw" --progress none 2>"$T/log" ||
  { cat "$T/log" >&2; fail "p2v disk"; }
# The dirty filesystem is read whole, not mapped (its bitmaps are stale).
assert_grep "journal needs recovery; reading it whole" "$T/log"
untouched "p2v disk"
"$P2V" disk --name t --disk "$DATA" --output "$T/data.raw" --no-skip-free --progress none 2>"$T/log" ||
  { cat "$T/log" >&2; fail "p2v disk --no-skip-free"; }
cmp "$DATA" "$T/data.raw" || fail "the copy of the dirty partition is not byte-exact"
untouched "p2v disk --no-skip-free"

step "p2v ct --device: the root, and through its fstab the dirty /data"
"$P2V" ct --device "$ROOT" --name t --output "$T/root.tar.zst" --progress none 2>"$T/log" ||
  { cat "$T/log" >&2; fail "p2v ct --device $ROOT"; }
tar --zstd -tf "$T/root.tar.zst" >"$T/list" || fail "tar"
assert_grep "^\(\./\)\?data/before$" "$T/list"
untouched "p2v ct --device (root + fstab)"
"$P2V" ct --device "$DATA" --name t --output "$T/data.tar.zst" --progress none 2>"$T/log" ||
  { cat "$T/log" >&2; fail "p2v ct --device $DATA"; }
untouched "p2v ct --device (dirty journal)"
echo "ok"
