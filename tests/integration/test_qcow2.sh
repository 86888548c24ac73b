#!/bin/bash
# The qcow2 writer (lib/qcow2.c), fed the way ct-import receives a disk:
# tests/tools/qcow2_from_raw streams raw images through it in random-sized
# pieces, skipping holes and all-zero pieces. Judges: qemu-img check (exit
# 0, no leaks, no corruption), qemu-img compare against the raw source, and
# a reader of qemu-img map that finds no allocated all-zero cluster.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip "qemu-img not installed"
[ -x /usr/bin/time ] || skip "GNU time not installed"

step "build the driver"
SAN=""
case "$BUILD" in *asan*) SAN="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer" ;; esac
TOOL=$T/qcow2_from_raw
# shellcheck disable=SC2046
cc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE $SAN -I"$TOP/lib" -o "$TOOL" \
  "$TOP/tests/tools/qcow2_from_raw.c" "$TOP/lib/qcow2.c" "$TOP/lib/atomic_file.c" \
  "$TOP/lib/log.c" "$TOP/lib/util.c" $(pkg-config --libs libzstd zlib) ||
  fail "cannot build qcow2_from_raw"

# mk RAW SIZE SEED N MAXLEN: a sparse file with N extents of mixed content
# (noise, text, sparse bytes, half zeros) and its last byte set.
cat >"$T/mk.py" <<'EOF'
import os, random, sys
path, size, seed, n, maxlen = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
r = random.Random(seed)
with open(path, "wb") as f:
    f.truncate(size)
    for i in range(n):
        ln = r.randint(1, maxlen)
        off = r.randrange(0, size - ln + 1)
        kind = r.randrange(4)
        if kind == 0: data = os.urandom(ln)
        elif kind == 1: data = (b"line %d of some text\n" % r.randrange(10**6)) * (ln // 20 + 1)
        elif kind == 2: data = bytes(r.choice(b"abcd\0\0\0\0") for _ in range(min(ln, 100000))) * (ln // 100000 + 1)
        else: data = b"\0" * (ln // 2) + os.urandom(ln - ln // 2)
        f.seek(off); f.write(data[:ln])
    f.seek(size - 1); f.write(b"\x01")
EOF
mk() { python3 "$T/mk.py" "$@"; }

# No allocated cluster of IMG may read as zeros (zeros stay unallocated).
cat >"$T/zeros.py" <<'EOF'
import json, subprocess, sys
raw, img = sys.argv[1], sys.argv[2]
m = json.loads(subprocess.check_output(["qemu-img", "map", "--output=json", img]))
with open(raw, "rb") as f:
    for e in m:
        if not e["data"]:
            continue
        for off in range(e["start"], e["start"] + e["length"], 65536):
            f.seek(off)
            b = f.read(min(65536, e["start"] + e["length"] - off))
            if not b.strip(b"\0"):
                sys.exit("allocated all-zero cluster at guest offset %d" % off)
EOF

# judge RAW IMG: check, compare, zeros unallocated, same virtual size.
judge() {
  local rc=0
  qemu-img check "$2" >"$T/check.out" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || { cat "$T/check.out" >&2; fail "qemu-img check $2 exit $rc"; }
  assert_grep "No errors were found on the image" "$T/check.out"
  if grep -qi "leak" "$T/check.out"; then cat "$T/check.out" >&2; fail "leaks in $2"; fi
  qemu-img compare -f raw -F qcow2 "$1" "$2" >"$T/cmp.out" 2>&1 ||
    { cat "$T/cmp.out" >&2; fail "qemu-img compare $1 $2"; }
  assert_grep "Images are identical" "$T/cmp.out"
  qemu-img info --output=json "$2" >"$T/info.json"
  assert_grep "\"virtual-size\": $(stat -c %s "$1")," "$T/info.json"
  python3 "$T/zeros.py" "$1" "$2" || fail "zeros allocated in $2"
}

# convert RAW NAME COMP [driver options]: write $T/NAME-COMP.qcow2 and judge it.
convert() {
  local raw=$1 img=$T/$2-$3.qcow2 comp=$3
  shift 3
  rm -f "$img"
  "$TOOL" -c "$comp" "$@" "$raw" "$img" >"$T/stats" || fail "qcow2_from_raw $img"
  judge "$raw" "$img"
  qemu-img info "$img" >"$T/info"
  case $comp in
    zstd) assert_grep "compression type: zstd" "$T/info" ;;
    *) assert_grep "compression type: zlib" "$T/info" ;;
  esac
  echo "    $(basename "$img"): $(cat "$T/stats")"
}
compressed() { sed -n 's/.*compressed_clusters=\([0-9]*\).*/\1/p' "$T/stats"; }
MODES="none deflate zstd"

step "an empty disk stays unallocated"
truncate -s 64M "$T/empty.raw"
for c in $MODES; do
  convert "$T/empty.raw" empty "$c"
  assert_grep "data_clusters=0 compressed_clusters=0" "$T/stats"
  [ "$(stat -c %s "$T/empty-$c.qcow2")" -le 262144 ] || fail "empty image too large"
done

step "a fully random disk (nothing compresses)"
head -c 32M /dev/urandom >"$T/random.raw"
for c in $MODES; do
  convert "$T/random.raw" random "$c" -s 11
  assert_grep "data_clusters=512 compressed_clusters=0" "$T/stats"
done
rm -f "$T"/random*

step "random extents on a 1.5 GiB sparse disk (three L2 spans)"
mk "$T/ext.raw" $((1536 << 20)) 1 60 $((8 << 20))
convert "$T/ext.raw" ext none -s 5
convert "$T/ext.raw" ext deflate -s 6 -m 100000
[ "$(compressed)" -gt 0 ] || fail "deflate compressed nothing"
convert "$T/ext.raw" ext zstd -s 7
[ "$(compressed)" -gt 0 ] || fail "zstd compressed nothing"
[ "$(stat -c %s "$T/ext-zstd.qcow2")" -lt "$(stat -c %s "$T/ext-none.qcow2")" ] ||
  fail "zstd image not smaller than the uncompressed one"
rm -f "$T"/ext*

step "a size that is not a multiple of the cluster size"
mk "$T/odd.raw" $(((10 << 20) + 3 * 512)) 2 12 300000
for c in $MODES; do convert "$T/odd.raw" odd "$c" -s 9 -m 70000; done

# refblocks IMG: how many refcount blocks the refcount table lists.
refblocks() {
  python3 - "$1" <<'EOF'
import struct, sys
f = open(sys.argv[1], "rb"); h = f.read(112)
off, n = struct.unpack(">QI", h[48:60])
f.seek(off); t = struct.unpack(">%dQ" % (n * 8192), f.read(n * 65536))
print(sum(1 for e in t if e))
EOF
}

step "a 6 GiB disk: extents spread over twelve L2 spans"
truncate -s 6G "$T/big.raw"
for i in $(seq 0 11); do
  head -c 100000 /dev/urandom | dd of="$T/big.raw" bs=64K seek=$((i * 8192 + 3)) conv=notrunc status=none
  yes "text for extent $i" | head -c 300000 |
    dd of="$T/big.raw" bs=64K oflag=seek_bytes seek=$((i * (512 << 20) + 300001 + i * 4099)) conv=notrunc status=none
done
for c in $MODES; do convert "$T/big.raw" big "$c" -s 13; done

step "the same disk with 2.3 GiB of data: a file over 2 GiB needs two refcount blocks"
head -c 64M /dev/urandom >"$T/noise"
for i in $(seq 0 35); do cat "$T/noise"; done |
  dd of="$T/big.raw" bs=4M seek=$((1 << 30)) oflag=seek_bytes conv=notrunc status=none
rm -f "$T/noise" "$T"/big-*.qcow2
for c in $MODES; do
  convert "$T/big.raw" big "$c" -s 17
  [ "$(refblocks "$T/big-$c.qcow2")" -ge 2 ] || fail "expected two refcount blocks in big-$c"
  rm -f "$T/big-$c.qcow2"
done
rm -f "$T/big.raw"

step "a 10 TiB sparse disk (an L1 table of three clusters)"
truncate -s 10T "$T/huge.raw"
for i in $(seq 0 9); do
  yes "extent $i" | head -c 200000 |
    dd of="$T/huge.raw" bs=64K oflag=seek_bytes seek=$((i * (1 << 40) + i * 1000003)) conv=notrunc status=none
done
for c in none zstd; do
  convert "$T/huge.raw" huge "$c" -s 19
  assert_grep '"virtual-size": 10995116277760' "$T/info.json"
done

step "peak RSS for a 64 GiB sparse disk"
mk "$T/rss.raw" $((64 << 30)) 3 40 $((4 << 20))
for c in none zstd; do
  rm -f "$T/rss-$c.qcow2"
  /usr/bin/time -f %M -o "$T/rss" "$TOOL" -c "$c" "$T/rss.raw" "$T/rss-$c.qcow2" >/dev/null ||
    fail "qcow2_from_raw rss-$c"
  judge "$T/rss.raw" "$T/rss-$c.qcow2"
  kib=$(tail -1 "$T/rss")
  echo "    peak RSS $c: $kib KiB"
  # Sanitizers inflate RSS; the bound holds for the plain build.
  [ -n "$SAN" ] || [ "$kib" -le 24576 ] || fail "peak RSS $kib KiB for a 64 GiB disk"
done
echo "ok"
