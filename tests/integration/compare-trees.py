#!/usr/bin/env python3
"""Compare two directory trees exhaustively; print every difference.

compare-trees.py [--exclude GLOB]... [--no-symlink-mtime] [--no-dir-mtime] SRC DST

Compared for every entry (names handled as bytes): type, uid, gid, mode
(including setuid/setgid/sticky), mtime to the nanosecond, size, content
(SHA-256), symlink target, rdev of device nodes, hard-link grouping, every
xattr (user.*, trusted.*, security.*) and both POSIX ACLs (as the raw
system.posix_acl_* values, so qualifiers compare numerically), and for
regular files the sparse layout: every hole of SRC (SEEK_DATA/SEEK_HOLE, at
4 KiB granularity) must be a hole in DST.

--exclude GLOB (relative to each root, e.g. 'proc/*') leaves matching paths
out on both sides; a directory's contents are not walked either.
Exit status: 0 identical, 1 differences, 2 usage error.
"""
import argparse
import errno
import fnmatch
import hashlib
import os
import stat
import sys

ACL_NAMES = (b"system.posix_acl_access", b"system.posix_acl_default")
BLOCK = 4096


def show(rel):
    return rel.decode("utf-8", "backslashreplace") or "."


def walk(root, excludes):
    """Yield (rel, lstat) for root and everything below it, rel as bytes."""
    stack = [b""]
    while stack:
        rel = stack.pop()
        path = os.path.join(root, rel) if rel else root
        st = os.lstat(path)
        yield rel, st
        if stat.S_ISDIR(st.st_mode):
            for name in sorted(os.listdir(path)):
                child = os.path.join(rel, name) if rel else name
                text = child.decode("utf-8", "surrogateescape")
                if any(fnmatch.fnmatchcase(text, g) for g in excludes):
                    continue
                stack.append(child)


def xattrs(path):
    out = {}
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as e:
        if e.errno in (errno.ENOTSUP, errno.EPERM):
            return out
        raise
    for n in names:
        b = os.fsencode(n)
        out[b] = os.getxattr(path, n, follow_symlinks=False)
    # ACLs are not always listed; ask for them by name.
    for n in ACL_NAMES:
        if n not in out:
            try:
                out[n] = os.getxattr(path, n, follow_symlinks=False)
            except OSError as e:
                if e.errno not in (errno.ENODATA, errno.ENOTSUP, errno.EPERM,
                                   errno.EOPNOTSUPP):
                    raise
    return out


