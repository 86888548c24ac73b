#!/bin/bash
# p2v disk --output on partitioned image files (msdos with 1 KiB ext4
# blocks, GPT with 4 KiB), each holding an ext4 partition with files and
# deleted files, a swap partition, data in the gaps outside partitions, and
# free space; plus a bare ext4 filesystem on a whole disk. Judged by
# e2fsck, a mounted tree comparison, blkid, cmp and sha256sum; the sources
# are checksummed before and after (never written).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/mkroot-metadata.sh"
for c in sfdisk mkfs.ext4 mkswap losetup e2fsck blkid cmp python3 sha256sum setfattr setfacl; do
  command -v $c >/dev/null || skip "$c missing"
done
[ "$(id -u)" = 0 ] || skip "needs root (loop devices, mount)"
losetup -f >/dev/null 2>&1 || skip "no free loop device"

LOOPS=""
at_exit 'for m in $T/m*; do mountpoint -q $m && umount $m; done; for l in $LOOPS; do losetup -d $l; done'
# loop IMG OFFSET SIZE [-r]: a loop device onto part of an image.
loop() {
  local d; d=$(losetup -f --show ${4:-} -o "$2" --sizelimit "$3" "$1") || fail "losetup $1"
  LOOPS="$LOOPS $d"; echo "$d"
}
unloop() { losetup -d "$1"; LOOPS=${LOOPS/ $1/}; }
MiB=$((1024 * 1024))
P1=$MiB P1LEN=$((200 * MiB)) P2=$((201 * MiB)) P2LEN=$((32 * MiB))

# stat_of LOG KEY: an exact count from p2v's report line.
stat_of() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$1" | tail -1; }

mkimg() {  # mkimg IMG LABEL BLOCKSIZE
  local img=$1 l
  truncate -s 320M "$img"
  if [ "$2" = dos ]; then
    printf 'label: dos\nstart=2048, size=409600, type=83\nstart=411648, size=65536, type=82\n'
  else
    printf 'label: gpt\nstart=2048, size=409600, type=L\nstart=411648, size=65536, type=S\n'
  fi | sfdisk -q "$img" || fail "sfdisk $img"
  mkfs.ext4 -q -F -b "$3" -E offset=$P1 "$img" $((P1LEN / 1024))K || fail "mkfs $img"
  l=$(loop "$img" $P2 $P2LEN); mkswap -q "$l" >/dev/null; unloop "$l"
  # Boot loader code in the gap before the first partition, data past the
  # last: outside every partition, so both must arrive.
  printf 'BOOTGAP-%s' "$2" | dd of="$img" bs=512 seek=100 conv=notrunc status=none
  printf 'TAILDATA' | dd of="$img" bs=1M seek=300 conv=notrunc status=none
  l=$(loop "$img" $P1 $P1LEN); mkdir -p "$T/m"
  mount "$l" "$T/m"
  mkroot_metadata "$T/m/root" >/dev/null
  for i in 1 2 3; do head -c $((40 * MiB)) /dev/urandom >"$T/m/big$i"; done
  sync; rm "$T/m/big2" "$T/m/big3"; sync
  umount "$T/m"; unloop "$l"
}

# check_image SRC OUT: the copy's ext4 is clean and its tree equals the
# source's; swap header, gap and tail data arrived.
check_image() {
  local s o
  s=$(loop "$1" $P1 $P1LEN -r); o=$(loop "$2" $P1 $P1LEN -r)
  e2fsck -fn "$o" >"$T/fsck" 2>&1 || { cat "$T/fsck" >&2; fail "e2fsck on the copy of $1"; }
  mkdir -p "$T/ms" "$T/mo"
  mount -o ro,noload "$s" "$T/ms"; mount -o ro,noload "$o" "$T/mo"
  python3 "$TOP/tests/integration/compare-trees.py" "$T/ms" "$T/mo" || fail "trees differ for $1"
  cmp "$T/ms/big1" "$T/mo/big1" || fail "big1 differs"
  umount "$T/ms" "$T/mo"; unloop "$s"; unloop "$o"
  s=$(loop "$1" $P2 $P2LEN -r); o=$(loop "$2" $P2 $P2LEN -r)
  [ "$(blkid -p -o value -s TYPE "$o")" = swap ] || fail "no swap signature in the copy"
  [ "$(blkid -p -o value -s UUID "$o")" = "$(blkid -p -o value -s UUID "$s")" ] || fail "swap UUID differs"
  unloop "$s"; unloop "$o"
  cmp -n 512 -i 51200:51200 "$1" "$2" || fail "gap before the first partition differs"
  cmp -n $MiB -i $((300 * MiB)):$((300 * MiB)) "$1" "$2" || fail "data past the partitions differs"
  cmp -n $((1024 * 1024)) "$1" "$2" || fail "partition table differs"
}

