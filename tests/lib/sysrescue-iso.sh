# Sourceable: a small ISO in modern SystemRescue's layout, built with
# xorriso the way mkarchiso (archiso v43, which SystemRescue patches) builds
# the real one, for tests of `make remaster`.
#
#   sysrescue_modern_iso DIR ISO [VMLINUZ INITRD]
#       DIR gets the tree, ISO the image: isolinux.bin chaining through
#       isolinux.cfg to sysresccd/boot/syslinux/sysresccd.cfg (whichsys.c32)
#       -> sysresccd_sys.cfg (+ _head, _tail); boot/grub/grubsrcd.cfg with its
#       menu entries inside eval "…", and loopback.cfg; EFI/archiso/efiboot.img
#       (FAT) holding a GRUB x86_64-efi image that, like SystemRescue's,
#       searches for /boot/grub/grubsrcd.cfg and sources it; El Torito BIOS +
#       UEFI, isohybrid MBR (isohdpfx.bin) and GPT (-isohybrid-gpt-basdat).
#       With VMLINUZ and INITRD it boots for real: both boot loaders talk on
#       the serial port, wait 1 s and start the first entry, whose command
#       line carries sysrescue.loader=syslinux or sysrescue.loader=grub;
#       without them the kernel and initramfs are random bytes.
#       Sets SYSRESCUE_CFGS (its boot config files) and
#       SYSRESCUE_LINUX_ENTRIES (how many entries boot Linux).
#
#   sysrescue_pack DIR ISO [appended]
#       Make ISO from such a tree again (after a test changed it); with
#       "appended" the EFI image becomes an appended GPT partition that the
#       El Torito UEFI entry points into, as newer archiso releases do.
# Needs xorriso, mkfs.fat, mcopy, grub-mkimage, isolinux, syslinux-common,
# grub-efi-amd64-bin.

