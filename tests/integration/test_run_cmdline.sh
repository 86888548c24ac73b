#!/bin/bash
# p2v run: the p2v.* keys of a kernel command line become a p2v ct / p2v disk
# command line (--dry-run prints it); a real unattended run sends a root over
# a loopback sshd into ct-import receive, runs p2v.pre first, and its log ends
# with a line that says success or what failed.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/sshd.sh"

step "--dry-run prints the disk command line the keys make"
"$P2V" run --dry-run --cmdline 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 nodmraid p2v.server=hv.example p2v.user=admin
  p2v.port=2222 p2v.mode=disk p2v.name=web1 p2v.hostkey=SHA256:abc p2v.disks=/dev/sda,/dev/sdb
  p2v.format=raw p2v.create=1 p2v.vmid=120 p2v.password="pass word" p2v.post=poweroff
  p2v.ip=192.0.2.7/24,192.0.2.1,192.0.2.53 p2v.iface=eno1 p2v.colour=blue' >"$T/out" 2>"$T/err"
cat "$T/err"
[ "$(cat "$T/out")" = "p2v disk --to admin@hv.example:2222 --name web1 --disk /dev/sda --disk /dev/sdb --format raw --hostkey SHA256:abc --create --vmid 120 --password-file /run/p2v/password" ] ||
  fail "dry run printed: $(cat "$T/out")"
assert_grep "unknown kernel command line key p2v.colour: ignored" "$T/err"
assert_grep "network: 192.0.2.7/24 on eno1, default route via 192.0.2.1, name server 192.0.2.53" "$T/err"
assert_grep "after success: poweroff; after a failure: none" "$T/err"
grep -q "pass word" "$T/out" "$T/err" && fail "the password was printed"

step "--dry-run quotes what needs quotes, for ct"
"$P2V" run --dry-run --cmdline 'p2v.server=hv p2v.mode=ct p2v.name=x "p2v.root=/mnt/my root"
  p2v.accept_new_hostkey=1 p2v.pre="echo a b"' >"$T/out" 2>"$T/err"
[ "$(cat "$T/out")" = "p2v ct --to hv --name x --root '/mnt/my root' --accept-new-hostkey" ] ||
  fail "dry run printed: $(cat "$T/out")"
assert_grep "p2v.pre would run: /bin/sh -c 'echo a b'" "$T/err"

step "missing keys, other mode's keys and no server (without a terminal) are exit 2 with the key named"
set +e
"$P2V" run --dry-run --cmdline 'p2v.server=hv p2v.mode=ct p2v.root=/ p2v.format=raw' 2>"$T/err"; rc=$?
set -e
cat "$T/err"; [ $rc -eq 2 ] || fail "exit $rc, expected 2"
assert_grep "p2v.name is required" "$T/err"
assert_grep "p2v.hostkey is required" "$T/err"
assert_grep "p2v.format is an option of p2v disk, not of p2v ct" "$T/err"
# No p2v.server and no terminal: the dialogue cannot ask (test_run_dialogue.sh drives it on one).
set +e; "$P2V" run --cmdline 'quiet p2v.mode=ct' --log "$T/nosrv.log" </dev/null 2>"$T/err"; rc=$?; set -e
cat "$T/err"; [ $rc -eq 2 ] || fail "exit $rc, expected 2"
assert_grep "no p2v.server on the kernel command line, and no terminal to ask on" "$T/nosrv.log"

step "an unattended p2v ct run over sshd"
mkdir -p "$T/src/etc" "$T/src/srv/data dir"
echo web1 >"$T/src/etc/hostname"
head -c 300000 /dev/urandom >"$T/src/srv/data dir/blob"
ln -s ../etc/hostname "$T/src/srv/link"
C="$T/cache"; mkdir -p "$C"
start_sshd
# The key runs ct-import with a test cache whatever p2v asks for; the
# command p2v asked for is kept to check it used the default.
cat >"$T/forced.sh" <<EOF
#!/bin/sh
printf '%s\n' "\$SSH_ORIGINAL_COMMAND" >>"$T/asked"
exec "$CTI" receive --cache-dir "$C"
EOF
chmod +x "$T/forced.sh"
sed -i "s|^|command=\"$T/forced.sh\" |" "$SSHD_DIR/authorized_keys"
KEYS="p2v.server=127.0.0.1 p2v.port=$SSHD_PORT p2v.user=root p2v.identity=$SSH_ID
  p2v.hostkey=$SSHD_HOSTKEY_PIN p2v.mode=ct p2v.name=x p2v.root=$T/src nodmraid"
"$P2V" run --cmdline "$KEYS p2v.pre=\"echo pre ran >'$T/pre marker'\"" --log "$T/run.log" 2>"$T/console"
cat "$T/run.log"
[ -f "$T/pre marker" ] || fail "p2v.pre did not run"
[ "$(cat "$T/asked")" = "ct-import receive" ] || fail "remote command: $(cat "$T/asked")"
[ -f "$C/x.tar.zst" ] || fail "no template in the cache: $(ls -A "$C")"
mkdir "$T/out-tree"
tar --zstd -xpf "$C/x.tar.zst" -C "$T/out-tree"
cmp "$T/src/srv/data dir/blob" "$T/out-tree/srv/data dir/blob" || fail "the blob differs"
[ "$(readlink "$T/out-tree/srv/link")" = ../etc/hostname ] || fail "the symlink differs"
tail -n 1 "$T/run.log" | grep -q "success: p2v ct finished" || { cat "$T/run.log"; fail "last log line: $(tail -n 1 "$T/run.log")"; }
assert_grep "verified" "$T/run.log"
assert_grep "p2v.pre: running" "$T/run.log"
cmp "$T/run.log" "$T/console" || fail "the console did not see what the log has"

step "a wrong host key pin: exit 3 and a final line that says so"
set +e
"$P2V" run --cmdline "${KEYS/p2v.name=x/p2v.name=y} p2v.hostkey=SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
  --log "$T/run.log" 2>/dev/null; rc=$?
set -e
tail -n 3 "$T/run.log"
[ $rc -eq 3 ] || fail "exit $rc, expected 3"
tail -n 1 "$T/run.log" | grep -q "FAILED: p2v ct exited with status 3 (host key" ||
  fail "last log line: $(tail -n 1 "$T/run.log")"
[ ! -e "$C/y.tar.zst" ] || fail "a template was published"

step "a failing p2v.pre stops the run before anything is sent"
set +e
"$P2V" run --cmdline "${KEYS/p2v.name=x/p2v.name=z} p2v.pre=\"exit 7\"" --log "$T/run.log" 2>/dev/null; rc=$?
set -e
[ $rc -eq 1 ] || fail "exit $rc, expected 1"
tail -n 1 "$T/run.log" | grep -q "FAILED: p2v.pre exited with status 7" ||
  fail "last log line: $(tail -n 1 "$T/run.log")"
[ ! -e "$C/z.tar.zst" ] || fail "a template was published"
[ "$(wc -l <"$T/asked")" -eq 1 ] || fail "ct-import ran again after a refused host key or a failed p2v.pre"
echo "p2v run: dry runs, an unattended ct run and its failures behave"
