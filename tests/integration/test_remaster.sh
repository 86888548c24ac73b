#!/bin/bash
# make remaster on two small ISOs built here in SystemRescue's two layouts:
# old SystemRescueCd (isolinux.cfg with ifcpu64.c32 "rescue64 … -- rescue32 …"
# entries, sysrcd.dat, plain El Torito) and modern SystemRescue (isolinux
# chaining to sysresccd/boot/syslinux/*.cfg, grubsrcd.cfg, efiboot.img,
# hybrid MBR + GPT as mkarchiso makes it). Judged independently of the
# patcher: every boot entry has nodmraid exactly once on each side of "--",
# nothing else in the configs changed, the SRM holds a working bundle, the
# YAML / autorun are in place, xorriso reports the same boot setup, and the
# input ISO is untouched. A second remaster of the output changes no config;
# a non-ISO, a foreign ISO and an existing output are refused.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lib/sysrescue-iso.sh"

for c in xorriso mksquashfs unsquashfs mkfs.fat mcopy mmd grub-mkimage python3 sha256sum; do
  command -v $c >/dev/null || skip "needs $c"
done
ISOLINUX=/usr/lib/ISOLINUX BIOS=/usr/lib/syslinux/modules/bios
[ -f $ISOLINUX/isolinux.bin ] && [ -f $ISOLINUX/isohdpfx.bin ] || skip "needs isolinux"
[ -f $BIOS/ifcpu64.c32 ] || skip "needs syslinux-common"
[ -d /usr/lib/grub/x86_64-efi ] || skip "needs grub-efi-amd64-bin"
python3 -c 'import yaml' 2>/dev/null || skip "needs python3-yaml"

step "make bundle"
make -s -C "$TOP" BUILD="$BUILD" bundle >"$T/make.log" 2>&1 || { cat "$T/make.log"; fail "make bundle"; }

step "an old SystemRescueCd layout"
O=$T/old
mkdir -p $O/isolinux
cp $ISOLINUX/isolinux.bin $BIOS/ldlinux.c32 $BIOS/ifcpu64.c32 $BIOS/menu.c32 $BIOS/hdt.c32 $O/isolinux/
for f in rescue64 rescue32 altker64 initram.igz; do head -c 4096 /dev/urandom >$O/isolinux/$f; done
head -c 300000 /dev/urandom >$O/sysrcd.dat; echo "x  sysrcd.dat" >$O/sysrcd.md5
# CRLF, as the old configs were written on DOS-minded systems.
sed 's/$/\r/' >$O/isolinux/isolinux.cfg <<'EOF'
UI menu.c32
PROMPT 0
TIMEOUT 900
DEFAULT rescuecd_std

LABEL rescuecd_std
MENU LABEL 1) SystemRescueCd: default boot options
KERNEL ifcpu64.c32
APPEND rescue64 scandelay=1 -- rescue32 scandelay=1

LABEL rescuecd_ram
MENU LABEL 2) SystemRescueCd: all files cached to memory
KERNEL ifcpu64.c32
APPEND rescue64 docache scandelay=1 nodmraid -- rescue32 docache scandelay=1

LABEL rescue64_std
MENU LABEL Standard 64bit kernel (rescue64)
LINUX rescue64
INITRD initram.igz
APPEND scandelay=1 setkmap=us

LABEL altker64
MENU LABEL Alternative 64bit kernel (altker64), twice nodmraid already
LINUX altker64
INITRD initram.igz
APPEND nodmraid scandelay=1 nodmraid

LABEL rescue32_noappend
MENU LABEL Standard 32bit kernel without APPEND
KERNEL rescue32
INITRD initram.igz

