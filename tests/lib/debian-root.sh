# Sourceable helpers that give tests a real Debian bookworm root filesystem.
#
#   debian_root DIR [variant]   unpack a bookworm root (variant: minbase, the
#                               default, or standard) into DIR
#   make_it_look_physical DIR   add what a physical server's root has: fstab
#                               with UUID= root, /boot and swap; eno1 static
#                               in /etc/network/interfaces; a hostname
#
# The root is built once with mmdebstrap from deb.debian.org and cached as
# ${BUILD}/cache/debian-<variant>.tar; later calls only unpack it, so a test
# run never rebuilds it. A lock serialises concurrent first builds.

: "${DEBIAN_MIRROR:=http://deb.debian.org/debian}"

# Print the cached tarball's path, building it first when missing.
debian_root_tarball() {
  local variant=${1:-minbase}
  local cache="${BUILD:?BUILD must name the build directory}/cache"
  local out="$cache/debian-$variant.tar"
  mkdir -p "$cache"
  if [ ! -s "$out" ]; then
    (
      flock 9
      [ -s "$out" ] && exit 0
      local args=(--variant="$variant" --include=systemd-sysv,ifupdown,iproute2)
      # The benchmark's bigger root: a "standard" install like a real server.
      [ "$variant" = standard ] && args=(--variant=standard --include=ifupdown,iproute2)
      echo "debian_root: building $out with mmdebstrap (once; cached)" >&2
      rm -f "$out.tmp"
      # --format: the temporary name's suffix would otherwise mean "directory".
      mmdebstrap --quiet --format=tar "${args[@]}" bookworm "$out.tmp" "$DEBIAN_MIRROR" >&2 &&
        mv "$out.tmp" "$out"
    ) 9>"$cache/.debian-$variant.lock" || { rm -f "$out.tmp"; return 1; }
  fi
  echo "$out"
}

debian_root() {
  local dir=${1:?usage: debian_root DIR [variant]} variant=${2:-minbase} tarball
  tarball=$(debian_root_tarball "$variant") || return 1
  mkdir -p "$dir"
  # Everything preserved: numeric owners, modes, xattrs (capabilities), ACLs.
  tar --numeric-owner --xattrs --xattrs-include='*' --acls -xpf "$tarball" -C "$dir"
}

make_it_look_physical() {
  local dir=${1:?usage: make_it_look_physical DIR}
  cat >"$dir/etc/fstab" <<'EOF'
# /etc/fstab: static file system information.
# <file system> <mount point> <type> <options> <dump> <pass>
UUID=0a1b2c3d-1111-4222-8333-444455556666 /          ext4 errors=remount-ro 0 1
UUID=0a1b2c3d-7777-4888-9999-aaaabbbbcccc /boot      ext4 defaults 0 2
UUID=ABCD-1234                            /boot/efi  vfat umask=0077 0 1
UUID=0a1b2c3d-dddd-4eee-8fff-000011112222 none       swap sw 0 0
/dev/sr0        /media/cdrom0   udf,iso9660 user,noauto 0 0
tmpfs           /tmp            tmpfs   defaults,size=512m 0 0
proc            /proc           proc    defaults 0 0
EOF
  cat >"$dir/etc/network/interfaces" <<'EOF'
# This file describes the network interfaces available on your system
# and how to activate them. For more information, see interfaces(5).

source /etc/network/interfaces.d/*

# The loopback network interface
auto lo
iface lo inet loopback

# The primary network interface
auto eno1
iface eno1 inet static
	address 192.0.2.10/24
	gateway 192.0.2.1
EOF
  echo p2v-physical >"$dir/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\tp2v-physical\n' >"$dir/etc/hosts"
}
