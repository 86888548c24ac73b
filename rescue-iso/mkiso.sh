#!/bin/bash
# mkiso.sh: build the p2v rescue ISO from Debian's packages: the generic
# Debian kernel (linux-image-amd64), a busybox-static initramfs with the
# storage, NIC and filesystem modules of modules.list (and what they need),
# the relocatable p2v bundle (bundle.sh), isolinux for BIOS and a GRUB EFI
# image for UEFI. Hybrid: the same file boots as a CD and written to a USB
# stick (dd), under BIOS and UEFI.
#
#   mkiso.sh --out ISO --bundle DIR [--append ARGS] [--default interactive|unattended]
#            [--timeout SECONDS] [--add SRC=PATH]… [--volid LABEL]
#
#   --bundle DIR   the p2v bundle (make bundle: build/bundle)
#   --append ARGS  added to every menu entry's kernel options (after the
#                  entry's own, so a repeated p2v.* key overrides it)
#   --default      the entry booted when the timeout runs out (interactive)
#   --timeout S    menu timeout in seconds (10)
#   --add SRC=PATH put file SRC on the ISO at PATH (e.g. an SSH key at
#                  p2v/id_ed25519: the booted system sees it as /medium/p2v/…)
#   --volid LABEL  the ISO's volume label (P2V_RESCUE)
#
# The kernel package is downloaded once into $BUILD/cache/qemu (by
# scripts/debian-kernel.sh, shared with the QEMU tests); everything else
# comes from installed packages (busybox-static, isolinux, syslinux-common,
# grub-efi-amd64-bin, grub-common, mtools, dosfstools, xorriso, kmod, cpio).
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
HERE=$TOP/rescue-iso
: "${BUILD:=$TOP/build}"
export BUILD

die() { echo "mkiso: $*" >&2; exit 1; }
# usage [STATUS]: the options from the comment above; 0 (--help) on stdout.
usage() {
  if [ "${1:-2}" = 0 ]; then sed -n '9,20s/^# \{0,1\}//p' "$0"; exit 0; fi
  sed -n '9,20s/^# \{0,1\}//p' "$0" >&2; exit "${1:-2}"
}

OUT="" BUNDLE="" APPEND="" DEFAULT=interactive TIMEOUT=10 VOLID=P2V_RESCUE ADDS=()
while [ $# -gt 0 ]; do
  case $1 in
    --out) OUT=$2; shift 2;;
    --bundle) BUNDLE=$2; shift 2;;
    --append) APPEND="$APPEND $2"; shift 2;;
    --default) DEFAULT=$2; shift 2;;
    --timeout) TIMEOUT=$2; shift 2;;
    --add) ADDS+=("$2"); shift 2;;
    --volid) VOLID=$2; shift 2;;
    -h|--help) usage 0;;
    *) echo "mkiso: unknown option $1" >&2; usage;;
  esac
done
[ -n "$OUT" ] && [ -n "$BUNDLE" ] || usage
[ -x "$BUNDLE/bin/p2v" ] || die "$BUNDLE/bin/p2v missing (make bundle)"
case $DEFAULT in
  interactive) GRUB_DEFAULT=0;;
  unattended) GRUB_DEFAULT=1;;
  *) die "--default interactive|unattended";;
esac
case $TIMEOUT in ''|*[!0-9]*) die "--timeout takes whole seconds";; esac
# The options go into menu files line by line: no newlines, and no @ that
# the placeholders could collide with.
case $APPEND in *[@$'\n']*) die "--append: no @ or newline";; esac

ISOLINUX_BIN=/usr/lib/ISOLINUX/isolinux.bin
ISOHDPFX=/usr/lib/ISOLINUX/isohdpfx.bin
SYSLINUX_MODS=/usr/lib/syslinux/modules/bios
GRUB_EFI_MODS=/usr/lib/grub/x86_64-efi
for f in "$ISOLINUX_BIN" "$ISOHDPFX" "$SYSLINUX_MODS/ldlinux.c32" "$GRUB_EFI_MODS/linux.mod"; do
  [ -e "$f" ] || die "$f missing (make deps: isolinux, syslinux-common, grub-efi-amd64-bin)"
