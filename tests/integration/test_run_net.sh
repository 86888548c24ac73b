#!/bin/bash
# p2v run's p2v.ip: in a client network namespace joined to a server
# namespace by veth pairs, p2v run chooses the interface that has a link,
# sets a static address, default route and name server (or takes them from
# busybox udhcpd over DHCP), and then migrates a root over that link to an
# sshd in the server namespace. /etc/resolv.conf is the client's own
# through a mount namespace; the host's file is never touched.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/sshd.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null || skip "no ip (iproute2)"
command -v unshare >/dev/null || skip "no unshare"
busybox --list 2>/dev/null | grep -qx udhcpd || skip "no busybox udhcpd"
busybox --list 2>/dev/null | grep -qx udhcpc || skip "no busybox udhcpc"

C=p2vc$$ S=p2vs$$
ip netns add "$C" || skip "cannot create network namespaces here"
at_exit "ip netns del $C"
ip netns add "$S"
at_exit "ip netns del $S"
# eth0 has no link (its peer stays down), eth1 has one: the choice must
# skip eth0 although it comes first.
for i in 0 1; do
  ip link add "p2vc$i$$" type veth peer name "p2vs$i$$"
  ip link set "p2vc$i$$" netns "$C"
  ip -n "$C" link set "p2vc$i$$" name "eth$i"
  ip link set "p2vs$i$$" netns "$S"
  ip -n "$S" link set "p2vs$i$$" name "srv$i"
done
ip -n "$S" addr add 10.203.0.1/24 dev srv1
ip -n "$S" -6 addr add fd00:203::1/64 dev srv1 nodad
ip -n "$S" link set srv1 up
ip -n "$S" link set lo up

step "sshd in the server namespace, ct-import behind it"
start_sshd
stop_sshd
sed -i 's/^ListenAddress .*/ListenAddress 10.203.0.1\nListenAddress [fd00:203::1]/' "$SSHD_DIR/sshd_config"
ip netns exec "$S" /usr/sbin/sshd -D -e -f "$SSHD_DIR/sshd_config" >>"$SSHD_DIR/log" 2>&1 &
SSHD_PID=$!
for i in $(seq 1 100); do
  ip netns exec "$S" timeout 2 bash -c "exec 3<>/dev/tcp/10.203.0.1/$SSHD_PORT && head -c 4 <&3" 2>/dev/null |
    grep -q '^SSH-' && break
  kill -0 "$SSHD_PID" 2>/dev/null || { cat "$SSHD_DIR/log"; fail "sshd died"; }
  sleep 0.1
done
CACHE="$T/cache"; mkdir -p "$CACHE"
cat >"$T/forced.sh" <<EOS
#!/bin/sh
exec "$CTI" receive --cache-dir "$CACHE"
EOS
chmod +x "$T/forced.sh"
sed -i "s|^|command=\"$T/forced.sh\" |" "$SSHD_DIR/authorized_keys"

mkdir -p "$T/src/etc" "$T/src/srv"
echo web1 >"$T/src/etc/hostname"
head -c 200000 /dev/urandom >"$T/src/srv/blob"

# in_client RESOLV CMD...: CMD in the client's network namespace and a
# mount namespace of its own, with RESOLV as /etc/resolv.conf (a file bound
# over it, or with RESOLV a directory, a copy of /etc bound over /etc so the
# file can be replaced by rename) and a tmpfs on /run/p2v.
cat >"$T/in-client.sh" <<'EOS'
#!/bin/bash
set -e
if [ -d "$1" ]; then mount --bind "$1" /etc; else mount --bind "$1" /etc/resolv.conf; fi
mkdir -p /run/p2v
mount -t tmpfs -o mode=0700 p2v /run/p2v
shift
exec "$@"
EOS
chmod +x "$T/in-client.sh"
in_client() {
  local r=$1; shift
  ip netns exec "$C" unshare -m --propagation private "$T/in-client.sh" "$r" "$@"
}
host_resolv=$(sha256sum /etc/resolv.conf)
KEYS="p2v.server=10.203.0.1 p2v.port=$SSHD_PORT p2v.user=root p2v.identity=$SSH_ID
  p2v.hostkey=$SSHD_HOSTKEY_PIN p2v.mode=ct p2v.root=$T/src nodmraid"

