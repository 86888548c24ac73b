#!/bin/bash
# Every receive path refuses names and offsets that would land outside its
# directory or image. Streams are made by hand (mkhostile.py): template
# and disk names with ../, /, NUL, newlines, very long ones and non-strings;
# DATA, ZERO, ZDATA and UNREADABLE frames beyond the announced size,
# straddling it, overlapping earlier ones, wrapping near 2^64; lengths
# past each frame type's limit; a --target-dev smaller than the disk; and
# the resumable (version 2) path: transfer ids that are not 32 hex digits,
# CHECKPOINT frames out of place or with a forged hash state (there the
# hidden staging files a resumable transfer keeps by design are allowed).
# Each is refused with an ERR reply and exit 4 (malformed; 1 for the small
# device, as documented), and the whole directory tree around the receiver's
# directories is compared before and after: nothing written, nothing
# published, no temporary left. Controls show the same generator's
# well-formed streams are accepted, so the refusals are the receiver's.
. "$(dirname "$0")/lib.sh"
command -v zstd >/dev/null || skip "zstd missing"
MK="python3 $TOP/tests/integration/mkhostile.py"

# The receiver's directories sit two levels down in W, so ../../ lands
# inside W, where the snapshot sees it.
W=$T/w
CACHE=$W/a/b/cache IMPORT=$W/a/b/import
mkdir -p "$CACHE" "$IMPORT" "$W/etc"
echo secret >"$W/victim"; echo root:x:0:0 >"$W/etc/passwd"
ESC=/tmp/p2v-hostile-$$
at_exit "rm -rf $ESC"
RX=("$CTI" receive --cache-dir "$CACHE" --import-dir "$IMPORT")
snapshot() {
  (cd "$W" && find . -printf '%y %p %s %m\n' | sort && find . -type f -exec sha256sum {} + | sort)
}

step "controls: well-formed streams from the same generator are accepted"
$MK --kind template --name-json '"okt"' data@0:5000 data@5000:100 end@5100 | "${RX[@]}" >"$T/reply" ||
  fail "a well-formed template was refused"
[ -f "$CACHE/okt.tar.zst" ] || fail "no template published"
[ ! -e "$CACHE/okt.tar.zst.unreadable.json" ] || fail "a list for a template without bad ranges"
# A template with unreadable file ranges (of different files, in any
# order), and one with 100000 ranges (the most a template may list):
# accepted, listed beside the template.
$MK --kind template --name-json '"oku"' data@0:5000 unreadable@8192:4096:2f7661722f6c6f67 \
  unreadable@0:512:2f61 end@5000 | "${RX[@]}" >"$T/reply" || fail "a template with unreadable ranges was refused"
python3 - "$CACHE/oku.tar.zst.unreadable.json" <<'EOF' || fail "the unreadable list beside the template"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["template"] == "oku" and j["file"] == "oku.tar.zst", j
assert j["unreadable_ranges"] == 2 and j["unreadable_bytes"] == 4608, j
assert j["unreadable"] == [{"file": "/var/log", "offset": 8192, "length": 4096, "owner": "/var/log"},
                           {"file": "/a", "offset": 0, "length": 512, "owner": "/a"}], j
EOF
$MK --kind template --name-json '"okm"' data@0:100 many@100000:1:2f61 end@100 | "${RX[@]}" >"$T/reply" ||
  fail "a template with 100000 unreadable ranges was refused"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["unreadable_ranges"] == j["listed"] == 100000' \
  "$CACHE/okm.tar.zst.unreadable.json" || fail "the 100000 ranges beside the template"
rm -f "$CACHE"/oku.tar.zst* "$CACHE"/okm.tar.zst*
$MK --name-json '"okd"' data@0:4096 zero@4096:4096 zdata@65536:8192 unreadable@131072:1024:2f62696731 \
  data@200000:100 end@S | "${RX[@]}" >"$T/reply" || fail "a well-formed disk was refused"
[ -f "$IMPORT/okd.qcow2" ] || fail "no disk image published"
python3 - "$IMPORT/okd.unreadable.json" <<'EOF' || fail "the unreadable list beside the image"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["unreadable"] == [{"offset": 131072, "length": 1024, "owner": "/big1"}], j
EOF
rm -f "$CACHE/okt.tar.zst" "$IMPORT/okd.qcow2" "$IMPORT/okd.unreadable.json"
rm -rf "$IMPORT/.p2v" "$CACHE/.p2v"
snapshot >"$T/before"
N=0