def data_blocks(path, size):
    """The set of 4 KiB block numbers that hold data (not holes)."""
    blocks = set()
    fd = os.open(path, os.O_RDONLY)
    try:
        off = 0
        while off < size:
            try:
                start = os.lseek(fd, off, os.SEEK_DATA)
            except OSError as e:
                if e.errno == errno.ENXIO:
                    break
                raise
            end = os.lseek(fd, start, os.SEEK_HOLE)
            blocks.update(range(start // BLOCK, (end + BLOCK - 1) // BLOCK))
            off = end
    finally:
        os.close(fd)
    return blocks


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def kind(mode):
    for test, name in ((stat.S_ISREG, "file"), (stat.S_ISDIR, "dir"),
                       (stat.S_ISLNK, "symlink"), (stat.S_ISCHR, "char"),
                       (stat.S_ISBLK, "block"), (stat.S_ISFIFO, "fifo"),
                       (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exclude", action="append", default=[])
    ap.add_argument("--no-symlink-mtime", action="store_true",
                    help="do not compare the mtimes of symlinks")
    ap.add_argument("--no-dir-mtime", action="store_true",
                    help="do not compare the mtimes of directories")
    ap.add_argument("--no-root-mtime", action="store_true",
                    help="do not compare the mtime of the top directory "
                         "(bsdtar does not restore the mtime of '.')")
    ap.add_argument("src")
    ap.add_argument("dst")
    a = ap.parse_args()
    src, dst = os.fsencode(a.src), os.fsencode(a.dst)
    excludes = [g[2:] if g.startswith("./") else g.lstrip("/") for g in a.exclude]

    left = dict(walk(src, excludes))
    right = dict(walk(dst, excludes))
    diffs = []

    def diff(rel, what, x, y):
        diffs.append(f"{show(rel)}: {what}: {x!r} != {y!r}")

    for rel in sorted(set(left) - set(right)):
        diffs.append(f"{show(rel)}: missing from {a.dst}")
    for rel in sorted(set(right) - set(left)):
        diffs.append(f"{show(rel)}: not in {a.src}")

    # Hard-link groups: which other paths share this entry's inode.
    def groups(tree):
        by_ino = {}
        for rel, st in tree.items():
            if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
                by_ino.setdefault((st.st_dev, st.st_ino), []).append(rel)
        return {rel: frozenset(g) for g in by_ino.values() for rel in g}
    lg, rg = groups(left), groups(right)

    for rel in sorted(set(left) & set(right)):
        ls, rs = left[rel], right[rel]
        lp = os.path.join(src, rel) if rel else src
        rp = os.path.join(dst, rel) if rel else dst
        lk, rk = kind(ls.st_mode), kind(rs.st_mode)
        if lk != rk:
            diff(rel, "type", lk, rk)
            continue
        if ls.st_uid != rs.st_uid:
            diff(rel, "uid", ls.st_uid, rs.st_uid)
        if ls.st_gid != rs.st_gid:
            diff(rel, "gid", ls.st_gid, rs.st_gid)
        if lk != "symlink" and stat.S_IMODE(ls.st_mode) != stat.S_IMODE(rs.st_mode):
            diff(rel, "mode", oct(stat.S_IMODE(ls.st_mode)), oct(stat.S_IMODE(rs.st_mode)))
        skip_mtime = (lk == "symlink" and a.no_symlink_mtime) or \
                     (lk == "dir" and a.no_dir_mtime) or \
                     (rel == b"" and a.no_root_mtime)
        if not skip_mtime and ls.st_mtime_ns != rs.st_mtime_ns:
            diff(rel, "mtime_ns", ls.st_mtime_ns, rs.st_mtime_ns)
        if lk in ("file", "symlink") and ls.st_size != rs.st_size:
            diff(rel, "size", ls.st_size, rs.st_size)
        if lk in ("char", "block") and ls.st_rdev != rs.st_rdev:
            diff(rel, "rdev", (os.major(ls.st_rdev), os.minor(ls.st_rdev)),
                 (os.major(rs.st_rdev), os.minor(rs.st_rdev)))
        if lk == "symlink" and os.readlink(lp) != os.readlink(rp):
            diff(rel, "symlink target", os.readlink(lp), os.readlink(rp))
        if lk == "file":
            if ls.st_size == rs.st_size and sha256(lp) != sha256(rp):
                diff(rel, "content sha256", "differs", "")
            extra = data_blocks(rp, rs.st_size) - data_blocks(lp, ls.st_size)
            if extra:
                diff(rel, "holes filled (4 KiB blocks)", len(extra), sorted(extra)[:8])
        if lg.get(rel, frozenset([rel])) != rg.get(rel, frozenset([rel])):
            diff(rel, "hard links", sorted(map(show, lg.get(rel, [rel]))),
                 sorted(map(show, rg.get(rel, [rel]))))
        lx, rx = xattrs(lp), xattrs(rp)
        for n in sorted(set(lx) | set(rx)):
            if lx.get(n) != rx.get(n):
                diff(rel, "xattr " + n.decode(), lx.get(n), rx.get(n))

    for d in diffs:
        print(d)
    print(f"compare-trees: {len(left)} entries in {a.src}, {len(right)} in {a.dst}, "
          f"{len(diffs)} differences", file=sys.stderr)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
