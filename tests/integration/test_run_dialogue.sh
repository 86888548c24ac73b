#!/bin/bash
# p2v run without p2v.server: the console dialogue, driven through a
# pseudo-terminal (tests/tools/pty_dialogue.py). It shows the inventory and
# the fake-RAID verdict, asks for network, mode, root, server, login, name,
# shows the loopback sshd's host key fingerprint (it must be the one
# ssh-keygen prints), refuses when the answer is no, and with yes sends the
# root in ct mode; the log ends as an unattended run's does.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/sshd.sh"

command -v python3 >/dev/null || skip "no python3"
DRIVE="$TOP/tests/tools/pty_dialogue.py"

mkdir -p "$T/src/etc" "$T/src/srv"
echo web1 >"$T/src/etc/hostname"
head -c 200000 /dev/urandom >"$T/src/srv/blob"
C="$T/cache"; IMP="$T/import"; mkdir -p "$C" "$IMP"
start_sshd
cat >"$T/forced.sh" <<EOS
#!/bin/sh
printf '%s\n' "\$SSH_ORIGINAL_COMMAND" >>"$T/asked"
exec "$CTI" receive --cache-dir "$C" --import-dir "$IMP"
EOS
chmod +x "$T/forced.sh"
sed -i "s|^|command=\"$T/forced.sh\" |" "$SSHD_DIR/authorized_keys"
# The host key is not in ~/.ssh/known_hosts: the dialogue is what vouches for it.
export HOME="$T/home"; mkdir -p "$HOME"

# drive STEPS-FILE LOG CMDLINE: p2v run on a terminal; its exit status in $rc.
drive() {
  set +e
  python3 "$DRIVE" "$1" "$T/screen" -- "$P2V" run --cmdline "$3" --log "$2"
  rc=$?
  set -e
  cat "$T/screen"
}
tab=$'\t'

step "not on a terminal: a clear error, exit 2"
set +e
"$P2V" run --cmdline "quiet nodmraid" --log "$T/notty.log" </dev/null >"$T/out" 2>&1; rc=$?
set -e
cat "$T/out"
[ $rc -eq 2 ] || fail "exit $rc, expected 2"
tail -n 1 "$T/notty.log" | grep -q "FAILED: no p2v.server on the kernel command line, and no terminal to ask on" ||
  fail "last log line: $(tail -n 1 "$T/notty.log")"

step "answering no to the host key: nothing is sent, exit 3; the password is not echoed"
cat >"$T/steps-no" <<EOS
What this machine holds
BIOS (fake) RAID
verdict:
leave it as it is; dhcp; or ADDR/CIDR[,GW[,DNS]]:$tab
(disk)? [ct]:${tab}ct
mounted directory:${tab}$T/src
Hypervisor (host name or address):${tab}127.0.0.1
SSH port [22]:${tab}$SSHD_PORT
SSH user [root]:$tab
(Enter: log in with a password):$tab
Password of root on 127.0.0.1 (not shown):${tab}s3cret-pw
Name of the container template on the hypervisor:${tab}x
(ct-import create-ct)? [y/N]:$tab
The server's host key: ssh-ed25519 $SSHD_HOSTKEY_PIN
ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub
shall the migration start? [y/N]:${tab}no
EOS
drive "$T/steps-no" "$T/no.log" "quiet nodmraid"
[ $rc -eq 3 ] || fail "exit $rc, expected 3"
tail -n 1 "$T/no.log" | grep -q "FAILED: the server's host key was not confirmed: nothing was sent" ||
  fail "last log line: $(tail -n 1 "$T/no.log")"
grep -q "s3cret-pw" "$T/screen" "$T/no.log" && fail "the password was shown or logged"
[ ! -e "$T/asked" ] || fail "ct-import was started"
[ -z "$(ls -A "$C")" ] || fail "something arrived: $(ls -A "$C")"
[ ! -e /run/p2v/password ] || ! grep -q s3cret-pw /run/p2v/password || fail "the password file was left behind"

