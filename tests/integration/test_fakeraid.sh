#!/bin/bash
# The fake-RAID gate against util-linux's own blkid: images carrying each of
# the eleven BIOS RAID signatures (tests/tools/mkfakeraid.py) and many that
# carry none; p2v check must agree with `blkid -p` on every one, pick the
# right exit code with and without nodmraid, and refuse stripe members.
. "$(dirname "$0")/lib.sh"
MK="python3 $TOP/tests/tools/mkfakeraid.py"
command -v blkid >/dev/null || skip "no blkid"

RAID_TYPES="isw ddf nvidia promise silicon jmicron via lsi adaptec hpt37x hpt45x"

# agree IMAGE: p2v's TYPE, PTTYPE and member verdict equal blkid -p's, and
# the exit code follows: 6 without nodmraid for a member, 0 otherwise.
agree() {
  local img=$1 rc
  blkid -p -o export "$img" >"$T/blkid.out" 2>/dev/null || true
  rc=0; "$P2V" check --disk "$img" --json --cmdline "quiet splash" >"$T/p2v.json" 2>"$T/p2v.err" || rc=$?
  python3 - "$T/blkid.out" "$T/p2v.json" "$rc" "$img" <<'EOF' || { cat "$T/p2v.err" >&2; fail "p2v and blkid disagree on $img"; }
import json, sys
blk = dict(l.split('=', 1) for l in open(sys.argv[1]).read().splitlines() if '=' in l)
p = json.load(open(sys.argv[2]))
rc, img = int(sys.argv[3]), sys.argv[4]
d = p['disks'][0]
bt = blk.get('TYPE')
member = bool(bt) and bt.endswith('_raid_member') and bt != 'linux_raid_member'
problems = []
if d['type'] != bt: problems.append('TYPE %r vs blkid %r' % (d['type'], bt))
if d['pttype'] != blk.get('PTTYPE'): problems.append('PTTYPE %r vs blkid %r' % (d['pttype'], blk.get('PTTYPE')))
if d['fakeraid'] != member: problems.append('fakeraid %r, blkid TYPE %r' % (d['fakeraid'], bt))
if member and (d['raid']['format'] is None or d['usage'] != 'raid'): problems.append('raid details missing')
want = 6 if member else 0
if rc != want or p['exit'] != rc: problems.append('exit %d (json %d), want %d' % (rc, p['exit'], want))
if member and p['verdict'] != 'refuse-need-nodmraid': problems.append('verdict ' + p['verdict'])
print('%-28s blkid %-32s p2v %-32s exit %d' % (img.split('/')[-1], bt, d['type'], rc))
if problems:
    print('\n'.join(problems))
    sys.exit(1)
EOF
}

# json_get FILE EXPR: a value from p2v's JSON (python expression over p).
json_get() { python3 -c "import json,sys; p=json.load(open(sys.argv[1])); print($2)" "$1"; }

step "the eleven BIOS RAID signatures, each confirmed by blkid -p"
for f in $RAID_TYPES; do
  $MK "$f" "$T/$f.img"
  blkid -p -o export "$T/$f.img" | grep -q "^TYPE=.*_raid_member$" || fail "blkid does not see $f"
  agree "$T/$f.img"
done
# A RAID1 member holding a real filesystem: the metadata wins, as in blkid.
truncate -s 16M "$T/isw-ext4.img"
mkfs.ext4 -q -F "$T/isw-ext4.img"
$MK isw "$T/isw-ext4.img" --keep
agree "$T/isw-ext4.img"
n_raid=12

step "at least fifteen images without BIOS RAID metadata"
n=0
mk() { n=$((n + 1)); agree "$1"; }
truncate -s 32M "$T/ext4.img"; mkfs.ext4 -q -F "$T/ext4.img"; mk "$T/ext4.img"
truncate -s 32M "$T/ext2.img"; mkfs.ext2 -q -F "$T/ext2.img"; mk "$T/ext2.img"
truncate -s 32M "$T/ext3.img"; mkfs.ext3 -q -F "$T/ext3.img"; mk "$T/ext3.img"
if command -v mkfs.xfs >/dev/null; then
  truncate -s 320M "$T/xfs.img"; mkfs.xfs -q -f "$T/xfs.img"; mk "$T/xfs.img"
