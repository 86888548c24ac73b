# Shell functions the initramfs-tools script and the dracut hooks share.
# Sourced, not run. Plain POSIX sh with builtins only: an initramfs built
# without busybox has klibc's sh and a handful of tools, no grep or sed.
# Every name starts with p2v_ because dracut sources hooks into its own shell.

# Where p2v is inside the initramfs: the relocatable bundle first, then a
# p2v the hook copied with its libraries.
p2v_find() {
  for p2v_f in /usr/lib/p2v/bundle/bin/p2v /usr/bin/p2v /usr/sbin/p2v; do
    [ -x "$p2v_f" ] && { echo "$p2v_f"; return 0; }
  done
  return 1
}

# The value of kernel command line key $1 (last one wins, as in p2v run), or
# status 1 when absent. $2: the command line (default /proc/cmdline). Quoted
# values are not needed for the keys this is used for.
p2v_arg() {
  p2v_line=${2-$(cat /proc/cmdline)}
  p2v_found=1
  for p2v_w in $p2v_line; do
    case $p2v_w in
      "$1"=*) p2v_val=${p2v_w#*=}; p2v_found=0;;
      "$1") p2v_val=""; p2v_found=0;;
    esac
  done
  [ "$p2v_found" = 0 ] && echo "$p2v_val"
  return $p2v_found
}

# Whether word $1 (or $1=...) is on the command line $2 (default /proc/cmdline).
p2v_has() {
  p2v_arg "$1" "${2-$(cat /proc/cmdline)}" >/dev/null
}

# Print command line $1 without the words "$2=..." (every occurrence). The
# rest is kept byte for byte, quotes included, so p2v run splits it as it
# would split /proc/cmdline. Values of the removed keys must not hold spaces.
p2v_strip_key() {
  p2v_s=" $1" p2v_out=""
  while :; do
    case $p2v_s in *" $2="*) ;; *) break;; esac
    p2v_out="$p2v_out${p2v_s%%" $2="*}"
    p2v_s=${p2v_s#*" $2="}
    case $p2v_s in *" "*) p2v_s=" ${p2v_s#* }";; *) p2v_s="";; esac
  done
  p2v_out="$p2v_out$p2v_s"
  echo "${p2v_out# }"
}

# Dotted IPv4 netmask for prefix length $1 (0-32), or status 1.
p2v_netmask() {
  case $1 in ''|*[!0-9]*) return 1;; esac
  [ "$1" -le 32 ] || return 1
  p2v_m=$(( (0xffffffff << (32 - $1)) & 0xffffffff ))
  echo "$(( (p2v_m >> 24) & 255 )).$(( (p2v_m >> 16) & 255 )).$(( (p2v_m >> 8) & 255 )).$(( p2v_m & 255 ))"
}

# Translate p2v.ip ($1) and p2v.iface ($2) into the kernel's
# ip=CLIENT::GW:NETMASK::DEVICE:AUTOCONF[:DNS] form that both initramfs-tools
# (ipconfig) and dracut understand; "dhcp" stays dhcp (with the device when
# named). Status 1 for what that form cannot say (IPv6, malformed): p2v run
# then handles p2v.ip itself.
p2v_ip_to_kernel() {
  case $1 in
    dhcp)
      if [ -n "$2" ]; then echo ":::::$2:dhcp"; else echo dhcp; fi
      return 0;;
    *:*|'') return 1;;   # IPv6 or nothing
  esac
  p2v_addr=${1%%/*}
  p2v_rest=${1#*/}
  [ "$p2v_rest" != "$1" ] || return 1
  p2v_prefix=${p2v_rest%%,*}
  p2v_gw="" p2v_dns=""
  case $p2v_rest in
    *,*) p2v_rest=${p2v_rest#*,}; p2v_gw=${p2v_rest%%,*}
         case $p2v_rest in *,*) p2v_dns=${p2v_rest#*,};; esac;;
  esac
  p2v_mask=$(p2v_netmask "$p2v_prefix") || return 1
  echo "$p2v_addr::$p2v_gw:$p2v_mask::$2:off${p2v_dns:+:$p2v_dns}"
}

# The command line for p2v run once the initramfs has brought the network
# up: $1 without p2v.ip and p2v.iface, so p2v run does not configure it again.
p2v_cmdline_net_done() {
  p2v_strip_key "$(p2v_strip_key "$1" p2v.ip)" p2v.iface
}

# Warn on the console when a disk carries BIOS RAID metadata and the kernel
# command line lacks nodmraid: the initramfs's dmraid/mdadm scripts may then
# assemble the set, and p2v refuses (exit 6) to read members of an assembled
# set. $1: p2v. Prints the warning; status 0 when it warned.
p2v_warn_fakeraid() {
  p2v_has nodmraid && return 1
  p2v_report=/run/initramfs/p2v-check.txt
  "$1" check >"$p2v_report" 2>&1
  [ $? -eq 6 ] || return 1
  echo "p2v: WARNING: BIOS RAID (fake RAID) metadata is on a disk and 'nodmraid' is not on the"
  echo "p2v: WARNING: kernel command line. Add nodmraid to it, or p2v will refuse to migrate."
  while IFS= read -r p2v_l; do echo "p2v:   $p2v_l"; done <"$p2v_report"
  return 0
}
