#!/bin/bash
# p2v ct --output writes a pax tarball that GNU tar (with Proxmox's exact
# options) and bsdtar both unpack into a tree identical to the source:
# owners, modes, ns mtimes, links, devices, ACLs, xattrs, capabilities,
# sparse holes, odd names. Excludes, swap and lost+found stay out; gzip works.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/mkroot-metadata.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root (mknod, chown, trusted.* xattrs)"
for c in setfattr setfacl setcap bsdtar zstd python3; do
  command -v $c >/dev/null || skip "$c not installed"
done
CMP="python3 $TOP/tests/integration/compare-trees.py"

# The scratch filesystem must hold user/trusted xattrs and ACLs; if it does
# not (tmpfs), work on a loop-mounted ext4 image instead.
W=$T
if ! mkroot_metadata_fs_ok "$T"; then
  truncate -s 512M "$T/fs.img"
  mkfs.ext4 -q -F "$T/fs.img"
  mkdir "$T/fs"
  mount -o loop "$T/fs.img" "$T/fs" || skip "cannot loop-mount an ext4 image"
  at_exit "umount '$T/fs'"
  W=$T/fs
fi

step "build the synthetic root"
mkroot_metadata "$W/root"

# What the archive leaves out on purpose (the directories themselves stay).
LEFT_OUT=(--exclude 'proc/*' --exclude 'sys/*' --exclude 'dev/*' --exclude 'run/*'
  --exclude 'tmp/*' --exclude lost+found --exclude swapfile --exclude var/swap.img
  --exclude srv/socket)

# gnu_extract ARCHIVE DIR: Proxmox's command (plus trusted.*, which we keep).
gnu_extract() {
  mkdir -p "$2"
  (cd "$2" && tar xpf - --numeric-owner --acls --xattrs --xattrs-include='user.*' \
    --xattrs-include=security.capability --xattrs-include='trusted.*' --sparse \
    --one-file-system --skip-old-files --anchored --exclude './dev/*' -I zstd) \
    <"$1" 2>"$T/gnutar.err" || { cat "$T/gnutar.err"; fail "GNU tar failed on $1"; }
}
gnu_extract_gz() {
  mkdir -p "$2"
  (cd "$2" && tar xzpf - --numeric-owner --acls --xattrs --xattrs-include='*' --sparse) \
    <"$1" 2>"$T/gnutar.err" || { cat "$T/gnutar.err"; fail "GNU tar failed on $1"; }
}
# GNU tar may only complain about 'hdrcharset': libarchive marks the two
# entries whose name or link target is not UTF-8 that way (the bytes are
# still restored exactly; compare-trees checks). Nothing else is allowed.
gnu_quiet() {
  local other n
  other=$(grep -v "Ignoring unknown extended header keyword 'hdrcharset'" "$T/gnutar.err" || true)
  [ -z "$other" ] || { cat "$T/gnutar.err"; fail "GNU tar printed warnings"; }
  n=$(grep -c hdrcharset "$T/gnutar.err" || true)
  [ "$n" -le "${1:-2}" ] || { cat "$T/gnutar.err"; fail "$n hdrcharset warnings, expected <= ${1:-2}"; }
}

step "archive with zstd"
"$P2V" ct --root "$W/root" --name t --output "$W/t.tar.zst" --progress none 2>"$T/p2v.err" ||
  { cat "$T/p2v.err"; fail "p2v ct failed"; }
cat "$T/p2v.err"
zstd -t -q "$W/t.tar.zst" || fail "not a valid zstd stream"

step "member names are ./..."
tar tvf "$W/t.tar.zst" --full-time >"$T/list" 2>"$T/list.err"
head -3 "$T/list"
awk '{print $6}' "$T/list" | grep -v '^\./' | head -5 >"$T/bad-names" || true
[ ! -s "$T/bad-names" ] || { cat "$T/bad-names"; fail "members not named ./..."; }
assert_grep ' \./$' "$T/list"
assert_grep '\./etc/motd$' "$T/list"
# Names come from the archived root's etc/passwd (alice = 4242 here).
assert_grep 'alice/alice .* \./home/alice/file' "$T/list"
assert_grep '12345/54321 .* \./srv/perm/numeric' "$T/list"
for gone in './proc/1' './sys/kernel' './dev/null' './run/lock' './tmp/junk' \
    './lost+found' './swapfile' './var/swap.img' './srv/socket'; do
  ! grep -q " $gone" "$T/list" || fail "$gone should have been left out"
done
for kept in './proc/$' './sys/$' './dev/$' './run/$' './tmp/$' './var/secret.key$'; do
  grep -q " $kept" "$T/list" || fail "$kept missing"
done
grep -q '^drwxrwxrwt .* \./tmp/$' "$T/list" || fail "tmp lost its sticky mode"
# Numeric ACL qualifiers only (names would be resolved on the hypervisor).
zstd -dc "$W/t.tar.zst" | grep -a 'SCHILY.acl' >"$T/acls" || fail "no ACLs in the archive"
! grep -q 'alice\|svc' "$T/acls" || { cat "$T/acls"; fail "ACL qualifiers carry names"; }
! zstd -dc "$W/t.tar.zst" | grep -a -q 'LIBARCHIVE.xattr\|SCHILY.fflags' ||
  fail "archive has records GNU tar warns about"

