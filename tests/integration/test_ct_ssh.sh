#!/bin/bash
# The whole P2CT path: a root holding every kind of metadata goes through
# p2v ct -> real sshd on loopback -> ct-import receive; the template is then
# unpacked with Proxmox's own GNU tar command line and with bsdtar, and both
# trees must equal the source. Also: a cut connection publishes nothing, and
# a missing source is a clear error.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/sshd.sh"
. "$TOP/tests/integration/mkroot-metadata.sh"

# Source and unpacked trees need user/trusted xattrs and ACLs: use ext4.
truncate -s 1G "$T/fs.img"
mkfs.ext4 -q -F "$T/fs.img"
mkdir "$T/fs"; mount -o loop "$T/fs.img" "$T/fs"; at_exit "umount -l $T/fs"
W="$T/fs"
mkroot_metadata "$W/src"
C="$T/cache"; mkdir -p "$C"
start_sshd
TO="root@127.0.0.1:$SSHD_PORT"
SSHOPT=(-i "$SSH_ID" --known-hosts "$SSH_KNOWN_HOSTS" --progress none)
EXCL=(--exclude 'proc/*' --exclude 'sys/*' --exclude 'dev/*' --exclude 'run/*' --exclude 'tmp/*'
      --exclude lost+found --exclude swapfile --exclude var/swap.img --exclude srv/socket
      --no-root-mtime)  # sockets cannot be archived; the unpack target's own mtime is not ours

step "p2v ct streams the root to ct-import receive"
"$P2V" ct --root "$W/src" --name meta --to "$TO" "${SSHOPT[@]}" \
  --remote-import "$CTI receive --cache-dir $C" 2>&1 | tee "$T/p2v.log"
[ "$(ls "$C")" = meta.tar.zst ] || fail "cache holds: $(ls -A "$C")"
assert_grep "verified" "$T/p2v.log"
zstd -t -q "$C/meta.tar.zst" || fail "not a valid zstd file"

step "Proxmox's GNU tar command unpacks it without a warning"
# The one exception: members whose names are not UTF-8 carry libarchive's
# hdrcharset=BINARY, which GNU tar notes (and then restores the exact bytes).
mkdir "$W/gnu"
tar xpf - --numeric-owner --acls --xattrs --xattrs-include='user.*' --xattrs-include='trusted.*' \
  --xattrs-include=security.capability --sparse -C "$W/gnu" \
  < <(zstd -dc "$C/meta.tar.zst") 2>"$T/tar.err"
grep -v "Ignoring unknown extended header keyword 'hdrcharset'" "$T/tar.err" > "$T/tar.warn" || true
[ ! -s "$T/tar.warn" ] || { cat "$T/tar.warn"; fail "GNU tar printed warnings"; }
python3 "$TOP/tests/integration/compare-trees.py" "${EXCL[@]}" "$W/src" "$W/gnu" ||
  fail "GNU tar's tree differs from the source"

step "bsdtar unpacks it to the same tree"
mkdir "$W/bsd"
bsdtar -xpf "$C/meta.tar.zst" --numeric-owner --acls --xattrs -C "$W/bsd" 2>"$T/bsd.err" ||
  { cat "$T/bsd.err"; fail "bsdtar failed"; }
python3 "$TOP/tests/integration/compare-trees.py" "${EXCL[@]}" "$W/src" "$W/bsd" ||
  fail "bsdtar's tree differs from the source"

step "excluded contents are absent, their directories present"
for d in proc sys dev run tmp; do
  [ -d "$W/gnu/$d" ] || fail "/$d missing"
  [ -z "$(ls -A "$W/gnu/$d")" ] || fail "/$d not empty: $(ls -A "$W/gnu/$d")"
done

step "gzip on request"
"$P2V" ct --root "$W/src" --name meta-gz --compress gzip --to "$TO" "${SSHOPT[@]}" \
  --remote-import "$CTI receive --cache-dir $C"
gzip -t "$C/meta-gz.tar.gz" || fail "not gzip"

step "an existing template is refused and kept (exit 5, remote exit 3)"
sum=$(sha256sum < "$C/meta.tar.zst")
set +e; "$P2V" ct --root "$W/src" --name meta --to "$TO" "${SSHOPT[@]}" \
  --remote-import "$CTI receive --cache-dir $C" 2>"$T/err"; rc=$?; set -e
cat "$T/err"; [ $rc -eq 5 ] || fail "exit $rc, expected 5"
assert_grep "already exists" "$T/err"
[ "$(sha256sum < "$C/meta.tar.zst")" = "$sum" ] || fail "existing template changed"

step "a source that does not exist is a clear error"
set +e; "$P2V" ct --root "$T/nonexistent" --name x --to "$TO" "${SSHOPT[@]}" 2>"$T/err"; rc=$?; set -e
cat "$T/err"; [ $rc -ne 0 ] || fail "succeeded"
assert_grep "nonexistent: No such file or directory" "$T/err"

step "a connection cut mid-stream publishes nothing (no reconnect: --retries 0)"
mkdir -p "$W/big"
head -c 400M /dev/urandom > "$W/big/random"   # incompressible: the transfer takes a while
rm -rf "$C"/* "$C"/.[!.]*   # also earlier transfers' done markers (.NAME.resume)
"$P2V" ct --root "$W/big" --name cut --to "$TO" "${SSHOPT[@]}" --threads 1 \
  --retries 0 --state-dir "$T/state" --remote-import "$CTI receive --cache-dir $C" 2>"$T/err" & p2v=$!
# Wait until the receiver runs, then kill the SSH session serving it.
for i in $(seq 100); do pgrep -f "receive --cache-dir $C" >/dev/null && break; sleep 0.1; done
sleep 0.5
pkill -KILL -P "$SSHD_PID" || fail "no sshd session to cut"
set +e; wait $p2v; rc=$?; set -e
cat "$T/err"; [ $rc -ne 0 ] || fail "p2v succeeded over a cut connection"
sleep 0.5
[ -z "$(ls "$C")" ] || fail "something was published: $(ls -A "$C")"
# Only the hidden staging files a resumed transfer continues from.
for f in $(ls -A "$C"); do
  case "$f" in .cut.tar.zst.partial|.cut.tar.zst.resume|.cut.tar.zst.lock) ;;
  *) fail "unexpected $f in the cache" ;; esac
done
echo "end to end: lossless and refusing"