done
for c in xorriso grub-mkimage mkfs.vfat mmd mcopy cpio depmod gzip; do
  command -v $c >/dev/null || die "$c missing (make deps)"
done
BUSYBOX=$(command -v busybox) || die "busybox missing (make deps: busybox-static)"
file -L "$BUSYBOX" | grep -q 'statically linked' || die "$BUSYBOX is not static (busybox-static)"

. "$TOP/scripts/debian-kernel.sh"
debian_kernel || die "no Debian kernel package"
KVER=$DEBIAN_KVER

mkdir -p "$BUILD"
WORK=$(mktemp -d "$BUILD/mkiso.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/initramfs ISO=$WORK/iso
# A fresh id per build: the init and GRUB find this ISO's medium by it.
ID=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
VERSION=$(cat "$BUNDLE/VERSION" 2>/dev/null || echo unknown)

# --- initramfs ---------------------------------------------------------
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,root,mnt,etc/p2v-rescue,var/log}
chmod 1777 "$ROOT/tmp"
cp "$BUSYBOX" "$ROOT/bin/busybox"
for a in $("$BUSYBOX" --list-full); do
  [ -e "$ROOT/$a" ] || ln -s /bin/busybox "$ROOT/$a"
done
# busybox's poweroff/reboot signal PID 1, which is a shell script here:
# do it directly.
for a in poweroff reboot halt; do
  rm -f "$ROOT/sbin/$a"
  printf '#!/bin/sh\nsync\nexec /bin/busybox %s -f\n' "$a" >"$ROOT/sbin/$a"
  chmod 755 "$ROOT/sbin/$a"
done
# The kernel opens /dev/console for init before devtmpfs is mounted.
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || true
install -m 755 "$HERE/init" "$ROOT/init"
install -m 755 "$HERE/uevent-modprobe" "$ROOT/sbin/uevent-modprobe"

# Modules: the listed ones and their dependencies, then depmod for the
# modules.dep and modules.alias busybox modprobe reads.
MDIR=$DEBIAN_KROOT/lib/modules/$KVER
# shellcheck disable=SC2046
debian_modules_resolve $(sed 's/#.*//' "$HERE/modules.list") >"$WORK/modules" ||
  die "modules.list names a module $KVER does not have"
while read -r rel; do
  mkdir -p "$ROOT/lib/modules/$KVER/${rel%/*}"
  cp "$MDIR/$rel" "$ROOT/lib/modules/$KVER/$rel"
done <"$WORK/modules"
for f in modules.builtin modules.builtin.modinfo modules.order; do
  [ -f "$MDIR/$f" ] && cp "$MDIR/$f" "$ROOT/lib/modules/$KVER/"
done
depmod -b "$ROOT" "$KVER" || die "depmod"
sed 's/#.*//' "$HERE/modules.load" >"$ROOT/etc/p2v-rescue/modules.load"

# p2v from its bundle: the wrapper follows the symlink to its libraries.
cp -a "$BUNDLE" "$ROOT/opt-p2v.tmp"
mkdir -p "$ROOT/opt" && mv "$ROOT/opt-p2v.tmp" "$ROOT/opt/p2v"
ln -sf /opt/p2v/bin/p2v "$ROOT/usr/bin/p2v"

echo "$ID" >"$ROOT/etc/p2v-rescue/id"
echo "p2v $VERSION, kernel $KVER" >"$ROOT/etc/p2v-rescue/version"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\n' >"$ROOT/etc/group"
printf '127.0.0.1 localhost p2v-rescue\n::1 localhost\n' >"$ROOT/etc/hosts"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$ROOT/etc/nsswitch.conf"
: >"$ROOT/etc/resolv.conf"
# busybox udhcpc's default lease script, for DHCP by hand from the shell.
mkdir -p "$ROOT/usr/share/udhcpc"
install -m 755 "$HERE/udhcpc.script" "$ROOT/usr/share/udhcpc/default.script"

GZIP_CMD=gzip
command -v pigz >/dev/null && GZIP_CMD=pigz
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) |
  $GZIP_CMD -6 >"$WORK/initrd.img" || die "cpio"