step "GNU tar (Proxmox's options) restores it exactly"
gnu_extract "$W/t.tar.zst" "$W/gnu"
gnu_quiet 2
# --skip-old-files leaves the existing top directory alone (Proxmox made it).
$CMP --no-root-mtime "${LEFT_OUT[@]}" "$W/root" "$W/gnu" || fail "GNU tar's tree differs"
getcap "$W/gnu/usr/bin/ping" | grep -q cap_net_raw || fail "capability lost"

step "bsdtar restores it exactly"
mkdir "$W/bsd"
bsdtar -xpf "$W/t.tar.zst" --numeric-owner --acls --xattrs --fflags -C "$W/bsd" 2>"$T/bsd.err" ||
  { cat "$T/bsd.err"; fail "bsdtar failed"; }
$CMP --no-root-mtime "${LEFT_OUT[@]}" "$W/root" "$W/bsd" || fail "bsdtar's tree differs"

step "without non-UTF-8 names GNU tar prints nothing at all"
mkdir "$W/clean" && cp -a "$W/root/etc" "$W/root/srv" "$W/clean/"
find "$W/clean" -name "$(printf '*\xff*')" -exec rm -f {} +
rm -f "$W/clean/srv/badlink"
"$P2V" ct --root "$W/clean" --name c --output "$W/c.tar.zst" --progress none 2>"$T/p2v.err" ||
  { cat "$T/p2v.err"; fail "p2v ct failed"; }
! grep -q warning "$T/p2v.err" || { cat "$T/p2v.err"; fail "p2v warned"; }
gnu_extract "$W/c.tar.zst" "$W/cgnu"
[ ! -s "$T/gnutar.err" ] || { cat "$T/gnutar.err"; fail "GNU tar printed warnings"; }
$CMP --no-root-mtime --exclude srv/socket "$W/clean" "$W/cgnu" || fail "clean tree differs"

step "excludes (with and without ./ and /) and gzip"
"$P2V" ct --root "$W/root/" --name g --output "$W/g.tar.gz" --compress gzip --level 1 \
  --exclude 'var/cache/apt/archives/*.deb' --exclude './var/log/*' --exclude /home/alice \
  --progress none 2>"$T/p2v.err" || { cat "$T/p2v.err"; fail "p2v ct --compress gzip failed"; }
gzip -t "$W/g.tar.gz" || fail "not a valid gzip stream"
gnu_extract_gz "$W/g.tar.gz" "$W/gz"
gnu_quiet 2
$CMP "${LEFT_OUT[@]}" --exclude 'var/cache/apt/archives/*.deb' --exclude 'var/log/*' \
  --exclude home/alice "$W/root" "$W/gz" || fail "gzip tree differs"
[ -e "$W/gz/var/cache/apt/archives/lock" ] || fail "exclude took too much"
[ ! -e "$W/gz/var/cache/apt/archives/foo_1.0_amd64.deb" ] || fail ".deb not excluded"
[ -d "$W/gz/var/log" ] && [ ! -e "$W/gz/var/log/syslog" ] || fail "./var/log/* not applied"
[ -d "$W/gz/home" ] && [ ! -e "$W/gz/home/alice" ] || fail "/home/alice not excluded"

step "unreadable entries are skipped with a warning, not fatal"
# As an unprivileged user, a 0000 file and a 0000 directory are EACCES.
mkdir -p "$W/ro/ok" "$W/ro/locked" && echo x >"$W/ro/ok/f" && echo s >"$W/ro/secret"
echo y >"$W/ro/locked/inner"; chmod 0000 "$W/ro/secret" "$W/ro/locked"
mkdir "$W/out" && chmod 0777 "$W/out"; chmod 0711 "$T" "$W"
if setpriv --reuid 65534 --regid 65534 --clear-groups true 2>/dev/null &&
   setpriv --reuid 65534 --regid 65534 --clear-groups test -x "$P2V"; then
  setpriv --reuid 65534 --regid 65534 --clear-groups "$P2V" ct --root "$W/ro" --name r \
    --output "$W/out/r.tar.zst" --progress none 2>"$T/p2v.err" ||
    { cat "$T/p2v.err"; fail "unreadable entries were fatal"; }
  cat "$T/p2v.err"
  assert_grep 'warning: skipping secret' "$T/p2v.err"
  assert_grep 'warning: locked: cannot read the directory' "$T/p2v.err"
  tar tf "$W/out/r.tar.zst" >"$T/list"
  assert_grep '^\./ok/f$' "$T/list"
  assert_grep '^\./locked/$' "$T/list"
  ! grep -q secret "$T/list" || fail "unreadable file archived"
else
  echo "(cannot run $P2V as nobody; skipped this part)"
fi

echo "all good"
