# Sourceable: mkroot_metadata DIR builds a small root filesystem holding every
# kind of metadata a lossless archive must keep, plus what it must leave out.
#
# DIR's filesystem must support user/trusted xattrs and POSIX ACLs (ext4
# does; use mkroot_metadata_fs_ok DIR to check, and a loop-mounted ext4
# image if it does not). Needs root (mknod, chown, trusted.*, setcap).
#
# Left out by the archiver, so not compared:
#   proc/* sys/* dev/* run/* tmp/*   (directories kept, with their modes)
#   lost+found                      (the directory itself)
#   swapfile, var/swap.img          (fstab swap, swap signature)

# mkroot_metadata_fs_ok DIR: 0 if DIR's filesystem takes user.*/trusted.*
# xattrs and ACLs.
mkroot_metadata_fs_ok() {
  local f="$1/.xattr-probe.$$" ok=0
  : >"$f" || return 1
  setfattr -n user.probe -v 1 "$f" 2>/dev/null &&
    setfattr -n trusted.probe -v 1 "$f" 2>/dev/null &&
    setfacl -m u:12345:r "$f" 2>/dev/null || ok=1
  rm -f "$f"
  return $ok
}

mkroot_metadata() {
  local r=${1:?usage: mkroot_metadata DIR}
  mkdir -p "$r"
  (
    set -eu
    cd "$r"
    mkdir -p etc usr/bin usr/lib var/log var/cache/apt/archives home/alice \
      srv/empty/deeper srv/perm opt/links
    # A passwd whose uids differ from the build machine's: names must come
    # from here, ACLs must travel numerically.
    cat >etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/bash
alice:x:4242:4343:Alice:/home/alice:/bin/bash
svc:x:777:777::/nonexistent:/usr/sbin/nologin
EOF
    cat >etc/group <<'EOF'
root:x:0:
alice:x:4343:
svc:x:777:
EOF
    cat >etc/fstab <<'EOF'
# <file system> <mount point> <type> <options> <dump> <pass>
UUID=0a1b2c3d-1111-4222-8333-444455556666 / ext4 errors=remount-ro 0 1
/swapfile none swap sw 0 0
EOF
    echo "hello" >etc/motd

    # Owners that exist only as numbers, and ones named in etc/passwd.
    echo data >srv/perm/numeric; chown 12345:54321 srv/perm/numeric
    echo data >home/alice/file; chown -R 4242:4343 home/alice
    # Special mode bits.
    echo x >srv/perm/setuid; chmod 4755 srv/perm/setuid
    echo x >srv/perm/setgid; chmod 2711 srv/perm/setgid
    mkdir srv/perm/sticky; chmod 1777 srv/perm/sticky
    mkdir srv/perm/sgid-dir; chmod 2770 srv/perm/sgid-dir; chown 0:777 srv/perm/sgid-dir
    echo x >srv/perm/none; chmod 000 srv/perm/none
    echo x >srv/perm/all; chmod 7777 srv/perm/all
    # Nanosecond mtimes (directories get theirs at the end).
    touch -d '2021-02-03 04:05:06.123456789' etc/motd
    touch -d '1999-12-31 23:59:59.000000001' srv/perm/numeric
    # Symlinks: absolute, relative, dangling, to a directory; one owned by
    # a user (lchown).
    ln -s /etc/motd opt/links/abs
    ln -s ../../etc/motd opt/links/rel
    ln -s /does/not/exist opt/links/dangling
    ln -s ../srv opt/links/dir
    ln -s motd-target opt/links/owned; chown -h 12345:54321 opt/links/owned
    # Hard links, three ways, across directories; and a hard-linked symlink.
    echo linked >usr/lib/hl1; ln usr/lib/hl1 usr/lib/hl2; ln usr/lib/hl1 var/hl3
    ln opt/links/rel opt/links/rel-hardlink
    # Device nodes and a fifo (outside /dev, where they would be excluded).
    mknod srv/char c 1 3; mknod srv/block b 7 200; mkfifo srv/fifo
    chmod 0620 srv/char; chown 0:5 srv/char
    # A socket: tar cannot store it; skipped without a warning.
    python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' srv/socket
    # POSIX ACLs: access (named user/group, numeric and from etc/passwd) and
    # default on a directory.
    echo acl >srv/acl-file
    setfacl -m u:12345:rw-,u:4242:r--,g:54321:r--,g:777:rw-,m::rw- srv/acl-file
    mkdir srv/acl-dir
    setfacl -m u:12345:rwx srv/acl-dir
    setfacl -d -m u::rwx,g::r-x,o::---,u:4242:rwx,g:777:r-x srv/acl-dir
    echo inherits >srv/acl-dir/child
    # Extended attributes: user.*, trusted.*, binary values, an empty one,
    # on a file, a directory and (trusted.*) a symlink.
    echo x >srv/xattr
    setfattr -n user.comment -v "hello world" srv/xattr
    setfattr -n user.binary -v 0x00ff10fe srv/xattr
    setfattr -n user.empty srv/xattr
    setfattr -n trusted.overlay.opaque -v y srv/xattr
    setfattr -n user.dir -v d srv/acl-dir
    setfattr -h -n trusted.link -v l opt/links/abs
    # security.capability on a copy of an ELF binary.
    cp /bin/ping usr/bin/ping 2>/dev/null || cp /bin/true usr/bin/ping
    setcap cap_net_raw+ep usr/bin/ping
    # A sparse file: holes at the start, in the middle and at the end.
    truncate -s 8M var/sparse
    printf 'middle' | dd of=var/sparse bs=1 seek=$((3 * 1048576)) conv=notrunc status=none
    head -c 300000 /dev/urandom | dd of=var/sparse bs=4096 seek=1280 conv=notrunc status=none
    # A file that is all hole, and an ordinary file of random data.
    truncate -s 5M var/allhole
    head -c 3000000 /dev/urandom >var/random
    # Long names: a 200-byte component, and a path over 255 bytes.
    local long
    long=$(printf 'n%.0s' $(seq 200))
    echo long >"srv/$long"
    mkdir -p "srv/deep/$(printf 'd%.0s' $(seq 90))/$(printf 'e%.0s' $(seq 90))/$(printf 'f%.0s' $(seq 90))"
    echo deep >"srv/deep/$(printf 'd%.0s' $(seq 90))/$(printf 'e%.0s' $(seq 90))/$(printf 'f%.0s' $(seq 90))/leaf-file"
    # A name that is not UTF-8, a UTF-8 one, and one with a newline.
    echo bytes >"srv/$(printf 'bad-\xff\xfe-name')"
    echo utf8 >"srv/café-ünïcode"
    echo nl >"srv/$(printf 'new\nline')"
    # A symlink whose target is not UTF-8.
    ln -s "$(printf 'target-\xff')" srv/badlink
    # Empty files and directories.
    : >srv/empty-file
    mkdir -p srv/empty/deeper
    # Things to exclude: pseudo filesystems' contents, lost+found, swap.
    mkdir -p proc/1 sys/kernel dev/pts run/lock tmp/.X11-unix lost+found
    echo 1 >proc/1/status; echo k >sys/kernel/x; mknod dev/null c 1 3
    echo pid >run/lock/x; echo t >tmp/junk
    chmod 0555 proc; chmod 1777 tmp; chmod 0755 run
    chmod 0700 lost+found; echo lost >lost+found/#12
    # Swap: one named in fstab (signature-less), one found by its signature.
    head -c 2097152 /dev/zero >swapfile; chmod 0600 swapfile
    head -c 2097152 /dev/zero >var/swap.img; chmod 0600 var/swap.img
    printf 'SWAPSPACE2' | dd of=var/swap.img bs=1 seek=4086 conv=notrunc status=none
    # A large 0600 file without the signature stays.
    head -c 2097152 /dev/urandom >var/secret.key; chmod 0600 var/secret.key
    # Files for exclude patterns.
    echo deb >var/cache/apt/archives/foo_1.0_amd64.deb
    echo keep >var/cache/apt/archives/lock
    echo log >var/log/syslog
    # Directory mtimes last (creating entries changes them).
    touch -d '2010-05-06 07:08:09.987654321' srv/empty srv/empty/deeper srv/perm
    touch -h -d '2011-01-01 00:00:00.5' opt/links/abs
  )
}
