#!/bin/bash
# The rescue ISO (rescue-iso/mkiso.sh, as `make iso` builds it, with a test
# key on it and the test's p2v.* options appended to its menu entries)
# boots under QEMU TCG through its own boot loaders and migrates a source
# disk unattended: p2v run brings up the network by DHCP (p2v.ip=dhcp), sends
# the disk over QEMU's user network to a loopback sshd whose key runs
# ct-import receive, and powers the guest off (p2v.post=poweroff).
#   1. as a CD under BIOS (isolinux from El Torito);
#   2. written to a USB stick (usb-storage on xHCI) under BIOS (isolinux
#      from the isohybrid MBR): p2v must leave the stick out by itself;
#   3. as a CD under UEFI (OVMF; GRUB from the El Torito EFI image) and
#   4. as a USB stick under UEFI (GRUB from the EFI partition of the hybrid
#      partition table), when the ovmf package is installed.
# Each run is judged by the console (boot loader, medium found, the run's
# success line, the kernel's power-down), QEMU exiting 0 by itself, and the
# received qcow2: qemu-img check, and qemu-img compare against the source,
# which is checksummed before and after. The ISO's menus are checked too:
# every entry carries nodmraid, one interactive, one unattended. Last, the
# interactive entry (the default of make iso) must start p2v run's dialogue
# on the console.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lib/qemu.sh"
for c in xorriso grub-mkimage mkfs.vfat mcopy mkfs.ext4 sfdisk qemu-img sha256sum; do
  command -v $c >/dev/null || skip "$c missing (make deps)"
done
[ -f /usr/lib/ISOLINUX/isolinux.bin ] || skip "no isolinux (make deps)"
qemu_require || skip "QEMU harness unavailable"
[ -x "$P2V" ] || fail "no $P2V (run make)"
qemu_kernel || skip "no Debian kernel package (apt mirror unreachable?)"
MiB=$((1024 * 1024))

step "the p2v bundle and the source disk"
sh "$TOP/rescue-iso/bundle.sh" "$P2V" "$T/bundle" >/dev/null || fail "bundle.sh"
# A partitioned disk with an ext4 filesystem built from a directory
# (mkfs.ext4 -d: no mount, no root), and a mark in the gap before the
# partition. Never-written blocks are zeros, so the received image must
# equal the source even though p2v skips free blocks.
SRC=$T/src.img
truncate -s 128M "$SRC"
printf 'label: dos\nstart=2048, size=%d, type=83\n' $((100 * MiB / 512)) | sfdisk -q "$SRC" ||
  fail "sfdisk"
mkdir -p "$T/tree/etc" "$T/tree/srv/data"
echo isosrc >"$T/tree/etc/hostname"
head -c $((12 * MiB)) /dev/urandom >"$T/tree/srv/data/blob"
for i in $(seq 1 50); do echo "file $i" >"$T/tree/srv/data/f$i"; done
ln -s ../etc/hostname "$T/tree/srv/link"
mkfs.ext4 -q -F -E offset=$MiB -d "$T/tree" "$SRC" $((100 * MiB / 1024))K || fail "mkfs.ext4"
printf 'P2V-GAP-MARK' | dd of="$SRC" bs=512 seek=100 conv=notrunc status=none
BEFORE=$(sha256sum <"$SRC")

step "loopback sshd; its key runs ct-import receive into the import dir of the run"
. "$TOP/tests/integration/sshd.sh"
start_sshd
# One ISO for every run: the forced command takes the import directory
# from a file the test switches between runs, and keeps what p2v asked for.
cat >"$T/forced.sh" <<EOF
#!/bin/sh
printf '%s\n' "\$SSH_ORIGINAL_COMMAND" >>"$T/asked"
exec "$CTI" receive --import-dir "\$(cat "$T/impdir")"
EOF
chmod +x "$T/forced.sh"
sed -i "s|^|command=\"$T/forced.sh\" |" "$SSHD_DIR/authorized_keys"

