#!/bin/bash
# Loopback throughput of p2v's SSH transport against a throwaway sshd, next to
# plain libssh with its default cipher list and with chacha20-poly1305.
# Usage: bash bench/ssh.sh [MIB]   (BUILD defaults to ./build)
BUILD=${BUILD:-$(cd "$(dirname "$0")/.." && pwd)/build}
. "$(dirname "$0")/../tests/integration/lib.sh"
. "$TOP/tests/integration/sshd.sh"
mib=${1:-1024}
bin="$BUILD/bench-ssh-write"
# Linked against the built libraries, so it follows however p2v's SSH code is split.
make -s -C "$TOP" BUILD="$BUILD" "$BUILD/libp2v.a" "$BUILD/libcommon.a"
cc -std=gnu11 -O2 -D_GNU_SOURCE -I"$TOP/lib" -I"$TOP/p2v" -o "$bin" "$TOP/bench/ssh_write.c" \
  "$BUILD/libp2v.a" "$BUILD/libcommon.a" \
  $(pkg-config --libs libarchive libssh blkid devmapper libparted libzstd libcrypto jansson ext2fs zlib) \
  -lacl -lpthread
start_sshd
"$bin" 127.0.0.1 "$SSHD_PORT" "$SSH_ID" "$SSHD_HOSTKEY_PIN" "$mib"
CIPHER=default "$bin" 127.0.0.1 "$SSHD_PORT" "$SSH_ID" "$SSHD_HOSTKEY_PIN" "$mib"
CIPHER=chacha20-poly1305@openssh.com "$bin" 127.0.0.1 "$SSHD_PORT" "$SSH_ID" "$SSHD_HOSTKEY_PIN" "$mib"
CIPHER=aes128-gcm@openssh.com "$bin" 127.0.0.1 "$SSHD_PORT" "$SSH_ID" "$SSHD_HOSTKEY_PIN" "$mib"
if command -v ssh >/dev/null; then
  s=$(date +%s.%N)
  head -c "${mib}M" /dev/urandom >"$T/blob"
  s=$(date +%s.%N)
  ssh -q -o BatchMode=yes -o UserKnownHostsFile="$SSH_KNOWN_HOSTS" -i "$SSH_ID" -p "$SSHD_PORT" \
    -c aes128-gcm@openssh.com root@127.0.0.1 'cat >/dev/null' <"$T/blob"
  e=$(date +%s.%N)
  awk -v m="$mib" -v s="$s" -v e="$e" 'BEGIN{printf "openssh ssh aes128-gcm %27s %8.1f MB/s\n", "", m*1048576/(e-s)/1e6}'
fi