step "--dry-run shows the commands and changes nothing"
echo "nameserver 127.0.0.53" >"$T/resolv.dry"
in_client "$T/resolv.dry" "$P2V" run --dry-run --cmdline "$KEYS p2v.name=x p2v.ip=10.203.0.2/24,10.203.0.1,10.203.0.53" \
  >"$T/out" 2>"$T/err"
cat "$T/err"
assert_grep "would run: ip -4 addr replace 10.203.0.2/24 dev eth" "$T/err"
assert_grep "would run: ip -4 route replace default via 10.203.0.1 dev eth" "$T/err"
assert_grep "would write /etc/resolv.conf: nameserver 10.203.0.53" "$T/err"
ip -n "$C" -4 addr | grep -q 10.203 && fail "a dry run set an address"
[ "$(cat "$T/resolv.dry")" = "nameserver 127.0.0.53" ] || fail "a dry run wrote resolv.conf"

step "static: the interface with a link is chosen, address, route and name server set, the root arrives"
echo "nameserver 127.0.0.53" >"$T/resolv.static"
in_client "$T/resolv.static" "$P2V" run --cmdline "$KEYS p2v.name=x p2v.ip=10.203.0.2/24,10.203.0.1,10.203.0.53" \
  --log "$T/static.log" 2>/dev/null || { cat "$T/static.log"; fail "p2v run failed"; }
cat "$T/static.log"
assert_grep "interface: eth1, the first with a link (carrier) of: eth0 eth1" "$T/static.log"
assert_grep "address: eth1 10.203.0.2/24" "$T/static.log"
assert_grep "default route: via 10.203.0.1 dev eth1" "$T/static.log"
tail -n 1 "$T/static.log" | grep -q "success: p2v ct finished" || fail "last line: $(tail -n 1 "$T/static.log")"
ip -n "$C" -4 -o addr show dev eth1 | grep -q "inet 10.203.0.2/24" || fail "no address: $(ip -n "$C" addr)"
ip -n "$C" route show default | grep -q "default via 10.203.0.1 dev eth1" || fail "no route: $(ip -n "$C" route)"
ip -n "$C" link show eth0 | grep -q "state DOWN" || fail "eth0 was left up: $(ip -n "$C" link show eth0)"
[ "$(grep -v '^#' "$T/resolv.static")" = "nameserver 10.203.0.53" ] || fail "resolv.conf: $(cat "$T/resolv.static")"
assert_grep "is a mount point: rewritten in place" "$T/static.log"
[ -f "$CACHE/x.tar.zst" ] || fail "no template x in the cache"
mkdir "$T/x"; tar --zstd -xpf "$CACHE/x.tar.zst" -C "$T/x"
cmp "$T/src/srv/blob" "$T/x/srv/blob" || fail "the blob differs"

step "a second run over the same setup, with busybox's ip (all the rescue ISO has): replace, not add"
mkdir -p "$T/bin-bbip"
ln -s "$(command -v busybox)" "$T/bin-bbip/ip"
in_client "$T/resolv.static" env PATH="$T/bin-bbip:$PATH" "$P2V" run \
  --cmdline "$KEYS p2v.name=x2 p2v.iface=eth1 p2v.ip=10.203.0.2/24,10.203.0.1" \
  --log "$T/again.log" 2>/dev/null || { cat "$T/again.log"; fail "the second run failed"; }
assert_grep "interface: eth1 (p2v.iface)" "$T/again.log"
[ -f "$CACHE/x2.tar.zst" ] || fail "no template x2 in the cache"

step "IPv6: address and route, then the migration over IPv6"
in_client "$T/resolv.static" "$P2V" run --cmdline "$KEYS p2v.server=fd00:203::1 p2v.name=x6 p2v.iface=eth1
  p2v.ip=fd00:203::2/64,fd00:203::1" --log "$T/v6.log" 2>/dev/null || { cat "$T/v6.log"; fail "the IPv6 run failed"; }
cat "$T/v6.log"
ip -n "$C" -6 -o addr show dev eth1 | grep -q "inet6 fd00:203::2/64" || fail "no IPv6 address: $(ip -n "$C" addr)"
ip -n "$C" -6 route show default | grep -q "default via fd00:203::1 dev eth1" || fail "no IPv6 route: $(ip -n "$C" -6 route)"
assert_grep "running: p2v ct --to 'root@\[fd00:203::1\]:$SSHD_PORT'" "$T/v6.log"
[ -f "$CACHE/x6.tar.zst" ] || fail "no template x6 in the cache"