step "answering yes: the key is pinned and the root arrives; the command line's keys are the defaults"
cat >"$T/steps-yes" <<EOS
leave it as it is; dhcp; or ADDR/CIDR[,GW[,DNS]]:$tab
(disk)? [ct]:$tab
mounted directory [$T/src]:$tab
Hypervisor (host name or address):${tab}127.0.0.1
SSH port [$SSHD_PORT]:$tab
SSH user [root]:$tab
(Enter: log in with a password) [$SSH_ID]:$tab
Name of the container template on the hypervisor [x]:$tab
(ct-import create-ct)? [y/N]:${tab}n
The server's host key: ssh-ed25519 $SSHD_HOSTKEY_PIN
This will run:
shall the migration start? [y/N]:${tab}y
success: p2v ct finished
EOS
drive "$T/steps-yes" "$T/yes.log" "quiet p2v.mode=ct p2v.root=$T/src p2v.port=$SSHD_PORT p2v.identity=$SSH_ID p2v.name=x nodmraid"
[ $rc -eq 0 ] || { cat "$T/yes.log"; fail "exit $rc, expected 0"; }
cat "$T/yes.log"
assert_grep "p2v ct --to root@127.0.0.1:$SSHD_PORT --name x --root $T/src --identity $SSH_ID --hostkey $SSHD_HOSTKEY_PIN" "$T/screen"
assert_grep "dialogue: host key $SSHD_HOSTKEY_PIN confirmed" "$T/yes.log"
assert_grep "running: p2v ct --to root@127.0.0.1:$SSHD_PORT .*--hostkey $SSHD_HOSTKEY_PIN" "$T/yes.log"
tail -n 1 "$T/yes.log" | grep -q "success: p2v ct finished" || fail "last log line: $(tail -n 1 "$T/yes.log")"
[ "$(cat "$T/asked")" = "ct-import receive" ] || fail "remote command: $(cat "$T/asked")"
rm "$T/asked"
[ -f "$C/x.tar.zst" ] || fail "no template in the cache: $(ls -A "$C")"
mkdir "$T/out-tree"
tar --zstd -xpf "$C/x.tar.zst" -C "$T/out-tree"
cmp "$T/src/srv/blob" "$T/out-tree/srv/blob" || fail "the blob differs"
[ ! -e "$HOME/.ssh/known_hosts" ] || fail "the dialogue wrote known_hosts: the key is pinned instead"

step "disk mode: the disks asked for arrive as a qcow2 identical to the source"
head -c $((4 * 1024 * 1024)) /dev/urandom >"$T/disk.img"
cat >"$T/steps-disk" <<EOS
leave it as it is; dhcp; or ADDR/CIDR[,GW[,DNS]]:$tab
(disk)? [ct]:${tab}disk
Disks to copy, separated by spaces (Enter: every fixed disk except the boot medium):${tab}$T/disk.img
Hypervisor (host name or address):${tab}127.0.0.1
SSH port [22]:${tab}$SSHD_PORT
SSH user [root]:$tab
(Enter: log in with a password):${tab}$SSH_ID
Name of the VM on the hypervisor:${tab}vm1
(ct-import create-vm)? [y/N]:$tab
The server's host key: ssh-ed25519 $SSHD_HOSTKEY_PIN
shall the migration start? [y/N]:${tab}yes
success: p2v disk finished
EOS
drive "$T/steps-disk" "$T/disk.log" "quiet nodmraid"
[ $rc -eq 0 ] || { cat "$T/disk.log"; fail "exit $rc, expected 0"; }
assert_grep "running: p2v disk --to root@127.0.0.1:$SSHD_PORT --name vm1 --disk $T/disk.img .*--hostkey $SSHD_HOSTKEY_PIN" "$T/disk.log"
tail -n 1 "$T/disk.log" | grep -q "success: p2v disk finished" || fail "last log line: $(tail -n 1 "$T/disk.log")"
[ -f "$IMP/vm1.qcow2" ] || fail "no vm1.qcow2 in the import dir: $(ls -A "$IMP")"
if command -v qemu-img >/dev/null; then
  qemu-img compare -q -f raw -F qcow2 "$T/disk.img" "$IMP/vm1.qcow2" || fail "the qcow2 differs from the source"
fi