for label in dos gpt; do
  bs=1024; [ $label = gpt ] && bs=4096
  step "$label disk, ext4 with $bs-byte blocks"
  IMG=$T/$label.img
  mkimg "$IMG" $label $bs
  before=$(sha256sum <"$IMG")

  step "$label: free blocks skipped"
  "$P2V" disk --name t --disk "$IMG" --output "$T/$label.raw" --progress none 2>"$T/log" ||
    { cat "$T/log" >&2; fail "p2v disk $label"; }
  cat "$T/log"
  data=$(stat_of "$T/log" data_bytes); read=$(stat_of "$T/log" read_bytes)
  # big1 (40 MiB) and the metadata tree matter; the deleted 80 MiB must
  # neither be read nor sent.
  [ "$data" -gt $((40 * MiB)) ] && [ "$data" -lt $((56 * MiB)) ] ||
    fail "$label: $data data bytes (expected 40-56 MiB)"
  [ "$read" -lt $((200 * MiB)) ] || fail "$label: read $read bytes: free blocks were read"
  assert_grep "sha256 $(sha256sum <"$T/$label.raw" | cut -d' ' -f1)" "$T/log"
  [ "$(stat -c %s "$T/$label.raw")" = $((320 * MiB)) ] || fail "wrong size"
  # Deleted files' blocks arrive as zeros, so they take no space either.
  [ $(($(stat -c %b "$T/$label.raw") * 512)) -lt $((60 * MiB)) ] || fail "output is not sparse"
  check_image "$IMG" "$T/$label.raw"

  step "$label: --no-skip-free is byte-exact"
  "$P2V" disk --name t --disk "$IMG" --output "$T/$label.full" --no-skip-free --progress none 2>"$T/log" ||
    { cat "$T/log" >&2; fail "p2v disk --no-skip-free $label"; }
  cmp "$IMG" "$T/$label.full" || fail "$label: --no-skip-free copy differs"
  [ "$(stat_of "$T/log" data_bytes)" -gt $((120 * MiB)) ] || fail "free blocks not sent"
  [ "$(sha256sum <"$IMG")" = "$before" ] || fail "$label source changed"
  [ $label = gpt ] || rm -f "$T/$label.raw"
  rm -f "$T/$label.full"
done

step "bare ext4 on a whole disk"
IMG=$T/bare.img
truncate -s 96M "$IMG"; mkfs.ext4 -q -F "$IMG"
l=$(loop "$IMG" 0 $((96 * MiB))); mount "$l" "$T/m"
head -c $((8 * MiB)) /dev/urandom >"$T/m/keep"; head -c $((48 * MiB)) /dev/urandom >"$T/m/gone"
sync; rm "$T/m/gone"; sync; umount "$T/m"; unloop "$l"
before=$(sha256sum <"$IMG")
"$P2V" disk --name bare --disk "$IMG" --output "$T/bare.raw" --progress none 2>"$T/log" ||
  { cat "$T/log" >&2; fail "p2v disk bare"; }
[ "$(stat_of "$T/log" data_bytes)" -lt $((20 * MiB)) ] || fail "bare: free blocks sent"
e2fsck -fn "$T/bare.raw" >"$T/fsck" 2>&1 || { cat "$T/fsck" >&2; fail "e2fsck bare"; }
l=$(loop "$T/bare.raw" 0 $((96 * MiB)) -r); mount -o ro,noload "$l" "$T/m"
s=$(loop "$IMG" 0 $((96 * MiB)) -r); mkdir -p "$T/ms"; mount -o ro,noload "$s" "$T/ms"
cmp "$T/m/keep" "$T/ms/keep" || fail "bare: file differs"
umount "$T/m" "$T/ms"; unloop "$l"; unloop "$s"
[ "$(sha256sum <"$IMG")" = "$before" ] || fail "bare source changed"

