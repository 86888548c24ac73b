#!/bin/bash
# A server migrates itself with one reboot: a Debian root with
# linux-image-amd64 and initramfs-tools gets our hook and the p2v bundle
# (initramfs-hooks/install.sh, as `make install-hooks` does), builds its
# initramfs with update-initramfs in a chroot, and that kernel + initramfs
# boot in QEMU (TCG) with a source disk (a Debian root on /dev/vda1) and
# user networking to a loopback sshd whose key runs ct-import receive. The
# kernel command line carries only p2v.* keys: the template must arrive,
# equal the source filesystem, the source disk must be unchanged, and the
# guest must power off by itself. A second boot with BIOS RAID metadata on
# the source disk and no nodmraid must warn on the console and migrate
# nothing. Then the same with dracut and our 90p2v module (DHCP this time),
# in a root of its own (dracut and initramfs-tools conflict).
# The first run builds both Debian roots (~15 min on two busy cores):
# time-limit: 2400
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/lib/debian-root.sh"
. "$TOP/tests/lib/boot-root.sh"
. "$TOP/tests/integration/sshd.sh"

qemu_require || skip "$(qemu_require)"
command -v mmdebstrap >/dev/null || skip "no mmdebstrap (make deps)"
[ "$(id -u)" -eq 0 ] || skip "needs root (chroot, loop mounts)"
[ -x "$P2V" ] && [ -x "$CTI" ] || fail "run make first"
# The consoles and file lists stay for a post-mortem.
KEEP="$BUILD/test-logs/initramfs-hook"
rm -rf "$KEEP"; mkdir -p "$KEEP"
at_exit "cp $T/*.console $T/*.list $T/*.log $KEEP/ 2>/dev/null"

step "the relocatable bundle of this p2v"
sh "$TOP/rescue-iso/bundle.sh" "$P2V" "$T/bundle" >/dev/null

step "the source disk: a Debian root on an ext4 partition /dev/vda1"
debian_root "$T/src" minbase
truncate -s 1G "$T/disk.img"
echo 'start=2048, type=83' | sfdisk -q "$T/disk.img"
# -d fills the filesystem from the tree; offset puts it into partition 1.
mkfs.ext4 -q -F -L srcroot -E offset=$((2048 * 512)) -d "$T/src" "$T/disk.img" $(( (1024 - 1) * 1024 ))k
rm -rf "$T/src"
mkdir "$T/srcmnt"
mount -o ro,noload,loop,offset=$((2048 * 512)) "$T/disk.img" "$T/srcmnt"
at_exit "umount -l $T/srcmnt"
[ -x "$T/srcmnt/usr/bin/dpkg" ] || fail "the source filesystem is not the Debian root"

step "sshd on loopback; its key runs ct-import receive into a test cache"
C="$T/cache"; mkdir -p "$C"
start_sshd
cat >"$T/forced.sh" <<EOF
#!/bin/sh
exec "$CTI" receive --cache-dir "$C"
EOF
chmod +x "$T/forced.sh"
sed -i "s|^|command=\"$T/forced.sh\" |" "$SSHD_DIR/authorized_keys"

# chroot_prepare DIR: what update-initramfs and dracut need of a running system.
chroot_prepare() {
  local d=$1
  mount -t proc proc "$d/proc"; at_exit "umount -l $d/proc"
  mount --bind /dev "$d/dev"; at_exit "umount -l $d/dev"
  mount -t sysfs sysfs "$d/sys"; at_exit "umount -l $d/sys"
  # The guest's SSH key is baked into the initramfs from /etc/p2v/initramfs.
  mkdir -p "$d/etc/p2v/initramfs"
  cp "$SSH_ID" "$d/etc/p2v/initramfs/id_ed25519"
  sh "$TOP/initramfs-hooks/install.sh" "$d" "$T/bundle"
}

# boot_and_check NAME KERNEL INITRD EXTRA-ARGS: boot with the source disk,
# expect the template NAME in the cache, equal to the source.
boot_and_check() {
  local name=$1 kernel=$2 initrd=$3 extra=$4 rc=0
  sha256sum <"$T/disk.img" >"$T/disk.before"
  local start=$SECONDS
  qemu_run "$kernel" "$initrd" --disk "$T/disk.img" --net --mem 1536 --timeout 1200 \
    --log "$T/$name.console" \
    --append "root=/dev/vda1 nodmraid p2v.server=10.0.2.2 p2v.port=$SSHD_PORT p2v.user=root
      p2v.mode=ct p2v.device=/dev/vda1 p2v.name=$name p2v.identity=/etc/p2v/id_ed25519
      p2v.hostkey=$SSHD_HOSTKEY_PIN p2v.post=poweroff p2v.fail=poweroff $extra" || rc=$?
  echo "boot + migration: $((SECONDS - start)) s (TCG)"
  [ $rc -eq 0 ] || { tail -n 60 "$T/$name.console"; fail "the guest did not power off by itself (status $rc)"; }
  grep -a "p2v" "$T/$name.console" | tail -n 15
  grep -aq "success: p2v ct finished" "$T/$name.console" ||
    { tail -n 60 "$T/$name.console"; fail "no success line on the console"; }
  [ -f "$C/$name.tar.zst" ] || fail "no template in the cache: $(ls -A "$C")"
  sha256sum <"$T/disk.img" | cmp -s - "$T/disk.before" || fail "the source disk was written"
  mkdir "$T/out-$name"
  tar --zstd -xpf "$C/$name.tar.zst" --numeric-owner --acls --xattrs --xattrs-include='*' \
    -C "$T/out-$name"
  python3 "$TOP/tests/integration/compare-trees.py" --no-root-mtime \
    --exclude 'proc/*' --exclude 'sys/*' --exclude 'dev/*' --exclude 'run/*' --exclude 'tmp/*' \
    --exclude lost+found "$T/srcmnt" "$T/out-$name" || fail "the template differs from the source"
  rm -rf "$T/out-$name"
}

