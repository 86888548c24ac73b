#!/bin/bash
# ct-import receive, disk streams: qcow2 and raw images judged by qemu-img
# against the source, a block device target whose old content must not show
# through, and every refusal leaving nothing behind.
. "$(dirname "$0")/lib.sh"
MK="python3 $TOP/tests/integration/mkdiskstream.py"
D="$T/import"
command -v qemu-img >/dev/null || skip "qemu-img missing"

# A disk with every kind of content: random extents, compressible text,
# holes, a zero-filled allocated stretch, and a size that is no multiple of
# the 64 KiB cluster (but of 512, as qcow2 needs).
SIZE=$((21 * 1024 * 1024 + 3 * 512))
truncate -s $SIZE "$T/mixed"
put() { dd of="$T/mixed" bs=4096 seek="$1" conv=notrunc status=none; }
head -c 300000 /dev/urandom | put 0
seq 1 400000 | head -c 2000000 | put 100
head -c 1048576 /dev/zero | put 1200
head -c 70000 /dev/urandom | put 3000
head -c 5000 /dev/urandom | dd of="$T/mixed" bs=1 seek=$((SIZE - 5000)) conv=notrunc status=none
truncate -s $((8 * 1024 * 1024)) "$T/empty"
sha() { sha256sum < "$1" | cut -c1-64; }

# Only published images (and .p2v, the inventories kept for create-vm).
only() { local got; got=$(ls -A "$D" 2>/dev/null | grep -vx .p2v | tr '\n' ' '); [ "$got" = "$*" ] || fail "import dir holds '$got', expected '$*'"; }
same_qcow2() { # image source
  qemu-img check -q "$1" || fail "qemu-img check $1: exit $?"
  qemu-img compare -q -f raw -F qcow2 "$2" "$1" || fail "$1 differs from $2"
}

step "qcow2 (the default) from gaps, data and compressed frames"
$MK --source "$T/mixed" --name m1 --zdata | "$CTI" receive --import-dir "$D" > "$T/reply"
assert_grep "^OK $D/m1.qcow2 $SIZE $(sha "$T/mixed")\$" "$T/reply"
same_qcow2 "$D/m1.qcow2" "$T/mixed"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1])) == {"test": True}' "$D/.p2v/m1.json" ||
  fail "the inventory was not kept as .p2v/m1.json"
[ "$(qemu-img info --output=json "$D/m1.qcow2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])')" = $SIZE ] ||
  fail "virtual size is not $SIZE"

step "qcow2 with zstd and deflate clusters, zero runs as ZERO frames"
$MK --source "$T/mixed" --name m2 --zeros frame | "$CTI" receive --import-dir "$D" --compress zstd >/dev/null
same_qcow2 "$D/m2.qcow2" "$T/mixed"
$MK --source "$T/mixed" --name m3 --zeros data --frame 300000 | "$CTI" receive --import-dir "$D" --compress deflate >/dev/null
same_qcow2 "$D/m3.qcow2" "$T/mixed"

step "an empty disk: nothing but END"
$MK --source "$T/empty" --name e1 | "$CTI" receive --import-dir "$D" >/dev/null
same_qcow2 "$D/e1.qcow2" "$T/empty"
$MK --source "$T/empty" --name e2 --format raw | "$CTI" receive --import-dir "$D" >/dev/null
cmp "$D/e2.raw" "$T/empty" || fail "empty raw differs"
[ "$(du -k "$D/e2.raw" | cut -f1)" -eq 0 ] || fail "empty raw image is not sparse"

step "raw: a sparse file, from the HELLO's format or --format"
$MK --source "$T/mixed" --name r1 --format raw --zdata --zeros frame | "$CTI" receive --import-dir "$D" > "$T/reply"
assert_grep "^OK $D/r1.raw $SIZE $(sha "$T/mixed")\$" "$T/reply"
cmp "$D/r1.raw" "$T/mixed" || fail "raw differs"
qemu-img compare -q -f raw -F raw "$T/mixed" "$D/r1.raw" || fail "qemu-img compare raw"
used=$(du -k "$D/r1.raw" | cut -f1)
[ "$used" -lt 3000 ] || fail "raw image uses $used KiB: zero runs were written"
$MK --source "$T/mixed" --name r2 --format qcow2 | "$CTI" receive --import-dir "$D" --format raw >/dev/null
cmp "$D/r2.raw" "$T/mixed" || fail "--format raw differs"
only "e1.qcow2 e2.raw m1.qcow2 m2.qcow2 m3.qcow2 r1.raw r2.raw "

step "a disk over 4 GiB (several refcount blocks, L2 tables far apart)"
BIG=$((4608 * 1024 * 1024 + 512))
truncate -s $BIG "$T/big"
head -c 200000 /dev/urandom | dd of="$T/big" bs=4096 seek=$((4 * 262144 + 77)) conv=notrunc status=none
head -c 4096 /dev/urandom | dd of="$T/big" bs=512 seek=$((BIG / 512 - 9)) conv=notrunc status=none
$MK --source "$T/big" --name big | "$CTI" receive --import-dir "$D" >/dev/null
same_qcow2 "$D/big.qcow2" "$T/big"
rm -f "$D/big.qcow2"

step "refused: an existing image (exit 3), left unchanged"
cp "$D/m1.qcow2" "$T/before"
set +e; $MK --source "$T/empty" --name m1 | "$CTI" receive --import-dir "$D" > "$T/reply" 2>"$T/err"; rc=$?; set -e
[ $rc -eq 3 ] || fail "exit $rc, expected 3"
assert_grep "already exists" "$T/err"; assert_grep "^ERR" "$T/reply"
cmp "$D/m1.qcow2" "$T/before" || fail "the existing image was changed"
set +e; $MK --source "$T/empty" --name m1 | "$CTI" receive --import-dir "$D" --force >/dev/null 2>&1; rc=$?; set -e
[ $rc -eq 3 ] || fail "--force replaced a disk image (exit $rc)"

