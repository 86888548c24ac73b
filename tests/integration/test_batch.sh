#!/bin/bash
# ct-import batch for real: 50 small OpenVZ containers (vzdump-openvz
# archives holding busybox-static, a few /etc files and vps.conf) converted
# into LXC containers under a private lxc path with --jobs 4. The batch is
# killed with SIGKILL (its whole process group) midway and rerun: it ends
# with 50 containers, none twice, no scratch directories, no partial
# templates, every state entry done and a correct report. Also: a state
# file that says a container was started (the window between creating a
# container and recording it) makes the rerun remove what it left; a
# container that existed before is refused and left alone (and, with a pct
# that logs its argv, a recorded Proxmox start is removed with pct unlock,
# stop and destroy --purge); a second batch
# on the same state is refused; a manifest with mistakes is refused whole
# with every line named; SIGTERM stops the conversions and leaves them
# pending; one broken archive fails with its reason while the
# others (archives and a private area with its config in /etc/vz/conf)
# convert, and the exit status says so. A container redone after the
# kill and one finished before it are started and answer lxc-attach.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (privileged LXC containers)"
for p in lxc-ls lxc-destroy setsid flock bzip2 jq; do
  command -v "$p" >/dev/null || skip "$p is not installed (make deps)"
done
BB=/bin/busybox
file -L "$BB" 2>/dev/null | grep -q 'statically linked' || skip "needs busybox-static"

CACHE="$T/cache"
LXCP="$T/lxc"
SRC="$T/src"
mkdir -p "$CACHE" "$LXCP" "$SRC"
N=50

step "$N vzdump-openvz archives"
R="$T/root"
mkdir -p "$R"/{bin,sbin,dev,proc,sys,root,tmp,var/log,etc/network,etc/vzdump}
cp "$BB" "$R/bin/busybox"
for a in sh ls cat echo hostname ip mount; do ln -s busybox "$R/bin/$a"; done
ln -s ../bin/busybox "$R/sbin/init"
echo 12.5 >"$R/etc/debian_version"
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n' >"$R/etc/os-release"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
printf '/dev/simfs / simfs defaults 0 0\nproc /proc proc defaults 0 0\n' >"$R/etc/fstab"
make_archive() {  # CTID [broken]
  local id=$1 name="$SRC/vzdump-openvz-$1-2026_11_26-10_00_00.tar"
  echo "ct$id" >"$R/etc/hostname"
  printf 'auto lo\niface lo inet loopback\n\nauto venet0\niface venet0 inet manual\n  up ifconfig venet0 192.0.2.%d netmask 255.255.255.255\n' \
    $((id - 100)) >"$R/etc/network/interfaces"
  cat >"$R/etc/vzdump/vps.conf" <<EOF
ONBOOT="yes"
PHYSPAGES="0:$((32768 * (id % 4 + 1)))"
SWAPPAGES="0:65536"
DISKSPACE="2097152:2306867"
CPUUNITS="1000"
CPUS="1"
VE_ROOT="/vz/root/\$VEID"
VE_PRIVATE="/vz/private/\$VEID"
OSTEMPLATE="debian-12-x86_64"
HOSTNAME="ct$id.example.com"
IP_ADDRESS="192.0.2.$((id - 100))"
NAMESERVER="192.0.2.53"
EOF
  # bzip2: a realistic vzdump-openvz compression that is slow enough to
  # catch the batch with conversions in flight.
  tar -C "$R" -cf - . | bzip2 -1 >"$name.bz2"
  echo "$name.bz2"
}
{
  echo "# $N OpenVZ containers into LXC"
  echo "* output=create backend=lxc"
  for i in $(seq 101 $((100 + N))); do
    a=$(make_archive "$i")
    echo "src/$(basename "$a")"
  done
} >"$T/fleet.manifest"
head -4 "$T/fleet.manifest"

batch() { "$CTI" batch --cache-dir "$CACHE" --lxc-path "$LXCP" "$@"; }
count_done() { jq '[.containers[] | select(.status == "done")] | length' "$1" 2>/dev/null || echo 0; }

