#!/bin/bash
# initramfs-hooks/p2v-boot-lib.sh, the shell functions both initramfs
# generators' scripts use, under each shell an initramfs may have: dash
# (klibc's sh is dash) and busybox sh. Words are read the way the scripts
# read /proc/cmdline; p2v.ip becomes the kernel's ip= form; removing the
# network keys keeps every other byte (quotes too) for p2v run.
. "$(dirname "$0")/lib.sh"

shells=()
command -v dash >/dev/null && shells+=(dash)
command -v busybox >/dev/null && shells+=("busybox sh")
[ ${#shells[@]} -gt 0 ] || skip "neither dash nor busybox"

cat >"$T/cases.sh" <<'EOF2'
. "$LIB"
n=0
check() {  # check NAME EXPECTED ACTUAL
  n=$((n + 1))
  [ "$2" = "$3" ] || { echo "MISMATCH $1: expected [$2] got [$3]"; exit 1; }
}
L='BOOT_IMAGE=/vmlinuz root=/dev/sda1 p2v.server=10.0.2.2 nodmraid p2v.ip=192.0.2.7/24,192.0.2.1,192.0.2.53 p2v.pre="echo a b" p2v.iface=eno1 quiet p2v.ip=dhcp'
check arg-last "dhcp" "$(p2v_arg p2v.ip "$L")"
check arg-server "10.0.2.2" "$(p2v_arg p2v.server "$L")"
p2v_arg p2v.port "$L" >/dev/null && { echo "MISMATCH absent key found"; exit 1; }
check has-bare 0 "$(p2v_has nodmraid "$L"; echo $?)"
check has-prefix-only 1 "$(p2v_has nodmrai "$L"; echo $?)"
check has-not-substring 1 "$(p2v_has dmraid "$L"; echo $?)"
check strip 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 p2v.server=10.0.2.2 nodmraid p2v.pre="echo a b" quiet' \
  "$(p2v_cmdline_net_done "$L")"
check strip-first 'a b' "$(p2v_strip_key 'p2v.ip=x a b' p2v.ip)"
check strip-last 'a b' "$(p2v_strip_key 'a b p2v.ip=x' p2v.ip)"
check strip-only '' "$(p2v_strip_key 'p2v.ip=x' p2v.ip)"
check strip-not-prefix 'xp2v.ip=1 p2v.ipx=2' "$(p2v_strip_key 'xp2v.ip=1 p2v.ipx=2' p2v.ip)"
check mask24 255.255.255.0 "$(p2v_netmask 24)"
check mask0 0.0.0.0 "$(p2v_netmask 0)"
check mask32 255.255.255.255 "$(p2v_netmask 32)"
check mask19 255.255.224.0 "$(p2v_netmask 19)"
check mask33 1 "$(p2v_netmask 33 >/dev/null; echo $?)"
check ip-full '192.0.2.7::192.0.2.1:255.255.255.0::eno1:off:192.0.2.53' \
  "$(p2v_ip_to_kernel 192.0.2.7/24,192.0.2.1,192.0.2.53 eno1)"
check ip-gw '10.0.2.15::10.0.2.2:255.255.255.0:::off' "$(p2v_ip_to_kernel 10.0.2.15/24,10.0.2.2 '')"
check ip-addr-only '10.1.0.5:::255.255.0.0:::off' "$(p2v_ip_to_kernel 10.1.0.5/16 '')"
check ip-dhcp dhcp "$(p2v_ip_to_kernel dhcp '')"
check ip-dhcp-dev ':::::eth1:dhcp' "$(p2v_ip_to_kernel dhcp eth1)"
check ip-v6 1 "$(p2v_ip_to_kernel 2001:db8::5/64,2001:db8::1 ''; echo $?)"
check ip-noprefix 1 "$(p2v_ip_to_kernel 192.0.2.7 ''; echo $?)"
check ip-badprefix 1 "$(p2v_ip_to_kernel 192.0.2.7/40 ''; echo $?)"
echo "CASES OK $n"
EOF2
for sh in "${shells[@]}"; do
  step "the functions under $sh"
  LIB="$TOP/initramfs-hooks/p2v-boot-lib.sh" $sh "$T/cases.sh" >"$T/out" 2>&1 || { cat "$T/out"; fail "$sh"; }
  cat "$T/out"
  assert_grep "CASES OK" "$T/out"
done
echo "boot-lib: argument reading, ip= translation and key removal agree in every shell"