LABEL hdt
MENU LABEL Hardware Detection Tool
COM32 hdt.c32
APPEND modules_pcimap=modules.pcimap pciids=pci.ids
EOF
OLD_ENTRIES=5   # rescuecd_std, rescuecd_ram, rescue64_std, altker64, rescue32_noappend
xorriso -as mkisofs -J -R -V 'sysrcd-5.3.2' -b isolinux/isolinux.bin -c isolinux/boot.cat \
  -no-emul-boot -boot-load-size 4 -boot-info-table -o $T/old.iso $O 2>"$T/x.log" || { cat "$T/x.log"; fail "old ISO"; }

step "a modern SystemRescue layout (isolinux + syslinux cfgs, GRUB, efiboot.img, hybrid MBR/GPT)"
M=$T/modern
sysrescue_modern_iso $M $T/modern.iso || fail "building the modern fixture"
MODERN_ENTRIES=$SYSRESCUE_LINUX_ENTRIES MODERN_CFGS=$SYSRESCUE_CFGS
xorriso -indev $T/modern.iso -report_system_area plain 2>/dev/null | grep -q 'MBR isohybrid.*GPT' ||
  fail "the modern fixture is not hybrid MBR+GPT"

# cfgs ISO LIST DIR: extract the listed files of ISO under DIR.
cfgs() { rm -rf "$3"; mkdir -p "$3"; xorriso -osirrox on -indev "$1" -extract_l / "$3" $2 -- >/dev/null 2>&1 ||
  fail "extracting from $1"; }
OLD_CFGS="/isolinux/isolinux.cfg"

# check_cfgs ORIGDIR OUTDIR EXPECTED: every entry booting Linux has nodmraid
# once per "--" side, others none added; without nodmraid both trees agree.
check_cfgs() {
  python3 - "$1" "$2" "$3" <<'PY'
import os, re, sys
orig, out, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
W = "nodmraid"
def strip(line):
    return " ".join(t for t in line.split() if t != W)
entries = 0
for root, _, files in os.walk(out):
    for name in files:
        rel = os.path.relpath(os.path.join(root, name), out)
        o = open(os.path.join(orig, rel), newline="").read().splitlines()
        n = open(os.path.join(out, rel), newline="").read().splitlines()
        crlf = [l.endswith("\r") for l in n]
        if any(l.endswith("\r") for l in o):
            assert all(crlf), f"{rel}: CRLF line endings lost"
        n = [l.rstrip("\r") for l in n]; o = [l.rstrip("\r") for l in o]
        if "/grub/" in "/" + rel:
            for l in n:
                if re.match(r"\s*linux(16|efi)?\s", l):
                    assert l.split().count(W) == 1, f"{rel}: {l!r}"
                    entries += 1
            added = n
        else:
            # syslinux: group by LABEL, judge APPEND by what the label boots
            label, kind, has_append, added = None, {}, {}, []
            for l in n:
                kw, _, arg = l.strip().partition(" ")
                kw = kw.lower(); arg = arg.strip()
                if kw == "label": label = arg; kind[label] = None; has_append[label] = False
                elif kw in ("linux", "kernel", "com32", "config") and label:
                    base = arg.split("/")[-1].lower()
                    kind[label] = ("ifcpu64" if base == "ifcpu64.c32" else
                                   "linux" if kw == "linux" or (kw == "kernel" and not base.endswith(".c32")) else "other")
                elif kw == "append" and label:
                    has_append[label] = True
                    words = arg.split()
                    if kind[label] == "ifcpu64":
                        sides = " ".join(words).split(" -- ")
                        assert len(sides) == 2 and all(s.split().count(W) == 1 for s in sides), f"{rel}: {l!r}"
                        entries += 1
                    elif kind[label] == "linux":
                        assert words.count(W) == 1, f"{rel}: {l!r}"
                        entries += 1
                    else:
                        assert W not in words, f"{rel}: nodmraid given to a non-Linux entry: {l!r}"
            for lab, k in kind.items():
                assert k != "linux" or has_append[lab], f"{rel}: label {lab} boots Linux without APPEND"
            # lines the remaster may add: "APPEND nodmraid" after a bare LINUX/KERNEL
            added = [l for l in n if l.strip().lower() != "append " + W]
        assert [strip(l) for l in added] == [strip(l) for l in o], f"{rel}: changed beyond nodmraid"
assert entries == expected, f"{entries} entries with nodmraid, expected {expected}"
print(f"configs: {entries} boot entries carry nodmraid exactly once per side")
PY
}

