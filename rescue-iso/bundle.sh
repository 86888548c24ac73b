#!/bin/sh
# bundle.sh P2V OUTDIR: a relocatable p2v that runs on any x86-64 Linux
# rescue system whatever its libc: the binary, every shared library it needs
# (ldd's closure), glibc's own dynamic loader, and a POSIX sh wrapper that
# runs the binary through that loader with the bundled library path.
#
#   OUTDIR/bin/p2v        wrapper (busybox ash is enough); symlinks to it work
#   OUTDIR/bin/p2v.real   the binary (debug info stripped)
#   OUTDIR/lib/           ld-linux-x86-64.so.2, libc.so.6 and the rest
#   OUTDIR/VERSION        `git describe` of the tree the binary was built from
#   OUTDIR/MANIFEST       every file with its SHA-256 and Debian package
#
# The loader gets --library-path rather than LD_LIBRARY_PATH in the
# environment, so programs p2v starts (/bin/sh for p2v.pre, the shell after
# p2v.post=shell) keep using the rescue system's own libraries.
# OUTDIR is built beside itself and renamed into place when complete.
set -eu

die() { echo "bundle: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: bundle.sh P2V_BINARY OUTDIR"
bin=$1 out=${2%/}
top=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$bin" ] && [ -x "$bin" ] || die "$bin: not an executable file"
for c in ldd strip sha256sum; do
  command -v $c >/dev/null || die "needs $c"
done

# Libraries glibc dlopens by name, which ldd cannot see: the NSS modules an
# nsswitch.conf may name (files and dns are stubs since glibc 2.34, compat
# is real). Shipping ours keeps the rescue system's, built for another glibc,
# out of the process. libssh uses libcrypto's built-in default provider, so
# no OpenSSL module is needed; gconv is not used.
DLOPENED="libnss_files.so.2 libnss_dns.so.2 libnss_compat.so.2"

ldd_out=$(LC_ALL=C ldd "$bin" 2>&1) || die "$bin: ldd failed: $ldd_out"
case $ldd_out in
  *"not a dynamic executable"*) die "$bin: not dynamically linked";;
  *"not found"*) die "$bin: unresolved libraries: $(echo "$ldd_out" | grep 'not found' | tr -s '\t\n' '  ')";;
esac
# "libX.so.N => /path (addr)" lines and the loader's "/path (addr)" line.
libs=$(echo "$ldd_out" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
loader=$(echo "$libs" | grep '/ld-linux-x86-64\.so\.2$' | head -n 1) ||
  die "$bin: no x86-64 glibc loader among its dependencies (not an x86-64 glibc binary?)"
libdir=$(dirname "$(echo "$libs" | grep '/libc\.so\.6$' | head -n 1)")
[ "$libdir" != . ] || die "$bin: does not link libc.so.6"
for l in $DLOPENED; do
  [ -e "$libdir/$l" ] && libs="$libs
$libdir/$l"
done

tmp="$out.tmp.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/lib"
# Each library under the name ldd resolved (its soname), symlinks followed.
for l in $libs; do
  cp -L "$l" "$tmp/lib/$(basename "$l")"
done
chmod 0755 "$tmp/lib/ld-linux-x86-64.so.2"
cp "$bin" "$tmp/bin/p2v.real"
strip --strip-debug "$tmp/bin/p2v.real"
chmod 0755 "$tmp/bin/p2v.real"

cat >"$tmp/bin/p2v" <<'WRAPPER'
#!/bin/sh
# p2v from a relocatable bundle: run the binary through the bundled glibc
# loader and libraries, whatever this system's libc is. Works through
# symlinks (e.g. /usr/local/bin/p2v -> /opt/p2v/bin/p2v).
self=$0
case $self in
  */*) ;;
  *) self=$(command -v -- "$self") || { echo "p2v: cannot locate $0" >&2; exit 127; };;
esac
while [ -L "$self" ]; do
  link=$(readlink "$self") || break
  case $link in
    /*) self=$link;;
    *) self=${self%/*}/$link;;
  esac
done
here=$(cd "${self%/*}" && pwd -P) || exit 127
exec "$here/../lib/ld-linux-x86-64.so.2" --inhibit-cache --library-path "$here/../lib" \
  --argv0 p2v "$here/p2v.real" "$@"
WRAPPER
chmod 0755 "$tmp/bin/p2v"

git -C "$top" describe --always --dirty --tags 2>/dev/null >"$tmp/VERSION" ||
  echo unknown >"$tmp/VERSION"

# MANIFEST: path, SHA-256 and the Debian package each library came from
# (dpkg knows a merged-/usr path under either name).
{
  echo "# p2v bundle $(cat "$tmp/VERSION"), built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# sha256 path package"
  (cd "$tmp" && find . -type f ! -name MANIFEST | sort | sed 's#^\./##') | while read -r f; do
    sum=$(sha256sum "$tmp/$f" | cut -d' ' -f1)
    pkg=-
    case $f in
      lib/*)
        src=$(echo "$libs" | grep "/$(basename "$f")\$" | head -n 1)
        for p in "$src" "$(readlink -f "$src")" "/usr$src" "${src#/usr}"; do
          q=$(dpkg-query -S "$p" 2>/dev/null | head -n 1 | cut -d: -f1) || q=
          if [ -n "$q" ]; then
            pkg="$q=$(dpkg-query -W -f='${Version}' "$q" 2>/dev/null || echo '?')"
            break
          fi
        done;;
    esac
    echo "$sum $f $pkg"
  done
} >"$tmp/MANIFEST"

rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "bundle: $out ($(du -sh "$out" | cut -f1), $(ls "$out/lib" | wc -l) libraries, $(cat "$out/VERSION"))"
