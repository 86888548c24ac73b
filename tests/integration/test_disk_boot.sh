#!/bin/bash
# A bootable BIOS Linux disk built here — MBR boot code, one bootable ext4
# partition with 1 KiB blocks (so extlinux's boot sector sits in the block
# the ext4 bitmap does not cover), extlinux, Debian's kernel and a busybox
# initramfs — plus a deleted file and free space, goes through the real
# pipeline: p2v disk over a loopback sshd into ct-import receive (qcow2),
# then ct-import create-vm --backend libvirt. The run.sh it writes boots
# the received disk under QEMU TCG (SeaBIOS → MBR → extlinux → kernel from
# the disk, no -kernel) to a marker made of a token from extlinux.conf and
# one from a file the guest reads off its own disk, and the guest powers
# off by itself. Judged also by qemu-img check, qemu-img compare on the
# MBR and the partition's boot block, e2fsck -fn and a mounted tree
# comparison; the source image is checksummed before and after.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lib/qemu.sh"
for c in sfdisk mkfs.ext4 losetup e2fsck extlinux qemu-img qemu-system-x86_64 sha256sum python3; do
  command -v $c >/dev/null || skip "$c missing (make deps)"
done
MBR_BIN=/usr/lib/syslinux/mbr/mbr.bin
[ -f "$MBR_BIN" ] || skip "no $MBR_BIN (apt-get install syslinux-common)"
[ "$(id -u)" = 0 ] || skip "needs root (loop devices, mount)"
losetup -f >/dev/null 2>&1 || skip "no free loop device"
qemu_require || skip "QEMU harness unavailable"
qemu_kernel || skip "no Debian kernel (no mirror?)"

LOOPS=""
at_exit 'for m in $T/m $T/ms $T/mo; do mountpoint -q $m && umount $m; done; for l in $LOOPS; do losetup -d $l; done'
# loop IMG OFFSET SIZE [-r]: a loop device onto part of an image.
loop() {
  local d; d=$(losetup -f --show ${4:-} -o "$2" --sizelimit "$3" "$1") || fail "losetup $1"
  LOOPS="$LOOPS $d"; echo "$d"
}
unloop() { losetup -d "$1"; LOOPS=${LOOPS/ $1/}; }
stat_of() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$1" | tail -1; }
MiB=$((1024 * 1024))
P1=$MiB P1LEN=$((255 * MiB))
TOKEN=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
DISKTOKEN=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')

