# Resuming (doc/protocol.md "Resuming"): a TCP proxy between p2v and sshd
# cuts the connection at ten random points of a multi-GiB disk transfer and
# of a ct transfer; each run must end with a result identical to an
# uninterrupted run, and p2v must report at most one window of bytes sent
# again per cut. Then p2v is killed with SIGKILL mid-transfer and `--resume`
# must finish the same transfer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd.sh"
start_sshd

# proxy NAME CUTS RATE: start cutproxy.py, set PROXY_PORT.
proxy() {
  rm -f "$T/$1.port"
  python3 "$TOP/tests/integration/cutproxy.py" --target "$SSHD_PORT" --cuts "$2" --rate "$3" \
    --port-file "$T/$1.port" --log "$T/$1.cuts" &
  local pid=$!
  at_exit "kill $pid 2>/dev/null"
  for i in $(seq 100); do [ -s "$T/$1.port" ] && break; sleep 0.1; done
  PROXY_PORT=$(cat "$T/$1.port")
}

# ten_points TOTAL: ten sorted random byte counts within the first 90 %.
ten_points() {
  python3 -c "import random,sys; t=int(sys.argv[1]); print(','.join(str(x) for x in sorted(random.sample(range(t//50, t*9//10), 10))))" "$1"
}

# check_resent LOG CUTS: every cut was resumed, none resent more than the window.
check_resent() {
  local n
  n=$(grep -c '^cut ' "$2" || true)
  [ "$n" -eq 10 ] || fail "the proxy cut $n times, not 10"
  grep -o 'resent_bytes=[0-9]* cuts=[0-9]* max_resent=[0-9]* window=[0-9]*' "$1" | tail -1 >"$T/resent"
  [ -s "$T/resent" ] || { cat "$1" >&2; fail "p2v did not report what it resent"; }
  read -r line <"$T/resent"
  echo "  $line"
  local cuts max window
  cuts=$(echo "$line" | sed 's/.* cuts=\([0-9]*\).*/\1/')
  max=$(echo "$line" | sed 's/.*max_resent=\([0-9]*\).*/\1/')
  window=$(echo "$line" | sed 's/.*window=\([0-9]*\).*/\1/')
  [ "$cuts" -eq 10 ] || fail "p2v counted $cuts cuts, the proxy made 10"
  [ "$max" -le "$window" ] || fail "$max bytes sent again after one cut, more than the window ($window)"
  # And each cut's own line agrees.
  grep -o '[0-9]* bytes sent before the cut are sent again' "$1" | while read -r b _; do
    [ "$b" -le "$window" ] || fail "one cut resent $b bytes (window $window)"
  done
  [ "$(grep -c 'bytes sent before the cut are sent again' "$1")" -eq 10 ] || fail "not every cut was resumed"
}

COMMON=(--hostkey "$SSHD_HOSTKEY_PIN" -i "$SSH_ID" --progress none --retries 30 --retry-max-wait 1
        --state-dir "$T/state")