fi
if command -v mkfs.vfat >/dev/null; then
  truncate -s 32M "$T/vfat.img"; mkfs.vfat "$T/vfat.img" >/dev/null; mk "$T/vfat.img"
fi
truncate -s 32M "$T/swap.img"; mkswap "$T/swap.img" >/dev/null; mk "$T/swap.img"
if command -v btrfs >/dev/null && command -v mkfs.btrfs >/dev/null; then
  truncate -s 128M "$T/btrfs.img"; mkfs.btrfs -q -f "$T/btrfs.img" >/dev/null; mk "$T/btrfs.img"
fi
truncate -s 32M "$T/gpt.img"; printf 'label: gpt\n,10M,L\n,,L\n' | sfdisk -q "$T/gpt.img"; mk "$T/gpt.img"
truncate -s 32M "$T/mbr.img"; printf 'label: dos\n,10M,83\n,,82\n' | sfdisk -q "$T/mbr.img"; mk "$T/mbr.img"
truncate -s 8M "$T/empty.img"; mk "$T/empty.img"
head -c 8M /dev/urandom >"$T/random.img"; mk "$T/random.img"
# Below libblkid's floor (1440 KiB) RAID probers do not run: an isw
# signature there is not reported, by blkid nor by p2v.
$MK isw "$T/tiny-isw.img" --size $((1024 * 1024)); mk "$T/tiny-isw.img"
grep -q raid_member "$T/blkid.out" && fail "blkid reported the tiny image"
# An image too small for the isw prober's own floor (64 KiB) but a member
# signature at the end otherwise: nothing either.
$MK lsi "$T/lsi-1440k.img" --size $((1440 * 1024)); mk "$T/lsi-1440k.img"
if command -v xorriso >/dev/null; then
  mkdir -p "$T/isodir"; echo hello >"$T/isodir/hello.txt"
  xorriso -as mkisofs -quiet -V P2VTEST -o "$T/iso.img" "$T/isodir" 2>/dev/null; mk "$T/iso.img"
fi
if command -v mksquashfs >/dev/null; then
  mksquashfs "$T/isodir" "$T/squash.img" -quiet -noappend >/dev/null 2>&1 || mksquashfs "$T/isodir" "$T/squash.img" -noappend >/dev/null
  mk "$T/squash.img"
fi
if command -v cryptsetup >/dev/null; then
  truncate -s 32M "$T/luks.img"
  echo secret | cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 "$T/luks.img" -
  mk "$T/luks.img"
fi
if command -v mkntfs >/dev/null; then
  truncate -s 32M "$T/ntfs.img"; mkntfs -q -F -Q "$T/ntfs.img" >/dev/null 2>&1; mk "$T/ntfs.img"
fi
# LVM2 PV: libblkid calls it USAGE=raid, yet it is no BIOS RAID.
if command -v pvcreate >/dev/null; then
  truncate -s 32M "$T/lvm.img"
  LV=$(losetup -f --show "$T/lvm.img"); at_exit "losetup -d $LV"
  pvcreate -q -y --config 'devices { filter=["a|.*|"] use_devicesfile=0 }' "$LV" >/dev/null 2>&1
  losetup -d "$LV"
  mk "$T/lvm.img"
  grep -q '^USAGE=raid' "$T/blkid.out" || fail "expected blkid to call an LVM PV USAGE=raid"
fi
echo "$n non-RAID images"
[ "$n" -ge 15 ] || fail "only $n non-RAID images could be made (want 15)"

step "loop devices: an isw member and an ext4 filesystem"
for img in isw ext4 via; do
  LOOP=$(losetup -f --show -r "$T/$img.img"); at_exit "losetup -d $LOOP 2>/dev/null"
  agree "$LOOP"
  losetup -d "$LOOP"
done

step "exit codes with and without nodmraid"
for f in $RAID_TYPES; do
  rc=0; "$P2V" check --disk "$T/$f.img" --cmdline "ro nodmraid quiet" >"$T/out" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || { cat "$T/out"; fail "$f mirror/unknown member with nodmraid: exit $rc"; }
  rc=0; "$P2V" check --disk "$T/$f.img" --cmdline "ro xnodmraid nodmraidx foo=\"a nodmraid\"" >"$T/out" 2>&1 || rc=$?
  [ "$rc" -eq 6 ] || { cat "$T/out"; fail "$f without nodmraid: exit $rc, want 6"; }