step "a manifest with mistakes is refused whole, naming every line"
cat >"$T/bad.manifest" <<EOF
src/vzdump-openvz-101-2026_11_26-10_00_00.tar.bz2 vmid=101 output=create colour=red
src/vzdump-openvz-102-2026_11_26-10_00_00.tar.bz2 vmid=101 output=create
src/missing.tar.bz2 vmid=300 output=create
src/vzdump-openvz-101-2026_11_26-10_00_00.tar.bz2 vmid=301
EOF
if batch "$T/bad.manifest" >"$T/bad.out" 2>"$T/bad.err"; then fail "a bad manifest was accepted"; else rc=$?; fi
cat "$T/bad.err"
[ "$rc" -eq 2 ] || fail "bad manifest: exit $rc, expected 2 (usage)"
assert_grep "bad.manifest:1: unknown key 'colour'" "$T/bad.err"
assert_grep "bad.manifest:2: vmid 101 is already used on line 1" "$T/bad.err"
assert_grep "bad.manifest:3: src/missing.tar.bz2: No such file or directory" "$T/bad.err"
assert_grep "bad.manifest:4: src/vzdump-openvz-101-2026_11_26-10_00_00.tar.bz2 is already listed on line 1" "$T/bad.err"
[ -z "$(ls -A "$LXCP")" ] && [ -z "$(ls -A "$CACHE")" ] || fail "a refused manifest created something"
[ ! -e "$T/bad.manifest.state" ] || fail "a refused manifest wrote a state file"

step "the batch, killed with SIGKILL (its whole process group) midway"
STATE="$T/fleet.manifest.state"
setsid "$CTI" batch --cache-dir "$CACHE" --lxc-path "$LXCP" --jobs 4 "$T/fleet.manifest" \
  >"$T/run1.out" 2>"$T/run1.err" &
BPID=$!
at_exit "kill -KILL -- -$BPID 2>/dev/null"
[ "$(ps -o pgid= -p "$BPID" | tr -d ' ')" = "$BPID" ] || fail "the batch is not its own process group"
for _ in $(seq 1 600); do
  [ "$(count_done "$STATE")" -ge 12 ] && break
  kill -0 "$BPID" 2>/dev/null || break
  sleep 0.02
done
kill -KILL -- -"$BPID" 2>/dev/null || fail "the batch finished before it could be killed"
wait "$BPID" 2>/dev/null || true
sleep 0.2
cat "$T/run1.err" | tail -5
done1=$(count_done "$STATE")
started1=$(jq -r '[.containers[] | select(.status == "started")] | length' "$STATE")
echo "killed with $done1 done and $started1 started"
redone=$(jq -r '[.containers[] | select(.status == "started") | .vmid][0]' "$STATE")
kept=$(jq -r '[.containers[] | select(.status == "done") | .vmid][0]' "$STATE")
[ "$done1" -ge 1 ] && [ "$done1" -lt "$N" ] || fail "not killed midway: $done1 of $N done"
[ "$started1" -ge 1 ] || fail "no conversion was in flight when killed"
pgrep -f "convert-openvz $SRC" && fail "conversions survived the batch"
# Every started entry names its VMID and the pid that converted it.
jq -e '[.containers[] | select(.status == "started") | (.vmid > 0 and .pid > 0 and .backend == "lxc")] | all' \
  "$STATE" >/dev/null || fail "a started entry lacks its VMID or pid: $(cat "$STATE")"
echo "left behind: $(ls -A "$CACHE" | grep -c '^\.convert-openvz\.' || true) scratch dir(s), $(ls "$LXCP" | wc -l) container dir(s)"

step "a second batch on the same state is refused"
flock -n "$STATE.d" -c "true" || fail "the killed batch's lock is still held"
flock -n "$STATE.d" -c "$CTI batch --cache-dir $CACHE --lxc-path $LXCP $T/fleet.manifest >$T/locked.out 2>$T/locked.err; echo \$? >$T/locked.rc"
[ "$(cat "$T/locked.rc")" = 1 ] || { cat "$T/locked.err"; fail "a batch ran while the state was locked"; }
assert_grep "another ct-import batch is running on this state" "$T/locked.err"

