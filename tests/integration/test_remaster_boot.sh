#!/bin/bash
# The remastered ISO boots: a modern-layout SystemRescue fixture carrying
# Debian's kernel and a busybox initramfs that prints its command line, run
# through `make remaster`, boots in QEMU (software emulation) from a USB
# stick under BIOS (SeaBIOS -> the replayed isohybrid MBR -> isolinux ->
# the chained syslinux configs), from CD under BIOS, and from CD under UEFI (OVMF -> the
# El Torito EFI image -> GRUB -> grubsrcd.cfg). Each time the kernel gets
# its loader's first entry with nodmraid exactly once.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/lib/sysrescue-iso.sh"

for c in xorriso mksquashfs mkfs.fat mcopy grub-mkimage; do
  command -v $c >/dev/null || skip "needs $c"
done
[ -f /usr/lib/ISOLINUX/isolinux.bin ] || skip "needs isolinux"
[ -d /usr/lib/grub/x86_64-efi ] || skip "needs grub-efi-amd64-bin"
qemu_require || skip "$(qemu_require)"
qemu_kernel || skip "no Debian kernel for QEMU"

step "a bootable modern SystemRescue fixture, remastered"
cat >$T/script.sh <<'EOF'
echo "CMDLINE: $(cat /proc/cmdline)"
EOF
qemu_initramfs $T/initrd.gz --script $T/script.sh || fail "initramfs"
sysrescue_modern_iso $T/modern $T/modern.iso "$QEMU_VMLINUZ" $T/initrd.gz || fail "fixture"
make -s -C "$TOP" BUILD="$BUILD" remaster ISO=$T/modern.iso OUT=$T/p2v.iso SRM_COMP=gzip >$T/make.log 2>&1 ||
  { cat $T/make.log; fail "make remaster"; }
ISO=$T/p2v.iso

# boot NAME LOADER QEMU-ARGS…: boot, then judge the kernel's command line.
boot() {
  local name=$1 loader=$2 rc=0 start line
  shift 2
  start=$(date +%s)
  qemu_run "" "" --log $T/$name.console --timeout 400 --mem 512 "$@" || rc=$?
  tr -d '\r' <$T/$name.console | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' >$T/$name.txt
  echo "$name: power-off after $(( $(date +%s) - start )) s (qemu exit $rc)"
  [ $rc = 0 ] || { tail -n 40 $T/$name.txt; fail "$name: QEMU exit $rc (124: no power-off in time)"; }
  line=$(grep -a '^CMDLINE: ' $T/$name.txt | tail -n 1)
  echo "$name: $line"
  [ -n "$line" ] || { tail -n 40 $T/$name.txt; fail "$name: the kernel's initramfs did not run"; }
  case " $line " in *" sysrescue.loader=$loader "*) ;; *) fail "$name: not the $loader entry: $line";; esac
  [ "$(echo "$line" | tr ' ' '\n' | grep -cx nodmraid)" = 1 ] || fail "$name: nodmraid not exactly once: $line"
  assert_grep 'archisolabel=RESCUE1100' $T/$name.txt
}

step "BIOS, USB stick: isohybrid MBR -> isolinux -> sysresccd_sys.cfg"
boot usb syslinux --extra -device --extra qemu-xhci,id=xhci \
  --extra -drive --extra "if=none,id=stick,file=$ISO,format=raw,readonly=on" \
  --extra -device --extra usb-storage,bus=xhci.0,drive=stick,bootindex=0
assert_grep '^ISOLINUX 6' $T/usb.txt

step "BIOS, CD: El Torito isolinux.bin (boot info table rewritten) -> isolinux"
boot cd syslinux --extra -drive --extra "file=$ISO,media=cdrom,if=ide,readonly=on" --extra -boot --extra order=d
assert_grep '^ISOLINUX 6' $T/cd.txt

step "UEFI (OVMF), CD: El Torito EFI image -> GRUB -> grubsrcd.cfg"
OVMF=/usr/share/OVMF/OVMF_CODE.fd
[ -f $OVMF ] && [ -f /usr/share/OVMF/OVMF_VARS.fd ] || skip "BIOS boot passed; no OVMF for UEFI"
cp /usr/share/OVMF/OVMF_VARS.fd $T/vars.fd
boot uefi grub --extra -drive --extra "file=$ISO,media=cdrom,if=ide,readonly=on" \
  --extra -drive --extra "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF" \
  --extra -drive --extra "if=pflash,format=raw,unit=1,file=$T/vars.fd"
if grep -q '^ISOLINUX' $T/uefi.txt; then fail "the UEFI run booted isolinux"; fi
echo ok
