#!/bin/bash
# p2v disk against what an admin would otherwise type, one run each, on the
# same loop device (a 4 GiB GPT disk whose ext4 partition holds a Debian
# root) and the same loopback sshd: dd|ssh, pigz|ssh, qemu-img convert +
# scp, zstd|ssh|zstd --sparse, partclone.ext4|zstd|ssh. Prints wall times,
# ratios to the fastest alternative and peak RSS, then p2v's peak RSS on a
# 64 GiB sparse disk. A benchmark, not a timed test.
set -eu
BUILD=${BUILD:-$(cd "$(dirname "$0")/.." && pwd)/build}
. "$(dirname "$0")/../tests/integration/lib.sh"
. "$TOP/tests/integration/sshd.sh"
. "$TOP/tests/lib/debian-root.sh"
for c in pigz zstd qemu-img partclone.ext4 sfdisk mkfs.ext4 losetup; do
  command -v $c >/dev/null || skip "$c missing (make deps)"
done
MiB=$((1024 * 1024))

step "building the source disk (the root is cached after the first run)"
debian_root "$T/root" standard
IMG=$T/disk.img
truncate -s 4G "$IMG"
printf 'label: gpt\nstart=2048, type=L\n' | sfdisk -q "$IMG"
mkfs.ext4 -q -F -E offset=$MiB "$IMG" $((4 * 1024 * 1024 - 2048))K
LOOP=$(losetup -f --show "$IMG"); PART=$(losetup -f --show -o $MiB "$IMG")
at_exit "losetup -d $LOOP; losetup -d $PART"
mkdir "$T/m"; mount "$PART" "$T/m"; cp -a "$T/root/." "$T/m/"; umount "$T/m"
start_sshd
C=$T/dst; mkdir -p "$C"
SSH="ssh -i $SSH_ID -p $SSHD_PORT -o UserKnownHostsFile=$SSH_KNOWN_HOSTS -o BatchMode=yes root@127.0.0.1"
SCP="scp -O -q -i $SSH_ID -P $SSHD_PORT -o UserKnownHostsFile=$SSH_KNOWN_HOSTS -o BatchMode=yes"

# run NAME SHELL-COMMAND: wall seconds and peak RSS (KiB) of the biggest process.
run() {
  rm -rf "$C"/* "$T"/local.qcow2; sync; echo 3 >/proc/sys/vm/drop_caches
  /usr/bin/time -f '%e %M' -o "$T/time" bash -c "$2" >/dev/null 2>"$T/err" || { cat "$T/err"; fail "$1 failed"; }
  read -r wall rss <"$T/time"
  printf '%-12s %8.1f s %8d KiB\n' "$1" "$wall" "$rss" | tee -a "$T/results"
}
run p2v "exec '$P2V' disk --disk $LOOP --name p2v --to root@127.0.0.1:$SSHD_PORT -i '$SSH_ID' \
  --known-hosts '$SSH_KNOWN_HOSTS' --progress none --remote-import '$CTI receive --import-dir $C'"
run dd "dd if=$LOOP bs=4M status=none | $SSH 'cat > $C/dd.raw'"
run pigz "pigz -c <$LOOP | $SSH 'cat > $C/disk.gz'"
run qemu-img "qemu-img convert -O qcow2 $LOOP $T/local.qcow2 && $SCP $T/local.qcow2 root@127.0.0.1:$C/"
run zstd "zstd -q -T0 -1 -c <$LOOP | $SSH 'zstd -q -d --sparse -o $C/z.raw'"
run partclone "partclone.ext4 -q -c -s $PART -o - 2>/dev/null | zstd -q -T0 -1 | $SSH 'cat > $C/pc.zst'"

best=$(grep -v '^p2v ' "$T/results" | sort -k2 -n | head -1)
mine=$(awk '$1 == "p2v" {print $2}' "$T/results")
echo "fastest alternative: $best"
awk -v m="$mine" '$1 != "p2v" {printf "p2v / %-10s %.2f\n", $1, m / $2}' "$T/results"

step "peak RSS on a 64 GiB sparse disk (free blocks skipped; hashing its zeros dominates)"
truncate -s 64G "$T/big.img"; mkfs.ext4 -q -F "$T/big.img"
/usr/bin/time -f 'p2v 64 GiB: %e s wall, %U s user, peak RSS %M KiB' \
  "$P2V" disk --disk "$T/big.img" --name big --output "$T/big.raw" --progress none 2>&1 | tail -2