step "rerun: skips what is done, redoes what was half done"
before=$(jq -r '.containers[] | select(.status == "done") | .source + " " + (.time | tostring)' "$STATE" | sort)
batch --jobs 4 --report "$T/report.json" "$T/fleet.manifest" >"$T/run2.out" 2>"$T/run2.err" ||
  { cat "$T/run2.err"; fail "the rerun failed"; }
tail -3 "$T/run2.out"
assert_grep "$done1 of $N container(s) converted in an earlier run" "$T/run2.err"
assert_grep "was half done when the last batch stopped: cleaning up to redo it" "$T/run2.err"
after=$(jq -r '.containers[] | select(.status == "done") | .source + " " + (.time | tostring)' "$STATE" | sort)
# The ones done before were not touched again.
[ -z "$(comm -23 <(echo "$before") <(echo "$after"))" ] || fail "the rerun redid finished containers"
assert_grep "^$N of $N converted, 0 failed, 0 not done" "$T/run2.out"

step "$N containers, none twice, nothing left over"
lxc-ls -P "$LXCP" -1 | sort >"$T/ls"
seq 101 $((100 + N)) | sort >"$T/want"
diff "$T/want" "$T/ls" || fail "lxc-ls does not list exactly the $N containers"
[ "$(ls "$LXCP" | wc -l)" -eq "$N" ] || fail "extra entries in $LXCP: $(ls "$LXCP")"
for i in $(seq 101 $((100 + N))); do
  c="$LXCP/$i"
  grep -q "^lxc.uts.name = ct$i.example.com$" "$c/config" || fail "container $i: wrong or missing config"
  [ -x "$c/rootfs/bin/busybox" ] || fail "container $i: no rootfs"
  # (the fixups comment the old lines out)
  grep -q '^[^#]*simfs' "$c/rootfs/etc/fstab" && fail "container $i: simfs still in fstab"
  grep -q '^[^#]*venet0' "$c/rootfs/etc/network/interfaces" && fail "container $i: venet0 still configured"
  [ "$(cat "$c/rootfs/etc/hostname")" = "ct$i.example.com" ] || [ "$(cat "$c/rootfs/etc/hostname")" = "ct$i" ] ||
    fail "container $i: hostname $(cat "$c/rootfs/etc/hostname")"