sysrescue_modern_iso() {
  local M=$1 iso=$2 kernel=${3:-} initrd=${4:-}
  local bios=/usr/lib/syslinux/modules/bios isolinux=/usr/lib/ISOLINUX
  rm -rf "$M"
  mkdir -p "$M/isolinux" "$M/sysresccd/boot/syslinux" "$M/sysresccd/boot/x86_64" "$M/sysresccd/x86_64" \
    "$M/EFI/boot" "$M/EFI/archiso" "$M/boot/grub" "$M.efi/efi/boot" || return 1
  cp $isolinux/isolinux.bin $isolinux/isohdpfx.bin $bios/ldlinux.c32 "$M/isolinux/" || return 1
  cp $bios/*.c32 "$M/sysresccd/boot/syslinux/"
  if [ -n "$kernel" ]; then
    cp "$kernel" "$M/sysresccd/boot/x86_64/vmlinuz" && cp "$initrd" "$M/sysresccd/boot/x86_64/sysresccd.img" || return 1
  else
    head -c 65536 /dev/urandom >"$M/sysresccd/boot/x86_64/vmlinuz"
    head -c 65536 /dev/urandom >"$M/sysresccd/boot/x86_64/sysresccd.img"
  fi
  head -c 300000 /dev/urandom >"$M/sysresccd/x86_64/airootfs.sfs"
  head -c 4096 /dev/urandom >"$M/sysresccd/boot/memtest"
  echo 11.00 >"$M/sysresccd/VERSION"
  cat >"$M/isolinux/isolinux.cfg" <<'EOF'
PATH /sysresccd/boot/syslinux/
DEFAULT loadconfig

LABEL loadconfig
  CONFIG /sysresccd/boot/syslinux/sysresccd.cfg
  APPEND /sysresccd/
EOF
  cat >"$M/sysresccd/boot/syslinux/sysresccd.cfg" <<'EOF'
DEFAULT select

LABEL select
COM32 boot/syslinux/whichsys.c32
APPEND -pxe- pxe -sys- sys -iso- sys

LABEL sys
CONFIG boot/syslinux/sysresccd_sys.cfg
EOF
  cat >"$M/sysresccd/boot/syslinux/sysresccd_head.cfg" <<'EOF'
SERIAL 0 115200
PROMPT 0
TIMEOUT 10
DEFAULT sysresccd
MENU TITLE SystemRescue 11.00
EOF
  cat >"$M/sysresccd/boot/syslinux/sysresccd_sys.cfg" <<'EOF'
INCLUDE boot/syslinux/sysresccd_head.cfg

LABEL sysresccd
TEXT HELP
Boot the SystemRescue live medium.
ENDTEXT
MENU LABEL Boot SystemRescue using default options
LINUX boot/x86_64/vmlinuz
INITRD boot/x86_64/sysresccd.img
APPEND archisobasedir=sysresccd archisolabel=RESCUE1100 iomem=relaxed console=ttyS0,115200 panic=-1 sysrescue.loader=syslinux

LABEL sysresccd_copytoram
MENU LABEL Boot SystemRescue and copy system to RAM (copytoram)
LINUX boot/x86_64/vmlinuz
INITRD boot/x86_64/sysresccd.img
APPEND archisobasedir=sysresccd archisolabel=RESCUE1100 iomem=relaxed copytoram

LABEL sysresccd_nodmraid
MENU LABEL Boot SystemRescue without dmraid (already)
LINUX boot/x86_64/vmlinuz
INITRD boot/x86_64/sysresccd.img
APPEND archisobasedir=sysresccd archisolabel=RESCUE1100 nodmraid

INCLUDE boot/syslinux/sysresccd_tail.cfg
EOF
  cat >"$M/sysresccd/boot/syslinux/sysresccd_tail.cfg" <<'EOF'
LABEL memtest
MENU LABEL Run a memory test
LINUX boot/memtest
LABEL reboot
MENU LABEL Reboot
COM32 boot/syslinux/reboot.c32
EOF
  cat >"$M/boot/grub/grubsrcd.cfg" <<'EOF'
# SystemRescue main GRUB config file
if [ -z "$srcd_skip_init" ]; then
	set timeout=1
	set default=0
	serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
	terminal_input --append serial
	terminal_output --append serial
fi
if [ -z "$archiso_param" ]; then
	archiso_param="archisolabel=RESCUE1100"
fi
eval "

menuentry 'Boot SystemRescue using default options' {
	set gfxpayload=keep
	linux /sysresccd/boot/x86_64/vmlinuz archisobasedir=sysresccd $archiso_param iomem=relaxed console=ttyS0,115200 panic=-1 sysrescue.loader=grub
	initrd /sysresccd/boot/x86_64/sysresccd.img
}

menuentry 'Boot SystemRescue and copy system to RAM (copytoram)' {
	linux /sysresccd/boot/x86_64/vmlinuz archisobasedir=sysresccd $archiso_param copytoram
	initrd /sysresccd/boot/x86_64/sysresccd.img
}
"
menuentry 'Start EFI Shell' {
	chainloader /EFI/shell.efi
}
EOF
  cat >"$M/boot/grub/loopback.cfg" <<'EOF'
set archiso_param="img_dev=$imgdevpath img_loop=$iso_path"
menuentry 'Boot from ISO file (loopback)' {
	linux16 /sysresccd/boot/x86_64/vmlinuz archisobasedir=sysresccd $archiso_param nodmraid
}
EOF
  SYSRESCUE_CFGS="/isolinux/isolinux.cfg /sysresccd/boot/syslinux/sysresccd.cfg
    /sysresccd/boot/syslinux/sysresccd_head.cfg /sysresccd/boot/syslinux/sysresccd_sys.cfg
    /sysresccd/boot/syslinux/sysresccd_tail.cfg /boot/grub/grubsrcd.cfg /boot/grub/loopback.cfg"
  SYSRESCUE_LINUX_ENTRIES=7   # 3 syslinux Linux labels + memtest (LINUX), 2 grubsrcd + 1 loopback
  # SystemRescue's EFI GRUB finds the medium by this file and reads its config.
  cat >"$M.early.cfg" <<'EOF'
search --file --no-floppy --set=root /boot/grub/grubsrcd.cfg
set prefix=($root)/boot/grub
configfile ($root)/boot/grub/grubsrcd.cfg
EOF
  grub-mkimage -O x86_64-efi -p /boot/grub -c "$M.early.cfg" -o "$M/EFI/boot/bootx64.efi" \
    normal configfile search search_fs_file iso9660 part_gpt part_msdos fat linux eval test echo \
    serial terminal gzio || return 1
  cp "$M/EFI/boot/bootx64.efi" "$M.efi/efi/boot/"
  mkfs.fat -C "$M/EFI/archiso/efiboot.img" 2880 >/dev/null || return 1
  mcopy -s -i "$M/EFI/archiso/efiboot.img" "$M.efi/efi" ::/ || return 1
  rm -rf "$M.efi" "$M.early.cfg"
  sysrescue_pack "$M" "$iso"
}

# sysrescue_pack DIR ISO: DIR (a sysrescue_modern_iso tree) into ISO.
sysrescue_pack() {
  local M=$1 iso=$2 efi=(-e EFI/archiso/efiboot.img -no-emul-boot -isohybrid-gpt-basdat)
  # appended: the EFI image as an appended GPT partition, as newer archiso does.
  [ "${3:-}" = appended ] && efi=(-partition_offset 16 -append_partition 2 C12A7328-F81F-11D2-BA4B-00A0C93EC93B
    "$M/EFI/archiso/efiboot.img" -appended_part_as_gpt -e --interval:appended_partition_2:all:: -no-emul-boot)
  xorriso -as mkisofs -iso-level 3 -full-iso9660-filenames -volid RESCUE1100 -appid SystemRescue \
    -publisher 'SystemRescue <https://www.system-rescue.org>' -preparer 'prepared by mkarchiso' \
    -eltorito-boot isolinux/isolinux.bin -eltorito-catalog isolinux/boot.cat \
    -no-emul-boot -boot-load-size 4 -boot-info-table -isohybrid-mbr "$M/isolinux/isohdpfx.bin" \
    -eltorito-alt-boot "${efi[@]}" \
    -output "$iso" "$M" 2>"$M.log" || { cat "$M.log" >&2; return 1; }
  rm -f "$M.log"
}
