# Sourceable helper: a Debian bookworm root that can build initramfs images
# the way an installed server does, for the initramfs hook tests.
#
#   boot_root_tarball initramfs-tools|dracut
#       Print the path of a cached tarball (${BUILD}/cache/boot-root-KIND.tar)
#       of a minbase root with linux-image-amd64 and that initramfs
#       generator, building it once with mmdebstrap. The two generators
#       conflict in Debian, hence one root each. dracut also gets
#       dracut-network, isc-dhcp-client, iproute2 and procps (what its
#       network-legacy module needs) so the p2v module can bring the network
#       up. The first build fails if the mirror is unreachable.
#   boot_root DIR KIND
#       Unpack it into DIR.

: "${DEBIAN_MIRROR:=http://deb.debian.org/debian}"

boot_root_tarball() {
  local kind=${1:?usage: boot_root_tarball initramfs-tools|dracut}
  local cache="${BUILD:?BUILD must name the build directory}/cache"
  local out="$cache/boot-root-$kind.tar" inc
  case $kind in
    initramfs-tools) inc=linux-image-amd64,initramfs-tools,busybox;;
    # network-legacy needs ip and pgrep besides dhclient.
    dracut) inc=linux-image-amd64,dracut,dracut-network,isc-dhcp-client,iproute2,procps,busybox;;
    *) echo "boot_root_tarball: unknown kind $kind" >&2; return 2;;
  esac
  mkdir -p "$cache"
  if [ ! -s "$out" ]; then
    (
      flock 9
      [ -s "$out" ] && exit 0
      echo "boot_root: building $out with mmdebstrap (once; cached)" >&2
      rm -f "$out.tmp"
      # The kernel's postinst builds an initramfs already; the test builds
      # its own, so the image made here is dropped from the tarball.
      nice mmdebstrap --quiet --format=tar --variant=minbase --include="$inc" \
        --customize-hook='rm -f "$1"/boot/initrd.img-*' \
        bookworm "$out.tmp" "$DEBIAN_MIRROR" >&2 && mv "$out.tmp" "$out"
    ) 9>"$cache/.boot-root-$kind.lock" || { rm -f "$out.tmp"; return 1; }
  fi
  echo "$out"
}

boot_root() {
  local dir=${1:?usage: boot_root DIR KIND} kind=${2:?usage: boot_root DIR KIND} tarball
  tarball=$(boot_root_tarball "$kind") || return 1
  mkdir -p "$dir"
  tar --numeric-owner --xattrs --xattrs-include='*' -xpf "$tarball" -C "$dir"
}
