#!/bin/bash
# make demo: migrate a real Debian root into a running LXC container, the way
# an admin would on a migration weekend, with every part real: mmdebstrap
# builds the "server" (cached after the first run), a throwaway sshd on
# loopback plays the hypervisor's SSH, ct-import receives and creates.
BUILD=${BUILD:-$(cd "$(dirname "$0")/.." && pwd)/build}
. "$(dirname "$0")/integration/lib.sh"
. "$TOP/tests/integration/sshd.sh"
. "$TOP/tests/lib/debian-root.sh"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. A physical server's root: Debian bookworm from mmdebstrap, with fstab, eno1 and a hostname"
debian_root "$T/server" minbase
make_it_look_physical "$T/server"
echo "   $(du -sh "$T/server" | cut -f1), $(find "$T/server" | wc -l) entries; hostname $(cat "$T/server/etc/hostname")"

say "2. The hypervisor: a throwaway sshd on 127.0.0.1:PORT, template cache and LXC path in $T"
start_sshd
echo "   sshd on port $SSHD_PORT, host key $SSHD_HOSTKEY_PIN"
CACHE="$T/cache"; LXCP="$T/lxc"; mkdir -p "$CACHE" "$LXCP"

say "3. p2v ct: archive, stream over SSH, verify, create and start the container"
cmd=("$P2V" ct --root "$T/server" --name demo-server --to "root@127.0.0.1:$SSHD_PORT"
     -i "$SSH_ID" --hostkey "$SSHD_HOSTKEY_PIN"
     --remote-import "$CTI receive --cache-dir $CACHE"
     --create --remote-create "$CTI create-ct --cache-dir $CACHE --lxc-path $LXCP"
     --backend lxc --memory 512 --start)
echo "   \$ ${cmd[*]}"
at_exit "lxc-stop -k -n demo-server -P $LXCP >/dev/null 2>&1; lxc-destroy -n demo-server -P $LXCP >/dev/null 2>&1"
"${cmd[@]}"

say "4. The template in the cache"
ls -l "$CACHE"

say "5. A command inside the running container"
lxc-ls -f -P "$LXCP"
echo "   \$ lxc-attach -n demo-server -- sh -c '…'"
lxc-attach -n demo-server -P "$LXCP" -- /bin/sh -c \
  '. /etc/os-release; echo "   os: $PRETTY_NAME"; echo "   hostname: $(hostname)"; echo "   pid 1: $(cat /proc/1/comm)"; echo "   fstab now:"; sed "s/^/     /" /etc/fstab'

say "Done: the server runs as container demo-server (stopped and removed now that the demo ends)"