step "a Debian root with linux-image-amd64 and initramfs-tools; our hook; update-initramfs"
R="$T/itr"
boot_root "$R" initramfs-tools
chroot_prepare "$R"
kver=$(ls "$R/lib/modules")
nice chroot "$R" update-initramfs -c -k "$kver" >"$T/update-initramfs.log" 2>&1 ||
  { cat "$T/update-initramfs.log"; fail "update-initramfs failed"; }
INITRD="$R/boot/initrd.img-$kver"
chroot "$R" lsinitramfs "/boot/initrd.img-$kver" >"$T/itr.list"
for f in usr/lib/p2v/bundle/bin/p2v usr/lib/p2v/bundle/bin/p2v.real usr/lib/p2v/bundle/lib/libc.so.6 \
         usr/lib/p2v/boot-lib.sh scripts/init-premount/p2v etc/p2v/id_ed25519; do
  grep -qx "$f" "$T/itr.list" || fail "$f is not in the initramfs"
done
grep -Eq '(^|/)bin/ipconfig$' "$T/itr.list" || fail "no ipconfig in the initramfs"
grep -q '/virtio_net.ko' "$T/itr.list" || fail "no NIC driver in the initramfs"
grep -q '/e1000e.ko' "$T/itr.list" || fail "the hook did not add the NIC drivers"
echo "initramfs: $(du -h "$INITRD" | cut -f1), $(wc -l <"$T/itr.list") files"

step "boot it: p2v.ip static; the server migrates itself and powers off"
boot_and_check itr "$R/boot/vmlinuz-$kver" "$INITRD" "p2v.ip=10.0.2.15/24,10.0.2.2"
grep -aq "p2v: bringing the network up: ip=10.0.2.15::10.0.2.2:255.255.255.0:::off" "$T/itr.console" ||
  fail "the script did not bring the network up from p2v.ip"

step "BIOS RAID metadata and no nodmraid: a warning on the console, nothing migrated"
truncate -s 64M "$T/raid.img"
mkfs.ext4 -q -F "$T/raid.img"
python3 "$TOP/tests/tools/mkfakeraid.py" isw "$T/raid.img" --keep --level raid1
rc=0
qemu_run "$R/boot/vmlinuz-$kver" "$INITRD" --disk "$T/raid.img" --net --mem 1536 --timeout 600 \
  --log "$T/raid.console" \
  --append "root=/dev/vda p2v.server=10.0.2.2 p2v.port=$SSHD_PORT p2v.user=root p2v.mode=ct
    p2v.device=/dev/vda p2v.name=raid p2v.identity=/etc/p2v/id_ed25519 p2v.hostkey=$SSHD_HOSTKEY_PIN
    p2v.post=poweroff p2v.fail=poweroff" || rc=$?
[ $rc -eq 0 ] || { tail -n 40 "$T/raid.console"; fail "the guest did not power off (status $rc)"; }
grep -a "p2v" "$T/raid.console" | tail -n 12
grep -aq "p2v: WARNING: BIOS RAID (fake RAID) metadata is on a disk and 'nodmraid' is not" "$T/raid.console" ||
  fail "no fake-RAID warning on the console"
grep -aq "FAILED: p2v ct exited with status 6" "$T/raid.console" || fail "p2v run did not refuse"
[ ! -e "$C/raid.tar.zst" ] || fail "a template was published from a fake-RAID member"

step "dracut: a root with dracut and dracut-network; our 90p2v module"
boot_root "$T/dr" dracut || fail "no dracut root (see the mmdebstrap messages above)"
D="$T/dr"
chroot_prepare "$D"
kver=$(ls "$D/lib/modules")
nice chroot "$D" dracut -f "/boot/initrd.img-$kver" "$kver" >"$T/dracut.log" 2>&1 ||
  { cat "$T/dracut.log"; fail "dracut failed"; }
grep -q "Including module: p2v" "$T/dracut.log" || { cat "$T/dracut.log"; fail "dracut left p2v out"; }
chroot "$D" lsinitrd "/boot/initrd.img-$kver" >"$T/dr.list"
chroot "$D" lsinitrd -m "/boot/initrd.img-$kver" >"$T/dr.modules"
grep -qx "p2v" "$T/dr.modules" || { cat "$T/dr.modules"; fail "lsinitrd does not list the p2v module"; }
for f in ' usr/lib/p2v/bundle/bin/p2v' ' usr/lib/p2v/boot-lib.sh' ' etc/p2v/id_ed25519' \
         '/dracut/hooks/cmdline/05-p2v-cmdline.sh' '/dracut/hooks/pre-mount/05-p2v-pre-mount.sh'; do
  grep -q -- "$f\$" "$T/dr.list" || fail "$f is not in the dracut initramfs"
done

step "boot the dracut initramfs: DHCP from dracut's network module; migrate; power off"
boot_and_check dracut "$D/boot/vmlinuz-$kver" "$D/boot/initrd.img-$kver" ""
echo "initramfs-tools and dracut: the server migrated itself in one boot each"
