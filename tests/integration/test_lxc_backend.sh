#!/bin/bash
# The plain-LXC backend for real: a Debian bookworm root made to look like a
# physical server becomes a template (GNU tar, as p2v's users would), and
# `ct-import create-ct --backend lxc --start` turns it into a running LXC
# container. Checks: the container runs and answers lxc-attach, the fixups
# landed in its rootfs and not in the template, file capabilities, ACLs,
# set-uid bits and numeric owners survived, an existing name is refused, a
# dry run creates nothing, and a hostile template is refused without leaving
# anything behind or writing outside the container.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lib/debian-root.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (privileged LXC containers)"
for p in lxc-start lxc-attach lxc-stop lxc-destroy mmdebstrap setcap getcap setfacl getfacl bsdtar zstd; do
  command -v "$p" >/dev/null || skip "$p is not installed (make deps)"
done

NAME=p2vtest$$
LXCP="$T/lxc"
CACHE="$T/cache"
mkdir -p "$CACHE"

step "a Debian root that looks like a physical server"
debian_root "$T/root" minbase || fail "could not build the Debian root"
make_it_look_physical "$T/root"
# What a real server has and a naive copy would lose.
cp "$T/root/usr/bin/true" "$T/root/usr/local/bin/captest"
setcap cap_net_raw,cap_net_bind_service+ep "$T/root/usr/local/bin/captest"
echo data >"$T/root/srv/acl-file"
setfacl -m u:1234:rw "$T/root/srv/acl-file"
echo mine >"$T/root/srv/owned"
chown 1234:4321 "$T/root/srv/owned"
setfattr -n user.p2v -v kept "$T/root/srv/owned"
truncate -s 64M "$T/root/srv/sparse"

step "the template, made with GNU tar"
TPL="$CACHE/debian-12-physical.tar.zst"
tar --zstd -cpf "$TPL" --numeric-owner --acls --xattrs -C "$T/root" .
sum_before=$(sha256sum "$TPL" | cut -d' ' -f1)

step "a dry run creates nothing"
"$CTI" create-ct --template debian-12-physical --cache-dir "$CACHE" --lxc-path "$LXCP" \
  --backend lxc --name "$NAME" --start --dry-run >"$T/dry.out"
cat "$T/dry.out"
assert_grep "lxc.rootfs.path = dir:$LXCP/$NAME/rootfs" "$T/dry.out"
[ ! -e "$LXCP/$NAME" ] || fail "a dry run created $LXCP/$NAME"

step "create-ct --backend lxc --start"
at_exit "lxc-stop -k -n $NAME -P $LXCP >/dev/null 2>&1; lxc-destroy -n $NAME -P $LXCP >/dev/null 2>&1"
"$CTI" create-ct --template debian-12-physical --cache-dir "$CACHE" --lxc-path "$LXCP" \
  --backend lxc --name "$NAME" --hostname web01 --memory 512 --cores 1 --start 2>&1 | tee "$T/create.out"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "create-ct failed"
R="$LXCP/$NAME/rootfs"

step "it runs"
lxc-info -n "$NAME" -P "$LXCP" -s | grep -q RUNNING || fail "container is not RUNNING"
lxc-attach -n "$NAME" -P "$LXCP" -- cat /etc/os-release >"$T/os-release"
assert_grep 'VERSION_CODENAME=bookworm' "$T/os-release"
out=$(lxc-attach -n "$NAME" -P "$LXCP" -- /bin/sh -c 'echo inside; id -u; hostname')
[ "$out" = "$(printf 'inside\n0\nweb01')" ] || fail "unexpected output from inside: $out"
[ "$(lxc-attach -n "$NAME" -P "$LXCP" -- cat /proc/1/comm)" = systemd ] || fail "init is not systemd"
# For the log: how far systemd got (the masked udev units must not be there).
lxc-attach -n "$NAME" -P "$LXCP" -- systemctl is-system-running --wait 2>&1 || true
lxc-attach -n "$NAME" -P "$LXCP" -- systemctl --no-pager --failed 2>&1 || true
! lxc-attach -n "$NAME" -P "$LXCP" -- systemctl is-active -q systemd-udevd.service ||
  fail "systemd-udevd runs in the container"

step "the config"
C="$LXCP/$NAME/config"
cat "$C"
assert_grep '^lxc.net.0.type = empty$' "$C"
assert_grep '^lxc.start.auto = 1$' "$C"
assert_grep '^lxc.uts.name = web01$' "$C"
assert_grep "^lxc.rootfs.path = dir:$R\$" "$C"
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
  assert_grep '^lxc.cgroup2.memory.max = 536870912$' "$C"
else
  assert_grep '^lxc.cgroup.memory.limit_in_bytes = 536870912$' "$C"
  lim=$(cat /sys/fs/cgroup/memory/lxc.payload."$NAME"/memory.limit_in_bytes 2>/dev/null || echo none)
  [ "$lim" = 536870912 ] || fail "memory limit not applied: $lim"
fi
[ "$(stat -c %a "$LXCP/$NAME")" = 770 ] || fail "container directory is not 0770"