step "mkiso.sh: the test ISO (key on the medium, unattended by default)"
# QEMU's user network: the host's 127.0.0.1 is 10.0.2.2 for the guest.
# console=ttyS0 last, so the console p2v and the shell use is the serial
# port the test reads.
KEYS="p2v.server=10.0.2.2 p2v.port=$SSHD_PORT p2v.user=root p2v.mode=disk p2v.name=iso
  p2v.identity=/medium/p2v/id_ed25519 p2v.hostkey=$SSHD_HOSTKEY_PIN p2v.ip=dhcp
  p2v.post=poweroff p2v.fail=poweroff console=ttyS0,115200"
start=$(date +%s.%N)
bash "$TOP/rescue-iso/mkiso.sh" --out "$T/p2v.iso" --bundle "$T/bundle" --default unattended \
  --timeout 1 --add "$SSH_ID=p2v/id_ed25519" --append "$(echo $KEYS)" >"$T/mkiso.log" 2>&1 ||
  { cat "$T/mkiso.log"; fail "mkiso.sh"; }
cat "$T/mkiso.log"
echo "mkiso.sh took $(echo "$(date +%s.%N) - $start" | bc) s"

step "the ISO: hybrid boot records and menus with nodmraid on every entry"
xorriso -indev "$T/p2v.iso" -report_el_torito plain -report_system_area plain >"$T/report" 2>&1 ||
  { cat "$T/report"; fail "xorriso report"; }
assert_grep "El Torito img path :   1  /isolinux/isolinux.bin" "$T/report"
assert_grep "El Torito img path :   2  /boot/grub/efiboot.img" "$T/report"
assert_grep "El Torito boot img :   2  UEFI" "$T/report"
assert_grep "MBR isohybrid" "$T/report"
assert_grep "GPT partition path :   2  /boot/grub/efiboot.img" "$T/report"
for f in isolinux/isolinux.cfg boot/grub/grub.cfg p2v/id_ed25519 boot/grub/efiboot.img; do
  xorriso -osirrox on -indev "$T/p2v.iso" -extract "/$f" "$T/x/$f" >/dev/null 2>&1 || fail "no /$f on the ISO"
done
cmp "$T/x/p2v/id_ed25519" "$SSH_ID" || fail "the key on the ISO differs"
mdir -i "$T/x/boot/grub/efiboot.img" ::/EFI/BOOT/BOOTX64.EFI >/dev/null || fail "no BOOTX64.EFI in efiboot.img"
# Each entry's kernel line: two in each menu, every one with nodmraid.
grep -E '^\s*APPEND ' "$T/x/isolinux/isolinux.cfg" >"$T/iso-lines"
grep -E '^\s*linux ' "$T/x/boot/grub/grub.cfg" >"$T/grub-lines"
for l in iso-lines grub-lines; do
  [ "$(wc -l <"$T/$l")" = 2 ] || { cat "$T/$l"; fail "$l: expected 2 entries"; }
  [ "$(grep -c ' nodmraid ' "$T/$l")" = 2 ] || { cat "$T/$l"; fail "$l: an entry without nodmraid"; }
  # The unattended entry shows the p2v.* keys; the interactive one has none.
  [ "$(grep -c ' p2v\.server=HOST ' "$T/$l")" = 1 ] || fail "$l: no unattended entry with example keys"
  grep -q "p2v.port=$SSHD_PORT" "$T/$l" || fail "$l: --append missing"
done
assert_grep "^DEFAULT unattended" "$T/x/isolinux/isolinux.cfg"
assert_grep "^set default=1" "$T/x/boot/grub/grub.cfg"