done
ls -A "$CACHE" | sort >"$T/cache.ls"
for i in $(seq 101 $((100 + N))); do echo "openvz-$i.tar.zst"; done | sort >"$T/cache.want"
diff "$T/cache.want" "$T/cache.ls" || fail "the cache holds something besides the $N templates (scratch dirs, partial templates)"
for f in "$CACHE"/*.tar.zst; do zstd -tq "$f" || fail "$f is not a complete zstd archive"; done
jq -e --argjson n "$N" '[.containers[] | select(.status == "done")] | length == $n' "$STATE" >/dev/null ||
  fail "not every state entry is done"
jq -e '[.containers[] | select(.pid != null)] | length == 0' "$STATE" >/dev/null || fail "a done entry keeps a pid"

step "one redone after the kill and one done before it start and run a command"
for i in "$redone" "$kept"; do
  at_exit "lxc-stop -k -n $i -P $LXCP >/dev/null 2>&1"
  lxc-start -n "$i" -P "$LXCP" || fail "container $i does not start"
  lxc-wait -n "$i" -P "$LXCP" -s RUNNING -t 20 || fail "container $i is not RUNNING"
  out=$(lxc-attach -n "$i" -P "$LXCP" -- /bin/busybox cat /etc/hostname)
  [ "$out" = "ct$i.example.com" ] || fail "container $i answered '$out'"
  lxc-stop -k -n "$i" -P "$LXCP"
done

step "the report"
jq -e --argjson n "$N" '.total == $n and .converted == $n and .failed == 0 and .pending == 0' "$T/report.json" \
  >/dev/null || fail "summary: $(jq -c '{total,converted,failed,pending}' "$T/report.json")"
jq -e '[.containers[] | .status == "converted" and (.report | test("/reports/vmid-[0-9]+\\.json$"))] | all' \
  "$T/report.json" >/dev/null || fail "a container without its report"
for r in "$STATE.d"/reports/*.json; do
  jq -e '.result == "ok" and .output == "create" and .backend == "lxc"' "$r" >/dev/null || fail "$r: $(cat "$r")"
done
[ "$(ls "$STATE.d/reports" | wc -l)" -eq "$N" ] || fail "not one report per container"
jq -e '.containers[] | select(.vmid == 103) | .warnings >= 0 and .unmapped >= 0' "$T/report.json" >/dev/null ||
  fail "no warning counts in the report"

step "a third run does nothing"
batch --jobs 4 "$T/fleet.manifest" >"$T/run3.out" 2>"$T/run3.err" || { cat "$T/run3.err"; fail "third run"; }
assert_grep "$N of $N container(s) converted in an earlier run; 0 to do" "$T/run3.err"
grep -q "started" "$T/run3.err" && fail "the third run started a conversion"

step "a recorded start whose container was half made is removed before the redo"
# The window the state exists for: a child created the container and was
# killed before anything else was recorded. Simulated on a fresh state:
# container 101 half made (no config), a dead conversion's scratch
# directory and the template it published.
S2="$T/window.state"
M2="$T/window.manifest"
printf '* output=create backend=lxc\nsrc/vzdump-openvz-101-2026_11_26-10_00_00.tar.bz2\n' >"$M2"
rm -rf "$T/cache2" "$T/lxc2"
mkdir -p "$T/cache2" "$T/lxc2/101/rootfs/etc" "$T/cache2/.convert-openvz.999999.abcdef/x"
echo half >"$T/lxc2/101/rootfs/etc/marker"
echo partial >"$T/cache2/openvz-101.tar.zst"
jq -n --arg src "$SRC/vzdump-openvz-101-2026_11_26-10_00_00.tar.bz2" --arg tpl "$T/cache2/openvz-101.tar.zst" \
  '{version: 1, containers: [{source: $src, key: "vmid-101", status: "started", vmid: 101, output: "create",
    backend: "lxc", name: "101", template: $tpl, pid: 999999, time: 1, attempts: 1}]}' >"$S2"
"$CTI" batch --cache-dir "$T/cache2" --lxc-path "$T/lxc2" --state "$S2" "$M2" >"$T/w.out" 2>"$T/w.err" ||
  { cat "$T/w.err"; fail "the redo after a recorded start failed"; }
cat "$T/w.err"
assert_grep "removing the half-made LXC container 101" "$T/w.err"
assert_grep "\.convert-openvz\.999999\.abcdef, left by a conversion that was killed" "$T/w.err"
[ ! -e "$T/lxc2/101/rootfs/etc/marker" ] || fail "the half-made container was not removed"
[ -f "$T/lxc2/101/config" ] || fail "container 101 was not redone"
zstd -tq "$T/cache2/openvz-101.tar.zst" || fail "the partial template was not replaced"
[ "$(ls -A "$T/cache2")" = "openvz-101.tar.zst" ] || fail "leftovers in the cache: $(ls -A "$T/cache2")"
jq -e '.containers[0].status == "done" and .containers[0].attempts == 2' "$S2" >/dev/null || fail "state: $(cat "$S2")"

step "a recorded Proxmox start: the argv that removes it (pct unlock, stop, destroy --purge)"
# No Proxmox here: a pct on PATH that logs its argv and, for destroy, drops
# the config from a stand-in /etc/pve ($CTI_PVE_ETC), as pct would.
mkdir -p "$T/bin" "$T/pve/lxc"
cat >"$T/bin/pct" <<EOF
#!/bin/sh
echo "\$*" >>"$T/pct.log"
[ "\$1" = destroy ] && rm -f "$T/pve/lxc/\$2.conf"
exit 0
EOF
chmod +x "$T/bin/pct"
printf 'arch: amd64\nlock: create\n' >"$T/pve/lxc/150.conf"
S6="$T/pve.state"
M6="$T/pve.manifest"
printf 'src/vzdump-openvz-149-2026_11_26-10_00_00.tar.bz2 output=template\n' >"$M6"
rm -rf "$T/cache6"; mkdir -p "$T/cache6"
jq -n --arg src "$SRC/vzdump-openvz-150-2026_11_26-10_00_00.tar.bz2" \
  '{version: 1, containers: [{source: $src, key: "vmid-150", status: "started", vmid: 150, output: "create",
    backend: "pve", pid: 999998, time: 1, attempts: 1}]}' >"$S6"
PATH="$T/bin:$PATH" CTI_PVE_ETC="$T/pve" "$CTI" batch --cache-dir "$T/cache6" --lxc-path "$T/lxc6" \
  --state "$S6" "$M6" >"$T/p.out" 2>"$T/p.err" || { cat "$T/p.err"; fail "the batch with a recorded pve start failed"; }
cat "$T/pct.log"
[ "$(cat "$T/pct.log")" = "$(printf 'unlock 150\nstop 150\ndestroy 150 --purge 1')" ] ||
  fail "pct argv: $(cat "$T/pct.log")"
[ ! -e "$T/pve/lxc/150.conf" ] || fail "150.conf is still there"
jq -e '.containers[] | select(.key == "vmid-150") | .status == "pending" and .backend == null' "$S6" >/dev/null ||
  fail "state after the pve cleanup: $(cat "$S6")"

step "a container that existed before the batch is refused and left alone"
S3="$T/stranger.state"
rm -rf "$T/cache3" "$T/lxc3"
mkdir -p "$T/cache3" "$T/lxc3/101"
echo "someone else's" >"$T/lxc3/101/config"
if "$CTI" batch --cache-dir "$T/cache3" --lxc-path "$T/lxc3" --state "$S3" "$M2" >"$T/s.out" 2>"$T/s.err"; then
  fail "a batch over an existing container succeeded"
fi
assert_grep "container 101 already exists (not created by this batch)" "$T/s.err"
[ "$(cat "$T/lxc3/101/config")" = "someone else's" ] || fail "the existing container was touched"
# Its failure is recorded without a backend: no later run may remove it.
jq -e '.containers[0].status == "failed" and .containers[0].backend == null' "$S3" >/dev/null || fail "state: $(cat "$S3")"
"$CTI" batch --cache-dir "$T/cache3" --lxc-path "$T/lxc3" --state "$S3" "$M2" >/dev/null 2>&1 || true
[ "$(cat "$T/lxc3/101/config")" = "someone else's" ] || fail "a rerun touched the existing container"

step "SIGTERM to the batch alone: its conversions stop, are cleaned up and left pending"
rm -rf "$T/cache5" "$T/lxc5"
mkdir -p "$T/cache5" "$T/lxc5"
M5="$T/term.manifest"
{ echo "* output=create backend=lxc"; for i in $(seq 101 108); do
  echo "src/vzdump-openvz-$i-2026_11_26-10_00_00.tar.bz2"; done; } >"$M5"
"$CTI" batch --cache-dir "$T/cache5" --lxc-path "$T/lxc5" --jobs 3 "$M5" >"$T/t.out" 2>"$T/t.err" &
TPID=$!
for _ in $(seq 1 500); do
  [ "$(jq '[.containers[] | select(.status == "started")] | length' "$M5.state" 2>/dev/null || echo 0)" -ge 2 ] && break
  sleep 0.02
done
kill -TERM "$TPID"
if wait "$TPID"; then fail "an interrupted batch exited 0"; fi
cat "$T/t.err" | tail -4
assert_grep "interrupted: rerun the same command to finish" "$T/t.err"
assert_grep "was interrupted; the next run redoes it" "$T/t.err"
jq -e '[.containers[] | select(.status == "started" or .status == "failed")] | length == 0' "$M5.state" >/dev/null ||
  fail "after SIGTERM: $(jq -c '[.containers[].status]' "$M5.state")"
pgrep -f "convert-openvz $SRC" && fail "conversions outlived the interrupted batch"
[ -z "$(ls -A "$T/cache5" | grep '^\.')" ] || fail "scratch left after SIGTERM: $(ls -A "$T/cache5")"
for d in "$T/lxc5"/*; do [ ! -e "$d" ] || [ -f "$d/config" ] || fail "half-made $d left after SIGTERM"; done
"$CTI" batch --cache-dir "$T/cache5" --lxc-path "$T/lxc5" --jobs 3 "$M5" >"$T/t2.out" 2>"$T/t2.err" ||
  { cat "$T/t2.err"; fail "the rerun after SIGTERM failed"; }
assert_grep "^8 of 8 converted" "$T/t2.out"
[ "$(lxc-ls -P "$T/lxc5" -1 | wc -l)" -eq 8 ] || fail "containers after SIGTERM and rerun: $(lxc-ls -P "$T/lxc5" -1)"

step "one broken archive: the others convert, it fails with its reason"
rm -rf "$T/cache4" "$T/lxc4"
mkdir -p "$T/cache4" "$T/lxc4"
M4="$T/broken.manifest"
head -c 20000 "$SRC/vzdump-openvz-105-2026_11_26-10_00_00.tar.bz2" >"$SRC/vzdump-openvz-205-2026_11_26-10_00_00.tar.bz2"
# An OpenVZ host's private area too, with its config where vzctl keeps it.
mkdir -p "$T/host/vz/private" "$T/host/etc/vz/conf"
cp -a "$R" "$T/host/vz/private/160"
sed 's/ct1[0-9]*/ct160/; s/192.0.2.[0-9]*"/192.0.2.60"/' "$R/etc/vzdump/vps.conf" >"$T/host/etc/vz/conf/160.conf"
rm "$T/host/vz/private/160/etc/vzdump/vps.conf"
{
  echo "* output=create backend=lxc"
  for i in 101 102 103 104; do echo "src/vzdump-openvz-$i-2026_11_26-10_00_00.tar.bz2 vmid=$((i + 100))"; done
  echo "src/vzdump-openvz-205-2026_11_26-10_00_00.tar.bz2"
  echo "host/vz/private/160"
} >"$M4"
if "$CTI" batch --cache-dir "$T/cache4" --lxc-path "$T/lxc4" --jobs 2 --report "$T/broken.json" "$M4" \
  >"$T/b.out" 2>"$T/b.err"; then
  fail "a batch with a broken archive exited 0"
