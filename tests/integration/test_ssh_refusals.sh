# p2v ct against a real sshd: host key checks (known_hosts, accept-new,
# changed key, pin) and logins (key, password, wrong password), with the exit
# codes of p2v(1): 3 host key, 4 login refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd.sh"
start_sshd

# A tiny root tree to send.
root="$T/root"
mkdir -p "$root/etc" "$root/bin"
echo 'ID=debian' >"$root/etc/os-release"
echo hello >"$root/etc/motd"

cache="$T/cache"
mkdir -p "$cache"
to="root@127.0.0.1:$SSHD_PORT"
import="$CTI receive --cache-dir $cache"
send() { # send NAME [p2v ct options...]
  local name=$1; shift
  "$P2V" ct --name "$name" --root "$root" --progress none --remote-import "$import" "$@"
}
# expect_exit CODE CMD...: CMD must exit with CODE; its stderr is in $T/err.
expect_exit() {
  local want=$1; shift
  local rc=0
  "$@" 2>"$T/err" || rc=$?
  cat "$T/err" >&2
  [ "$rc" -eq "$want" ] || fail "expected exit $want, got $rc: $*"
}
received() { [ -s "$cache/$1.tar.zst" ]; }

step "unknown host key, no --accept-new-hostkey: refused before login"
kh="$T/home/.ssh/known_hosts"   # its directory does not exist yet
expect_exit 3 send unknown --to "$to" --identity "$SSH_ID" --known-hosts "$kh"
assert_grep "$SSHD_HOSTKEY_PIN" "$T/err"
assert_grep "accept-new-hostkey" "$T/err"
received unknown && fail "something was received despite the refused host key"
[ ! -e "$kh" ] || fail "known_hosts written without --accept-new-hostkey"

step "unknown host key with --accept-new-hostkey: recorded, sent"
send acceptnew --to "$to" --identity "$SSH_ID" --known-hosts "$kh" --accept-new-hostkey 2>"$T/err" ||
  { cat "$T/err" >&2; fail "--accept-new-hostkey refused"; }
assert_grep "$SSHD_HOSTKEY_PIN" "$T/err"   # the fingerprint is shown when recording
received acceptnew || fail "nothing received"
assert_grep "^\[127.0.0.1\]:$SSHD_PORT ssh-ed25519 " "$kh"
grep -qF "$(cut -d' ' -f2 "$SSHD_DIR/ssh_host_ed25519_key.pub")" "$kh" ||
  fail "known_hosts does not hold the server's key"
tar -tf "$cache/acceptnew.tar.zst" --zstd | grep -q 'etc/motd' || fail "archive lacks etc/motd"

step "second run, key now known, no flag: sent"
send known --to "$to" --identity "$SSH_ID" --known-hosts "$kh"
received known || fail "nothing received"

step "key auth with the test's known_hosts file"
send keyauth --to "$to" --identity "$SSH_ID" --known-hosts "$SSH_KNOWN_HOSTS"
received keyauth || fail "nothing received"

step "pin matches, empty known_hosts: sent, known_hosts untouched"
: >"$T/empty_kh"
send pinned --to "$to" --identity "$SSH_ID" --known-hosts "$T/empty_kh" --hostkey "$SSHD_HOSTKEY_PIN"
received pinned || fail "nothing received"
[ ! -s "$T/empty_kh" ] || fail "a pinned connection wrote known_hosts"

step "pin does not match: refused, even with the key known"
other=$(ssh-keygen -q -t ed25519 -N '' -f "$T/other" && ssh-keygen -lf "$T/other.pub" | awk '{print $2}')
expect_exit 3 send pinbad --to "$to" --identity "$SSH_ID" --known-hosts "$SSH_KNOWN_HOSTS" --hostkey "$other"
assert_grep "$SSHD_HOSTKEY_PIN" "$T/err"
received pinbad && fail "received despite a pin mismatch"

step "wrong password: exit 4"
user=p2vssh$$
make_password_user "$user" 'correct horse battery'
printf 'not the password\n' >"$T/badpw"
expect_exit 4 send badpw --to "$user@127.0.0.1:$SSHD_PORT" --password-file "$T/badpw" \
  --hostkey "$SSHD_HOSTKEY_PIN"
assert_grep "wrong password" "$T/err"
received badpw && fail "received despite a wrong password"

step "right password: sent as that user"
# The user's login shell runs ct-import: it needs a cache it may write and a
# path to the binary it may traverse.
ucache=$(eval echo "~$user")/cache
su "$user" -c "mkdir -p '$ucache'"
[ -x "$CTI" ] && su "$user" -s /bin/sh -c "test -x '$CTI'" ||
  skip "user $user cannot run $CTI (build tree not world-readable)"
printf 'correct horse battery\n' >"$T/goodpw"
"$P2V" ct --name pwok --root "$root" --progress none --to "$user@127.0.0.1:$SSHD_PORT" \
  --password-file "$T/goodpw" --hostkey "$SSHD_HOSTKEY_PIN" \
  --remote-import "$CTI receive --cache-dir $ucache"
[ -s "$ucache/pwok.tar.zst" ] || fail "nothing received with the password login"
[ "$(stat -c %U "$ucache/pwok.tar.zst")" = "$user" ] || fail "not written by $user"

step "key for a user who does not accept it: exit 4"
expect_exit 4 send keyrefused --to "$user@127.0.0.1:$SSHD_PORT" --identity "$SSH_ID" \
  --hostkey "$SSHD_HOSTKEY_PIN"

step "changed host key: refused even with --accept-new-hostkey"
old_pin=$SSHD_HOSTKEY_PIN
restart_sshd --new-hostkey
[ "$SSHD_HOSTKEY_PIN" != "$old_pin" ] || fail "host key did not change"
cp "$kh" "$T/kh.before"
expect_exit 3 send changed --to "$to" --identity "$SSH_ID" --known-hosts "$kh" --accept-new-hostkey
assert_grep "$SSHD_HOSTKEY_PIN" "$T/err"   # the new fingerprint
assert_grep "$kh" "$T/err"                 # and the file holding the old key
assert_grep "CHANGED" "$T/err"
cmp -s "$kh" "$T/kh.before" || fail "known_hosts was modified for a changed key"
received changed && fail "received despite a changed host key"

step "changed host key, but the new key pinned: sent"
send changedpinned --to "$to" --identity "$SSH_ID" --known-hosts "$kh" --hostkey "$SSHD_HOSTKEY_PIN"
received changedpinned || fail "nothing received"

echo "all ssh refusal cases behave"
