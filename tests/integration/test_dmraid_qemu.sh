#!/bin/bash
# p2v fakeraid --deactivate for real: inside a QEMU guest running Debian's
# kernel with dm-mod, dmsetup builds what dmraid builds for an Intel (isw)
# RAID1 — a mirror set over two disks with partition maps on it — plus an
# LVM-style map on a partition, a name-only nvidia set and an unrelated map.
# p2v must refuse while a partition is held open, remove exactly the BIOS
# RAID stack (leaves first) once it is free, leave the unrelated map alone,
# and write nothing to the disks. In the same boot, when Debian's mdadm
# package can be fetched, an Intel Matrix (imsm) container with a RAID1
# volume in it, as a rescue system's mdadm assembles them: the volume is
# stopped before its container, and neither disk is written.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lib/qemu.sh"

qemu_require || skip "$(qemu_require)"
[ -x /usr/sbin/dmsetup ] || skip "no dmsetup (apt-get install dmsetup)"
[ -x "$P2V" ] || fail "no $P2V (run make)"
qemu_kernel || skip "no Debian kernel package (apt mirror unreachable?)"
md_items=()
if mdadm_dir=$(qemu_deb mdadm); then
  md_items=("$mdadm_dir/sbin/mdadm=/sbin/mdadm")
else
  echo "NOTE: no mdadm package: the imsm part is left out"
fi

step "disks with recognisable content"
for d in a b c d e; do
  truncate -s 32M "$T/disk-$d.img"
  # Some non-zero bytes, so a write anywhere is likely to change the hash.
  printf 'disk-%s %s\n' "$d" "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" |
    dd of="$T/disk-$d.img" bs=1 seek=$((2048 * 512)) conv=notrunc status=none
done
# d and e become the imsm container's members: mdadm writes them in the guest.
sha256sum "$T"/disk-[abc].img >"$T/before.sha256"

cat >"$T/guest.sh" <<'EOF'
# Build the maps the way dmraid does: uuid "DMRAID-<name>", partitions
# "<set>p<N>"; dmsetup manages its own nodes (there is no udev here).
export DM_DISABLE_UDEV=1
S=$(( $(cat /sys/block/vda/size) ))
set_name=isw_bdjiaegdhg_Volume0
mk() { dmsetup create "$1" ${2:+--uuid "$2"} --table "$3" || echo "GUEST: create $1 failed"; }
mk "$set_name" "DMRAID-$set_name" "0 $S mirror core 2 1024 nosync 2 /dev/vda 0 /dev/vdb 0 1 handle_errors"
mk "${set_name}p1" "DMRAID-${set_name}p1" "0 8192 linear /dev/mapper/$set_name 2048"
mk "${set_name}p2" "DMRAID-${set_name}p2" "0 16384 linear /dev/mapper/$set_name 10240"
mk vg0-root "LVM-Q5x2yJfG1o0Hj8kLmNpQrStUvWxYz012AbCdEfGhIjKlMnOpQrStUvWxYz34" \
  "0 8192 linear /dev/mapper/${set_name}p2 2048"
# A set dmraid made without uuid (older versions): known by its name only.
mk nvidia_fbdhcdab "" "0 8192 linear /dev/vdc 8192"
mk nvidia_fbdhcdab1 "" "0 4096 linear /dev/mapper/nvidia_fbdhcdab 63"
# Not BIOS RAID: must survive.
mk keepme "CRYPT-PLAIN-keepme" "0 4096 linear /dev/vdc 2048"

if [ -x /sbin/mdadm ]; then
  # No platform RAID BIOS, no SCSI serials on virtio, no mdmon here.
  export IMSM_NO_PLATFORM=1 IMSM_DEVNAME_AS_SERIAL=1 MDADM_NO_MDMON=1
  mkdir -p /run/mdadm /dev/md
  mdadm --create /dev/md/imsm0 --run -e imsm -n 2 /dev/vdd /dev/vde || echo "GUEST: create imsm0 failed"
  mdadm --create /dev/md/vol0 --run -l 1 -n 2 -z 8M /dev/md/imsm0 || echo "GUEST: create vol0 failed"
  for m in /sys/block/md*; do echo "GUEST-MD: ${m##*/} $(cat $m/md/metadata_version)"; done
