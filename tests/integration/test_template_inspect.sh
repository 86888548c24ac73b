#!/bin/bash
# create-ct reads OS, arch, hostname and network straight from template
# tarballs made by GNU tar (zstd, gzip, xz, plain) and prints the exact
# `pct create` argv in --dry-run; it refuses bad input with clear errors.
. "$(dirname "$0")/lib.sh"
[ -x "$CTI" ] || skip "ct-import not built"
command -v zstd >/dev/null || skip "zstd missing"
[ -e /bin/dash ] || skip "no /bin/dash to take an ELF header from"

CACHE=$T/cache
mkdir -p "$CACHE" "$T/pve"
# No cluster here: VMID checks look at this directory instead of /etc/pve.
export CTI_PVE_ETC=$T/pve
export CT_IMPORT_CONF=/dev/null
cti() { "$CTI" create-ct --cache-dir "$CACHE" --backend pve --dry-run "$@"; }

# Copy the host's dash, optionally rewriting its ELF class and machine.
elf() { # elf DEST [CLASS MACHINE_LO MACHINE_HI]
  cp /bin/dash "$1"
  if [ $# -eq 4 ]; then
    printf "\\x$(printf %02x "$2")" | dd of="$1" bs=1 seek=4 conv=notrunc status=none
    printf "\\x$(printf %02x "$3")\\x$(printf %02x "$4")" | dd of="$1" bs=1 seek=18 conv=notrunc status=none
  fi
}

# expect_argv NAME "ARGV" [options…]: the dry run prints exactly ARGV.
expect_argv() {
  local name=$1 want=$2; shift 2
  cti --template "$name" "$@" >"$T/out" 2>"$T/err" || { cat "$T/err" >&2; fail "create-ct $name failed"; }
  [ "$(cat "$T/out")" = "$want" ] || { cat "$T/err" >&2; printf 'got:  %s\nwant: %s\n' "$(cat "$T/out")" "$want" >&2; fail "argv for $name"; }
}

step "Debian 12: merged /usr, sh -> dash, ifupdown static in interfaces.d, zstd"
R=$T/debian; mkdir -p $R/usr/bin $R/usr/lib $R/etc/network/interfaces.d $R/var/lib
ln -s usr/bin $R/bin; ln -s usr/lib $R/lib
elf $R/usr/bin/dash; ln -s dash $R/usr/bin/sh
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n' >$R/usr/lib/os-release
ln -s ../usr/lib/os-release $R/etc/os-release
echo web1 >$R/etc/hostname
printf 'auto lo\niface lo inet loopback\n\nsource /etc/network/interfaces.d/*\n' >$R/etc/network/interfaces
cat >$R/etc/network/interfaces.d/ens18 <<'IF'
allow-hotplug ens18
iface ens18 inet static
	address 192.0.2.10
	netmask 255.255.255.0
	gateway 192.0.2.1
	dns-nameservers 192.0.2.53 9.9.9.9
	dns-search example.com
IF
printf 'nameserver 127.0.0.1\n' >$R/etc/resolv.conf
# 5 GiB of sparse data: 1.5 x used = 7.5 GiB -> an 8 GiB root disk.
truncate -s 5G $R/var/lib/big
tar --zstd --sparse -C $R -cpf $CACHE/debian12-web1.tar.zst .
expect_argv debian12-web1 "pct create 150 $CACHE/debian12-web1.tar.zst --arch amd64 --ostype debian --hostname web1 --unprivileged 0 --onboot 1 --rootfs local-lvm:8 --memory 1024 --cores 1 --net0 name=eth0,bridge=vmbr0,ip=192.0.2.10/24,gw=192.0.2.1 --nameserver '192.0.2.53 9.9.9.9' --searchdomain example.com" --vmid 150
assert_grep "Debian GNU/Linux 12" "$T/err"
# With its extension, and with options overriding the template.
expect_argv debian12-web1.tar.zst "pct create 777 $CACHE/debian12-web1.tar.zst --arch amd64 --ostype debian --hostname web2.example.com --unprivileged 0 --onboot 1 --rootfs tank:20 --memory 2048 --cores 2 --net0 name=eth0,bridge=vmbr1,ip=198.51.100.7/24,gw=198.51.100.1 --nameserver 1.1.1.1 --searchdomain example.com" \
  --vmid 777 --hostname web2.example.com --storage tank --disk-gb 20 --memory 2048 --cores 2 --bridge vmbr1 --ip 198.51.100.7/24 --gw 198.51.100.1 --nameserver 1.1.1.1
# An absolute path works too.
expect_argv $CACHE/debian12-web1.tar.zst "pct create 151 $CACHE/debian12-web1.tar.zst --arch amd64 --ostype debian --hostname web1 --unprivileged 0 --onboot 1 --rootfs local-lvm:8 --memory 1024 --cores 1 --net0 name=eth0,bridge=vmbr0,ip=192.0.2.10/24,gw=192.0.2.1 --nameserver '192.0.2.53 9.9.9.9' --searchdomain example.com" --vmid 151

step "old Debian i386: no os-release, real /bin, ifupdown dhcp, gzip"
R=$T/i386; mkdir -p $R/bin $R/etc/network
elf $R/bin/dash 1 3 0; ln -s dash $R/bin/sh
echo 9.13 >$R/etc/debian_version
printf 'legacy\n' >$R/etc/hostname
printf 'auto lo eth0\niface lo inet loopback\niface eth0 inet dhcp\n' >$R/etc/network/interfaces
tar -czpf $CACHE/squeeze.tar.gz -C $R .
expect_argv squeeze "pct create 152 $CACHE/squeeze.tar.gz --arch i386 --ostype debian --hostname legacy --unprivileged 0 --onboot 1 --rootfs local-lvm:4 --memory 1024 --cores 1 --net0 name=eth0,bridge=vmbr0,ip=dhcp" --vmid 152

step "CentOS-like: sh -> bash, ifcfg with NETMASK, gateway and hostname in sysconfig/network, xz"
R=$T/centos; mkdir -p $R/usr/bin $R/etc/sysconfig/network-scripts
ln -s usr/bin $R/bin
elf $R/usr/bin/bash; ln -s bash $R/usr/bin/sh
printf 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nPRETTY_NAME="Rocky Linux 8.9 (Green Obsidian)"\n' >$R/etc/os-release
printf 'NETWORKING=yes\nHOSTNAME=db1.corp.example.net\nGATEWAY=172.16.4.1\n' >$R/etc/sysconfig/network
printf 'DEVICE=lo\nIPADDR=127.0.0.1\nNETMASK=255.0.0.0\nONBOOT=yes\n' >$R/etc/sysconfig/network-scripts/ifcfg-lo
printf 'TYPE=Ethernet\nBOOTPROTO=none\nDEVICE=ens192\nONBOOT=yes\nIPADDR=172.16.5.9\nNETMASK=255.255.252.0\n' >$R/etc/sysconfig/network-scripts/ifcfg-ens192
printf '# Generated by NetworkManager\nsearch corp.example.net\nnameserver 172.16.4.2\nnameserver 172.16.4.3\n' >$R/etc/resolv.conf
tar -cJpf $CACHE/rocky8.tar.xz -C $R .
expect_argv rocky8 "pct create 153 $CACHE/rocky8.tar.xz --arch amd64 --ostype centos --hostname db1.corp.example.net --unprivileged 0 --onboot 1 --rootfs local-lvm:4 --memory 1024 --cores 1 --net0 name=eth0,bridge=vmbr0,ip=172.16.5.9/22,gw=172.16.4.1 --nameserver '172.16.4.2 172.16.4.3' --searchdomain corp.example.net" --vmid 153

step "Ubuntu: netplan with a default route, sh a hard link to dash, zstd"
R=$T/ubuntu; mkdir -p $R/usr/bin $R/usr/lib $R/etc/netplan
ln -s usr/bin $R/bin
elf $R/usr/bin/dash; ln $R/usr/bin/dash $R/usr/bin/sh
printf 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\n' >$R/usr/lib/os-release
ln -s ../usr/lib/os-release $R/etc/os-release
echo app01 >$R/etc/hostname
cat >$R/etc/netplan/50-cloud-init.yaml <<'NP'
# written by cloud-init
network:
    version: 2
    ethernets:
        ens3:
            addresses:
            - 203.0.113.20/25
            match:
                macaddress: "52:54:00:aa:bb:cc"
            nameservers:
                addresses: [203.0.113.53, 1.0.0.1]
                search:
                - lab.example.org
            routes:
            -   to: default
                via: 203.0.113.1
            set-name: ens3
NP
tar --zstd -cpf $CACHE/jammy.tar.zst -C $R .
expect_argv jammy "pct create 154 $CACHE/jammy.tar.zst --arch amd64 --ostype ubuntu --hostname app01 --unprivileged 0 --onboot 1 --rootfs local-lvm:4 --memory 1024 --cores 1 --net0 name=eth0,bridge=vmbr0,ip=203.0.113.20/25,gw=203.0.113.1 --nameserver '203.0.113.53 1.0.0.1' --searchdomain lab.example.org" --vmid 154

step "Alpine: busybox behind an absolute symlink, ifupdown static, plain tar"
R=$T/alpine; mkdir -p $R/bin $R/etc/network
elf $R/bin/busybox; ln -s /bin/busybox $R/bin/sh
printf 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.18.4\n' >$R/etc/os-release
echo 3.18.4 >$R/etc/alpine-release
echo gw-alpine >$R/etc/hostname
printf 'auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet static\n\taddress 10.20.30.40/24\n\tgateway 10.20.30.1\n' >$R/etc/network/interfaces
printf 'search home.arpa\nnameserver 10.20.30.1\n' >$R/etc/resolv.conf
tar -cpf $CACHE/alpine318.tar -C $R .
expect_argv alpine318 "pct create 155 $CACHE/alpine318.tar --arch amd64 --ostype alpine --hostname gw-alpine --unprivileged 0 --onboot 1 --rootfs local-lvm:4 --memory 1024 --cores 1 --net0 name=eth0,bridge=vmbr0,ip=10.20.30.40/24,gw=10.20.30.1 --nameserver 10.20.30.1 --searchdomain home.arpa" --vmid 155

step "Fedora arm64: NetworkManager keyfile, bzip2"
R=$T/fedora; mkdir -p $R/usr/bin $R/etc/NetworkManager/system-connections
ln -s usr/bin $R/bin
elf $R/usr/bin/bash 2 183 0; ln -s bash $R/usr/bin/sh
printf 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=39\n' >$R/etc/os-release
echo builder >$R/etc/hostname
cat >$R/etc/NetworkManager/system-connections/enp1s0.nmconnection <<'NM'
[connection]
id=enp1s0
type=ethernet
interface-name=enp1s0

[ipv4]
address1=192.168.50.5/24,192.168.50.1
dns=192.168.50.1;
method=manual
NM
tar -cjpf $CACHE/f39-arm.tar.bz2 -C $R .
expect_argv f39-arm "pct create 156 $CACHE/f39-arm.tar.bz2 --arch arm64 --ostype fedora --hostname builder --unprivileged 0 --onboot 1 --rootfs local-lvm:4 --memory 1024 --cores 1 --net0 name=eth0,bridge=vmbr0,ip=192.168.50.5/24,gw=192.168.50.1 --nameserver 192.168.50.1" --vmid 156

step "a free VMID is chosen and an existing one is never reused"
mkdir -p $T/pve/lxc $T/pve/qemu-server
touch $T/pve/lxc/100.conf $T/pve/qemu-server/101.conf
printf '{\n"version": 5,\n"ids": {\n"102": { "node": "pve2", "type": "lxc", "version": 3 }}\n}\n' >$T/pve/.vmlist
cti --template alpine318 >$T/out 2>$T/err || { cat $T/err; fail "no free VMID chosen"; }
grep -q '^pct create 103 ' $T/out || { cat $T/out; fail "expected VMID 103"; }
for id in 100 101 102; do
  if cti --template alpine318 --vmid $id >$T/out 2>$T/err; then fail "VMID $id reused"; else rc=$?; fi
  [ $rc -eq 3 ] || { cat $T/err; fail "VMID $id: exit $rc, want 3"; }
  assert_grep "already exists" $T/err
  [ ! -s $T/out ] || fail "VMID $id: printed an argv anyway"
done

step "refusals"
rc=0; cti --template nosuch >$T/out 2>$T/err || rc=$?
[ $rc -eq 1 ] || fail "missing template: exit $rc"; assert_grep "not found in $CACHE" $T/err
expect_fail cti --template ../etc/passwd; assert_grep "not a file name" $T/err
expect_fail cti --template /nonexistent/x.tar.gz
expect_fail cti; assert_grep "template is required" $T/err
for bad in "--vmid 99" "--vmid abc" "--cores 0" "--cores 9000" "--memory 8" "--hostname bad_name" \
           "--ip 10.0.0.1" "--ip 10.0.0.1/40" "--gw 300.1.1.1" "--storage a:b" "--backend docker" \
           "--bridge bad,br" "--frobnicate" "--ip dhcp --gw 10.0.0.1" "--nameserver example.com"; do
  rc=0; cti --template alpine318 --vmid 160 $bad >$T/out 2>$T/err || rc=$?
  [ $rc -eq 2 ] || { cat $T/err; fail "'$bad': exit $rc, want 2"; }
  grep -q error $T/err || fail "'$bad': no error message"
done
rc=0; cti --template alpine318 extra >$T/out 2>$T/err || rc=$?
[ $rc -eq 2 ] || fail "operand accepted"
# A file that is not an archive is reported, not guessed at.
echo "not a tarball" >$CACHE/junk.tar.gz
expect_fail cti --template junk.tar.gz --vmid 160
printf 'cache_dir = %s\ncolour = blue\n' "$CACHE" >$T/bad.conf
expect_fail "$CTI" create-ct --config $T/bad.conf --template alpine318 --dry-run --backend pve
assert_grep "bad.conf:2: unknown key 'colour'" $T/err

step "the config file names the cache"
printf '# test\ncache_dir = %s\n' "$CACHE" >$T/good.conf
"$CTI" create-ct --config $T/good.conf --template alpine318 --vmid 161 --dry-run --backend pve >$T/out
grep -q "^pct create 161 $CACHE/alpine318.tar " $T/out || fail "config cache_dir not used"

step "LXC backend dry run: nothing is created"
"$CTI" create-ct --cache-dir "$CACHE" --lxc-path $T/lxc --backend lxc --dry-run --template debian12-web1 >$T/out
assert_grep "debian12-web1" $T/out
[ ! -e $T/lxc/debian12-web1 ] || fail "dry run created a container"

step "pve backend for real, against a stand-in pct that records its calls"
# pct itself is absent here: the stand-in logs each argv and mounts the CT
# at a directory holding the unpacked template, so the real fixups run on it.
mkdir -p $T/fakebin $T/mnt
tar -xpf $CACHE/alpine318.tar -C $T/mnt
cat >$T/fakebin/pct <<PCT
#!/bin/sh
echo "pct \$*" >>$T/pct.log
case "\$1" in
  create) [ "\$2" = 666 ] && { echo "CT 666 already exists on node 'pve1'" >&2; exit 255; }; exit 0;;
  mount) echo "mounted CT \$2 in '$T/mnt'";;
