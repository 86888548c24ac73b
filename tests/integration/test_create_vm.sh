#!/bin/bash
# ct-import create-vm: a disk received through ct-import receive becomes a
# VM. The libvirt XML is judged by virt-xml-validate, run.sh boots the disk
# under QEMU (TCG) to a marker its boot sector prints on the serial port, and
# the Proxmox backend runs a stand-in qm that records its argv. UEFI and
# Windows are read from partition tables written by sfdisk and mkntfs, in
# qcow2 images written by qemu-img (compressed both ways) and by ct-import.
. "$(dirname "$0")/lib.sh"
MK="python3 $TOP/tests/integration/mkdiskstream.py"
for t in qemu-img qemu-system-x86_64 sfdisk as ld; do command -v $t >/dev/null || skip "$t missing"; done
D="$T/import"; mkdir -p "$D"
export CTI_PVE_ETC="$T/etc-pve"; mkdir -p "$CTI_PVE_ETC/qemu-server"

# A boot sector that prints a marker on COM1 and halts (fits in the 440
# bytes before the partition table).
cat > "$T/boot.S" <<'EOF'
.code16
.globl _start
_start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	mov $0x3f8, %dx
	mov $msg, %si
1:	lodsb
	test %al, %al
	jz 2f
	outb %al, (%dx)
	jmp 1b
2:	hlt
	jmp 2b
msg:	.asciz "\r\nP2V-BOOT-MARKER\r\n"
EOF
as --32 -o "$T/boot.o" "$T/boot.S"
ld -m elf_i386 -Ttext 0x7c00 --oformat binary -o "$T/boot.bin" "$T/boot.o"
[ "$(stat -c %s "$T/boot.bin")" -le 440 ] || fail "boot code too big"

# mkdisk FILE SIZE SFDISK-SCRIPT: a partitioned disk with our boot code.
mkdisk() {
  truncate -s "$2" "$1"
  printf '%b' "$3" | sfdisk -q "$1"
  dd if="$T/boot.bin" of="$1" conv=notrunc status=none
}

# run_vm DIR NAME: boot NAME.run.sh under TCG until the marker shows.
run_vm() {
  local log="$T/$2.console"
  P2V_QEMU_ACCEL=tcg P2V_QEMU_NET=none sh "$1/$2.run.sh" < /dev/null > "$log" 2>&1 &
  local pid=$! i
  for i in $(seq 1 120); do
    grep -q P2V-BOOT-MARKER "$log" && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.5
  done
  kill $pid 2>/dev/null; wait $pid 2>/dev/null || true
  grep -q P2V-BOOT-MARKER "$log" || { cat "$log"; fail "$2 did not boot to the marker"; }
}

step "a BIOS Linux disk through ct-import receive, then create-vm --backend libvirt"
mkdisk "$T/linux.raw" 64M 'label: dos\n,,83,*\n'
[ "$(blkid -p -o value -s PTTYPE "$T/linux.raw")" = dos ] || fail "sfdisk wrote no MBR"
$MK --source "$T/linux.raw" --name lin-disk0 --zdata --mem-bytes $((768 << 20)) --cpus 1 |
  "$CTI" receive --import-dir "$D" >/dev/null
"$CTI" create-vm --disk "$D/lin-disk0.qcow2" --backend libvirt --memory 128 --cores 1 > "$T/out" 2>"$T/err"
cat "$T/err"
assert_grep "wrote $D/lin-disk0.xml and $D/lin-disk0.run.sh" "$T/out"
assert_grep "MBR, boots by BIOS" "$T/err"
if command -v virt-xml-validate >/dev/null; then
  virt-xml-validate "$D/lin-disk0.xml" domain || fail "domain XML does not validate"
fi
assert_grep "<driver name='qemu' type='qcow2'/>" "$D/lin-disk0.xml"
assert_grep "<target dev='sda' bus='scsi'/>" "$D/lin-disk0.xml"
if grep -q "firmware='efi'" "$D/lin-disk0.xml"; then fail "BIOS disk got UEFI"; fi
[ -x "$D/lin-disk0.run.sh" ] || fail "run.sh is not executable"
sh -n "$D/lin-disk0.run.sh" || fail "run.sh is not valid sh"
run_vm "$D" lin-disk0

step "refused: the VM files exist already (exit 3)"
set +e; "$CTI" create-vm --disk "$D/lin-disk0.qcow2" --backend libvirt 2>"$T/err"; rc=$?; set -e
[ $rc -eq 3 ] || fail "exit $rc"; assert_grep "already exists" "$T/err"

step "a Windows disk (NTFS first partition) boots from SATA"
mkdisk "$T/win.raw" 64M 'label: dos\n2048,32768,7,*\n,,7\n'
truncate -s 16M "$T/ntfs.img"
mkntfs -q -F -Q -p 2048 -S 63 -H 255 "$T/ntfs.img" >/dev/null 2>&1 || skip "mkntfs failed"
dd if="$T/ntfs.img" of="$T/win.raw" bs=1M seek=1 conv=notrunc status=none
[ "$(blkid -p -O 1048576 -o value -s TYPE "$T/win.raw")" = ntfs ] || fail "no NTFS at 1 MiB"
qemu-img convert -c -o compression_type=zstd -O qcow2 "$T/win.raw" "$D/win-zstd.qcow2"
qemu-img convert -c -O qcow2 "$T/win.raw" "$D/win.qcow2"
"$CTI" create-vm --disk win.qcow2 --import-dir "$D" --backend libvirt --name WIN01 --memory 128 >/dev/null 2>"$T/err"
assert_grep "a Windows guest" "$T/err"
virt-xml-validate "$D/WIN01.xml" domain >/dev/null 2>&1 || ! command -v virt-xml-validate >/dev/null || fail "Windows XML invalid"
assert_grep "<target dev='sda' bus='sata'/>" "$D/WIN01.xml"
assert_grep "<model type='e1000'/>" "$D/WIN01.xml"
run_vm "$D" WIN01
"$CTI" create-vm --disk "$D/win-zstd.qcow2" --backend pve --vmid 120 --dry-run > "$T/argv" 2>/dev/null
assert_grep "^qm create 120 --name win-zstd .*--net0 e1000,bridge=vmbr0 --scsihw virtio-scsi-single --sata0 local-lvm:0,import-from=$D/win-zstd.qcow2 --boot order=sata0 --ostype win10\$" "$T/argv"