fi
# Where imsm and md keep their metadata: each disk's first and last 4 MiB.
mdhash() {
  for d in vdd vde; do
    dd if=/dev/$d bs=1M count=4 2>/dev/null | sha256sum
    dd if=/dev/$d bs=512 skip=$(( $(cat /sys/block/$d/size) - 8192 )) 2>/dev/null | sha256sum
  done
}
mdhash >/tmp/md-before
echo "GUEST-BEFORE: $(dmsetup ls | awk '{print $1}' | sort | tr '\n' ' ')"

p2v fakeraid >/tmp/list.txt 2>&1
echo "RC-LIST: $?"
sed 's/^/GUEST-LIST: /' /tmp/list.txt

p2v fakeraid --deactivate --dry-run >/tmp/dry.txt 2>&1
echo "RC-DRY: $?"
sed 's/^/GUEST-DRY: /' /tmp/dry.txt
echo "GUEST-AFTER-DRY: $(dmsetup ls | awk '{print $1}' | sort | tr '\n' ' ')"

# A partition held open (as a mounted filesystem would): refused, nothing removed.
sleep 600 <"/dev/mapper/${set_name}p1" &
holder=$!
sleep 0.2
p2v fakeraid --deactivate >/tmp/busy.txt 2>&1
echo "RC-BUSY: $?"
sed 's/^/GUEST-BUSY: /' /tmp/busy.txt
echo "GUEST-AFTER-BUSY: $(dmsetup ls | awk '{print $1}' | sort | tr '\n' ' ')"
kill $holder; wait $holder 2>/dev/null

p2v fakeraid --deactivate >/tmp/deact.txt 2>&1
echo "RC-DEACT: $?"
sed 's/^/GUEST-DEACT: /' /tmp/deact.txt
echo "GUEST-AFTER: $(dmsetup ls | awk '{print $1}' | sort | tr '\n' ' ')"
echo "GUEST-NODES: $(ls /dev/mapper | sort | tr '\n' ' ')"
echo "GUEST-MD-AFTER: $(ls /sys/block | grep '^md' | tr '\n' ' ')"
mdhash >/tmp/md-after
cmp -s /tmp/md-before /tmp/md-after && echo "GUEST-MD-DISKS: unchanged" || echo "GUEST-MD-DISKS: changed"

# A second run finds nothing to do.
p2v fakeraid --deactivate >/tmp/again.txt 2>&1
echo "RC-AGAIN: $?"
sed 's/^/GUEST-AGAIN: /' /tmp/again.txt
dmsetup remove keepme
sync
EOF

step "initramfs with dm-mod, dm-mirror, dmsetup and p2v"
qemu_initramfs "$T/initrd.gz" --modules "virtio_pci virtio_blk dm-mod dm-mirror md-mod raid1" \
  --script "$T/guest.sh" /usr/sbin/dmsetup "$P2V=/usr/bin/p2v" ${md_items[@]+"${md_items[@]}"}

step "boot"
start=$(date +%s)
qemu_run "$QEMU_VMLINUZ" "$T/initrd.gz" --disk "$T/disk-a.img" --disk "$T/disk-b.img" \
  --disk "$T/disk-c.img" --disk "$T/disk-d.img" --disk "$T/disk-e.img" --append quiet --timeout 180 ||
  { cat "$QEMU_LOG"; fail "qemu_run returned $?"; }
echo "boot to poweroff: $(( $(date +%s) - start )) s"
# The whole console (quiet: kernel errors only), then the markers.
tr -d '\r' <"$QEMU_LOG"
grep -E '^(HARNESS|GUEST|RC-)' "$QEMU_LOG" | tr -d '\r' >"$T/out"
grep -q 'create .* failed' "$T/out" && fail "dmsetup or mdadm could not build the sets"