ip -n "$C" addr flush dev eth1
ip -n "$C" link set eth1 down

step "DHCP from busybox udhcpd; resolv.conf replaced by rename in a copy of /etc"
touch "$T/udhcpd.leases"
cat >"$T/udhcpd.conf" <<EOS
start 10.203.0.100
end 10.203.0.110
interface srv1
lease_file $T/udhcpd.leases
pidfile $T/udhcpd.pid
option subnet 255.255.255.0
option router 10.203.0.1
option dns 10.203.0.54
option lease 3600
EOS
ip netns exec "$S" busybox udhcpd -f "$T/udhcpd.conf" >"$T/udhcpd.log" 2>&1 &
UDHCPD=$!
at_exit "kill $UDHCPD 2>/dev/null"
cp -a /etc "$T/etc"
ino=$(stat -c %i "$T/etc/resolv.conf")
in_client "$T/etc" "$P2V" run --cmdline "$KEYS p2v.name=y p2v.ip=dhcp p2v.iface=eth1" \
  --log "$T/dhcp.log" 2>/dev/null || { cat "$T/dhcp.log" "$T/udhcpd.log"; fail "p2v run with DHCP failed"; }
cat "$T/dhcp.log"
assert_grep "running: busybox udhcpc -i eth1" "$T/dhcp.log"
assert_grep "DHCP lease: 10.203.0.1[01][0-9]/24, router 10.203.0.1, name server 10.203.0.54" "$T/dhcp.log"
tail -n 1 "$T/dhcp.log" | grep -q "success: p2v ct finished" || fail "last line: $(tail -n 1 "$T/dhcp.log")"
ip -n "$C" -4 -o addr show dev eth1 | grep -q "inet 10.203.0.1[01][0-9]/24" || fail "no leased address: $(ip -n "$C" addr)"
ip -n "$C" route show default | grep -q "default via 10.203.0.1 dev eth1" || fail "no route: $(ip -n "$C" route)"
[ "$(grep -v '^#' "$T/etc/resolv.conf")" = "nameserver 10.203.0.54" ] || fail "resolv.conf: $(cat "$T/etc/resolv.conf")"
[ "$(stat -c %i "$T/etc/resolv.conf")" != "$ino" ] || fail "resolv.conf was not replaced by a new file"
[ -f "$CACHE/y.tar.zst" ] || fail "no template y in the cache"

step "udhcpc on PATH is used as it is; no DHCP client at all is a clear error"
ip -n "$C" addr flush dev eth1
mkdir -p "$T/bin-udhcpc" "$T/bin-none"
ln -s "$(command -v busybox)" "$T/bin-udhcpc/udhcpc"
in_client "$T/etc" env PATH="$T/bin-udhcpc:$PATH" "$P2V" run --cmdline "$KEYS p2v.name=y2 p2v.ip=dhcp p2v.iface=eth1" \
  --log "$T/udhcpc.log" 2>/dev/null || { cat "$T/udhcpc.log"; fail "p2v run with udhcpc on PATH failed"; }
assert_grep "running: udhcpc -i eth1 -f -n -q" "$T/udhcpc.log"
ip -n "$C" -4 -o addr show dev eth1 | grep -q "inet 10.203.0.1[01][0-9]/24" || fail "no leased address: $(ip -n "$C" addr)"
# Only ip: neither udhcpc, busybox nor dhclient.
ln -s "$(command -v ip)" "$T/bin-none/ip"
set +e
in_client "$T/etc" env PATH="$T/bin-none" "$P2V" run --cmdline "$KEYS p2v.name=z p2v.ip=dhcp p2v.iface=eth1" \
  --log "$T/nodhcp.log" 2>/dev/null; rc=$?
set -e
[ $rc -eq 1 ] || { cat "$T/nodhcp.log"; fail "exit $rc, expected 1"; }
assert_grep "no DHCP client here (neither udhcpc, busybox udhcpc nor dhclient)" "$T/nodhcp.log"

