#!/bin/bash
# dracut module 90p2v (installed as /usr/lib/dracut/modules.d/90p2v/): puts
# p2v into the initramfs so that, when p2v.server=... is on the kernel
# command line, the server migrates itself in the pre-mount hook, before its
# root filesystem is mounted. The network comes from dracut's network module
# (Debian: dracut-network): p2v-cmdline.sh asks for it.

# Included whenever p2v is installed: the hooks do nothing without p2v.server.
check() {
    [ -x "${P2V_BUNDLE:-/usr/lib/p2v/bundle}/bin/p2v" ] || type -P p2v >/dev/null || return 1
    [ -f "${P2V_LIB:-/usr/lib/p2v/boot-lib.sh}" ] || return 1
    return 0
}

depends() {
    echo network
    return 0
}

installkernel() {
    # p2v ct --device mounts the source's filesystems read-only.
    hostonly='' instmods ext4 xfs btrfs vfat
}

install() {
    local bundle=${P2V_BUNDLE:-/usr/lib/p2v/bundle} f
    if [ -x "$bundle/bin/p2v" ]; then
        # As is: the bundle has its own loader and libraries; inst's ldd walk
        # must not swap them for the host's.
        mkdir -p "$initdir/usr/lib/p2v"
        rm -rf "$initdir/usr/lib/p2v/bundle"
        cp -a "$bundle" "$initdir/usr/lib/p2v/bundle"
    else
        inst_binary "$(type -P p2v)" /usr/bin/p2v
    fi
    inst_simple "${P2V_LIB:-/usr/lib/p2v/boot-lib.sh}" /usr/lib/p2v/boot-lib.sh
    inst_multiple -o ip cat mkdir
    if [ -d /etc/p2v/initramfs ]; then
        mkdir -p -m 0700 "$initdir/etc/p2v"
        for f in /etc/p2v/initramfs/*; do
            [ -f "$f" ] || continue
            # cp + chmod: "install" is this file's own function here.
            cp "$f" "$initdir/etc/p2v/${f##*/}"
            chmod 600 "$initdir/etc/p2v/${f##*/}"
        done
    fi
    inst_hook cmdline 05 "$moddir/p2v-cmdline.sh"
    inst_hook pre-mount 05 "$moddir/p2v-pre-mount.sh"
}