# report ISO: xorriso's boot report with what must move (LBAs, image size,
# GUIDs derived from the time) blanked; the rest must match the original.
report() {
  xorriso -indev "$1" -report_el_torito plain -report_system_area plain 2>/dev/null | python3 -c '
import sys
for l in sys.stdin:
    k, _, v = l.partition(":"); k = k.strip(); f = v.split()
    if k in ("ISO image size/512", "GPT disk GUID", "GPT partition GUID", "GPT lba range"): continue
    if k == "El Torito catalog": f = f[1:]
    elif k == "El Torito boot img": f = f[:-1]
    elif k == "MBR partition": f = f[:3] + (f[4:] if f[3] != "0" else [])
    elif k == "GPT start and size": f = f[:1] + (f[2:] if f[1] != "0" else [])
    print(k, ":", " ".join(f))'
  xorriso -indev "$1" -report_system_area cmd 2>/dev/null | sed "s#:'$1'\$#:'ISO'#"
}

remaster() {  # remaster NAME: build/p2v-NAME.iso from $T/NAME.iso through make
  sha256sum $T/$1.iso >$T/$1.sum
  make -s -C "$TOP" BUILD="$BUILD" remaster ISO=$T/$1.iso OUT=$T/p2v-$1.iso >$T/$1.log 2>&1 ||
    { cat $T/$1.log; fail "make remaster ISO=$1.iso"; }
  cat $T/$1.log
  sha256sum -c --quiet $T/$1.sum || fail "the input ISO changed"
  [ -f $T/p2v-$1.iso ] && [ ! -e $T/p2v-$1.iso.part ] || fail "no output, or a .part left"
}

check_srm() {  # check_srm ISO PATH
  xorriso -osirrox on -indev "$1" -extract "$2" $T/p2v.srm >/dev/null 2>&1 || fail "$2 missing in $1"
  unsquashfs -lls $T/p2v.srm >$T/srm.ls || fail "$2 is not a squashfs"
  for p in opt/p2v/bin/p2v opt/p2v/bin/p2v.real opt/p2v/lib/ld-linux-x86-64.so.2 opt/p2v/lib/libc.so.6 \
           opt/p2v/VERSION usr/local/bin/p2v-autorun; do
    grep -q " squashfs-root/$p\$" $T/srm.ls || { cat $T/srm.ls; fail "$p not in the SRM"; }
  done
  grep -q '^lrwxrwxrwx root/root .* squashfs-root/usr/local/bin/p2v -> /opt/p2v/bin/p2v$' $T/srm.ls ||
    fail "usr/local/bin/p2v is not a root-owned symlink to the wrapper"
  rm -rf $T/srm; unsquashfs -q -d $T/srm $T/p2v.srm >/dev/null || fail "unsquashfs"
  [ "$($T/srm/opt/p2v/bin/p2v --version)" = "$("$P2V" --version)" ] || fail "the SRM's p2v does not run"
  cmp -s $T/srm/usr/local/bin/p2v-autorun "$TOP/rescue-iso/p2v-autorun" || fail "p2v-autorun differs"
}

# autorun CMDLINE: run the SRM's p2v-autorun in a chroot of the SRM tree and
# busybox, with CMDLINE bind-mounted over /proc/cmdline; output in $T/ar.out.
autorun() {
  mkdir -p $T/srm/bin $T/srm/proc $T/srm/dev $T/srm/run $T/srm/var/log $T/srm/tmp
  cp /bin/busybox $T/srm/bin/busybox
  for a in sh grep cat; do ln -sf busybox $T/srm/bin/$a; done
  printf '%s\n' "$1" >$T/cmdline
  unshare -m sh -c 'mount -t proc proc "$1/proc" && mount --bind "$2" "$1/proc/cmdline" && mount --rbind /dev "$1/dev" &&
    exec chroot "$1" /bin/busybox env -i PATH=/usr/local/bin:/bin /usr/local/bin/p2v-autorun' \
    autorun $T/srm $T/cmdline >$T/ar.out 2>&1 </dev/null
}

