#!/bin/bash
# Without --level, p2v ct's zstd level follows the link. Over a slow link
# (a network namespace whose loopback is rate-limited to 80 Mbit/s with tbf)
# the network is the bottleneck, so the level must climb above where it
# starts; the template must still arrive intact.
if [ -z "${P2V_IN_NETNS:-}" ]; then
  command -v tc >/dev/null || { echo "no tc (iproute2)"; exit 77; }
  # The namespace has no way out: build the cached Debian root out here.
  : "${BUILD:=$(cd "$(dirname "$0")/../.." && pwd)/build}"
  export BUILD
  . "$(dirname "$0")/../lib/debian-root.sh"
  debian_root_tarball minbase >/dev/null || { echo "FAIL: cannot build the Debian root"; exit 1; }
  ns=p2v-slow-$$
  ip netns add "$ns" || { echo "cannot make a network namespace"; exit 77; }
  trap 'ip netns del "$ns"' EXIT
  ip -n "$ns" link set lo up
  ip netns exec "$ns" tc qdisc add dev lo root tbf rate 80mbit burst 256kb latency 200ms ||
    { echo "no tbf qdisc in this kernel"; exit 77; }
  P2V_IN_NETNS=1 ip netns exec "$ns" bash "$0"
  exit $?
fi
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/sshd.sh"
. "$TOP/tests/lib/debian-root.sh"
debian_root "$T/root" minbase
start_sshd
C="$T/cache"; mkdir -p "$C"

step "p2v ct over an 80 Mbit/s link"
"$P2V" ct --root "$T/root" --name slow --to "root@127.0.0.1:$SSHD_PORT" -i "$SSH_ID" \
  --known-hosts "$SSH_KNOWN_HOSTS" --progress none -v \
  --remote-import "$CTI receive --cache-dir $C" 2>&1 | tee "$T/log"
line=$(grep -o 'zstd level [0-9]*-[0-9]*' "$T/log") || fail "no level summary"
max=${line##*-}
echo "levels used: $line"
[ "$max" -ge 3 ] || fail "the level did not climb on a slow link ($line)"
zstd -t -q "$C/slow.tar.zst" || fail "template is not a valid zstd file"
tar --zstd -tf "$C/slow.tar.zst" > "$T/list" || fail "template does not list"
assert_grep '^\./etc/os-release$' "$T/list"