esac
PCT
cat >$T/fakebin/pvesh <<PVESH
#!/bin/sh
echo "pvesh \$*" >>$T/pct.log
echo 205
PVESH
chmod +x $T/fakebin/pct $T/fakebin/pvesh
PATH=$T/fakebin:$PATH "$CTI" create-ct --cache-dir "$CACHE" --template alpine318 --start --memory 512 >$T/out 2>$T/err \
  || { cat $T/err; fail "create-ct with pct failed"; }
cat $T/pct.log
[ "$(sed -n 1p $T/pct.log)" = "pvesh get /cluster/nextid" ] || fail "nextid not asked"
[ "$(sed -n 2p $T/pct.log)" = "pct create 205 $CACHE/alpine318.tar --arch amd64 --ostype alpine --hostname gw-alpine --unprivileged 0 --onboot 1 --rootfs local-lvm:4 --memory 512 --cores 1 --net0 name=eth0,bridge=vmbr0,ip=10.20.30.40/24,gw=10.20.30.1 --nameserver 10.20.30.1 --searchdomain home.arpa" ] || fail "pct create argv"
[ "$(sed -n 3,5p $T/pct.log | tr '\n' ' ')" = "pct mount 205 pct unmount 205 pct start 205 " ] || fail "mount/unmount/start sequence"
assert_grep "created container 205" $T/out
# pct refusing (the VMID appeared meanwhile) is an error; nothing is mounted.
: >$T/pct.log
rc=0; PATH=$T/fakebin:$PATH "$CTI" create-ct --cache-dir "$CACHE" --template alpine318 --vmid 666 >$T/out 2>$T/err || rc=$?
[ $rc -ne 0 ] || fail "pct's refusal was ignored"
assert_grep "failed with exit status 255" $T/err
[ "$(wc -l <$T/pct.log)" -eq 1 ] || { cat $T/pct.log; fail "went on after pct create failed"; }

step "--help lists every option"
"$CTI" create-ct --help >$T/out
for o in template vmid hostname storage disk-gb memory cores bridge ip gw backend start dry-run cache-dir lxc-path config name nameserver searchdomain; do
  assert_grep "--$o" $T/out
done
echo "all template inspection checks passed"