ALL="e1.qcow2 e2.raw m1.qcow2 m2.qcow2 m3.qcow2 r1.raw r2.raw "
refused() { # expected-exit description stderr-pattern mkdiskstream-args... [-- receive-args...]
  local want=$1 what=$2 msg=$3; shift 3
  local mk=() rx=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do mk+=("$1"); shift; done
  [ $# -gt 0 ] && { shift; rx=("$@"); }
  step "refused: $what"
  set +e; $MK "${mk[@]}" | "$CTI" receive --import-dir "$D" "${rx[@]}" > "$T/reply" 2>"$T/err"; rc=$?; set -e
  cat "$T/err"
  [ $rc -eq "$want" ] || fail "$what: exit $rc, expected $want"
  assert_grep "^ERR" "$T/reply"
  assert_grep "$msg" "$T/err"
  only "$ALL"
}
M=(--source "$T/mixed" --name bad)
refused 4 "SHA-256 mismatch" "SHA-256 mismatch" "${M[@]}" --corrupt-sha
refused 4 "a byte altered in transit" "SHA-256 mismatch" "${M[@]}" --flip-byte 1234567 --zdata
refused 4 "stream cut mid-frame" "cut short" "${M[@]}" --truncate 1500000
refused 4 "stream without an end" "ended before its end frame" "${M[@]}" --no-end
refused 4 "data frame beyond the size" "lies beyond the disk" "${M[@]}" --beyond
refused 4 "last frame runs over the end" "lies beyond the disk" "${M[@]}" --straddle
refused 4 "frame going backwards" "goes back before" "${M[@]}" --backwards
refused 4 "ZDATA claiming one byte more" "does not decompress to its" "${M[@]}" --zdata-lie 1
refused 4 "ZDATA claiming one byte less" "does not decompress to its" "${M[@]}" --zdata-lie -1
refused 4 "END with the wrong size" "end frame says" "${M[@]}" --end-size $((SIZE - 512))
refused 4 "announced size smaller than the data" "lies beyond the disk" "${M[@]}" --size $((SIZE - 4096))
refused 4 "size 0" "size missing or out of range" "${M[@]}" --size 0 --hello-only
refused 4 "size over 64 TiB" "size missing or out of range" "${M[@]}" --size $(((64 << 40) + 512)) --hello-only
refused 4 "unknown format" "unknown disk format" "${M[@]}" --format vmdk --hello-only
refused 4 "path in the name" "is not allowed" --source "$T/mixed" --name ../../etc/x --hello-only
refused 4 "a device named by the stream alone" "writes onto a device only" "${M[@]}" --target /dev/sda --hello-only
refused 1 "sender abort" "sender aborted" "${M[@]}" --abort
refused 1 "qcow2 of a size in no whole sectors" "whole 512-byte sectors" "${M[@]}" --size $((SIZE + 1)) --hello-only
refused 1 "unknown qcow2 compression" "unknown qcow2 compression" "${M[@]}" --hello-only -- --compress lzma

step "block device targets"
# Both loop devices start full of random bytes: none may show through.
head -c $((SIZE - 1024 * 1024)) /dev/urandom > "$T/small.img"
head -c $((SIZE + 2 * 1024 * 1024)) /dev/urandom > "$T/dev.img"
SMALL=$(losetup -f --show "$T/small.img") || skip "no loop devices"
at_exit "losetup -d $SMALL"
DEV=$(losetup -f --show "$T/dev.img"); at_exit "losetup -d $DEV"
cp "$T/small.img" "$T/small.before"

step "refused: a device smaller than the source, left untouched"
set +e; $MK --source "$T/mixed" --name d0 | "$CTI" receive --import-dir "$D" --target-dev "$SMALL" > "$T/reply" 2>"$T/err"; rc=$?; set -e
cat "$T/err"; [ $rc -eq 1 ] || fail "exit $rc"
assert_grep "smaller than the source" "$T/err"
cmp "$SMALL" "$T/small.before" || fail "the small device was written"
only "$ALL"

step "a device: gaps, ZERO frames and data land exactly, old bytes beyond the disk kept"
tail -c +$((SIZE + 1)) "$T/dev.img" > "$T/dev.tail"
$MK --source "$T/mixed" --name d1 --zdata --zeros frame | "$CTI" receive --target-dev "$DEV" > "$T/reply"
assert_grep "^OK $DEV $SIZE $(sha "$T/mixed")\$" "$T/reply"
cmp -n $SIZE "$DEV" "$T/mixed" || fail "device content differs from the source"
tail -c +$((SIZE + 1)) "$DEV" | cmp - "$T/dev.tail" || fail "bytes past the disk were changed"
only "$ALL"

step "the HELLO's target agreeing with --target-dev, gaps only, a size in no whole sectors"
head -c $((SIZE + 2 * 1024 * 1024)) /dev/urandom > "$T/dev2.img"
DEV2=$(losetup -f --show "$T/dev2.img"); at_exit "losetup -d $DEV2"
ODD=$((SIZE - 333))
head -c $ODD "$T/mixed" > "$T/odd"
$MK --source "$T/odd" --name d2 --target "$DEV2" | "$CTI" receive --import-dir "$D" --target-dev "$DEV2" >/dev/null
cmp -n $ODD "$DEV2" "$T/odd" || fail "device content differs (odd size)"
only "$ALL"
echo "all disk receive checks passed"