step "remaster the old layout"
remaster old
cfgs $T/old.iso "$OLD_CFGS" $T/old.orig
cfgs $T/p2v-old.iso "$OLD_CFGS" $T/old.out
check_cfgs $T/old.orig $T/old.out $OLD_ENTRIES
grep -q 'APPEND rescue64 scandelay=1 nodmraid -- rescue32 scandelay=1 nodmraid' $T/old.out/isolinux/isolinux.cfg ||
  fail "ifcpu64 line not as expected"
check_srm $T/p2v-old.iso /p2v.srm
xorriso -osirrox on -indev $T/p2v-old.iso -extract /autorun9 $T/autorun9 >/dev/null 2>&1 || fail "no /autorun9"
cmp -s $T/autorun9 "$TOP/rescue-iso/p2v-autorun" || fail "/autorun9 is not p2v-autorun"
[ "$(report $T/old.iso)" = "$(report $T/p2v-old.iso)" ] ||
  { diff <(report $T/old.iso) <(report $T/p2v-old.iso); fail "old: boot setup differs"; }

step "remaster the modern layout"
remaster modern
cfgs $T/modern.iso "$MODERN_CFGS" $T/modern.orig
cfgs $T/p2v-modern.iso "$MODERN_CFGS" $T/modern.out
check_cfgs $T/modern.orig $T/modern.out $MODERN_ENTRIES
check_srm $T/p2v-modern.iso /sysresccd/p2v.srm
xorriso -osirrox on -indev $T/p2v-modern.iso -extract /sysrescue.d/500-p2v.yaml $T/p2v.yaml >/dev/null 2>&1 ||
  fail "no /sysrescue.d/500-p2v.yaml"
python3 - $T/p2v.yaml <<'PY' || fail "the YAML does not load the SRM and autorun p2v"
import sys, yaml
y = yaml.safe_load(open(sys.argv[1]))
assert y["global"]["loadsrm"] is True, y
ex = y["autorun"]["exec"]
assert any(e.get("path") == "/usr/local/bin/p2v-autorun" for e in ex.values()), ex
PY
if [ -x /bin/busybox ] && file -L /bin/busybox | grep -q 'statically linked'; then
  step "p2v-autorun from the SRM: nothing without p2v.server, p2v run with it"
  autorun "BOOT_IMAGE=/sysresccd/boot/x86_64/vmlinuz archisobasedir=sysresccd nodmraid" ||
    { cat $T/ar.out; fail "p2v-autorun without p2v.server failed"; }
  assert_grep 'nothing runs by itself' $T/ar.out
  # p2v.pre=false: p2v run stops before touching anything, and says why.
  if autorun "nodmraid p2v.server=127.0.0.1 p2v.port=9 p2v.mode=ct p2v.name=web01 p2v.root=/opt p2v.accept_new_hostkey=1 p2v.pre=false p2v.post=none p2v.fail=none"; then
    cat $T/ar.out; fail "p2v run succeeded with a failing p2v.pre"
  fi
  cat $T/ar.out
  assert_grep 'p2v.pre' $T/ar.out
fi
[ "$(report $T/modern.iso)" = "$(report $T/p2v-modern.iso)" ] ||
  { diff <(report $T/modern.iso) <(report $T/p2v-modern.iso); fail "modern: boot setup differs"; }