# --- ISO tree ------------------------------------------------------------
mkdir -p "$ISO"/{boot/grub,isolinux,.disk,p2v}
cp "$DEBIAN_VMLINUZ" "$ISO/boot/vmlinuz"
mv "$WORK/initrd.img" "$ISO/boot/initrd.img"
: >"$ISO/.disk/p2v-rescue.$ID"
echo "p2v rescue: p2v $VERSION, kernel $KVER" >"$ISO/.disk/info"
cp "$HERE/medium-readme.txt" "$ISO/p2v/README.txt"
for a in "${ADDS[@]}"; do
  src=${a%%=*} dest=${a#*=}
  [ "$src" != "$a" ] && [ -f "$src" ] || die "--add $a: SRC=PATH with an existing file"
  mkdir -p "$ISO/$(dirname "$dest")"
  cp "$src" "$ISO/$dest"
done

# sed's replacement text: \, & and the | delimiter escaped.
APPEND_SED=${APPEND//\\/\\\\}; APPEND_SED=${APPEND_SED//&/\\&}; APPEND_SED=${APPEND_SED//|/\\|}
fill() {  # fill TEMPLATE DEFAULT TIMEOUT: the menu with its placeholders set
  sed -e "s|@DEFAULT@|$2|; s|@TIMEOUT@|$3|; s|@ID@|$ID|; s| *@APPEND@|$APPEND_SED|" "$1"
}
cp "$ISOLINUX_BIN" "$ISO/isolinux/"
for m in ldlinux.c32 menu.c32 libutil.c32 libcom32.c32; do
  cp "$SYSLINUX_MODS/$m" "$ISO/isolinux/"
done
fill "$HERE/isolinux.cfg" "$DEFAULT" $((TIMEOUT * 10)) >"$ISO/isolinux/isolinux.cfg"
fill "$HERE/grub.cfg" "$GRUB_DEFAULT" "$TIMEOUT" >"$ISO/boot/grub/grub.cfg"

# UEFI: a GRUB image whose built-in config finds this ISO and reads its
# grub.cfg, in the FAT image El Torito and the GPT point UEFI firmware to.
fill "$HERE/grub-early.cfg" "" "" >"$WORK/grub-early.cfg"
grub-mkimage -O x86_64-efi -d "$GRUB_EFI_MODS" -p /boot/grub -c "$WORK/grub-early.cfg" \
  -o "$WORK/bootx64.efi" \
  part_gpt part_msdos iso9660 fat search search_fs_file normal configfile linux \
  echo test serial terminal efi_gop efi_uga all_video gfxterm font reboot halt ||
  die "grub-mkimage"
EFIIMG=$ISO/boot/grub/efiboot.img
kib=$(( ($(stat -c %s "$WORK/bootx64.efi") / 1024) + 512 ))
mkfs.vfat -C -n P2V_EFI "$EFIIMG" "$kib" >/dev/null || die "mkfs.vfat"
mmd -i "$EFIIMG" ::/EFI ::/EFI/BOOT
mcopy -i "$EFIIMG" "$WORK/bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI || die "mcopy"

# --- hybrid ISO ------------------------------------------------------------
# isohybrid MBR for BIOS from a USB stick, El Torito for CDs (isolinux for
# BIOS, the FAT image for UEFI), and a GPT naming the FAT image as an EFI
# system partition for UEFI from a USB stick.
mkdir -p "$(dirname "$OUT")"
xorriso -as mkisofs -quiet -r -J -joliet-long -V "$VOLID" -o "$OUT.tmp" \
  -isohybrid-mbr "$ISOHDPFX" \
  -c isolinux/boot.cat -b isolinux/isolinux.bin -no-emul-boot -boot-load-size 4 -boot-info-table \
  -eltorito-alt-boot -e boot/grub/efiboot.img -no-emul-boot -isohybrid-gpt-basdat \
  "$ISO" 2>"$WORK/xorriso.log" || { cat "$WORK/xorriso.log" >&2; die "xorriso"; }
mv "$OUT.tmp" "$OUT"
echo "mkiso: $OUT ($(du -h "$OUT" | cut -f1), kernel $KVER, $(wc -l <"$WORK/modules") modules, p2v $VERSION)"