# refused EXIT WHAT MKHOSTILE-ARGS... [-- RECEIVER-ARGS...]
refused() {
  local want=$1 what=$2; shift 2
  local mk=() rx=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do mk+=("$1"); shift; done
  [ $# -gt 0 ] && { shift; rx=("$@"); }
  set +e; $MK "${mk[@]}" | "${RX[@]}" "${rx[@]}" >"$T/reply" 2>"$T/err"; local st=("${PIPESTATUS[@]}"); set -e
  rc=${st[1]}
  [ "${st[0]}" = 0 ] || { cat "$T/err" >&2; fail "$what: mkhostile.py failed"; }
  # One reply line (version 2: READY and ACK lines first): nothing from the
  # stream may forge another.
  [ -n "${STAGED:-}" ] || [ "$(wc -l <"$T/reply")" = 1 ] ||
    { cat "$T/reply" >&2; fail "$what: the reply is not one line"; }
  ! grep -Ev '^(READY|ACK|ERR)( |$)' "$T/reply" | grep -q . ||
    { cat "$T/reply" >&2; fail "$what: an unexpected reply line"; }
  if [ $rc != "$want" ] || ! tail -1 "$T/reply" | grep -q '^ERR' || grep -q '^OK' "$T/reply"; then
    cat "$T/err" "$T/reply" >&2; fail "$what: exit $rc (expected $want)"
  fi
  snapshot >"$T/after"
  if [ -n "${STAGED:-}" ]; then
    # A resumable (version 2) transfer may keep its hidden staging files
    # in the receiver's directory, by design; nothing else may change.
    staging='^. \./a/b/(cache|import)/\.[^/ ]+\.(partial|resume|lock) |  \./a/b/(cache|import)/\.[^/ ]+\.(partial|resume|lock)$'
    grep -Ev "$staging" "$T/after" >"$T/after.f"
    diff "$T/before" "$T/after.f" >&2 || { cat "$T/err" >&2; fail "$what: the tree changed"; }
    find "$CACHE" "$IMPORT" -maxdepth 1 -name '.*' -type f -delete
  else
    diff "$T/before" "$T/after" >&2 || { cat "$T/err" >&2; fail "$what: the tree changed"; }
  fi
  [ ! -e "$ESC" ] || fail "$what: wrote $ESC"
  echo "  refused ($rc): $what: $(grep -m1 -v '^ct-import: receiving' "$T/err" | head -c 150)"
  N=$((N + 1))
}

LONG129=$(printf 'n%.0s' $(seq 129))
LONG5000=$(head -c 5000 /dev/zero | tr '\0' n)
for kind in template disk; do
  step "$kind names"
  # A stream that would be published if its name passed.
  if [ $kind = disk ]; then body=(data@0:4096 end@S); else body=(data@0:4096 end@4096); fi
  for name in '"../x"' '"../../victim"' '"../../../../../../../../../tmp/p2v-hostile-'$$'"' \
      '"/tmp/p2v-hostile-'$$'"' '"'"$W"'/abs"' '"a/b"' '"a/../../x"' '"."' '".."' '".hidden"' \
      '"-rf"' '""' '"a\u0000b"' '"a\nb"' '"a b"' '"\u00e9t\u00e9"' '"x\\y"' '"'$LONG129'"' \
      '"'$LONG5000'"' 123 null '["x"]' '{"a": 1}'; do
    refused 4 "$kind name ${name:0:60}" --kind $kind --name-json "$name" "${body[@]}"
  done
  refused 4 "$kind HELLO without a name" --hello-raw "{\"version\": 1, \"kind\": \"$kind\", \"size\": 4096}" \
    "${body[@]}"
done

step "HELLO frames"
refused 4 "HELLO not JSON" --hello-raw 'not json {' data@0:10
refused 4 "HELLO a JSON array" --hello-raw '[1, 2]' data@0:10
refused 4 "HELLO announcing 1 MiB + 1" --no-hello lie@0:1:1048577
refused 4 "HELLO announcing 4 GiB" --no-hello lie@0:1:4294967295
refused 4 "a DATA frame first" --no-hello data@0:100
refused 4 "unknown kind" --kind vm data@0:10
refused 4 "a future protocol version" --version 99 data@0:10

step "disk sizes"
for size in -1 0 1.5 '"1048576"' 70368744177665 9223372036854775807 18446744073709551616 null; do
  refused 4 "disk size $size" --size "$size" data@0:512 end@S
done

step "disk frames outside the image (size 1 MiB)"
refused 4 "DATA at the size" data@S:1 end@S
refused 4 "DATA straddling the end" data@S-100:512 end@S
refused 4 "DATA wrapping past 2^64" data@M-4096:8192 end@S
refused 4 "DATA at 2^64-1" data@M-1:1 end@S
refused 4 "DATA overlapping the previous frame" data@0:4096 data@0:4096 end@S
refused 4 "DATA reaching back into the previous one" data@8192:4096 data@4096:8192 end@S
refused 4 "ZERO of 2^64-1 bytes" zero@4096:M-1 end@S
refused 4 "ZERO wrapping past 2^64" zero@M-8:16 end@S
refused 4 "ZERO one byte past the end" zero@0:S+1 end@S
refused 4 "ZERO going back" data@8192:4096 zero@0:4096 end@S
refused 4 "ZDATA wrapping past 2^64" zdata@M-512:1024 end@S
refused 4 "ZDATA straddling the end" zdata@S-512:1024 end@S
refused 4 "ZDATA announcing more than 4 MiB" zdata@0:4096:5000000 end@S
refused 4 "ZDATA announcing 4 GiB - 1" zdata@0:4096:4294967295 end@S
refused 4 "DATA announcing 4 MiB + 1" data@0:100 lie@4096:2:4194305
refused 4 "ZERO with a 16-byte count" data@0:100 raw@4096:3:00000000000000010000000000000000 end@S
refused 4 "END at 2^64-1" data@0:100 end@M-1
refused 4 "END past the size" data@0:100 end@S+1
refused 4 "an unknown frame type" data@0:100 raw@0:99:00 end@S
refused 4 "frame type 0" data@0:100 raw@0:0: end@S

step "UNREADABLE frames outside the image"
refused 4 "UNREADABLE at the size" unreadable@S:1 end@S
refused 4 "UNREADABLE wrapping past 2^64" unreadable@M-512:1024 end@S
refused 4 "UNREADABLE of 2^64-1 bytes" unreadable@0:M-1 end@S
refused 4 "UNREADABLE of 0 bytes" unreadable@0:0 end@S
refused 4 "UNREADABLE overlapping the previous one" unreadable@4096:1024 unreadable@4096:512 end@S
refused 4 "UNREADABLE owner not UTF-8" unreadable@4096:512:ff2f end@S
refused 4 "UNREADABLE owner with a NUL" unreadable@4096:512:610062 end@S
refused 4 "UNREADABLE payload of 2 bytes" raw@4096:8:0102 end@S
refused 4 "UNREADABLE payload over its limit" lie@4096:8:4105

step "template frames"
refused 4 "template DATA not at 0" --kind template data@4096:100 end@4196
refused 4 "template DATA overlapping" --kind template data@0:100 data@50:100 end@200
refused 4 "template DATA wrapping past 2^64" --kind template data@0:100 data@M-50:100 end@100
refused 4 "template ZERO frame" --kind template zero@0:100 end@100
refused 4 "template END at 2^64-1" --kind template data@0:100 end@M-1

step "template UNREADABLE frames (a range of a file, the file's path as owner)"
OWN=2f61   # "/a"
refused 4 "template UNREADABLE without an owner" --kind template data@0:100 unreadable@0:10 end@100
refused 4 "template UNREADABLE wrapping past 2^64" --kind template data@0:100 unreadable@M-512:1024:$OWN end@100
refused 4 "template UNREADABLE past the largest file offset" --kind template data@0:100 \
  unreadable@0x7fffffffffffffff:1:$OWN end@100
refused 4 "template UNREADABLE of 2^64-1 bytes" --kind template data@0:100 unreadable@0:M-1:$OWN end@100
refused 4 "template UNREADABLE of 0 bytes" --kind template data@0:100 unreadable@0:0:$OWN end@100
refused 4 "template UNREADABLE owner not UTF-8" --kind template data@0:100 unreadable@0:512:ff2f end@100
refused 4 "template UNREADABLE owner with a NUL" --kind template data@0:100 unreadable@0:512:2f0061 end@100
refused 4 "template UNREADABLE payload of 2 bytes" --kind template data@0:100 raw@0:8:0102 end@100
refused 4 "template UNREADABLE followed by data" --kind template data@0:100 unreadable@0:512:$OWN \
  data@100:100 end@200
refused 4 "template: 100001 UNREADABLE frames" --kind template data@0:100 many@100001:1:$OWN end@100
LONG=$(python3 -c 'print("2f" + "61" * 4095)')   # a 4096-byte path
refused 4 "template: 4097 UNREADABLE frames of 4 KiB paths (16 MiB)" --kind template data@0:100 \
  many@4097:1:$LONG end@100

step "version 2 (resumable) streams: transfer ids and checkpoints"
ID=0123456789abcdef0123456789abcdef
# A well-formed resumable disk first (the generator's checkpoint would not
# match the receiver's hash state, so none is sent), as a control.
$MK --version 2 --hello-raw '{"version": 2, "kind": "disk", "name": "v2ok", "size": 1048576, "transfer_id": "'$ID'"}' \
  data@0:4096 end@1048576 | "${RX[@]}" >"$T/reply" 2>"$T/err" || { cat "$T/err" >&2; fail "a version 2 stream was refused"; }
grep -q '^OK ' "$T/reply" || fail "no OK for the version 2 control"
rm -f "$IMPORT/v2ok.qcow2"; rm -rf "$IMPORT/.p2v"
find "$CACHE" "$IMPORT" -maxdepth 1 -name '.*' -type f -delete
snapshot >"$T/before"
for kind in disk template; do
  for id in '"../../../../tmp/p2v-hostile-'$$'"' '"/etc/passwd"' '"0123456789ABCDEF0123456789ABCDEF"' \
      '"0123456789abcdef0123456789abcde"' '"0123456789abcdef0123456789abcdef0"' \
      '"0123456789abcdef/123456789abcdef"' '"'$LONG5000'"' 12345 '[]'; do
    refused 4 "v2 $kind transfer_id ${id:0:50}" --version 2 --hello-raw \
      '{"version": 2, "kind": "'$kind'", "name": "v2", "size": 1048576, "compression": "zstd", "transfer_id": '"$id"'}' \
      data@0:4096 end@4096
  done
done
CK=$(head -c 224 /dev/zero | od -An -v -tx1 | tr -d ' \n')
H2='{"version": 2, "kind": "disk", "name": "v2", "size": 1048576, "transfer_id": "'$ID'"}'
STAGED=1
refused 4 "v2 CHECKPOINT beyond the disk" --version 2 --hello-raw "$H2" data@0:4096 raw@1048577:7:$CK end@S
refused 4 "v2 CHECKPOINT at 2^64-1" --version 2 --hello-raw "$H2" data@0:4096 raw@M-1:7:$CK end@S
refused 4 "v2 CHECKPOINT going back" --version 2 --hello-raw "$H2" data@0:8192 raw@4096:7:$CK end@S
refused 4 "v2 CHECKPOINT with a forged hash state" --version 2 --hello-raw "$H2" data@0:4096 raw@4096:7:$CK end@S
refused 4 "v2 CHECKPOINT of the wrong length" --version 2 --hello-raw "$H2" data@0:4096 raw@4096:7:00 end@S
refused 4 "v2 DATA wrapping past 2^64" --version 2 --hello-raw "$H2" data@0:4096 data@M-100:4096 end@S
T2='{"version": 2, "kind": "template", "name": "v2", "compression": "zstd", "transfer_id": "'$ID'"}'
refused 4 "v2 template CHECKPOINT ahead of the data" --version 2 --hello-raw "$T2" data@0:4096 raw@8192:7:$CK end@4096
refused 4 "v2 template CHECKPOINT at 2^64-1" --version 2 --hello-raw "$T2" data@0:4096 raw@M-1:7:$CK end@4096
refused 4 "v2 template CHECKPOINT with a forged hash state" --version 2 --hello-raw "$T2" data@0:4096 raw@4096:7:$CK end@4096
STAGED=

step "block device targets"
if [ "$(id -u)" = 0 ] && losetup -f >/dev/null 2>&1; then
  head -c $((512 * 1024)) /dev/urandom >"$T/small.img"
  SMALL=$(losetup -f --show "$T/small.img") || fail "losetup"
  at_exit "losetup -d $SMALL"
  cp "$T/small.img" "$T/small.before"
  refused 1 "--target-dev smaller than the announced size" data@0:4096 end@S -- --target-dev "$SMALL"
  cmp "$SMALL" "$T/small.before" || fail "the small device was written"
  refused 4 "a target device named by the stream alone" \
    --hello-raw '{"version": 1, "kind": "disk", "name": "t", "size": 1048576, "target": "'"$SMALL"'"}' \
    data@0:4096 end@S
  refused 4 "a target device other than --target-dev" \
    --hello-raw '{"version": 1, "kind": "disk", "name": "t", "size": 524288, "target": "/dev/null"}' \
    data@0:4096 end@S -- --target-dev "$SMALL"
  cmp "$SMALL" "$T/small.before" || fail "the small device was written"
else
  echo "  (no root or no loop device: device targets not tested)"
fi
echo "ok: $N hostile streams refused, nothing written outside, nothing published"
