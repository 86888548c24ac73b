#!/bin/bash
# The relocatable bundle (make bundle, rescue-iso/bundle.sh) runs where no
# library of this host exists: a chroot holding only busybox-static and the
# bundle. The unbundled binary must fail there (the control: the chroot
# really lacks libraries); the bundle answers --help, --version (same as
# the build's) and inventory --json (the same disks as on the host), also
# through a symlink on $PATH the way the SRM module and ISO install it.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root for chroot and mount"
for c in unshare chroot python3; do command -v $c >/dev/null || skip "needs $c"; done
BB=/bin/busybox
file -L "$BB" 2>/dev/null | grep -q 'statically linked' || skip "needs busybox-static"

step "make bundle"
desc_before=$(git -C "$TOP" describe --always --dirty --tags)
make -s -C "$TOP" BUILD="$BUILD" bundle >"$T/make.log" 2>&1 || { cat "$T/make.log"; fail "make bundle"; }
desc_after=$(git -C "$TOP" describe --always --dirty --tags)
B="$BUILD/bundle"
for f in bin/p2v bin/p2v.real lib/ld-linux-x86-64.so.2 lib/libc.so.6 lib/libssh.so.4 lib/libcrypto.so.3 VERSION MANIFEST; do
  [ -e "$B/$f" ] || fail "bundle lacks $f"
done
# (others may commit to the tree while it builds)
[ "$(cat "$B/VERSION")" = "$desc_before" ] || [ "$(cat "$B/VERSION")" = "$desc_after" ] ||
  fail "VERSION '$(cat "$B/VERSION")' is not git describe"
# Every library ldd resolves for the binary is in the bundle.
for l in $(ldd "$P2V" | awk '$2 == "=>" { print $1 }'); do
  [ -f "$B/lib/$l" ] || fail "bundle lacks $l"
done
head -1 "$B/bin/p2v" | grep -qx '#!/bin/sh' || fail "the wrapper is not a #!/bin/sh script"

step "a chroot with only busybox and the bundle"
C=$T/root
mkdir -p $C/bin $C/opt $C/usr/local/bin $C/proc $C/sys $C/dev $C/tmp $C/run $C/build
cp "$BB" $C/bin/busybox
for a in sh readlink cat; do ln -s busybox $C/bin/$a; done
cp -a "$B" $C/opt/p2v
ln -s /opt/p2v/bin/p2v $C/usr/local/bin/p2v
cp "$P2V" $C/build/p2v
# Nothing but the bundle carries an ELF shared object.
extra=$(find $C -name '*.so*' ! -path "$C/opt/p2v/lib/*")
[ -z "$extra" ] || fail "libraries outside the bundle: $extra"

# in_root CMD: run CMD with busybox sh inside the chroot, /proc, /sys and
# /dev mounted in a private mount namespace.
in_root() {
  unshare -m sh -c 'set -e; mount -t proc proc "$1/proc"; mount --rbind /sys "$1/sys";
    mount --rbind /dev "$1/dev"; exec chroot "$1" /bin/busybox env -i PATH=/usr/local/bin:/bin /bin/sh -c "$2"' \
    in_root "$C" "$1"
}

step "control: the unbundled binary cannot run there"
if in_root '/build/p2v --help' >"$T/ctl.out" 2>&1; then
  cat "$T/ctl.out"; fail "the plain binary ran in the chroot: it is not library-free"
fi

step "p2v --help, by absolute path, through a relative path and through the symlink on PATH"
in_root '/opt/p2v/bin/p2v --help' >"$T/help1" || fail "bundle p2v --help"
in_root 'cd /opt/p2v && ./bin/p2v --help' >"$T/help2" || fail "bundle ./bin/p2v --help"
in_root 'p2v --help' >"$T/help3" || fail "p2v --help via /usr/local/bin symlink"
"$P2V" --help >"$T/help.host"
for h in help1 help2 help3; do
  cmp -s "$T/$h" "$T/help.host" || { diff "$T/help.host" "$T/$h"; fail "$h differs from the build's --help"; }
done
in_root 'p2v ct --help' >"$T/cthelp" || fail "p2v ct --help"
assert_grep '--hostkey' "$T/cthelp"

step "p2v --version"
in_root 'p2v --version' >"$T/ver" || fail "p2v --version"
[ "$(cat "$T/ver")" = "$("$P2V" --version)" ] || fail "version '$(cat "$T/ver")' is not the build's"
grep -Eq '^p2v [0-9]+\.[0-9]+' "$T/ver" || fail "odd version line: $(cat "$T/ver")"

step "p2v inventory --json"
in_root 'p2v inventory --json' >"$T/inv.json" 2>"$T/inv.err" || { cat "$T/inv.err"; fail "inventory --json"; }
"$P2V" inventory --json >"$T/inv.host.json" 2>/dev/null || fail "host inventory --json"
python3 - "$T/inv.json" "$T/inv.host.json" <<'PY' || fail "the bundle's inventory differs from the host's"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
def disks(inv):
    return sorted((d["name"], d.get("size")) for d in inv["disks"])
assert a["schema"] == b["schema"], (a["schema"], b["schema"])
assert a["cpus"]["count"] == b["cpus"]["count"]
assert disks(a) == disks(b), (disks(a), disks(b))
print("inventory:", len(a["disks"]), "disks, as on the host")
PY

step "p2v run --dry-run: p2v.pre's /bin/sh is the chroot's busybox, not the bundle's loader"
in_root 'p2v run --dry-run --cmdline "p2v.server=192.0.2.1 p2v.mode=ct p2v.name=web01 p2v.device=/dev/sda1 p2v.accept_new_hostkey=1" --log /tmp/run.log' \
  >"$T/run.out" 2>&1 || { cat "$T/run.out"; fail "p2v run --dry-run"; }
assert_grep 'p2v ct' "$T/run.out"
echo "bundle: $(du -sh "$B" | cut -f1), $(ls "$B/lib" | wc -l) libraries"
