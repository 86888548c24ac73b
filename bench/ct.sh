#!/bin/bash
# p2v ct against what an admin would otherwise type, in one run, on the same
# real Debian root (mmdebstrap, standard variant) and the same loopback sshd.
# Prints wall times, ratios and peak RSS. A benchmark, not a timed test.
set -eu
BUILD=${BUILD:-$(cd "$(dirname "$0")/.." && pwd)/build}
. "$(dirname "$0")/../tests/integration/lib.sh"
. "$TOP/tests/integration/sshd.sh"
. "$TOP/tests/lib/debian-root.sh"
ROUNDS=${ROUNDS:-3}

step "building the source root (cached after the first run)"
debian_root "$T/root" standard
start_sshd
C="$T/cache"; mkdir -p "$C"
SSH="ssh -i $SSH_ID -p $SSHD_PORT -o UserKnownHostsFile=$SSH_KNOWN_HOSTS -o BatchMode=yes root@127.0.0.1"
used=$(du -sb "$T/root" | cut -f1)
echo "source: $(du -sh "$T/root" | cut -f1) in $(find "$T/root" | wc -l) entries"

# run NAME SHELL-COMMAND: wall seconds, peak RSS (KiB) of the biggest
# process and output size, appended to $T/NAME.
run() {
  rm -f "$C"/*
  /usr/bin/time -f '%e %M' -o "$T/time" bash -c "$2" >/dev/null 2>"$T/err" || { cat "$T/err"; fail "$1 failed"; }
  echo "$(cat "$T/time") $(du -b "$C"/* | cut -f1 | head -1)" >> "$T/$1"
}
seed_gzip="tar -cpzf - --numeric-owner -C '$T/root' . | $SSH 'cat > $C/seed.tar.gz'"
tar_zstd="tar -cpf - --numeric-owner --acls --xattrs -C '$T/root' . | zstd -q -T0 | $SSH 'cat > $C/zstd.tar.zst'"
p2v_ct="exec '$P2V' ct --root '$T/root' --name p2v --to root@127.0.0.1:$SSHD_PORT -i '$SSH_ID' \
  --known-hosts '$SSH_KNOWN_HOSTS' --progress none --remote-import '$CTI receive --cache-dir $C'"

for r in $(seq "$ROUNDS"); do   # interleaved, so drift hits every method alike
  step "round $r"
  run seed "$seed_gzip"
  run zstd "$tar_zstd"
  run p2v "$p2v_ct"
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { awk -v c="$2" '{print $c}' "$T/$1" | median; }
p2v_t=$(col p2v 1)
printf '\n%-32s %9s %10s %12s %14s\n' method wall_s ratio peak_rss_MiB output_MiB
for m in seed zstd p2v; do
  t=$(col $m 1); rss=$(col $m 2); out=$(col $m 3)
  label=$(case $m in seed) echo "tar -cpzf | ssh (seed)";; zstd) echo "tar | zstd -T0 | ssh";; p2v) echo "p2v ct -> ct-import";; esac)
  printf '%-32s %9.2f %10.2f %12.1f %14.1f\n' "$label" "$t" "$(echo "$p2v_t / $t" | bc -l)" \
    "$(echo "$rss / 1024" | bc -l)" "$(echo "$out / 1048576" | bc -l)"
done
echo "(ratio = p2v wall time / method's wall time; source $(echo "$used / 1048576" | bc) MiB;"
echo " peak RSS is the largest single process: for pipelines, their biggest member)"