step "refusals"
expect_fail "$P2V" disk --name bare --disk "$IMG" --output "$IMG" --force
assert_grep "onto itself" "$T/err"
: >"$T/exists"
expect_fail "$P2V" disk --name bare --disk "$IMG" --output "$T/exists"
[ ! -s "$T/exists" ] || fail "existing output overwritten"
expect_fail "$P2V" disk --name bare --disk "$IMG" --disk "$IMG" --output "$T/two"
expect_fail "$P2V" disk --name bare --disk "$T/missing" --output "$T/x"
expect_fail "$P2V" disk --disk "$IMG" --output "$T/x"
[ "$(sha256sum <"$IMG")" = "$before" ] || fail "bare source changed"

step "over SSH into ct-import receive: qcow2, checked and compared"
. "$TOP/tests/integration/sshd.sh"
start_sshd
SSHOPT=(--to "root@127.0.0.1:$SSHD_PORT" -i "$SSH_ID" --known-hosts "$SSH_KNOWN_HOSTS" --progress none)
IMP=$T/import; mkdir -p "$IMP"
"$P2V" disk --name vm1 --disk "$T/gpt.img" "${SSHOPT[@]}" \
  --remote-import "$CTI receive --import-dir $IMP" 2>"$T/log" || { cat "$T/log" >&2; fail "p2v disk over ssh"; }
cat "$T/log"
assert_grep "sha256 verified" "$T/log"
[ "$(ls "$IMP")" = vm1.qcow2 ] || fail "import dir holds: $(ls -A "$IMP")"
qemu-img check -q "$IMP/vm1.qcow2" || fail "qemu-img check"
# The same logical disk as the local copy with free blocks skipped.
qemu-img compare -q -f raw -F qcow2 "$T/gpt.raw" "$IMP/vm1.qcow2" || fail "qcow2 differs from the local copy"
[ "$(stat_of "$T/log" sent_bytes)" -lt $((50 * MiB)) ] || fail "too many bytes sent"
# The stream header carried this machine's facts for create-vm's defaults.
python3 - "$IMP/.p2v/vm1.json" "$(nproc)" <<'PY' || fail "no inventory beside the image"
import json, sys
inv = json.load(open(sys.argv[1]))
assert inv["cpus"]["count"] == int(sys.argv[2]), inv["cpus"]
assert inv["memory"]["total_bytes"] > 0, inv["memory"]
PY

step "two disks, raw, --no-skip-free, then create-vm"
"$P2V" disk --name vm2 --disk "$T/gpt.img" --disk "$IMG" --format raw --no-skip-free "${SSHOPT[@]}" \
  --remote-import "$CTI receive --import-dir $IMP" --create --dry-run \
  --remote-create "$CTI create-vm --import-dir $IMP --backend libvirt" >"$T/out" 2>"$T/log" ||
  { cat "$T/log" "$T/out" >&2; fail "p2v disk, two disks"; }
cmp "$T/gpt.img" "$IMP/vm2-disk0.raw" || fail "disk0 differs"
cmp "$IMG" "$IMP/vm2-disk1.raw" || fail "disk1 differs"
assert_grep "$IMP/vm2-disk0.raw" "$T/out"
assert_grep "$IMP/vm2-disk1.raw" "$T/out"

step "an existing image is refused and kept"
sum=$(sha256sum <"$IMP/vm1.qcow2")
set +e
"$P2V" disk --name vm1 --disk "$T/gpt.img" "${SSHOPT[@]}" \
  --remote-import "$CTI receive --import-dir $IMP" 2>"$T/err"; rc=$?
set -e
cat "$T/err"
[ $rc = 5 ] || fail "exit status $rc, expected 5 (remote refused)"
[ "$(sha256sum <"$IMP/vm1.qcow2")" = "$sum" ] || fail "existing image changed"
[ "$(sha256sum <"$IMG")" = "$before" ] || fail "bare source changed"
echo "ok"