report $T/p2v-modern.iso | grep -E 'El Torito (img path|boot img)|GPT partition path|MBR partition :'
# The MBR boot code (isohdpfx.bin, bytes 0-431) and the EFI image are the original bytes.
cmp -s <(head -c 432 $T/modern.iso) <(head -c 432 $T/p2v-modern.iso) || fail "MBR boot code differs"
cmp -s <(head -c 432 $T/modern.iso) <(head -c 432 $ISOLINUX/isohdpfx.bin) || fail "fixture MBR is not isohdpfx.bin"
xorriso -osirrox on -indev $T/p2v-modern.iso -extract /EFI/archiso/efiboot.img $T/efiboot.img >/dev/null 2>&1
cmp -s $T/efiboot.img $M/EFI/archiso/efiboot.img || fail "efiboot.img differs"

if grep -q WARNING $T/modern.log; then fail "a warning for SystemRescue's own EFI image"; fi

step "an EFI image with kernel options of its own (systemd-boot entry) is reported"
cp -a $M $T/efivar
printf 'title SystemRescue\nlinux /sysresccd/boot/x86_64/vmlinuz\noptions archisobasedir=sysresccd archisolabel=RESCUE1100\n' >$T/entry.conf
mmd -i $T/efivar/EFI/archiso/efiboot.img ::/loader ::/loader/entries &&
  mcopy -i $T/efivar/EFI/archiso/efiboot.img $T/entry.conf ::/loader/entries/sysresccd.conf || fail "mtools"
sysrescue_pack $T/efivar $T/efivar.iso || fail "efivar ISO"
SRM_COMP=gzip remaster efivar
assert_grep 'WARNING: the EFI image /EFI/archiso/efiboot.img holds kernel options' $T/efivar.log

step "a second remaster changes no boot configuration"
mv $T/p2v-modern.iso $T/again.iso
SRM_COMP=gzip remaster again   # xz was judged above; gzip is quicker
cfgs $T/p2v-again.iso "$MODERN_CFGS" $T/again.out
diff -r $T/modern.out $T/again.out || fail "the second remaster changed the configs"
grep -c 'already carry nodmraid' $T/again.log | grep -qx 4 || fail "expected all 4 configs reported as already done"

step "refusals"
echo "not an iso" >$T/junk.iso
expect_fail sh "$TOP/rescue-iso/remaster.sh" $T/junk.iso $T/o1.iso "$BUILD/bundle"
assert_grep 'not an ISO 9660 image' $T/err
mkdir -p $T/plain; echo hi >$T/plain/readme.txt
xorriso -as mkisofs -R -o $T/plain.iso $T/plain 2>/dev/null
expect_fail sh "$TOP/rescue-iso/remaster.sh" $T/plain.iso $T/o2.iso "$BUILD/bundle"
assert_grep 'no SystemRescue layout' $T/err
# The EFI El Torito image inside an appended partition (newer archiso):
# xorriso 1.5.4 cannot report it as a command, so it is refused, not dropped.
sysrescue_pack $M $T/appended.iso appended || fail "appended-partition ISO"
if xorriso -indev $T/appended.iso -report_system_area cmd >/dev/null 2>&1; then
  echo "NOTE: this xorriso describes appended-partition EFI images; refusal not tested"
else
  expect_fail sh "$TOP/rescue-iso/remaster.sh" $T/appended.iso $T/o3.iso "$BUILD/bundle"
  assert_grep 'cannot describe the boot setup' $T/err
  [ ! -e $T/o3.iso ] || fail "a refused remaster left an output"
fi
echo keep >$T/exists.iso
expect_fail make -s -C "$TOP" BUILD="$BUILD" remaster ISO=$T/old.iso OUT=$T/exists.iso
assert_grep 'exists' $T/err
[ "$(cat $T/exists.iso)" = keep ] || fail "an existing output was touched"
[ ! -e $T/o1.iso ] && [ ! -e $T/o2.iso ] || fail "a refused remaster left an output"
echo "remaster: old and modern layouts, $(du -m $T/p2v-old.iso | cut -f1) MiB / $(du -m $T/p2v-again.iso | cut -f1) MiB"