# boot NAME QEMU-ARGS…: boot the ISO, receive into $T/imp-NAME, judge it.
boot() {
  local name=$1 rc=0 start
  shift
  mkdir -p "$T/imp-$name"
  echo "$T/imp-$name" >"$T/impdir"
  start=$(date +%s.%N)
  qemu_run "" "" --log "$T/$name.console" --timeout 240 --mem 1024 --disk "$SRC" --net \
    "$@" || rc=$?
  echo "$name: boot to power-off took $(echo "$(date +%s.%N) - $start" | bc) s (qemu exit $rc)"
  tr -d '\r' <"$T/$name.console" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' >"$T/$name.txt"
  grep -aE '^p2v-rescue:|^p2v:|success|FAILED|Power down' "$T/$name.txt" || true
  [ $rc = 0 ] || { tail -n 60 "$T/$name.txt"; fail "$name: QEMU exit $rc (124: the guest did not power off in time)"; }
  assert_grep "p2v-rescue: unattended: p2v run" "$T/$name.txt"
  # The network came up by p2v run's own DHCP (p2v.ip=dhcp), nothing else.
  assert_grep "^p2v: running: udhcpc -i eth0 " "$T/$name.txt"
  assert_grep "^p2v: address: eth0 10.0.2.15/24" "$T/$name.txt"
  # The last line of the run's log, then the kernel's power-off.
  grep -aq "success: p2v disk finished" "$T/$name.txt" || { tail -n 60 "$T/$name.txt"; fail "$name: no success line"; }
  assert_grep "reboot: Power down" "$T/$name.txt"
  local q=$T/imp-$name/iso.qcow2
  [ -f "$q" ] || fail "$name: nothing received: $(ls -A "$T/imp-$name")"
  qemu-img check -q "$q" || fail "$name: qemu-img check"
  qemu-img compare -q -f raw -F qcow2 "$SRC" "$q" || fail "$name: the received disk differs from the source"
  [ "$(sha256sum <"$SRC")" = "$BEFORE" ] || fail "$name: the source disk was written"
  rm -f "$q"
}
ISO=$T/p2v.iso
cd_args=(--extra -drive --extra "file=$ISO,media=cdrom,if=ide,readonly=on")

step "1. BIOS, CD: isolinux from El Torito"
boot cd "${cd_args[@]}" --extra -boot --extra order=d
# isolinux announced itself on the serial port (SERIAL in isolinux.cfg).
assert_grep "^ISOLINUX 6" "$T/cd.txt"
assert_grep "p2v-rescue: boot medium /dev/sr0" "$T/cd.txt"
[ "$(head -n 1 "$T/asked")" = "ct-import receive" ] || fail "remote command: $(cat "$T/asked")"

step "2. BIOS, USB stick on xHCI: isolinux from the isohybrid MBR"
usb_args=(--extra -device --extra qemu-xhci,id=xhci
  --extra -drive --extra "if=none,id=stick,file=$ISO,format=raw,readonly=on"
  --extra -device --extra usb-storage,bus=xhci.0,drive=stick,bootindex=0)
boot usb "${usb_args[@]}"
assert_grep "^ISOLINUX 6" "$T/usb.txt"
# SeaBIOS booted the stick as a hard disk; the init found the ISO on it and
# p2v left it out of the disks it sends.
assert_grep "p2v-rescue: boot medium /dev/sda" "$T/usb.txt"
assert_grep "leaving out sda: p2v booted from it" "$T/usb.txt"

OVMF=/usr/share/OVMF/OVMF_CODE.fd
if [ -f "$OVMF" ] && [ -f /usr/share/OVMF/OVMF_VARS.fd ]; then
  # uefi_boot NAME DEVICE-ARGS…: with fresh firmware variables each time.
  uefi_boot() {
    local name=$1; shift
    cp /usr/share/OVMF/OVMF_VARS.fd "$T/vars-$name.fd"
    boot "$name" "$@" \
      --extra -drive --extra "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF" \
      --extra -drive --extra "if=pflash,format=raw,unit=1,file=$T/vars-$name.fd"
    # GRUB's menu on the serial port (grub.cfg's serial terminal), then the
    # unattended entry's kernel; isolinux never ran.
    assert_grep "GNU GRUB" "$T/$name.txt"
    assert_grep "Booting .p2v: unattended (edit the p2v" "$T/$name.txt"
    if grep -q "^ISOLINUX" "$T/$name.txt"; then fail "$name: booted isolinux"; fi
  }
  step "3. UEFI (OVMF), CD: GRUB from the El Torito EFI image"
  uefi_boot uefi-cd "${cd_args[@]}"
  assert_grep "p2v-rescue: boot medium /dev/sr0" "$T/uefi-cd.txt"
  step "4. UEFI (OVMF), USB stick: GRUB from the EFI partition of the hybrid GPT/MBR"
  uefi_boot uefi-usb "${usb_args[@]}"
  assert_grep 'BdsDxe: starting Boot[0-9A-F]* "UEFI QEMU QEMU USB HARDDRIVE' "$T/uefi-usb.txt"
  assert_grep "p2v-rescue: boot medium /dev/sda" "$T/uefi-usb.txt"
  assert_grep "leaving out sda: p2v booted from it" "$T/uefi-usb.txt"