# ---------------------------------------------------------------- disk ---
step "a 2.5 GiB sparse disk with scattered random data"
python3 - "$T/disk.img" <<'PY'
import os, random, sys
size = 2560 << 20
with open(sys.argv[1], "wb") as f:
    f.truncate(size)
    rnd = random.Random()
    for off in sorted(rnd.sample(range(0, size // (4 << 20)), 40)):
        f.seek(off * (4 << 20) + rnd.randrange(0, 1 << 20))
        f.write(os.urandom(rnd.randrange(1 << 20, 3 << 20)))
PY
mkdir -p "$T/imp-ref" "$T/imp-cut" "$T/imp-kill"

step "uninterrupted disk transfer (reference)"
"$P2V" disk --name ref --disk "$T/disk.img" --to "root@127.0.0.1:$SSHD_PORT" "${COMMON[@]}" \
  --remote-import "$CTI receive --import-dir $T/imp-ref" 2>"$T/disk-ref.log" ||
  { cat "$T/disk-ref.log"; fail "reference disk transfer failed"; }
wire=$(sed -n 's/.*sent_bytes=\([0-9]*\).*/\1/p' "$T/disk-ref.log" | tail -1)
[ -n "$wire" ] || { cat "$T/disk-ref.log"; fail "no sent_bytes in the log"; }
echo "  $wire bytes on the wire"

step "the same disk through a proxy that cuts it ten times"
points=$(ten_points "$wire")
echo "  cuts at $points"
proxy disk "$points" 0
"$P2V" disk --name cut --disk "$T/disk.img" --to "root@127.0.0.1:$PROXY_PORT" "${COMMON[@]}" \
  --remote-import "$CTI receive --import-dir $T/imp-cut" 2>"$T/disk-cut.log" ||
  { cat "$T/disk-cut.log"; fail "disk transfer over the cutting proxy failed"; }
check_resent "$T/disk-cut.log" "$T/disk.cuts"
qemu-img check -q "$T/imp-cut/cut.qcow2" || fail "qemu-img check: the resumed image is damaged"
qemu-img compare -q "$T/imp-ref/ref.qcow2" "$T/imp-cut/cut.qcow2" ||
  fail "the resumed image differs from the uninterrupted one"
qemu-img compare -q -f raw -F qcow2 "$T/disk.img" "$T/imp-cut/cut.qcow2" ||
  fail "the resumed image differs from the source"
[ -z "$(ls -A "$T/imp-cut" | grep -v '^cut.qcow2$' | grep -v '^\.p2v$' | grep -v '^\.cut.qcow2.resume$')" ] ||
  fail "staging files left behind: $(ls -A "$T/imp-cut")"
[ ! -e "$T/state/cut.disk.json" ] || fail "p2v kept its record after success"

step "p2v killed with SIGKILL mid-disk, then --resume"
proxy kill "" 20000000
"$P2V" disk --name killed --disk "$T/disk.img" --to "root@127.0.0.1:$PROXY_PORT" "${COMMON[@]}" \
  --remote-import "$CTI receive --import-dir $T/imp-kill" 2>"$T/disk-kill1.log" & pid=$!
for i in $(seq 600); do [ -e "$T/imp-kill/.killed.qcow2.resume" ] && break; sleep 0.1; done
[ -e "$T/imp-kill/.killed.qcow2.resume" ] || { kill -9 $pid; cat "$T/disk-kill1.log"; fail "no checkpoint within a minute"; }
sleep 1
kill -9 $pid; wait $pid 2>/dev/null || true
[ -e "$T/state/killed.disk.json" ] || fail "p2v left no record to resume from"
[ ! -e "$T/imp-kill/killed.qcow2" ] || fail "published before the end"
"$P2V" disk --name killed --disk "$T/disk.img" --to "root@127.0.0.1:$SSHD_PORT" "${COMMON[@]}" \
  --resume --remote-import "$CTI receive --import-dir $T/imp-kill" 2>"$T/disk-kill2.log" ||
  { cat "$T/disk-kill2.log"; fail "--resume failed"; }
assert_grep "resuming transfer" "$T/disk-kill2.log"
grep -q "resuming killed at offset [1-9]" "$T/disk-kill2.log" ||
  { cat "$T/disk-kill2.log"; fail "the receiver did not resume past the start"; }
qemu-img compare -q "$T/imp-ref/ref.qcow2" "$T/imp-kill/killed.qcow2" ||
  fail "the image finished with --resume differs from the uninterrupted one"

# ------------------------------------------------------------------ ct ---
step "a root of a few hundred MiB"
python3 - "$T/root" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random()
words = [bytes(rnd.choice(b"abcdefghij") for _ in range(rnd.randrange(3, 9))) for _ in range(500)]
text = b" ".join(rnd.choice(words) for _ in range(400000))   # ~2.4 MB to cut from
for d in range(40):
    dd = os.path.join(root, "d%02d" % d, "sub%d" % (d % 3))
    os.makedirs(dd, exist_ok=True)
    for i in range(50):
        with open(os.path.join(dd, "f%03d" % i), "wb") as f:
            if i % 5 == 0:
                f.write(os.urandom(rnd.randrange(256 << 10, 1 << 20)))   # incompressible
            else:
                a = rnd.randrange(0, len(text) - 200000)
                f.write(text[a:a + rnd.randrange(1000, 200000)])
os.makedirs(os.path.join(root, "etc"), exist_ok=True)
open(os.path.join(root, "etc", "hostname"), "w").write("resumed\n")
PY
du -sh "$T/root"
mkdir -p "$T/cache-ref" "$T/cache-cut" "$T/cache-kill"

step "uninterrupted ct transfer (reference)"
"$P2V" ct --name ref --root "$T/root" --to "root@127.0.0.1:$SSHD_PORT" "${COMMON[@]}" \
  --remote-import "$CTI receive --cache-dir $T/cache-ref" 2>"$T/ct-ref.log" ||
  { cat "$T/ct-ref.log"; fail "reference ct transfer failed"; }
size=$(stat -c %s "$T/cache-ref/ref.tar.zst")
echo "  $size bytes compressed"

step "the same root through a proxy that cuts it ten times"
points=$(ten_points "$size")
echo "  cuts at $points"
proxy ct "$points" 0
"$P2V" ct --name cut --root "$T/root" --to "root@127.0.0.1:$PROXY_PORT" "${COMMON[@]}" \
  --remote-import "$CTI receive --cache-dir $T/cache-cut" 2>"$T/ct-cut.log" ||
  { cat "$T/ct-cut.log"; fail "ct transfer over the cutting proxy failed"; }
check_resent "$T/ct-cut.log" "$T/ct.cuts"

# same_tar A B: the same tar bytes inside, and GNU tar lists them alike.
same_tar() {
  zstd -t -q "$2" || fail "$2 is not a valid zstd file"
  [ "$(zstd -dc "$1" | sha256sum)" = "$(zstd -dc "$2" | sha256sum)" ] ||
    fail "$2 holds another tar than $1"
  tar --zstd -tvf "$1" >"$T/list1"; tar --zstd -tvf "$2" >"$T/list2"
  cmp -s "$T/list1" "$T/list2" || fail "GNU tar lists $1 and $2 differently"
}
same_tar "$T/cache-ref/ref.tar.zst" "$T/cache-cut/cut.tar.zst"

step "p2v killed with SIGKILL mid-ct, then --resume"
proxy ctkill "" 15000000
"$P2V" ct --name killed --root "$T/root" --to "root@127.0.0.1:$PROXY_PORT" "${COMMON[@]}" \
  --remote-import "$CTI receive --cache-dir $T/cache-kill" 2>"$T/ct-kill1.log" & pid=$!
for i in $(seq 600); do [ -e "$T/cache-kill/.killed.tar.zst.resume" ] && break; sleep 0.1; done
[ -e "$T/cache-kill/.killed.tar.zst.resume" ] || { kill -9 $pid; cat "$T/ct-kill1.log"; fail "no checkpoint within a minute"; }
sleep 1
kill -9 $pid; wait $pid 2>/dev/null || true
[ ! -e "$T/cache-kill/killed.tar.zst" ] || fail "published before the end"
"$P2V" ct --name killed --root "$T/root" --to "root@127.0.0.1:$SSHD_PORT" "${COMMON[@]}" \
  --resume --remote-import "$CTI receive --cache-dir $T/cache-kill" 2>"$T/ct-kill2.log" ||
  { cat "$T/ct-kill2.log"; fail "--resume failed"; }
assert_grep "resuming the archive at its byte" "$T/ct-kill2.log"
same_tar "$T/cache-ref/ref.tar.zst" "$T/cache-kill/killed.tar.zst"
# Only now read the source with other tools: reading changes its atimes,
# which the archive records (p2v itself reads with O_NOATIME).
mkdir "$T/x"; tar --zstd -xf "$T/cache-cut/cut.tar.zst" -C "$T/x"
diff -r "$T/root" "$T/x" >/dev/null || fail "unpacked content differs from the source"

step "a changed source is refused on --resume, not spliced"
proxy ctchg "" 15000000
"$P2V" ct --name changed --root "$T/root" --to "root@127.0.0.1:$PROXY_PORT" "${COMMON[@]}" \
  --remote-import "$CTI receive --cache-dir $T/cache-kill" 2>"$T/ct-chg1.log" & pid=$!
for i in $(seq 600); do [ -e "$T/cache-kill/.changed.tar.zst.resume" ] && break; sleep 0.1; done
sleep 1
kill -9 $pid; wait $pid 2>/dev/null || true
echo "changed" >>"$T/root/d00/sub0/f001"
rc=0
"$P2V" ct --name changed --root "$T/root" --to "root@127.0.0.1:$SSHD_PORT" "${COMMON[@]}" \
  --resume --remote-import "$CTI receive --cache-dir $T/cache-kill" 2>"$T/ct-chg2.log" || rc=$?
[ "$rc" -ne 0 ] || fail "--resume spliced a changed source"
assert_grep "the source is not what it was" "$T/ct-chg2.log"
[ ! -e "$T/cache-kill/changed.tar.zst" ] || fail "published a spliced archive"

echo "resume: identical results after ten cuts and after SIGKILL"
