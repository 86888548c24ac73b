#!/bin/bash
# ct-import receive on its own: publishes only complete, verified templates,
# and leaves nothing behind on any failure.
. "$(dirname "$0")/lib.sh"
MK="python3 $TOP/tests/integration/mkstream.py"
C="$T/cache"; mkdir -p "$C"
head -c 3000000 /dev/urandom > "$T/payload"
# Nothing but the published files may be in the cache: no temporaries.
only() { local got; got=$(ls -A "$C" | tr '\n' ' '); [ "$got" = "$*" ] || fail "cache holds '$got', expected '$*'"; }

step "a well-formed stream is published with its SHA-256"
$MK --payload "$T/payload" --name web01 | "$CTI" receive --cache-dir "$C" > "$T/reply"
cmp "$C/web01.tar.zst" "$T/payload" || fail "content differs"
assert_grep "^OK $C/web01.tar.zst 3000000 $(sha256sum < "$T/payload" | cut -c1-64)\$" "$T/reply"
only "web01.tar.zst "

step "gzip names the file .tar.gz"
$MK --payload "$T/payload" --name web02 --compression gzip | "$CTI" receive --cache-dir "$C" >/dev/null
only "web01.tar.zst web02.tar.gz "

step "an existing template is refused (exit 3) and kept"
cp "$C/web01.tar.zst" "$T/before"
head -c 1000 /dev/urandom > "$T/other"
set +e; $MK --payload "$T/other" --name web01 | "$CTI" receive --cache-dir "$C" > "$T/reply" 2>"$T/err"; rc=$?; set -e
[ $rc -eq 3 ] || fail "exit $rc, expected 3"
assert_grep "already exists" "$T/err"
cmp "$C/web01.tar.zst" "$T/before" || fail "existing template was changed"
step "--force replaces it"
$MK --payload "$T/other" --name web01 | "$CTI" receive --cache-dir "$C" --force >/dev/null
cmp "$C/web01.tar.zst" "$T/other" || fail "not replaced"
only "web01.tar.zst web02.tar.gz "

refused() { # expected-exit description mkstream-args...
  local want=$1 what=$2; shift 2
  step "refused: $what"
  set +e; $MK --payload "$T/payload" "$@" | "$CTI" receive --cache-dir "$C" > "$T/reply" 2>"$T/err"; rc=$?; set -e
  cat "$T/err"
  [ $rc -eq "$want" ] || fail "$what: exit $rc, expected $want"
  assert_grep "^ERR" "$T/reply"
  only "web01.tar.zst web02.tar.gz "
}
refused 4 "SHA-256 mismatch" --name n1 --corrupt-sha
refused 4 "stream cut mid-frame" --name n2 --truncate 1500000
refused 4 "stream without an end" --name n3 --no-end
refused 4 "data at the wrong offset" --name n4 --bad-offset
refused 1 "sender abort" --name n5 --abort
refused 4 "path traversal in the name" --name ../../etc/passwd
refused 4 "slash in the name" --name a/b
refused 4 "a disk stream" --name n6 --kind disk
refused 4 "unknown compression" --name n7 --compression lzma
refused 4 "future protocol version" --name n8 --version 3
step "refused: not a stream at all"
set +e; echo "hello" | "$CTI" receive --cache-dir "$C" >/dev/null 2>"$T/err"; rc=$?; set -e
[ $rc -eq 4 ] || fail "exit $rc"; only "web01.tar.zst web02.tar.gz "

step "a full disk leaves nothing behind"
mkdir "$T/small"; mount -t tmpfs -o size=1m tmpfs "$T/small"; at_exit "umount $T/small"
set +e; $MK --payload "$T/payload" --name big | "$CTI" receive --cache-dir "$T/small" > "$T/reply" 2>"$T/err"; rc=$?; set -e
cat "$T/err"; [ $rc -ne 0 ] || fail "a 3 MB template fitted in 1 MiB"
assert_grep "No space left" "$T/err"
[ -z "$(ls -A "$T/small")" ] || fail "leftovers on the full disk: $(ls -A "$T/small")"
[ "$(df --output=used -k "$T/small" | tail -1 | tr -d ' ')" -eq 0 ] || fail "space still used"

step "a killed receiver leaves nothing behind"
mkfifo "$T/fifo"
"$CTI" receive --cache-dir "$C" < "$T/fifo" > /dev/null 2>&1 & pid=$!
exec 9> "$T/fifo"
$MK --payload "$T/payload" --name killed --truncate 2000000 >&9
sleep 0.5; kill -9 $pid; wait $pid 2>/dev/null || true; exec 9>&-
only "web01.tar.zst web02.tar.gz "
echo "all receive checks passed"
