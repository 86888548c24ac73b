#!/bin/sh
# dracut cmdline hook (sourced by dracut): when p2v.server is set, ask for
# the network before dracut's network module reads the command line. p2v.ip
# (and p2v.iface) become an ip= of dracut's syntax; with neither p2v.ip nor
# ip=, DHCP. rd.neednet=1 makes dracut bring it up although the root is local.
# The additions go to /etc/cmdline.d, which getarg reads with /proc/cmdline.
# A p2v.ip that ip= cannot say (IPv6) is left to p2v run.
. /usr/lib/p2v/boot-lib.sh
if p2v_has p2v.server; then
    p2v_cmd_ip=""
    if p2v_cmd_ip=$(p2v_arg p2v.ip); then
        p2v_cmd_ip=$(p2v_ip_to_kernel "$p2v_cmd_ip" "$(p2v_arg p2v.iface)") || p2v_cmd_ip=none
    elif ! p2v_has ip; then
        p2v_cmd_ip=dhcp
    fi
    if [ "$p2v_cmd_ip" != none ]; then
        mkdir -p /etc/cmdline.d /run/initramfs
        { echo "rd.neednet=1"; [ -z "$p2v_cmd_ip" ] || echo "ip=$p2v_cmd_ip"; } >/etc/cmdline.d/90p2v.conf
        # Tells the pre-mount hook that dracut, not p2v run, sets the network up.
        : >/run/initramfs/p2v-net-by-dracut
    fi
    unset p2v_cmd_ip
fi