step "no udhcpc: dhclient -1, which applies the lease itself (its files under /run/p2v)"
if command -v dhclient >/dev/null && [ -x /sbin/dhclient-script ]; then
  ip -n "$C" addr flush dev eth1
  printf 'nameserver 127.0.0.53\n' >"$T/etc/resolv.conf"
  mkdir -p "$T/bin-dhclient"
  ln -s "$(command -v ip)" "$T/bin-dhclient/ip"
  ln -s "$(command -v dhclient)" "$T/bin-dhclient/dhclient"
  # dhclient stays behind as a daemon in the namespace: end it whatever happens.
  at_exit "ip netns pids $C 2>/dev/null | xargs -r kill 2>/dev/null"
  in_client "$T/etc" env PATH="$T/bin-dhclient" "$P2V" run \
    --cmdline "$KEYS p2v.name=y3 p2v.ip=dhcp p2v.iface=eth1" --log "$T/dhclient.log" 2>/dev/null ||
    { cat "$T/dhclient.log"; fail "p2v run with dhclient failed"; }
  cat "$T/dhclient.log"
  assert_grep "running: dhclient -1 -pf /run/p2v/dhclient.pid -lf /run/p2v/dhclient.leases eth1" "$T/dhclient.log"
  ip -n "$C" -4 -o addr show dev eth1 | grep -q "inet 10.203.0.1[01][0-9]/24" || fail "no leased address: $(ip -n "$C" addr)"
  ip -n "$C" route show default | grep -q "default via 10.203.0.1 dev eth1" || fail "no route: $(ip -n "$C" route)"
  grep -q "^nameserver 10.203.0.54" "$T/etc/resolv.conf" || fail "resolv.conf: $(cat "$T/etc/resolv.conf")"
  [ -f "$CACHE/y3.tar.zst" ] || fail "no template y3 in the cache"
  ip netns pids "$C" | xargs -r kill
else
  echo "no dhclient (isc-dhcp-client): not tested"
fi

step "a missing interface fails the run before anything is sent"
set +e
in_client "$T/resolv.static" "$P2V" run --cmdline "$KEYS p2v.name=z p2v.ip=dhcp p2v.iface=eth9" \
  --log "$T/bad.log" 2>/dev/null; rc=$?
set -e
cat "$T/bad.log"
[ $rc -eq 1 ] || fail "exit $rc, expected 1"
assert_grep "p2v.iface=eth9: no such interface (there are: eth0 eth1 lo)" "$T/bad.log"
tail -n 1 "$T/bad.log" | grep -q "FAILED: network setup failed (DHCP on eth9)" || fail "last line: $(tail -n 1 "$T/bad.log")"
[ ! -e "$CACHE/z.tar.zst" ] || fail "a template was published"

step "without p2v.ip the network is left alone and its addresses are logged"
in_client "$T/resolv.static" "$P2V" run --cmdline "$KEYS p2v.name=w" --log "$T/none.log" 2>/dev/null ||
  { cat "$T/none.log"; fail "p2v run without p2v.ip failed"; }
assert_grep "network: no p2v.ip, left as the boot system set it up" "$T/none.log"
assert_grep "address: eth1 10.203.0.1[01][0-9]/24" "$T/none.log"

step "no interface with a link: the run fails after the wait, naming the candidates"
ip -n "$C" addr flush dev eth1
ip -n "$C" link set eth1 down
ip -n "$S" link set srv1 down
set +e
in_client "$T/resolv.static" "$P2V" run --cmdline "$KEYS p2v.name=z p2v.ip=10.203.0.2/24" --log "$T/nolink.log" 2>/dev/null; rc=$?
set -e
cat "$T/nolink.log"
[ $rc -eq 1 ] || fail "exit $rc, expected 1"
assert_grep "none of the Ethernet interfaces (eth0 eth1) has a link (carrier) after 10 s" "$T/nolink.log"
ip -n "$C" link show eth0 | grep -q "state DOWN" || fail "eth0 was left up"
ip -n "$C" link show eth1 | grep -q "state DOWN" || fail "eth1 was left up"
[ ! -e "$CACHE/z.tar.zst" ] || fail "a template was published"

[ "$(sha256sum /etc/resolv.conf)" = "$host_resolv" ] || fail "the host's /etc/resolv.conf changed"
echo "p2v run: static and DHCP network setup in namespaces, then a migration over it"
