# p2v ct's SSH stream against a real sshd: a remote that writes megabytes to
# stderr before reading must not stall the transfer (libssh only reopens the
# window as we read), and a remote that fails is relayed and exits 5.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd.sh"
start_sshd

root="$T/root"
mkdir -p "$root/etc" "$T/cache"
echo 'ID=debian' >"$root/etc/os-release"
# Incompressible and larger than sshd's 2 MiB window, so our writes must wait
# for window while the remote is still busy with its stderr.
head -c 12M /dev/urandom >"$root/blob"
to="root@127.0.0.1:$SSHD_PORT"

step "4 MB of remote stderr before it reads: no stall, all relayed"
chatter="yes xxxxxxxxxxxxxxx | head -c 4000000 >&2"
# libssh's own window wait would give up only after its 30 s timeout, each
# time the stderr fills our window: finishing in 45 s means no such stall.
timeout 45 "$P2V" ct --name chatty --root "$root" --progress none --to "$to" \
  --identity "$SSH_ID" --hostkey "$SSHD_HOSTKEY_PIN" \
  --remote-import "$chatter; $CTI receive --cache-dir $T/cache" 2>"$T/err" ||
  { rc=$?; tail -c 2000 "$T/err" >&2; fail "transfer failed or stalled (exit $rc)"; }
[ -s "$T/cache/chatty.tar.zst" ] || fail "nothing received"
n=$(grep -c '^xxxxxxxxxxxxxxx$' "$T/err" || true)
[ "$n" -eq 250000 ] || fail "only $n of 250000 lines of the remote stderr relayed"

step "remote command fails at once: exit 5, its message shown"
rc=0
timeout 120 "$P2V" ct --name early --root "$root" --progress none --to "$to" \
  --identity "$SSH_ID" --hostkey "$SSHD_HOSTKEY_PIN" \
  --remote-import "echo 'remote says no' >&2; exit 9" 2>"$T/err" || rc=$?
cat "$T/err" >&2
[ "$rc" -eq 5 ] || fail "expected exit 5, got $rc"
assert_grep "remote says no" "$T/err"

step "remote closes stdout, exits 40 s later: its real exit status"
rc=0
"$P2V" ct --name late --root "$root" --progress none --to "$to" \
  --identity "$SSH_ID" --hostkey "$SSHD_HOSTKEY_PIN" \
  --remote-import "$CTI receive --cache-dir $T/cache; exec >&- 2>&-; sleep 40; exit 0" 2>"$T/err" || rc=$?
cat "$T/err" >&2
[ "$rc" -eq 0 ] || fail "expected success, got exit $rc"
[ -s "$T/cache/late.tar.zst" ] || fail "nothing received"

echo "ssh stream behaves"
