#!/bin/bash
# Bad sectors through the real kernel read path: an ext4 disk image served
# by a FUSE file (tests/tools/eio_fuse.c) that fails reads touching chosen
# byte ranges with EIO, imaged by p2v disk over sshd on loopback into
# ct-import receive.
#  - --on-read-error=zero: the qcow2 is published; its report (p2v's log
#    and NAME.unreadable.json beside the image) lists exactly the chosen
#    ranges rounded out to 512-byte sectors, each with the file that owns
#    it; qemu-img compare finds the image identical to the source with
#    those ranges zeroed.
#  - --on-read-error=fail (the default): a clean failure, exit 1, no image
#    and no temporary left in the import directory.
#  - --output FILE with zero: FILE.unreadable.json beside the raw image.
#  - p2v ct of that ext4 mounted (read-only, through a loop device on the
#    FUSE file): with zero, the archive holds the files with the lost
#    filesystem blocks as zeros, and the report names each file and range;
#    with fail, no archive.
#    The list also travels to ct-import (UNREADABLE frames) and is kept
#    beside the template as NAME.tar.zst.unreadable.json, as --output
#    keeps FILE.unreadable.json; a later clean template of that name does
#    not keep the stale list.
#  - p2v ct with a cut connection after a checkpoint past a bad range, and
#    p2v ct killed there and started again with --resume: the resumed
#    stream still lists that range, once.
#  - p2v disk killed (SIGKILL) after it passed a bad range, then --resume:
#    the receiver resumes past that range, whose record p2v kept, so the
#    final report still lists it.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/sshd.sh"
export LC_ALL=C   # sed and sort over names that are not UTF-8
for c in cc pkg-config mkfs.ext4 debugfs qemu-img python3 sshd sha256sum; do
  command -v $c >/dev/null || skip "$c missing"
done
[ "$(id -u)" = 0 ] || skip "needs root (FUSE mount)"
[ -c /dev/fuse ] || skip "no /dev/fuse"
pkg-config --exists fuse3 || skip "libfuse3-dev missing"

step "the option and its kernel command line key"
for mode in "disk" "ct p2v.root=/"; do
  "$P2V" run --dry-run --cmdline "p2v.mode=$mode p2v.server=h p2v.name=n p2v.hostkey=SHA256:x p2v.on_read_error=zero" \
    >"$T/dry" 2>&1 || { cat "$T/dry" >&2; fail "p2v run --dry-run ($mode)"; }
  assert_grep "^p2v ${mode%% *} .*--on-read-error zero" "$T/dry"
done
for cmd in disk ct; do
  set +e; "$P2V" $cmd --name n --output "$T/never" --on-read-error=skip 2>"$T/err"; rc=$?; set -e
  [ $rc = 2 ] || fail "p2v $cmd --on-read-error=skip: exit $rc, expected 2"
  assert_grep "takes fail or zero" "$T/err"
done

EIO=$T/eio_fuse
cc -O2 -Wall -Wextra -Werror -o "$EIO" "$TOP/tests/tools/eio_fuse.c" \
  $(pkg-config --cflags --libs fuse3) || fail "cannot build eio_fuse"

MNT=$T/bad.img LOOP= MNT2=$T/bad2.img
at_exit 'mountpoint -q "$T/ctm" 2>/dev/null && umount "$T/ctm"; [ -n "$LOOP" ] && losetup -d "$LOOP"; mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"; mountpoint -q "$MNT2" 2>/dev/null && umount "$MNT2"'