set_name=isw_bdjiaegdhg_Volume0
all="$set_name ${set_name}p1 ${set_name}p2 keepme nvidia_fbdhcdab nvidia_fbdhcdab1 vg0-root "
assert_grep "^GUEST-BEFORE: $all\$" "$T/out"

step "listing: everything but keepme, exit 0"
assert_grep '^RC-LIST: 0' "$T/out"
for m in $set_name ${set_name}p1 ${set_name}p2 vg0-root nvidia_fbdhcdab nvidia_fbdhcdab1; do
  assert_grep "^GUEST-LIST: active dm $m " "$T/out"
done
grep -q '^GUEST-LIST: .*keepme' "$T/out" && fail "keepme listed as BIOS RAID"
assert_grep '^GUEST-LIST: active dm vg0-root .*(stacked on BIOS RAID)' "$T/out"

step "dry run: the order is leaves first, and nothing changes"
assert_grep '^RC-DRY: 0' "$T/out"
order=$(sed -n 's/^GUEST-DRY: would remove dm \([^ ]*\) .*/\1/p' "$T/out" | tr '\n' ' ')
echo "plan: $order"
pos() { echo "$order" | tr ' ' '\n' | grep -nx -- "$1" | cut -d: -f1; }
before() { [ "$(pos "$1")" -lt "$(pos "$2")" ] || fail "$1 must be removed before $2 (plan: $order)"; }
[ "$(echo "$order" | wc -w)" = 6 ] || fail "plan has $(echo "$order" | wc -w) dm entries: $order"
before vg0-root ${set_name}p2
before ${set_name}p1 $set_name
before ${set_name}p2 $set_name
before nvidia_fbdhcdab1 nvidia_fbdhcdab
assert_grep "^GUEST-AFTER-DRY: $all\$" "$T/out"
if [ ${#md_items[@]} -gt 0 ]; then
  md_order=$(sed -n 's/^GUEST-DRY: would remove md \([^ ]*\) .*/\1/p' "$T/out" | tr '\n' ' ')
  echo "md plan: $md_order"
  assert_grep '^GUEST-MD: md127 external:imsm' "$T/out"
  assert_grep '^GUEST-MD: md126 external:/md127/0' "$T/out"
  [ "$md_order" = "md126 md127 " ] || fail "md plan '$md_order': the volume goes before its container"
fi

step "a partition held open: refused with exit 1, nothing below it removed"
assert_grep '^RC-BUSY: 1' "$T/out"
assert_grep "^GUEST-BUSY: .*cannot remove ${set_name}p1: Device or resource busy" "$T/out"
# (Maps on other branches may or may not have gone first: any leaves-first
# order is right. The busy map and the set under it must still be there.)
for m in $set_name ${set_name}p1; do
  grep -q "^GUEST-AFTER-BUSY: .*\b$m\b" "$T/out" || fail "$m was removed although p1 was busy"
done

step "deactivation: only keepme is left, nodes are gone, exit 0"
assert_grep '^RC-DEACT: 0' "$T/out"
assert_grep '^GUEST-DEACT: all BIOS RAID maps and md containers are deactivated' "$T/out"
assert_grep '^GUEST-AFTER: keepme $' "$T/out"
assert_grep '^GUEST-NODES: control keepme $' "$T/out"
if [ ${#md_items[@]} -gt 0 ]; then
  assert_grep '^GUEST-DEACT: stopped md md126' "$T/out"
  assert_grep '^GUEST-DEACT: stopped md md127' "$T/out"
  assert_grep '^GUEST-MD-AFTER: $' "$T/out"
  assert_grep '^GUEST-MD-DISKS: unchanged' "$T/out"
fi
assert_grep '^RC-AGAIN: 0' "$T/out"
assert_grep '^GUEST-AGAIN: no active BIOS RAID maps' "$T/out"
assert_grep '^HARNESS-EXIT: 0' "$T/out"

step "the disks are byte for byte what they were"
sha256sum -c --quiet "$T/before.sha256" || fail "a disk image changed"
echo "ok"