step "initramfs: mounts its own disk and prints the markers"
# The marker needs the token from extlinux.conf's APPEND (so extlinux read
# its config from the disk) and the file on the disk's ext4 (so the guest
# reads the filesystem p2v copied); neither is in the initramfs.
cat >"$T/boot.sh" <<'EOF'
for w in $(cat /proc/cmdline); do
  case $w in p2v.token=*) tok=${w#p2v.token=};; esac
done
echo "P2V-BOOT-OK-$tok"
i=0
while [ ! -b /dev/sda1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
mount -t ext4 -o ro /dev/sda1 /mnt || { echo "P2V-DISK: mount failed"; exit 1; }
echo "P2V-DISK-OK-$(cat /mnt/boot/p2v-token)"
sha256sum /mnt/keep
umount /mnt
EOF
qemu_initramfs "$T/initrd.img" --modules "virtio_pci virtio_scsi sd_mod crc32c_generic ext4" \
  --script "$T/boot.sh" || fail "qemu_initramfs"

step "source disk: MBR, bootable ext4 (1 KiB blocks), extlinux, kernel, deleted files"
SRC=$T/src.img
truncate -s 256M "$SRC"
printf 'label: dos\nstart=2048, size=%d, type=83, bootable\n' $((P1LEN / 512)) | sfdisk -q "$SRC" ||
  fail "sfdisk"
dd if="$MBR_BIN" of="$SRC" bs=440 count=1 conv=notrunc status=none
l=$(loop "$SRC" $P1 $P1LEN)
mkfs.ext4 -q -F -b 1024 -L p2vboot "$l" || fail "mkfs.ext4"
mkdir -p "$T/m"; mount "$l" "$T/m"
mkdir "$T/m/boot"
cp "$QEMU_VMLINUZ" "$T/m/boot/vmlinuz"
cp "$T/initrd.img" "$T/m/boot/initrd.img"
printf '%s' "$DISKTOKEN" >"$T/m/boot/p2v-token"
cat >"$T/m/boot/extlinux.conf" <<EOF
SERIAL 0 115200
DEFAULT linux
TIMEOUT 0
PROMPT 0
LABEL linux
  LINUX /boot/vmlinuz
  INITRD /boot/initrd.img
  APPEND console=ttyS0,115200 panic=-1 quiet p2v.token=$TOKEN
EOF
extlinux --install "$T/m/boot" >"$T/extlinux.log" 2>&1 || { cat "$T/extlinux.log"; fail "extlinux --install"; }
head -c $((8 * MiB)) /dev/urandom >"$T/m/keep"
KEEPSUM=$(sha256sum <"$T/m/keep" | cut -d' ' -f1)
# Used then freed: these blocks must be neither read nor sent.
head -c $((100 * MiB)) /dev/urandom >"$T/m/gone"
sync; rm "$T/m/gone"; sync
umount "$T/m"; unloop "$l"
l=$(loop "$SRC" $P1 $P1LEN -r)
e2fsck -fn "$l" >"$T/fsck" 2>&1 || { cat "$T/fsck"; fail "source e2fsck"; }
unloop "$l"
BEFORE=$(sha256sum <"$SRC")

step "p2v disk over SSH into ct-import receive, then create-vm --backend libvirt"
. "$TOP/tests/integration/sshd.sh"
start_sshd
IMP=$T/import; mkdir -p "$IMP"
start=$(date +%s.%N)
"$P2V" disk --name bootme --disk "$SRC" --to "root@127.0.0.1:$SSHD_PORT" -i "$SSH_ID" \
  --known-hosts "$SSH_KNOWN_HOSTS" --progress none \
  --remote-import "$CTI receive --import-dir $IMP" \
  --create --backend libvirt --memory 256 --cores 1 \
  --remote-create "$CTI create-vm --import-dir $IMP" >"$T/out" 2>"$T/log" ||
  { cat "$T/log" "$T/out" >&2; fail "p2v disk"; }
echo "p2v disk took $(echo "$(date +%s.%N) - $start" | bc) s"
cat "$T/log" "$T/out"
assert_grep "sha256 verified" "$T/log"
[ "$(sha256sum <"$SRC")" = "$BEFORE" ] || fail "the source image changed"
Q=$IMP/bootme.qcow2
[ -f "$Q" ] || fail "no $Q; import dir holds: $(ls -A "$IMP")"
[ -f "$IMP/bootme.run.sh" ] || fail "create-vm wrote no run.sh: $(ls -A "$IMP")"
qemu-img check -q "$Q" || fail "qemu-img check"
data=$(stat_of "$T/log" data_bytes)
[ -n "$data" ] && [ "$data" -lt $((60 * MiB)) ] || fail "sent $data data bytes: the deleted 100 MiB went too"
[ "$(qemu-img info --output=json "$Q" | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])')" = $((256 * MiB)) ] ||
  fail "wrong virtual size"

step "the qcow2 against the source: MBR and boot gap, extlinux boot block, e2fsck, files"
# region OFF LEN FILE FMT: that byte range of an image, as qemu-img opts.
region() { echo "driver=raw,offset=$1,size=$2,file.driver=$4,file.file.driver=file,file.file.filename=$3"; }
region_raw() { echo "driver=raw,offset=$1,size=$2,file.driver=file,file.filename=$3"; }
qemu-img compare -q --image-opts "$(region_raw 0 $MiB "$SRC")" "$(region 0 $MiB "$Q" qcow2)" ||
  fail "MBR boot code, partition table or the gap before the partition differ"
qemu-img compare -q --image-opts "$(region_raw $P1 2048 "$SRC")" "$(region $P1 2048 "$Q" qcow2)" ||
  fail "the partition's boot block (extlinux) differs"
# Free blocks arrive as zeros, so the whole disks must differ (the skip is real).
if qemu-img compare -q -f raw -F qcow2 "$SRC" "$Q"; then fail "deleted data arrived: free blocks were sent"; fi
qemu-img convert -O raw "$Q" "$T/got.raw"
o=$(loop "$T/got.raw" $P1 $P1LEN -r); s=$(loop "$SRC" $P1 $P1LEN -r)
e2fsck -fn "$o" >"$T/fsck" 2>&1 || { cat "$T/fsck" >&2; fail "e2fsck on the received filesystem"; }
mkdir -p "$T/ms" "$T/mo"
mount -o ro,noload "$s" "$T/ms"; mount -o ro,noload "$o" "$T/mo"
python3 "$TOP/tests/integration/compare-trees.py" "$T/ms" "$T/mo" || fail "the filesystems' trees differ"
umount "$T/ms" "$T/mo"; unloop "$o"; unloop "$s"
rm -f "$T/got.raw"

step "run.sh boots the received disk under TCG: SeaBIOS, MBR, extlinux, kernel, initramfs"
assert_grep "format=qcow2" "$IMP/bootme.run.sh"
if grep -q -- '-kernel' "$IMP/bootme.run.sh"; then fail "run.sh boots a -kernel, not the disk"; fi
start=$(date +%s.%N)
rc=0
P2V_QEMU_ACCEL=tcg P2V_QEMU_NET=none timeout -k 5 180 sh "$IMP/bootme.run.sh" -no-reboot -nic none \
  </dev/null >"$T/console" 2>&1 || rc=$?
echo "boot to poweroff took $(echo "$(date +%s.%N) - $start" | bc) s (exit $rc)"
tr -d '\r' <"$T/console" >"$T/console.txt"
grep -E 'Booting|SYSLINUX|P2V-|HARNESS' "$T/console.txt" || true
[ $rc = 0 ] || { cat "$T/console.txt"; fail "the VM did not power off by itself (exit $rc)"; }
# SeaBIOS booted the disk, whose MBR chained to extlinux (it names itself
# SYSLINUX), which loaded the kernel and initramfs from the ext4.
assert_grep "Booting from Hard Disk" "$T/console.txt"
assert_grep "^SYSLINUX 6" "$T/console.txt"
assert_grep "P2V-BOOT-OK-$TOKEN" "$T/console.txt"
assert_grep "P2V-DISK-OK-$DISKTOKEN" "$T/console.txt"
assert_grep "^$KEEPSUM  /mnt/keep" "$T/console.txt"
assert_grep "HARNESS-EXIT: 0" "$T/console.txt"
assert_grep "HARNESS: poweroff" "$T/console.txt"

step "control: without the partition's boot block (outside the ext4 bitmap) it does not boot"
# An overlay of the received disk with extlinux's boot sector zeroed: the
# same boot must then never reach the kernel, so the markers above are the
# disk's own doing.
qemu-img create -q -f qcow2 -b "$Q" -F qcow2 "$T/noboot.qcow2"
qemu-io -f qcow2 -c "write -z $P1 1024" "$T/noboot.qcow2" >/dev/null || fail "qemu-io"
sed "s|$Q|$T/noboot.qcow2|" "$IMP/bootme.run.sh" >"$T/noboot.run.sh"
grep -q noboot.qcow2 "$T/noboot.run.sh" || fail "could not point run.sh at the overlay"
# SeaBIOS gives up with "No bootable device" (and would retry in 60 s).
P2V_QEMU_ACCEL=tcg P2V_QEMU_NET=none timeout -k 5 90 sh "$T/noboot.run.sh" -no-reboot -nic none \
  </dev/null >"$T/noboot" 2>&1 &
pid=$!
for _ in $(seq 1 150); do
  grep -aqs "No bootable device" "$T/noboot" && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.5
done
kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
tr -d '\r' <"$T/noboot" >"$T/noboot.txt"
grep -a "Booting\|operating system\|Boot failed\|bootable" "$T/noboot.txt" || true
assert_grep "Booting from Hard Disk" "$T/noboot.txt"
# syslinux's mbr.bin ran and found no boot sector in the active partition.
assert_grep "Missing operating system" "$T/noboot.txt"
if grep -q "P2V-BOOT-OK\|^SYSLINUX" "$T/noboot.txt"; then fail "booted without its boot block"; fi
[ "$(sha256sum <"$SRC")" = "$BEFORE" ] || fail "the source image changed"
echo "ok"