step "an ext4 disk with files"
SRC=$T/src.img
truncate -s 64M "$SRC"
mkfs.ext4 -q -F -b 4096 "$SRC" || fail "mkfs"
head -c $((8 << 20)) /dev/urandom >"$T/big1"
head -c 300000 /dev/urandom >"$T/notes.txt"
head -c 100000 /dev/urandom >"$T/cafe"
CAFE=$'caf\xe9'   # a Latin-1 name: not UTF-8, as old servers have them
debugfs -w -R "mkdir /data" "$SRC" >/dev/null 2>&1
debugfs -w -f - "$SRC" >/dev/null 2>&1 <<EOF
write $T/big1 /big1
cd /data
write $T/notes.txt notes.txt
write $T/cafe $CAFE
EOF
# block_of FILE N: the physical block of FILE's logical block N.
block_of() { debugfs -R "bmap $1 $2" "$SRC" 2>/dev/null | tail -1; }
B1=$(block_of /big1 100); B2=$(block_of /big1 1500); B3=$(block_of /data/notes.txt 10)
B4=$(block_of "/data/$CAFE" 5)
for b in "$B1" "$B2" "$B3" "$B4"; do [[ $b =~ ^[0-9]+$ ]] && [ "$b" -gt 0 ] || fail "bmap: '$b'"; done
# The chosen ranges: one byte, a run across a sector boundary, a range
# of three whole sectors.
R1_OFF=$((B1 * 4096 + 1000)); R1_LEN=1
R2_OFF=$((B2 * 4096 + 500)); R2_LEN=600
R3_OFF=$((B3 * 4096 + 1024)); R3_LEN=1536
R4_OFF=$((B4 * 4096 + 2048)); R4_LEN=512
# What the report must say: each rounded out to 512-byte sectors; the
# name that is not UTF-8 with '?' for its stray byte.
rnd() { local s=$(($1 / 512 * 512)) e=$((($1 + $2 + 511) / 512 * 512)); echo "$s $((e - s))"; }
EXPECT=$(for r in "$R1_OFF $R1_LEN /big1" "$R3_OFF $R3_LEN /data/notes.txt" "$R2_OFF $R2_LEN /big1" \
    "$R4_OFF $R4_LEN /data/caf?"; do
  set -f; set -- $r; set +f; echo "$(rnd $1 $2) $3"; done | sort -n)
src_sum=$(sha256sum <"$SRC")

touch "$MNT"
"$EIO" "$SRC" "$MNT" $R1_OFF:$R1_LEN $R2_OFF:$R2_LEN $R3_OFF:$R3_LEN $R4_OFF:$R4_LEN 2>"$T/fuse.log" &
for _ in $(seq 50); do mountpoint -q "$MNT" && break; sleep 0.1; done
mountpoint -q "$MNT" || fail "eio_fuse did not mount"
# The kernel path really fails those reads and no others.
dd if="$MNT" of=/dev/null bs=512 skip=$((R1_OFF / 512)) count=1 status=none 2>/dev/null &&
  fail "the bad sector reads"
dd if="$MNT" of=/dev/null bs=512 skip=$((R1_OFF / 512 + 1)) count=1 status=none ||
  fail "the sector after the bad one does not read"

start_sshd
IMP=$T/import; mkdir -p "$IMP"
# Transfer records in our scratch dir, not the machine's /run/p2v.
SSHOPT=(--to "root@127.0.0.1:$SSHD_PORT" -i "$SSH_ID" --known-hosts "$SSH_KNOWN_HOSTS" --progress none
        --state-dir "$T/state")

step "--on-read-error=fail (the default): a clean failure"
set +e
"$P2V" disk --name badf --disk "$MNT" "${SSHOPT[@]}" \
  --remote-import "$CTI receive --import-dir $IMP" 2>"$T/log.fail"; rc=$?
set -e
[ $rc = 1 ] || { cat "$T/log.fail" >&2; fail "expected exit 1, got $rc"; }
assert_grep "unreadable sectors; stopping" "$T/log.fail"
assert_grep "sender aborted" "$T/log.fail"
[ -z "$(ls -A "$IMP")" ] || { ls -la "$IMP" >&2; fail "the failed run left files in the import dir"; }

step "--on-read-error=zero: a complete image and its report"
"$P2V" disk --name badz --disk "$MNT" "${SSHOPT[@]}" --on-read-error=zero \
  --remote-import "$CTI receive --import-dir $IMP" 2>"$T/log.zero" ||
  { cat "$T/log.zero" >&2; fail "p2v disk --on-read-error=zero"; }
[ -f "$IMP/badz.qcow2" ] || fail "no image published"
qemu-img check -q "$IMP/badz.qcow2" || fail "qemu-img check"
# p2v's log: one line per range, with the owning file.
got=$(sed -n 's/.*unreadable: disk=.* offset=\([0-9]*\) length=\([0-9]*\) owner=ext@0: \(.*\)/\1 \2 \3/p' \
  "$T/log.zero" | sort -n)
