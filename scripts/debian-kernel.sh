# Sourceable (bash) helpers for Debian's generic kernel package, shared by
# the rescue ISO build (rescue-iso/mkiso.sh) and the QEMU tests
# (tests/lib/qemu.sh), so the build does not depend on a test library and
# both use the same kernel.
#
#   debian_kernel
#       Fetch and unpack Debian's linux-image-amd64 once (cached in
#       ${BUILD}/cache/qemu/), then set and export:
#         DEBIAN_KVER        kernel release, e.g. 6.1.0-56-amd64
#         DEBIAN_VMLINUZ     the kernel image
#         DEBIAN_KROOT       unpacked tree: $DEBIAN_KROOT/lib/modules/$DEBIAN_KVER
#                            (depmod -b has been run on it)
#         DEBIAN_KERNEL_DEB  the linux-image-*.deb it came from
#
#   debian_deb PKG
#       Download Debian package PKG (once, cached in ${BUILD}/cache/qemu/)
#       and print the directory it is unpacked in.
#
#   debian_modules_resolve NAME…
#       Print the module files (relative to $DEBIAN_KROOT/lib/modules/
#       $DEBIAN_KVER) for the names given, dependencies first, each once.
#       Built-in modules are skipped; an unknown name is an error.
#
# The cache directory is called qemu because the QEMU tests used it first;
# the name stays so existing caches stay valid. Packages come through
# apt-get download, i.e. the host's apt sources. Depends on BUILD.

debian_kernel() {
  local cache="${BUILD:?BUILD must name the build directory}/cache/qemu"
  mkdir -p "$cache"
  local done_file="$cache/kernel.done"
  if [ ! -s "$done_file" ]; then
    (
      flock 9
      [ -s "$done_file" ] && exit 0
      cd "$cache" || exit 1
      rm -f linux-image-amd64_*.deb
      # The metapackage names the real image package in its Depends.
      apt-get download -q linux-image-amd64 >/dev/null 2>&1 ||
        { echo "debian_kernel: apt-get download linux-image-amd64 failed" >&2; exit 1; }
      local real
      real=$(dpkg-deb -f linux-image-amd64_*.deb Depends | tr ',' '\n' |
             grep -o 'linux-image-[0-9][^ ]*-amd64' | head -1)
      [ -n "$real" ] || { echo "debian_kernel: no linux-image-*-amd64 dependency" >&2; exit 1; }
      local kver=${real#linux-image-}
      if ! ls "$real"_*.deb >/dev/null 2>&1; then
        apt-get download -q "$real" >/dev/null 2>&1 ||
          { echo "debian_kernel: apt-get download $real failed" >&2; exit 1; }
      fi
      local deb
      deb=$(ls "$cache/$real"_*.deb | head -1)
      rm -rf "linux-$kver.tmp" && mkdir "linux-$kver.tmp"
      dpkg-deb -x "$deb" "linux-$kver.tmp" || exit 1
      # Only the kernel and its modules are needed.
      find "linux-$kver.tmp" -mindepth 1 -maxdepth 1 ! -name boot ! -name lib ! -name usr \
        -exec rm -rf {} +
      if [ ! -d "linux-$kver.tmp/lib/modules" ] && [ -d "linux-$kver.tmp/usr/lib/modules" ]; then
        mkdir -p "linux-$kver.tmp/lib" && mv "linux-$kver.tmp/usr/lib/modules" "linux-$kver.tmp/lib/"
      fi
      rm -rf "linux-$kver.tmp/usr"
      depmod -b "linux-$kver.tmp" "$kver" || exit 1
      rm -rf "linux-$kver" && mv "linux-$kver.tmp" "linux-$kver"
      printf '%s\n%s\n' "$kver" "$deb" >"$done_file.tmp" && mv "$done_file.tmp" "$done_file"
      echo "debian_kernel: unpacked $kver into $cache/linux-$kver" >&2
    ) 9>"$cache/.kernel.lock" || return 1
  fi
  DEBIAN_KVER=$(sed -n 1p "$done_file")
  DEBIAN_KERNEL_DEB=$(sed -n 2p "$done_file")
  DEBIAN_KROOT="$cache/linux-$DEBIAN_KVER"
  DEBIAN_VMLINUZ="$DEBIAN_KROOT/boot/vmlinuz-$DEBIAN_KVER"
  [ -f "$DEBIAN_VMLINUZ" ] && [ -f "$DEBIAN_KROOT/lib/modules/$DEBIAN_KVER/modules.dep" ] ||
    { echo "debian_kernel: cache $DEBIAN_KROOT is incomplete; remove $done_file" >&2; return 1; }
  export DEBIAN_KVER DEBIAN_KERNEL_DEB DEBIAN_KROOT DEBIAN_VMLINUZ
}

debian_deb() {
  local pkg=${1:?usage: debian_deb PKG}
  local cache="${BUILD:?BUILD must name the build directory}/cache/qemu"
  mkdir -p "$cache"
  (
    flock 9
    [ -f "$cache/deb-$pkg/.done" ] && exit 0
    cd "$cache" || exit 1
    ls "${pkg}"_*.deb >/dev/null 2>&1 || apt-get download -q "$pkg" >/dev/null 2>&1 ||
      { echo "debian_deb: apt-get download $pkg failed" >&2; exit 1; }
    rm -rf "deb-$pkg" && mkdir "deb-$pkg" &&
      dpkg-deb -x "$(ls "${pkg}"_*.deb | head -1)" "deb-$pkg" && touch "deb-$pkg/.done"
  ) 9>"$cache/.deb-$pkg.lock" || return 1
  echo "$cache/deb-$pkg"
}

debian_modules_resolve() {
  local mdir="${DEBIAN_KROOT:?run debian_kernel first}/lib/modules/$DEBIAN_KVER"
  local -A seen=()
  local -A path_of=() deps_of=()
  local line key rel
  # modules.dep: "kernel/x/a.ko: kernel/y/b.ko kernel/z/c.ko"
  while IFS= read -r line; do
    rel=${line%%:*}
    key=${rel##*/}; key=${key%%.ko*}; key=${key//-/_}
    path_of[$key]=$rel
    deps_of[$rel]=${line#*:}
  done <"$mdir/modules.dep"
  local -A builtin=()
  if [ -f "$mdir/modules.builtin" ]; then
    while IFS= read -r rel; do
      key=${rel##*/}; key=${key%%.ko*}; builtin[${key//-/_}]=1
    done <"$mdir/modules.builtin"
  fi
  _debian_visit() {
    local r=$1 d
    [ -n "${seen[$r]:-}" ] && return 0
    seen[$r]=1
    for d in ${deps_of[$r]}; do _debian_visit "$d"; done
    echo "$r"
  }
  local name
  for name in "$@"; do
    key=${name//-/_}
    if [ -n "${path_of[$key]:-}" ]; then
      _debian_visit "${path_of[$key]}"
    elif [ -n "${builtin[$key]:-}" ]; then
      :
    else
      echo "debian_modules_resolve: no module '$name' in $DEBIAN_KVER" >&2
      return 1
    fi
  done
}