fi
cat "$T/b.out"
assert_grep "^5 of 6 converted, 1 failed" "$T/b.out"
jq -e '.converted == 5 and .failed == 1' "$T/broken.json" >/dev/null || fail "summary: $(cat "$T/broken.json")"
reason=$(jq -r '.containers[] | select(.vmid == 205) | .reason' "$T/broken.json")
echo "reason: $reason"
[ -n "$reason" ] && [ "$reason" != null ] || fail "no reason for the broken archive"
jq -e '.containers[] | select(.vmid == 205) | .status == "failed" and .exit_code == 4' "$T/broken.json" >/dev/null ||
  fail "the broken archive is not reported failed with exit 4 (malformed input)"
[ "$(lxc-ls -P "$T/lxc4" -1 | sort | tr '\n' ' ')" = "160 201 202 203 204 " ] || fail "containers: $(lxc-ls -P "$T/lxc4" -1)"
grep -q '^lxc.uts.name = ct160.example.com$' "$T/lxc4/160/config" || fail "the private area's container: $(cat "$T/lxc4/160/config")"
[ -z "$(ls -A "$T/cache4" | grep -v -e '^openvz-10[1-4]\.tar\.zst$' -e '^openvz-160\.tar\.zst$')" ] ||
  fail "leftovers: $(ls -A "$T/cache4")"
echo "all batch checks passed"