else
  echo "NOTE: no OVMF (apt-get install ovmf): UEFI boot not tested"
fi
step "5. the interactive entry (the menu's default): p2v run asks on the console"
# The ISO as make iso builds it (no key, no p2v.* keys), only with the serial
# port as the console and a short menu timeout. Without p2v.server the init
# starts p2v run's dialogue on the console, which then waits for answers.
# loglevel=7 shows the kernel's messages about a USB keyboard plugged in
# later (through QEMU's monitor), whose driver the init's uevent listener
# must load: a remote console's keyboard may enumerate that late.
bash "$TOP/rescue-iso/mkiso.sh" --out "$T/interactive.iso" --bundle "$T/bundle" --timeout 1 \
  --append "console=ttyS0,115200 loglevel=7" >"$T/mkiso.log" 2>&1 || { cat "$T/mkiso.log"; fail "mkiso.sh"; }
: >"$T/int.console"
timeout -k 5 150 qemu-system-x86_64 -machine pc -accel tcg -m 1024 -smp 1 -nodefaults \
  -display none -monitor "unix:$T/mon.sock,server,nowait" -serial "file:$T/int.console" -no-reboot \
  -drive "file=$T/interactive.iso,media=cdrom,if=ide,readonly=on" -boot order=d \
  -drive "file=$SRC,format=raw,if=virtio,readonly=on" -device qemu-xhci,id=xhci \
  </dev/null >/dev/null 2>&1 &
qpid=$!
at_exit "kill $qpid 2>/dev/null"
for _ in $(seq 1 140); do
  grep -aq "^p2v: dialogue" "$T/int.console" && break
  kill -0 $qpid 2>/dev/null || break
  sleep 1
done
if grep -aq "QEMU USB Keyboard" "$T/int.console"; then fail "a USB keyboard before one was plugged in"; fi
python3 - "$T/mon.sock" <<'PY' || fail "QEMU monitor: device_add usb-kbd"
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
time.sleep(0.5)
s.sendall(b"device_add usb-kbd,bus=xhci.0,id=kbd\n")
time.sleep(1)
PY
for _ in $(seq 1 40); do
  grep -aq "hid-generic.*QEMU USB Keyboard" "$T/int.console" && break
  sleep 1
done
sleep 2   # and time for p2v run to exit, were it not waiting for an answer
kill $qpid 2>/dev/null || true; wait $qpid 2>/dev/null || true
tr -d '\r' <"$T/int.console" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' >"$T/int.txt"
grep -aE '^p2v-rescue:|^p2v: dialogue' "$T/int.txt" || true
assert_grep "^ISOLINUX 6" "$T/int.txt"
assert_grep "p2v-rescue: boot medium /dev/sr0" "$T/int.txt"
assert_grep "p2v-rescue: interactive: p2v run" "$T/int.txt"
assert_grep "^p2v: dialogue" "$T/int.txt"
assert_grep "hid-generic .*Keyboard \[QEMU QEMU USB Keyboard\]" "$T/int.txt"
if grep -q "p2v-rescue: p2v run exited" "$T/int.txt"; then
  tail -n 30 "$T/int.txt"; fail "the dialogue did not wait for answers on the console"
fi
echo "ok"
