#!/bin/sh
# dracut pre-mount hook (sourced by dracut, so no exit, only return): when
# p2v.server is set, wait for the network dracut brings up, warn about BIOS
# RAID without nodmraid, and run `p2v run` before the root is mounted.
# p2v.post / p2v.fail decide what follows; with none the boot goes on.
. /usr/lib/p2v/boot-lib.sh

p2v_dracut_main() {
    p2v_has p2v.server || return 0
    local P2V LOG=/run/initramfs/p2v-run.log cmdline i rc
    P2V=$(p2v_find) || { warn "p2v: p2v.server is set but p2v is not in this initramfs"; return 0; }
    mkdir -p /run/initramfs
    cmdline=$(cat /proc/cmdline)
    if [ -e /run/initramfs/p2v-net-by-dracut ]; then
        # dracut's ifup runs from udev events; give a slow DHCP server time.
        i=0
        while [ $i -lt 60 ] && [ -z "$(ip -4 route show default 2>/dev/null)" ] &&
              [ -z "$(ip -6 route show default 2>/dev/null)" ]; do
            sleep 1; i=$((i + 1))
        done
        [ $i -lt 60 ] || warn "p2v: no default route after 60 s; trying anyway"
        cmdline=$(p2v_cmdline_net_done "$cmdline")
    fi
    p2v_warn_fakeraid "$P2V" >/dev/console 2>&1
    export HOME=/run/initramfs/p2v-home
    mkdir -p "$HOME"
    info "p2v: running p2v run (log: $LOG)"
    "$P2V" run --cmdline "$cmdline" --log "$LOG" </dev/console >/dev/console 2>&1
    rc=$?
    [ $rc -eq 0 ] || warn "p2v: p2v run exited with status $rc; see $LOG. Booting on."
    return 0
}
p2v_dracut_main
unset -f p2v_dracut_main
