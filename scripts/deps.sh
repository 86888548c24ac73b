#!/bin/sh
# Install every build and test dependency from Debian's packages.
# Idempotent: packages already installed are skipped, so a second run is quick.
set -eu

BUILD="build-essential pkg-config libarchive-dev libssh-dev libblkid-dev
  libdevmapper-dev libparted-dev libcmocka-dev libzstd-dev libssl-dev
  libjansson-dev libacl1-dev libext2fs-dev zlib1g-dev clang libclang-rt-14-dev libfuse3-dev"
TEST="openssh-server openssh-client lxc mmdebstrap debian-archive-keyring
  libarchive-tools tar zstd pigz gzip attr acl libcap2-bin e2fsprogs
  qemu-utils partclone util-linux time procps iproute2 file bc python3 python3-yaml xfsprogs
  btrfs-progs dosfstools xorriso squashfs-tools cryptsetup-bin lvm2
  qemu-system-x86 busybox-static kmod cpio dmsetup lzop
  libvirt-clients fdisk ntfs-3g extlinux syslinux-common
  isolinux grub-efi-amd64-bin grub-common mtools ovmf fuse3 jq bzip2 isc-dhcp-client"

missing=""
for p in $BUILD $TEST; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages:$missing; run 'make deps' as root" >&2
  exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# sshd and lxc must not start services of their own on the build machine.
apt-get install -y -qq --no-install-recommends $missing >/dev/null