step "a GPT disk with an EFI system partition: OVMF"
truncate -s 64M "$T/uefi.raw"
printf 'label: gpt\n,32M,U\n,,L\n' | sfdisk -q "$T/uefi.raw"
[ "$(blkid -p -o value -s PTTYPE "$T/uefi.raw")" = gpt ] || fail "sfdisk wrote no GPT"
$MK --source "$T/uefi.raw" --name uefi-disk0 | "$CTI" receive --import-dir "$D" --compress zstd >/dev/null
"$CTI" create-vm --disk "$D/uefi-disk0.qcow2" --disk "$T/linux.raw" --backend pve --vmid 130 \
  --storage local-zfs --bridge vmbr1 --memory 4096 --cores 4 --dry-run > "$T/argv" 2>/dev/null
assert_grep "^qm create 130 --name uefi-disk0 --memory 4096 --cores 4 --net0 virtio,bridge=vmbr1 --scsihw virtio-scsi-single --scsi0 local-zfs:0,import-from=$D/uefi-disk0.qcow2 --scsi1 local-zfs:0,import-from=$T/linux.raw --boot order=scsi0 --ostype l26 --bios ovmf --efidisk0 local-zfs:1,efitype=4m,pre-enrolled-keys=0\$" "$T/argv"
"$CTI" create-vm --disk "$D/uefi-disk0.qcow2" --disk "$T/linux.raw" --backend libvirt --bridge none >/dev/null 2>&1
assert_grep "<os firmware='efi'>" "$D/uefi-disk0.xml"
assert_grep "<driver name='qemu' type='raw'/>" "$D/uefi-disk0.xml"
if grep -q "<interface" "$D/uefi-disk0.xml"; then fail "--bridge none still has a NIC"; fi
command -v virt-xml-validate >/dev/null && { virt-xml-validate "$D/uefi-disk0.xml" domain >/dev/null || fail "UEFI XML invalid"; }
assert_grep "if=pflash" "$D/uefi-disk0.run.sh"

step "the Proxmox backend runs qm (a stand-in recording its argv), VMID from pvesh"
mkdir "$T/bin"
cat > "$T/bin/qm" <<EOF
#!/bin/sh
printf '%s\n' "\$@" > "$T/qm.argv"
EOF
printf '#!/bin/sh\necho "\\"131\\""\n' > "$T/bin/pvesh"
chmod +x "$T/bin/qm" "$T/bin/pvesh"
PATH="$T/bin:$PATH" "$CTI" create-vm --disk "$D/lin-disk0.qcow2" > "$T/out"
assert_grep "created VM 131 (lin-disk0)" "$T/out"
[ "$(tr '\n' ' ' < "$T/qm.argv")" = "create 131 --name lin-disk0 --memory 768 --cores 1 --net0 virtio,bridge=vmbr0 --scsihw virtio-scsi-single --scsi0 local-lvm:0,import-from=$D/lin-disk0.qcow2 --boot order=scsi0 --ostype l26 " ] ||
  fail "qm got: $(cat "$T/qm.argv")"

step "memory and cores default to the source's inventory; options win"
"$CTI" create-vm --disk "$D/lin-disk0.qcow2" --backend pve --vmid 160 --dry-run > "$T/argv" 2>/dev/null
assert_grep "^qm create 160 --name lin-disk0 --memory 768 --cores 1 " "$T/argv"
"$CTI" create-vm --disk "$D/lin-disk0.qcow2" --backend pve --vmid 160 --memory 300 --cores 2 --dry-run > "$T/argv" 2>/dev/null
assert_grep "^qm create 160 --name lin-disk0 --memory 300 --cores 2 " "$T/argv"

step "refusals"
touch "$CTI_PVE_ETC/qemu-server/140.conf"
set +e; "$CTI" create-vm --disk "$D/lin-disk0.qcow2" --backend pve --vmid 140 --dry-run 2>"$T/err"; rc=$?; set -e
[ $rc -eq 3 ] || fail "existing VMID: exit $rc"; assert_grep "already exists" "$T/err"
expect_fail "$CTI" create-vm --disk "$T/nonexistent.qcow2" --backend libvirt
expect_fail "$CTI" create-vm --backend libvirt
cp "$T/linux.raw" "$T/a,b.raw"
expect_fail "$CTI" create-vm --disk "$T/a,b.raw" --backend pve --vmid 150 --dry-run
assert_grep "comma" "$T/err"
expect_fail "$CTI" create-vm --disk "$T/linux.raw" --backend pve --vmid 150 --name 'bad_name' --dry-run
expect_fail "$CTI" create-vm --disk "$T/linux.raw" --backend pve --vmid 150 --storage 'a:b' --dry-run
echo "all create-vm checks passed"
