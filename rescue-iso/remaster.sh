#!/bin/sh
# remaster.sh SYSTEMRESCUE.ISO OUT.ISO BUNDLE_DIR: a copy of a SystemRescue
# ISO that carries p2v, the way sysrescue-customize would make it:
#
# - the bundle (make bundle) as an SRM module, a squashfs overlaid on the
#   live root: /opt/p2v, /usr/local/bin/p2v -> the wrapper, and
#   /usr/local/bin/p2v-autorun, which runs `p2v run` only when p2v.server= is
#   on the kernel command line;
# - modern SystemRescue (archiso, /sysresccd/): the module as
#   /sysresccd/p2v.srm and /sysrescue.d/500-p2v.yaml (loadsrm, autorun exec);
#   old SystemRescueCd (<= 5.x, /sysrcd.dat): the module as /p2v.srm beside
#   sysrcd.dat (loaded from there at boot) and p2v-autorun as /autorun9;
# - nodmraid on every boot entry exactly once (bootcfg-nodmraid.awk): the
#   syslinux/isolinux APPEND lines, both sides of ifcpu64.c32's "--", and the
#   GRUB linux lines;
# - the original boot setup (El Torito images, hybrid MBR, GPT, appended
#   partitions, volume id and date) replayed from
#   `xorriso -indev ISO -report_system_area cmd`, fed back to xorriso as
#   commands (-options_from_file), never through a shell.
#
# The input ISO is only read. OUT must not exist; it is written as OUT.part
# and renamed when xorriso has finished.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
die() { echo "remaster: $*" >&2; exit 1; }
[ $# -eq 3 ] || { echo "usage: remaster.sh SYSTEMRESCUE.ISO OUT.ISO BUNDLE_DIR" >&2; exit 2; }
iso=$1 out=$2 bundle=${3%/}
for c in xorriso mksquashfs awk cmp; do
  command -v $c >/dev/null || die "needs $c (make deps)"
done

[ -f "$iso" ] && [ -r "$iso" ] || die "$iso: no such readable file"
# An ISO 9660 image has its primary volume descriptor ("\1CD001") at byte 32768.
[ "$(dd if="$iso" bs=1 skip=32769 count=5 2>/dev/null)" = CD001 ] ||
  die "$iso: not an ISO 9660 image"
[ ! -e "$out" ] && [ ! -L "$out" ] || die "$out exists; remove it or give another OUT"
[ -x "$bundle/bin/p2v" ] && [ -f "$bundle/bin/p2v.real" ] && [ -f "$bundle/lib/ld-linux-x86-64.so.2" ] ||
  die "$bundle: not a p2v bundle (make bundle builds one)"
case $iso in /*) ;; *) iso=$PWD/$iso;; esac
outdir=$(cd "$(dirname "$out")" 2>/dev/null && pwd) || die "$(dirname "$out"): no such directory"
out=$outdir/$(basename "$out")

w=$(mktemp -d "${TMPDIR:-/tmp}/p2v-remaster.XXXXXX")
part="$out.part"
trap 'rm -rf "$w" "$part"' EXIT
trap 'exit 130' INT TERM
xo() { xorriso -drive_access shared:readonly "$@"; }

# What the ISO holds: one path per line (xorriso quotes them as '...').
xo -indev "$iso" -find / -type f 2>"$w/err" | sed -n "s/^'\(.*\)'\$/\1/p" >"$w/files" ||
  die "$iso: xorriso cannot read it: $(tail -n 1 "$w/err")"
has() { grep -qxF "$1" "$w/files"; }

if grep -q '^/sysresccd/boot/syslinux/[^/]*\.cfg$' "$w/files" || has /boot/grub/grubsrcd.cfg; then
  layout=modern srm_path=/sysresccd/p2v.srm
elif has /sysrcd.dat && has /isolinux/isolinux.cfg; then
  layout=old srm_path=/p2v.srm
else
  die "$iso: no SystemRescue layout found (neither /sysresccd/boot/syslinux/*.cfg or /boot/grub/grubsrcd.cfg, nor /sysrcd.dat with /isolinux/isolinux.cfg)"
fi
echo "remaster: $iso: $layout SystemRescue layout"

# The boot configurations: syslinux syntax under the *linux directories,
# GRUB syntax under /boot/grub and /EFI.
grep -E '^/(isolinux|syslinux|boot/syslinux|sysresccd/boot/syslinux)/.*\.cfg$' "$w/files" >"$w/syslinux" || true
grep -E '^/(boot/grub|EFI|efi)/.*\.cfg$' "$w/files" >"$w/grub" || true
cat "$w/syslinux" "$w/grub" >"$w/cfgs"
[ -s "$w/cfgs" ] || die "$iso: no boot configuration files"
# -extract_l takes the list on its command line: paths with blanks or
# quotes would need quoting we do not attempt.
if grep -q "[[:space:]'\"\\\\]" "$w/cfgs"; then die "$iso: a boot configuration path has blanks or quotes"; fi
mkdir -p "$w/orig" "$w/new"
# shellcheck disable=SC2046
xorriso -osirrox on -drive_access shared:readonly -indev "$iso" \
  -extract_l / "$w/orig" $(cat "$w/cfgs") -- 2>"$w/err" >/dev/null ||
  die "extracting the boot configuration: $(tail -n 1 "$w/err")"

: >"$w/map"
total=0
patch_cfgs() {  # patch_cfgs FORMAT LIST
  while read -r f; do
    [ -n "$f" ] || continue
    mkdir -p "$w/new$(dirname "$f")"
    awk -v format="$1" -f "$here/bootcfg-nodmraid.awk" "$w/orig$f" "$w/orig$f" \
      >"$w/new$f" 2>"$w/n" || die "$f: $(cat "$w/n")"
    n=$(sed -n 's/^entries //p' "$w/n")
    total=$((total + n))
    if cmp -s "$w/orig$f" "$w/new$f"; then
      [ "$n" -eq 0 ] || echo "remaster: $f: $n boot entries already carry nodmraid"
    else
      echo "remaster: $f: nodmraid on $n boot entries"
      printf '%s\n' "$f" >>"$w/map"
    fi
  done <"$2"
}
patch_cfgs syslinux "$w/syslinux"
patch_cfgs grub "$w/grub"
[ "$total" -gt 0 ] || die "$iso: no boot entries with a Linux kernel in its boot configuration"

# The boot setup, as xorriso describes it, to be replayed when writing.
xo -indev "$iso" -report_system_area cmd 2>"$w/err" >"$w/replay" ||
  die "xorriso cannot describe the boot setup of $iso, so it cannot be replayed:" \
    "$(grep -E 'SORRY|FAILURE|WARNING' "$w/err" | head -n 3 | tr '\n' ' ')"
grep -q '^-boot_image' "$w/replay" || die "$iso: no El Torito boot images; nothing boots from it"
# SystemRescue's EFI image only holds a GRUB that sources /boot/grub/grubsrcd.cfg.
# An EFI image with kernel options of its own (a systemd-boot entry, a grub.cfg)
# is not rewritten here: say so rather than pretend.
sed -n "s/^-boot_image any efi_path='\(.*\)'\$/\1/p" "$w/replay" | while read -r e; do
  xorriso -osirrox on -drive_access shared:readonly -indev "$iso" -extract "$e" "$w/efi.img" >/dev/null 2>&1 || continue
  if grep -aqE 'archisobasedir=|rescue64|archisolabel=' "$w/efi.img"; then
    echo "remaster: WARNING: the EFI image $e holds kernel options of its own, which were not given nodmraid;" \
      "UEFI boots may still assemble BIOS RAID (boot with nodmraid by hand)" >&2
  fi
  rm -f "$w/efi.img"
done

# The SRM module: the bundle under /opt/p2v, the commands in /usr/local/bin.
r="$w/srm-root"
mkdir -p "$r/opt" "$r/usr/local/bin"
cp -a "$bundle" "$r/opt/p2v"
ln -s /opt/p2v/bin/p2v "$r/usr/local/bin/p2v"
cp "$here/p2v-autorun" "$r/usr/local/bin/p2v-autorun"
chmod 0755 "$r/usr/local/bin/p2v-autorun"
# xz by default: every SystemRescue kernel since SystemRescueCd 2.x reads it
# (SRM_COMP=gzip builds faster, for tests).
nice mksquashfs "$r" "$w/p2v.srm" -all-root -comp "${SRM_COMP:-xz}" -b 1M -noappend -quiet >/dev/null 2>"$w/err" ||
  die "mksquashfs: $(cat "$w/err")"
echo "remaster: $srm_path: $(du -k "$w/p2v.srm" | cut -f1) KiB (bundle $(cat "$bundle/VERSION" 2>/dev/null))"

set -- -map "$w/p2v.srm" "$srm_path"
if [ $layout = modern ]; then
  set -- "$@" -map "$here/sysrescue.d/500-p2v.yaml" /sysrescue.d/500-p2v.yaml
else
  if has /autorun9; then
    xorriso -osirrox on -drive_access shared:readonly -indev "$iso" -extract /autorun9 "$w/autorun9" >/dev/null 2>&1 || true
    grep -q 'p2v-autorun' "$w/autorun9" 2>/dev/null ||
      die "$iso: /autorun9 exists and is not p2v's; not overwriting someone's autorun script"
  fi
  set -- "$@" -map "$here/p2v-autorun" /autorun9
fi
while read -r f; do set -- "$@" -map "$w/new$f" "$f"; done <"$w/map"

rm -f "$part"
xorriso -drive_access shared:readonly -indev "$iso" -drive_access exclusive:unrestricted -outdev "$part" \
  -options_from_file "$w/replay" "$@" -commit 2>"$w/xorriso.log" >/dev/null || {
  tail -n 20 "$w/xorriso.log" >&2
  die "xorriso could not write $part"
}
# What was written must boot the ways the original does: the same El Torito
# images (number, platform, emulation, load size, file) and system area kind.
bootsig() {
  xorriso -indev "$1" -report_el_torito plain -report_system_area plain 2>/dev/null | awk -F' *: *' '
    $1 == "El Torito boot img" { split($2, f, " "); print "image", f[1], f[2], f[3], f[4], f[7] }
    $1 == "El Torito img path" || $1 == "GPT partition path" || $1 == "MBR partition path" { print $1 ":", $2 }
    $1 == "System area summary" { print "system area:", $2 }'
}
bootsig "$iso" >"$w/sig.in"
bootsig "$part" >"$w/sig.out"
cmp -s "$w/sig.in" "$w/sig.out" || {
  diff "$w/sig.in" "$w/sig.out" >&2 || true
  die "the written image would not boot like $iso (above: original <, written >); not publishing it"
}
mv "$part" "$out"
trap - EXIT
rm -rf "$w"
echo "remaster: wrote $out ($(du -m "$out" | cut -f1) MiB)"