step "wrong answers are asked again; a server that does not answer can be entered again"
cat >"$T/steps-again" <<EOS
leave it as it is; dhcp; or ADDR/CIDR[,GW[,DNS]]:${tab}not-an-address
Try again, or press Enter
leave it as it is; dhcp; or ADDR/CIDR[,GW[,DNS]]:$tab
(disk)? [ct]:${tab}vm
Please answer ct or disk.
(disk)? [ct]:$tab
mounted directory:${tab}$T/nonexistent
is no block device or directory here.
mounted directory:${tab}$T/src
Hypervisor (host name or address):${tab}root@127.0.0.1
Only the host name or address
Hypervisor (host name or address):${tab}127.0.0.1
SSH port [22]:${tab}99999
A number from 1 to 65535
SSH port [22]:${tab}1
SSH user [root]:$tab
(Enter: log in with a password):${tab}$SSH_ID
Name of the container template on the hypervisor:${tab}-bad
Letters, digits
Name of the container template on the hypervisor:${tab}z
(ct-import create-ct)? [y/N]:$tab
Enter the server again? [Y/n]:$tab
Hypervisor (host name or address) [127.0.0.1]:$tab
SSH port [1]:${tab}$SSHD_PORT
SSH user [root]:$tab
(Enter: log in with a password) [$SSH_ID]:$tab
The server's host key: ssh-ed25519 $SSHD_HOSTKEY_PIN
shall the migration start? [y/N]:$tab
EOS
drive "$T/steps-again" "$T/again.log" "quiet"
[ $rc -eq 3 ] || fail "exit $rc, expected 3 (Enter means no)"
[ ! -e "$C/z.tar.zst" ] || fail "z was sent without a yes"

step "password login: the password typed (not shown) logs in, and its file is gone afterwards"
user=p2vdlg$$
make_password_user "$user" 'correct horse battery'
uhome=$(eval echo "~$user")
su "$user" -c "mkdir -p '$uhome/cache'"
su "$user" -s /bin/sh -c "test -x '$CTI'" || skip "user $user cannot run $CTI (build tree not world-readable)"
# That user's session runs ct-import whatever is asked, as the key's forced command does for root.
printf '#!/bin/sh\nexec %s receive --cache-dir %s\n' "$CTI" "$uhome/cache" >"$uhome/forced.sh"
chmod 755 "$uhome/forced.sh"
printf 'Match User %s\n  ForceCommand %s\n' "$user" "$uhome/forced.sh" >>"$SSHD_DIR/sshd_config"
restart_sshd
cat >"$T/steps-pw" <<EOS
leave it as it is; dhcp; or ADDR/CIDR[,GW[,DNS]]:$tab
(disk)? [ct]:$tab
mounted directory:${tab}$T/src
Hypervisor (host name or address):${tab}127.0.0.1
SSH port [22]:${tab}$SSHD_PORT
SSH user [root]:${tab}$user
(Enter: log in with a password):$tab
(not shown):${tab}correct horse battery
Name of the container template on the hypervisor:${tab}pw
(ct-import create-ct)? [y/N]:$tab
The server's host key: ssh-ed25519 $SSHD_HOSTKEY_PIN
shall the migration start? [y/N]:${tab}y
success: p2v ct finished
EOS
drive "$T/steps-pw" "$T/pw.log" "quiet"
[ $rc -eq 0 ] || { cat "$T/pw.log"; fail "exit $rc, expected 0"; }
[ -s "$uhome/cache/pw.tar.zst" ] || fail "nothing arrived with the password login"
[ "$(stat -c %U "$uhome/cache/pw.tar.zst")" = "$user" ] || fail "not written by $user"
grep -q "correct horse" "$T/screen" "$T/pw.log" && fail "the password was shown or logged"
assert_grep "password-file /run/p2v/password" "$T/pw.log"
[ ! -e /run/p2v/password ] || fail "the password file was left behind"

step "the end of input ends the dialogue: exit 2"
set +e
python3 - "$P2V" "$T/eof.log" <<'EOS'
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "run", "--cmdline", "quiet", "--log", sys.argv[2]])
out = b""
while b"ADDR/CIDR[,GW[,DNS]]:" not in out:
    out += os.read(fd, 4096)
os.write(fd, b"\x04")   # ^D on an empty line: end of input
try:
    while os.read(fd, 4096):
        pass
except OSError:
    pass
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
EOS
rc=$?
set -e
[ $rc -eq 2 ] || fail "exit $rc, expected 2"
tail -n 1 "$T/eof.log" | grep -q "FAILED: the dialogue ended: no more input" || fail "last log line: $(tail -n 1 "$T/eof.log")"
echo "p2v run: the dialogue asks, shows the host key, refuses on no and migrates on yes"
