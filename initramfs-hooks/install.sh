#!/bin/sh
# Install the p2v initramfs hooks and the relocatable bundle into a root:
#   sh initramfs-hooks/install.sh ROOT BUNDLE_DIR
# ROOT is / (or a DESTDIR / chroot); BUNDLE_DIR is what `make bundle` built.
# Both generators' files go in: the one not installed ignores its own.
#   BUNDLE_DIR                  -> ROOT/usr/lib/p2v/bundle
#   p2v-boot-lib.sh             -> ROOT/usr/lib/p2v/boot-lib.sh
#   initramfs-tools/hooks/p2v   -> ROOT/etc/initramfs-tools/hooks/p2v
#   initramfs-tools/scripts/init-premount/p2v
#                               -> ROOT/etc/initramfs-tools/scripts/init-premount/p2v
#   dracut/90p2v/*              -> ROOT/usr/lib/dracut/modules.d/90p2v/
# Then rebuild the initramfs: update-initramfs -u, or dracut -f.
set -eu
root=${1:?usage: install.sh ROOT BUNDLE_DIR}
bundle=${2:?usage: install.sh ROOT BUNDLE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$bundle/bin/p2v" ] || { echo "install.sh: no $bundle/bin/p2v (make bundle)" >&2; exit 1; }

install -d "$root/usr/lib/p2v"
# A new bundle replaces the old one whole: no stale library stays behind.
rm -rf "$root/usr/lib/p2v/bundle.new"
cp -a "$bundle" "$root/usr/lib/p2v/bundle.new"
rm -rf "$root/usr/lib/p2v/bundle"
mv "$root/usr/lib/p2v/bundle.new" "$root/usr/lib/p2v/bundle"
install -m 0644 "$here/p2v-boot-lib.sh" "$root/usr/lib/p2v/boot-lib.sh"

install -D -m 0755 "$here/initramfs-tools/hooks/p2v" "$root/etc/initramfs-tools/hooks/p2v"
install -D -m 0755 "$here/initramfs-tools/scripts/init-premount/p2v" \
  "$root/etc/initramfs-tools/scripts/init-premount/p2v"

install -d "$root/usr/lib/dracut/modules.d/90p2v"
for f in module-setup.sh p2v-cmdline.sh p2v-pre-mount.sh; do
  install -m 0755 "$here/dracut/90p2v/$f" "$root/usr/lib/dracut/modules.d/90p2v/$f"
done
echo "install.sh: p2v hooks and bundle installed under ${root%/}/; now run update-initramfs -u or dracut -f"