[ "$got" = "$EXPECT" ] || { printf 'expected:\n%s\ngot:\n%s\n' "$EXPECT" "$got" >&2; fail "p2v's report"; }
assert_grep "unreadable_bytes=$(awk '{n += $2} END {print n}' <<<"$EXPECT")\b" "$T/log.zero"
# The receiver's list beside the image.
J=$IMP/badz.unreadable.json
[ -f "$J" ] || fail "no $J"
got=$(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["disk"] == "badz" and j["size"] == 64 << 20, j
assert j["unreadable_ranges"] == len(j["unreadable"]), j
for r in j["unreadable"]:
    print(r["offset"], r["length"], r["owner"].split(": ", 1)[1])
' "$J" | sort -n) || fail "bad JSON in $J"
[ "$got" = "$EXPECT" ] || { printf 'expected:\n%s\ngot:\n%s\n' "$EXPECT" "$got" >&2; fail "the receiver's list"; }
# The image is the source with exactly those ranges zeroed.
cp "$SRC" "$T/expect.img"
while read -r off len _; do
  dd if=/dev/zero of="$T/expect.img" bs=1 seek="$off" count="$len" conv=notrunc status=none
done <<<"$EXPECT"
qemu-img compare -q -f raw -F qcow2 "$T/expect.img" "$IMP/badz.qcow2" ||
  fail "the image is not the source with the bad ranges zeroed"
# ... and differs from the source (the ranges were not zeros there).
qemu-img compare -q -f raw -F qcow2 "$SRC" "$IMP/badz.qcow2" 2>/dev/null &&
  fail "the image equals the source: nothing was zeroed"

step "--output with zero: the list beside the raw image"
"$P2V" disk --name badl --disk "$MNT" --output "$T/out.raw" --on-read-error=zero --progress none \
  2>"$T/log.out" || { cat "$T/log.out" >&2; fail "p2v disk --output"; }
cmp "$T/expect.img" "$T/out.raw" || fail "raw image differs from the zeroed source"
got=$(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["policy"] == "zero" and j["sector_size"] == 512, j
for r in j["unreadable"]:
    print(r["offset"], r["length"], r["owner"].split(": ", 1)[1])
' "$T/out.raw.unreadable.json" | sort -n) || fail "bad local JSON"
[ "$got" = "$EXPECT" ] || fail "the local list differs"

step "p2v disk of a block device (loop on the FUSE file): still sector by sector"
LOOP=$(losetup -r -f --show "$MNT") || fail "losetup on the FUSE file"
# Buffered reads of a block device fail a whole 4 KiB page; the retries
# use O_DIRECT, so the report is the same 512-byte sectors as before.
"$P2V" disk --name badd --disk "$LOOP" --output "$T/dev.raw" --on-read-error=zero --progress none \
  2>"$T/log.dev" || { cat "$T/log.dev" >&2; fail "p2v disk of $LOOP"; }
got=$(sed -n 's/.*unreadable: disk=.* offset=\([0-9]*\) length=\([0-9]*\) owner=ext@0: \(.*\)/\1 \2 \3/p' \
  "$T/log.dev" | sort -n)
[ "$got" = "$EXPECT" ] || { printf 'expected:\n%s\ngot:\n%s\n' "$EXPECT" "$got" >&2; fail "the block device's report"; }
cmp "$T/expect.img" "$T/dev.raw" || fail "the block device's image is not the source with the bad sectors zeroed"

step "p2v ct of the mounted filesystem: file ranges"
mkdir -p "$T/ctm"
mount -o ro,noload "$LOOP" "$T/ctm" || fail "mount"
set +e
"$P2V" ct --name ctf --root "$T/ctm" --output "$T/ctf.tar.zst" --progress none 2>"$T/log.ctf"; rc=$?
set -e
[ $rc = 1 ] || { cat "$T/log.ctf" >&2; fail "p2v ct with fail: expected exit 1, got $rc"; }
assert_grep "unreadable sectors; stopping" "$T/log.ctf"
[ ! -e "$T/ctf.tar.zst" ] || fail "p2v ct published an archive after a read error"
[ ! -e "$T/ctf.tar.zst.unreadable.json" ] || fail "p2v ct wrote a list for an archive it did not publish"
"$P2V" ct --name ctz --root "$T/ctm" --output "$T/ctz.tar.zst" --on-read-error=zero --progress none \
  2>"$T/log.ctz" || { cat "$T/log.ctz" >&2; fail "p2v ct --on-read-error=zero"; }
# Through ext4's page cache the unit lost is a filesystem block: the
# 4 KiB block of each file that holds a bad range.
CT_EXPECT=$(printf '%s\n' "/big1 $((100 * 4096))" "/big1 $((1500 * 4096))" "/data/notes.txt $((10 * 4096))" \
  "/data/$CAFE $((5 * 4096))" | sort)
got=$(sed -n 's/.*unreadable file range: \(.*\) offset=\([0-9]*\) length=4096$/\1 \2/p' "$T/log.ctz" | sort)
[ "$got" = "$CT_EXPECT" ] || { printf 'expected:\n%s\ngot:\n%s\n' "$CT_EXPECT" "$got" >&2; fail "p2v ct's report"; }
# ct_json FILE: "PATH OFFSET" per listed range (each 4096 bytes, owner =
# file), sorted; the counts must agree with the list.
ct_json() {
  local out
  out=$(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["template"] == sys.argv[2], j
assert j["unreadable_ranges"] == len(j["unreadable"]), j
assert j["unreadable_bytes"] == sum(r["length"] for r in j["unreadable"]), j
for r in j["unreadable"]:
    assert r["length"] == 4096 and r["owner"] == r["file"], r
    print(r["file"], r["offset"])
' "$1" "$2") || return 1
  printf '%s\n' "$out" | sort
}
# In JSON the Latin-1 name is UTF-8 with '?' for its stray byte.
CT_EXPECT_JSON=$(printf '%s\n' "$CT_EXPECT" | sed "s|/data/$CAFE |/data/caf? |" | sort)
got=$(ct_json "$T/ctz.tar.zst.unreadable.json" ctz) || fail "bad JSON beside the local archive"
[ "$got" = "$CT_EXPECT_JSON" ] ||
  { printf 'expected:\n%s\ngot:\n%s\n' "$CT_EXPECT_JSON" "$got" >&2; fail "the local archive's JSON list"; }
mkdir -p "$T/x"
tar -C "$T/x" --zstd -xf "$T/ctz.tar.zst" || fail "tar cannot read the archive"
cp "$T/big1" "$T/big1.z"; cp "$T/notes.txt" "$T/notes.z"
for b in 100 1500; do dd if=/dev/zero of="$T/big1.z" bs=4096 seek=$b count=1 conv=notrunc status=none; done
dd if=/dev/zero of="$T/notes.z" bs=4096 seek=10 count=1 conv=notrunc status=none
cmp "$T/big1.z" "$T/x/big1" || fail "big1 in the archive is not the file with its bad block zeroed"
cmp "$T/notes.z" "$T/x/data/notes.txt" || fail "notes.txt in the archive differs"
cp "$T/cafe" "$T/cafe.z"
dd if=/dev/zero of="$T/cafe.z" bs=4096 seek=5 count=1 conv=notrunc status=none
cmp "$T/cafe.z" "$T/x/data/$CAFE" || fail "the Latin-1 named file in the archive differs"
step "p2v ct over SSH: fail publishes nothing, zero a complete template"
CACHE=$T/cache; mkdir -p "$CACHE"
set +e
"$P2V" ct --name ctsf --root "$T/ctm" "${SSHOPT[@]}" --remote-import "$CTI receive --cache-dir $CACHE" \
  2>"$T/log.ctsf"; rc=$?
set -e
[ $rc = 1 ] || { cat "$T/log.ctsf" >&2; fail "p2v ct over SSH with fail: expected exit 1, got $rc"; }
[ -z "$(ls -A "$CACHE")" ] || { ls -la "$CACHE" >&2; fail "the failed ct run left files in the cache"; }
"$P2V" ct --name ctsz --root "$T/ctm" "${SSHOPT[@]}" --on-read-error=zero \
  --remote-import "$CTI receive --cache-dir $CACHE" 2>"$T/log.ctsz" ||
  { cat "$T/log.ctsz" >&2; fail "p2v ct over SSH with zero"; }
mkdir -p "$T/x2"
tar -C "$T/x2" --zstd -xf "$CACHE/ctsz.tar.zst" || fail "tar cannot read the received template"
cmp "$T/big1.z" "$T/x2/big1" && cmp "$T/notes.z" "$T/x2/data/notes.txt" &&
  cmp "$T/cafe.z" "$T/x2/data/$CAFE" || fail "the received template's files differ"
got=$(ct_json "$CACHE/ctsz.tar.zst.unreadable.json" ctsz) || fail "bad JSON beside the received template"
[ "$got" = "$CT_EXPECT_JSON" ] ||
  { printf 'expected:\n%s\ngot:\n%s\n' "$CT_EXPECT_JSON" "$got" >&2; fail "the received template's JSON list"; }
assert_grep '"file": "ctsz.tar.zst"' "$CACHE/ctsz.tar.zst.unreadable.json"
step "a clean template replacing it leaves no stale list"
mkdir -p "$T/clean/etc"; echo clean >"$T/clean/etc/hostname"
"$P2V" ct --name ctsz --root "$T/clean" "${SSHOPT[@]}" --on-read-error=zero \
  --remote-import "$CTI receive --cache-dir $CACHE --force" 2>"$T/log.ctclean" ||
  { cat "$T/log.ctclean" >&2; fail "p2v ct of a clean root"; }
[ ! -e "$CACHE/ctsz.tar.zst.unreadable.json" ] || fail "the stale list of the earlier ctsz survived"
assert_grep "removed .*ctsz.tar.zst.unreadable.json" "$T/log.ctclean"
umount "$T/ctm"; losetup -d "$LOOP"; LOOP=

step "the source was only read"
# A detached loop device lets go of its file a moment later.
for _ in $(seq 100); do umount "$MNT" 2>/dev/null && break; sleep 0.1; done
! mountpoint -q "$MNT" || fail "cannot unmount the FUSE file"
[ "$(sha256sum <"$SRC")" = "$src_sum" ] || fail "the source image changed"

step "p2v ct cut after a checkpoint past a bad range: the resumed stream lists it once"
# 56 MiB of random data in /a (nothing compresses): checkpoints come every
# 16 MiB of stream; the proxy cuts at 40 MB, past the first and past the
# bad block 10 of /a; block 13000 comes after the cut.
SRC3=$T/src3.img MNT3=$T/bad3.img LOOP3=
truncate -s 80M "$SRC3"
mkfs.ext4 -q -F -b 4096 "$SRC3" || fail "mkfs"
head -c $((56 << 20)) /dev/urandom >"$T/a"
debugfs -w -R "write $T/a /a" "$SRC3" >/dev/null 2>&1
A1=$(debugfs -R "bmap /a 10" "$SRC3" 2>/dev/null | tail -1)
A2=$(debugfs -R "bmap /a 13000" "$SRC3" 2>/dev/null | tail -1)
for b in "$A1" "$A2"; do [[ $b =~ ^[0-9]+$ ]] && [ "$b" -gt 0 ] || fail "bmap: '$b'"; done
touch "$MNT3"
"$EIO" "$SRC3" "$MNT3" $((A1 * 4096 + 512)):512 $((A2 * 4096)):512 2>"$T/fuse3.log" &
at_exit 'mountpoint -q "$T/ctm3" 2>/dev/null && umount "$T/ctm3"; [ -n "$LOOP3" ] && losetup -d "$LOOP3"; mountpoint -q "$MNT3" 2>/dev/null && umount "$MNT3"'
for _ in $(seq 50); do mountpoint -q "$MNT3" && break; sleep 0.1; done
mountpoint -q "$MNT3" || fail "eio_fuse did not mount the third source"
LOOP3=$(losetup -f -r --show "$MNT3") || fail "losetup"
mkdir -p "$T/ctm3"
mount -o ro,noload "$LOOP3" "$T/ctm3" || fail "mount"
rm -f "$T/px3.port"
python3 "$TOP/tests/integration/cutproxy.py" --target "$SSHD_PORT" --cuts 40000000 \
  --port-file "$T/px3.port" --log "$T/px3.log" & px3=$!
at_exit "kill $px3 2>/dev/null"
for _ in $(seq 100); do [ -s "$T/px3.port" ] && break; sleep 0.1; done
"$P2V" ct --name ctcut --root "$T/ctm3" --to "root@127.0.0.1:$(cat "$T/px3.port")" -i "$SSH_ID" \
  --hostkey "$SSHD_HOSTKEY_PIN" --progress none --state-dir "$T/state" --level 1 --on-read-error=zero \
  --remote-import "$CTI receive --cache-dir $CACHE" 2>"$T/log.ctcut" ||
  { cat "$T/log.ctcut" >&2; fail "p2v ct through the cut"; }
grep -q "^cut " "$T/px3.log" || fail "the proxy did not cut"
grep -q "ctcut: resuming at offset [1-9]" "$T/log.ctcut" ||
  { cat "$T/log.ctcut" >&2; fail "the ct stream did not resume past its start"; }
got=$(ct_json "$CACHE/ctcut.tar.zst.unreadable.json" ctcut) || fail "bad JSON after the cut"
[ "$got" = "$(printf '%s\n' "/a $((10 * 4096))" "/a $((13000 * 4096))")" ] ||
  { echo "$got" >&2; fail "the list after a cut"; }
mkdir -p "$T/x3"
tar -C "$T/x3" --zstd -xf "$CACHE/ctcut.tar.zst" || fail "tar cannot read the resumed template"
for b in 10 13000; do dd if=/dev/zero of="$T/a" bs=4096 seek=$b count=1 conv=notrunc status=none; done
cmp "$T/a" "$T/x3/a" || fail "/a in the resumed template is not the file with its bad blocks zeroed"
step "p2v ct killed past a bad range, then --resume: the range is still listed"
# Through a proxy at 16 MB/s, p2v is killed after the first checkpoint
# (past block 10), about half way through /a.
rm -f "$T/px4.port"
python3 "$TOP/tests/integration/cutproxy.py" --target "$SSHD_PORT" --rate 16000000 \
  --port-file "$T/px4.port" --log "$T/px4.log" & px4=$!
at_exit "kill $px4 2>/dev/null"
for _ in $(seq 100); do [ -s "$T/px4.port" ] && break; sleep 0.1; done
CTK=(-i "$SSH_ID" --hostkey "$SSHD_HOSTKEY_PIN" --progress none --state-dir "$T/state" --level 1
     --on-read-error=zero --remote-import "$CTI receive --cache-dir $CACHE")
"$P2V" ct --name ctkill --root "$T/ctm3" --to "root@127.0.0.1:$(cat "$T/px4.port")" "${CTK[@]}" \
  2>"$T/log.ctk1" & pid=$!
for _ in $(seq 600); do [ -e "$CACHE/.ctkill.tar.zst.resume" ] && break; sleep 0.1; done
[ -e "$CACHE/.ctkill.tar.zst.resume" ] || { kill -9 $pid; cat "$T/log.ctk1" >&2; fail "no checkpoint"; }
sleep 0.5
kill -9 $pid; wait $pid 2>/dev/null || true
[ ! -e "$CACHE/ctkill.tar.zst" ] || fail "published before the end (the kill came too late)"
"$P2V" ct --name ctkill --root "$T/ctm3" --to "root@127.0.0.1:$SSHD_PORT" --resume "${CTK[@]}" \
  2>"$T/log.ctk2" || { cat "$T/log.ctk2" >&2; fail "p2v ct --resume"; }
grep -q "resuming the archive at its byte [1-9]" "$T/log.ctk2" ||
  { cat "$T/log.ctk2" >&2; fail "p2v ct --resume did not resume past the start"; }
got=$(ct_json "$CACHE/ctkill.tar.zst.unreadable.json" ctkill) || fail "bad JSON after --resume"
[ "$got" = "$(printf '%s\n' "/a $((10 * 4096))" "/a $((13000 * 4096))")" ] ||
  { echo "$got" >&2; fail "the list after --resume"; }
rm -rf "$T/x3"; mkdir -p "$T/x3"
tar -C "$T/x3" --zstd -xf "$CACHE/ctkill.tar.zst" || fail "tar cannot read the template resumed after a kill"
cmp "$T/a" "$T/x3/a" || fail "/a in the template resumed after a kill differs"
umount "$T/ctm3"; losetup -d "$LOOP3"; LOOP3=
for _ in $(seq 100); do umount "$MNT3" 2>/dev/null && break; sleep 0.1; done

step "killed after a bad range, then --resume: the range is still listed"
# 160 MiB of random data (nothing to skip, nothing to compress) through a
# proxy at 16 MB/s: p2v is killed about half way, long after the range at
# 1 MiB and the first checkpoints.
SRC2=$T/src2.img
head -c $((160 << 20)) /dev/urandom >"$SRC2"
touch "$MNT2"
"$EIO" "$SRC2" "$MNT2" $(((1 << 20) + 4096)):512 $((150 << 20)):4096 2>"$T/fuse2.log" &
for _ in $(seq 50); do mountpoint -q "$MNT2" && break; sleep 0.1; done
mountpoint -q "$MNT2" || fail "eio_fuse did not mount the second source"
rm -f "$T/px.port"
python3 "$TOP/tests/integration/cutproxy.py" --target "$SSHD_PORT" --cuts 0 --rate 16000000 \
  --port-file "$T/px.port" --log "$T/px.log" & px=$!
at_exit "kill $px 2>/dev/null"
for _ in $(seq 100); do [ -s "$T/px.port" ] && break; sleep 0.1; done
RES=(--hostkey "$SSHD_HOSTKEY_PIN" -i "$SSH_ID" --progress none --state-dir "$T/state"
     --on-read-error=zero --remote-import "$CTI receive --import-dir $IMP")
"$P2V" disk --name badk --disk "$MNT2" --to "root@127.0.0.1:$(cat "$T/px.port")" "${RES[@]}" \
  2>"$T/log.kill1" & pid=$!
for _ in $(seq 600); do [ -e "$IMP/.badk.qcow2.resume" ] && break; sleep 0.1; done
[ -e "$IMP/.badk.qcow2.resume" ] || { kill -9 $pid; cat "$T/log.kill1" >&2; fail "no checkpoint"; }
sleep 3
kill -9 $pid; wait $pid 2>/dev/null || true
assert_grep "1052672 cannot be read" "$T/log.kill1"
[ ! -e "$IMP/badk.qcow2" ] || fail "published before the end (the kill came too late)"
"$P2V" disk --name badk --disk "$MNT2" --to "root@127.0.0.1:$SSHD_PORT" --resume "${RES[@]}" \
  2>"$T/log.kill2" || { cat "$T/log.kill2" >&2; fail "--resume"; }
grep -q "resuming badk at offset [1-9]" "$T/log.kill2" || { cat "$T/log.kill2" >&2; fail "did not resume past the start"; }
# The range at 1 MiB was not read again, yet both are listed.
! grep -q "1052672 cannot be read" "$T/log.kill2" || fail "the resumed run read the first range again"
assert_grep "as an earlier run recorded" "$T/log.kill2"
got=$(python3 -c '
import json, sys
for r in json.load(open(sys.argv[1]))["unreadable"]:
    print(r["offset"], r["length"])
' "$IMP/badk.unreadable.json")
[ "$got" = "$(printf '%s\n' "1052672 512" "$((150 << 20)) 4096")" ] ||
  { echo "$got" >&2; fail "the list after --resume"; }
cp "$SRC2" "$T/expect2.img"
dd if=/dev/zero of="$T/expect2.img" bs=512 seek=$((1052672 / 512)) count=1 conv=notrunc status=none
dd if=/dev/zero of="$T/expect2.img" bs=4096 seek=$((150 << 8)) count=1 conv=notrunc status=none
qemu-img compare -q -f raw -F qcow2 "$T/expect2.img" "$IMP/badk.qcow2" ||
  fail "the resumed image is not the source with the bad ranges zeroed"
umount "$MNT2"
echo "ok"