step "the fixups landed in the container"
assert_grep '^# p2v: UUID=.* / ' "$R/etc/fstab"
assert_grep '^# p2v: UUID=.* /boot ' "$R/etc/fstab"
assert_grep '^# p2v: UUID=.* none  *swap ' "$R/etc/fstab"
assert_grep '^proc ' "$R/etc/fstab"
assert_grep '^tmpfs ' "$R/etc/fstab"
assert_grep '^# p2v: iface eno1 inet static' "$R/etc/network/interfaces"
assert_grep '^iface lo inet loopback' "$R/etc/network/interfaces"
! grep -q '^auto eth0' "$R/etc/network/interfaces" || fail "eth0 configured without a network device"
[ "$(readlink "$R/etc/systemd/system/systemd-udevd.service")" = /dev/null ] || fail "udevd not masked"
[ "$(cat "$R/etc/hostname")" = web01 ] || fail "hostname not set"
inside_fstab=$(lxc-attach -n "$NAME" -P "$LXCP" -- cat /etc/fstab)
grep -q '^# p2v: UUID=' <<<"$inside_fstab" || fail "the container does not see the fixed fstab"

step "and not in the template"
[ "$(sha256sum "$TPL" | cut -d' ' -f1)" = "$sum_before" ] || fail "the template changed"
tar --zstd -xOf "$TPL" ./etc/fstab | grep -q '^UUID=.* / ' || fail "template fstab was altered"

step "capabilities, ACLs, set-uid bits and owners survived unpacking"
getcap "$R/usr/local/bin/captest" | tee "$T/getcap"
assert_grep 'cap_net_bind_service,cap_net_raw[=+]ep' "$T/getcap"
getfacl -n "$R/srv/acl-file" | tee "$T/acl"
assert_grep '^user:1234:rw-' "$T/acl"
[ "$(stat -c '%u:%g' "$R/srv/owned")" = 1234:4321 ] || fail "numeric owner lost"
[ "$(getfattr --only-values -n user.p2v "$R/srv/owned")" = kept ] || fail "user xattr lost"
[ "$(stat -c '%a %u' "$R/usr/bin/su")" = "$(stat -c '%a %u' "$T/root/usr/bin/su")" ] ||
  fail "su's set-uid mode or owner changed"
[ "$(stat -c %i "$R/usr/bin/perl")" = "$(stat -c %i "$R/usr/bin/perl5.36.0")" ] ||
  fail "hard link perl5.36.0 -> perl became a copy"
[ "$(stat -c %s "$R/srv/sparse")" = 67108864 ] || fail "sparse file has the wrong size"
[ "$(du -k "$R/srv/sparse" | cut -f1)" -lt 1024 ] || fail "zeros were written, not holes"
# The template's static /dev nodes are not unpacked: LXC populates /dev.
[ -z "$(ls -A "$R/dev")" ] || fail "device nodes were unpacked into $R/dev"

step "an existing container is refused"
expect_fail "$CTI" create-ct --template debian-12-physical --cache-dir "$CACHE" --lxc-path "$LXCP" \
  --backend lxc --name "$NAME"
assert_grep 'already exists' "$T/err"
lxc-info -n "$NAME" -P "$LXCP" -s | grep -q RUNNING || fail "the existing container was disturbed"

step "a hostile template is refused and leaves nothing behind"
OUTSIDE="$T/outside"
mkdir -p "$OUTSIDE"
echo pwned >"$T/payload"
cat >"$T/evil.mtree" <<EOF
#mtree
./etc type=dir mode=0755
./etc/escape type=link link=$OUTSIDE
./etc/escape/pwned type=file mode=0644 contents=$T/payload
EOF
(cd / && bsdtar --zstd -cf "$CACHE/evil.tar.zst" "@$T/evil.mtree")
bsdtar -tvf "$CACHE/evil.tar.zst"
expect_fail "$CTI" create-ct --template evil --cache-dir "$CACHE" --lxc-path "$LXCP" \
  --backend lxc --name evil$$
[ ! -e "$OUTSIDE/pwned" ] || fail "the hostile template wrote outside the container"
[ ! -e "$LXCP/evil$$" ] || fail "the half-made container was not removed"

cat >"$T/dotdot.mtree" <<EOF
#mtree
./etc type=dir mode=0755
./etc/../../dotdot-pwned type=file mode=0644 contents=$T/payload
EOF
(cd / && bsdtar -cf "$CACHE/dotdot.tar" "@$T/dotdot.mtree")
expect_fail "$CTI" create-ct --template dotdot --cache-dir "$CACHE" --lxc-path "$LXCP" \
  --backend lxc --name dotdot$$
[ ! -e "$LXCP/dotdot-pwned" ] && [ ! -e "$T/dotdot-pwned" ] || fail "a .. entry escaped"
[ ! -e "$LXCP/dotdot$$" ] || fail "the half-made container was not removed"

step "stop and destroy"
lxc-stop -n "$NAME" -P "$LXCP" -t 20 || lxc-stop -k -n "$NAME" -P "$LXCP"
lxc-destroy -n "$NAME" -P "$LXCP"
[ ! -e "$LXCP/$NAME" ] || fail "lxc-destroy left $LXCP/$NAME"
echo "ok: LXC backend"