done
assert_grep "ifcpu64.c32 rescue64 scandelay=1 nodmraid -- rescue32 scandelay=1 nodmraid" "$T/out"
assert_grep "append ' nodmraid'" "$T/out"
rc=0; "$P2V" check --disk "$T/isw.img" --cmdline "nodmraid=1" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "nodmraid=1 not taken: exit $rc"
# Several disks: one member without nodmraid refuses the lot.
rc=0; "$P2V" check --disk "$T/ext4.img" --disk "$T/jmicron.img" --cmdline quiet >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 6 ] || fail "a member among plain disks: exit $rc"
"$P2V" check --disk "$T/ext4.img" --disk "$T/xfs.img" --cmdline quiet >/dev/null 2>&1 ||
  fail "plain disks refused"

step "RAID level and member count from isw and DDF metadata"
# level members verdict-with-nodmraid
while read -r fmt level members verdict; do
  $MK "$fmt" "$T/lvl.img" --level "$level"
  rc=0; "$P2V" check --disk "$T/lvl.img" --json --cmdline nodmraid >"$T/lvl.json" 2>"$T/lvl.err" || rc=$?
  got=$(json_get "$T/lvl.json" "' '.join(str(x) for x in (p['disks'][0]['raid']['level'], p['disks'][0]['raid']['members'], p['verdict'], p['exit']))")
  want="$level $members $verdict"
  [ "$got" = "$level $members $verdict $( [ "$verdict" = allow ] && echo 0 || echo 6)" ] ||
    fail "$fmt $level: got '$got', want '$want'"
  [ "$rc" -eq "$( [ "$verdict" = allow ] && echo 0 || echo 6)" ] || fail "$fmt $level: exit $rc"
  echo "$fmt $level: $got"
done <<'EOF'
isw raid1 2 allow
isw raid0 2 refuse-striped
isw raid5 3 refuse-striped
isw raid10 4 refuse-striped
ddf raid1 2 allow
ddf raid0 2 refuse-striped
ddf raid5 3 refuse-striped
ddf raid10 4 refuse-striped
EOF
assert_grep "name the assembled" "$T/lvl.err"
# A striped member is refused even without nodmraid — rebooting would not help.
$MK isw "$T/lvl.img" --level raid0
rc=0; "$P2V" check --disk "$T/lvl.img" --json --cmdline quiet >"$T/lvl.json" 2>/dev/null || rc=$?
[ "$rc" -eq 6 ] && [ "$(json_get "$T/lvl.json" "p['verdict']")" = refuse-striped ] || fail "raid0 without nodmraid"
# A damaged MPB checksum: still a member (blkid does not check it), level unknown.
$MK isw "$T/bad.img"
printf '\xff' | dd of="$T/bad.img" bs=1 seek=$((8 * 1024 * 1024 - 1024 + 0x30)) conv=notrunc status=none
rc=0; "$P2V" check --disk "$T/bad.img" --json --cmdline nodmraid >"$T/bad.json" 2>/dev/null || rc=$?
[ "$(json_get "$T/bad.json" "p['disks'][0]['raid']['level']")" = None ] || fail "bad MPB gave a level"

step "p2v ct --device stops at the gate before reading the member"
if grep -qw nodmraid /proc/cmdline; then
  echo "(this host booted with nodmraid: skipping)"
else
  rc=0; "$P2V" ct --device "$T/isw-ext4.img" --name gated --output "$T/gated.tar.zst" 2>"$T/ct.err" || rc=$?
  cat "$T/ct.err"
  [ "$rc" -eq 6 ] || fail "p2v ct --device on a member: exit $rc, want 6"
  [ ! -e "$T/gated.tar.zst" ] || fail "p2v ct wrote output past the gate"
  assert_grep "nodmraid" "$T/ct.err"
fi

step "the machine's own disks (no --disk)"
rc=0; "$P2V" check --json --cmdline quiet >"$T/all.json" 2>/dev/null || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 6 ] || fail "p2v check over /sys/block: exit $rc"
json_get "$T/all.json" "' '.join(d['path'] for d in p['disks'])"
json_get "$T/all.json" "p['disks']" | grep -q "/dev/loop" && fail "loop devices listed by default"
echo "ok: $n_raid RAID images and $n others agree with blkid"
