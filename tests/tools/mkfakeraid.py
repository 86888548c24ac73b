#!/usr/bin/env python3
"""Write a disk image carrying one BIOS ("fake") RAID signature where
libblkid (util-linux libblkid/src/superblocks/*_raid.c) looks for it, with
the checksums it checks (and those newer util-linux releases check).

usage: mkfakeraid.py FORMAT IMAGE [--size BYTES] [--level raid0|raid1|raid5|raid10]
                     [--members N] [--keep]
FORMAT: isw ddf nvidia promise silicon jmicron via lsi adaptec hpt37x hpt45x
The image is created (sparse) or, with --keep, an existing image (a
filesystem made beforehand) gets the metadata written into it.
"""
import argparse
import os
import struct
import sys

SECTOR = 512


def le16(v): return struct.pack('<H', v & 0xFFFF)
def le32(v): return struct.pack('<I', v & 0xFFFFFFFF)
def be16(v): return struct.pack('>H', v & 0xFFFF)
def be32(v): return struct.pack('>I', v & 0xFFFFFFFF)
def be64(v): return struct.pack('>Q', v & 0xFFFFFFFFFFFFFFFF)


def put(buf, off, data):
    buf[off:off + len(data)] = data


# --- Intel Matrix Storage (IMSM), after mdadm's super-intel.c -------------
ISW_LEVEL = {'raid0': 0, 'raid1': 1, 'raid10': 1, 'raid5': 5}  # RAID10 is level 1 x4


def isw(nsect, level, members):
    mpb = bytearray()
    nd = members
    size = 0xD8 + 48 * nd + 160 + 4 * members
    mpb = bytearray(size + (-size) % SECTOR)
    version = {'raid0': '1.0.00', 'raid1': '1.1.00', 'raid10': '1.2.00', 'raid5': '1.2.02'}[level]
    put(mpb, 0, b'Intel Raid ISM Cfg Sig. ' + version.encode())
    put(mpb, 0x24, le32(size))
    put(mpb, 0x28, le32(0x1a2b3c4d))          # family_num
    put(mpb, 0x2C, le32(7))                   # generation_num
    mpb[0x38] = nd                            # num_disks
    mpb[0x39] = 1                             # num_raid_devs
    for i in range(nd):                       # imsm_disk table
        d = 0xD8 + 48 * i
        put(mpb, d, ('P2VTESTSERIAL%03d' % i).encode()[:16])
        put(mpb, d + 16, le32(nsect))         # total_blocks_lo
        put(mpb, d + 24, le32(0x02 | 0x04 * 0))  # status: CONFIGURED_DISK
    dev = 0xD8 + 48 * nd                      # imsm_dev
    put(mpb, dev, b'Volume0')
    put(mpb, dev + 16, le32((nsect - 4096) * (1 if level in ('raid1',) else members)))
    vol = dev + 80
    m = vol + 32                              # imsm_map
    put(mpb, m + 4, le32(nsect - 4096))       # blocks_per_member_lo
    put(mpb, m + 12, le16(256))               # blocks_per_strip
    mpb[m + 15] = ISW_LEVEL[level]
    mpb[m + 16] = members
    mpb[m + 17] = 2 if level in ('raid1', 'raid10') else 1  # num_domains
    mpb[m + 18] = 0xFF                        # failed_disk_num
    for i in range(members):
        put(mpb, m + 48 + 4 * i, le32(i))     # disk_ord_tbl
    # checksum: the sum of all dwords but itself equals itself
    s = sum(struct.unpack('<%dI' % (size // 4), bytes(mpb[:size]))) & 0xFFFFFFFF
    put(mpb, 0x20, le32(s))
    # The first sector goes to the second-last sector of the disk; the rest
    # of a longer MPB to the sectors just before it.
    n = len(mpb) // SECTOR
    writes = [((nsect - 2) * SECTOR, mpb[:SECTOR])]
    if n > 1:
        writes.append(((nsect - 1 - n) * SECTOR, mpb[SECTOR:]))
    return writes


# --- SNIA DDF, after mdadm's super-ddf.c ------------------------------------
CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0xEDB88320 if _c & 1 else _c >> 1
    CRC_TABLE.append(_c)


def ddf_crc(block):
    """CRC-32 of a DDF block with its crc field (bytes 4..7) read as 0xFF,
    seed 0 and no final inversion: what mdadm writes and util-linux >= 2.42
    checks."""
    c = 0
    for i, x in enumerate(block):
        if 4 <= i < 8:
            x = 0xFF
        c = CRC_TABLE[(c ^ x) & 0xFF] ^ (c >> 8)
    return c


def ddf_set_crc(block):
    put(block, 4, be32(ddf_crc(block)))


DDF_PRL = {'raid0': 0x00, 'raid1': 0x01, 'raid5': 0x05, 'raid10': 0x01}


def ddf(nsect, level, members):
    primary = nsect - 64                     # primary header LBA
    rec_len = 2                              # config_record_len in sectors
    n_rec = 2 if level == 'raid10' else 1
    guid = b'Linux-MDM-p2vtest-guid01'

    def header(kind):
        h = bytearray(b'\xff' * SECTOR)
        put(h, 0, be32(0xDE11DE11))
        put(h, 8, guid)
        put(h, 32, b'01.02.00')
        put(h, 40, be32(1))                   # seq
        put(h, 44, be32(0x2f000000))          # timestamp
        h[48:51] = b'\x00\x00\x00'            # open, foreign, enforcegroups
        put(h, 96, be64(primary))             # primary_lba
        put(h, 104, be64(0xFFFFFFFFFFFFFFFF))  # no secondary
        h[112] = kind                         # 0 anchor, 1 primary
        put(h, 116, be32(32768))              # workspace_len
        put(h, 120, be64(0))
        put(h, 128, be16(15))                 # max_pd_entries
        put(h, 130, be16(15))                 # max_vd_entries
        put(h, 132, be16(1))                  # max_partitions
        put(h, 134, be16(rec_len))            # config_record_len
        put(h, 136, be16(16))                 # max_primary_element_entries
        for i, (off, ln) in enumerate([(1, 1), (2, 1), (3, 1), (4, rec_len * n_rec),
                                       (0xFFFFFFFF, 0), (0xFFFFFFFF, 0), (0xFFFFFFFF, 0),
                                       (0xFFFFFFFF, 0)]):
            put(h, 192 + 8 * i, be32(off) + be32(ln))
        ddf_set_crc(h)
        return h

    conf = bytearray(b'\xff' * (rec_len * n_rec * SECTOR))
    prim = members // 2 if level == 'raid10' else members
    for r in range(n_rec):
        rec = bytearray(b'\xff' * (rec_len * SECTOR))
        put(rec, 0, be32(0xEEEEEEEE))
        put(rec, 8, b'Linux-MDM-p2vtest-vd0001')
        put(rec, 32, be32(0x2f000000))
        put(rec, 36, be32(1))
        put(rec, 64, be16(prim))              # prim_elmnt_count
        rec[66] = 7                           # chunk_shift (64 KiB)
        rec[67] = DDF_PRL[level]
        rec[68] = 0x03 if level == 'raid5' else 0x00   # rlq
        rec[69] = n_rec if level == 'raid10' else 1    # sec_elmnt_count
        rec[70] = r                                    # sec_elmnt_seq
        rec[71] = 0x03 if level == 'raid10' else 0xFF  # srl: spanned, as mdadm
        ddf_set_crc(rec)
        put(conf, r * rec_len * SECTOR, rec)
    return [((nsect - 1) * SECTOR, header(0)),
            (primary * SECTOR, header(1)),
            ((primary + 4) * SECTOR, conf)]


# --- the rest: signature and the checks libblkid makes ---------------------
def nvidia(nsect, level, members):
    b = bytearray(120)
    put(b, 0, b'NVIDIA  ')
    put(b, 8, le32(30))                       # size in dwords
    put(b, 16, le16(100))                     # version
    b[0x20] = members
    # all 30 dwords (the checksum included) add up to zero
    s = sum(struct.unpack('<30I', bytes(b))) & 0xFFFFFFFF
    put(b, 12, le32(-s))
    return [((nsect - 2) * SECTOR, b)]


def promise(nsect, level, members):
    return [((nsect - 63) * SECTOR, b'Promise Technology, Inc.')]


def silicon(nsect, level, members):
    b = bytearray(SECTOR)
    put(b, 0x2E, b'SIL3112 ')
    put(b, 0x60, le32(0x2F000000))
    put(b, 0x108, le16(1))                    # minor_ver
    put(b, 0x10A, le16(2))                    # major_ver
    b[0x116] = 0                              # disk_number < 8
    b[0x117] = 1                              # type: RAID1
    s = sum(struct.unpack('<%dH' % (0x13E // 2), bytes(b[:0x13E])))
    put(b, 0x13E, le16(-s))
    return [((nsect - 1) * SECTOR, b)]


def jmicron(nsect, level, members):
    b = bytearray(128)
    put(b, 0, b'JM')
    put(b, 2, le16(0x0100))                   # version 1.0
    put(b, 0x20, b'p2vtest')
    b[0x30] = 1                               # mode: RAID1 (libblkid >= 2.40: <= 5)
    b[0x31] = 4
    for i in range(members):
        put(b, 0x40 + 4 * i, le32(0x1000 + i))
    s = sum(struct.unpack('<64H', bytes(b))) & 0xFFFF
    put(b, 4, le16(-s))                       # words add up to 0
    return [((nsect - 1) * SECTOR, b)]


def via(nsect, level, members):
    b = bytearray(51)
    put(b, 0, le16(0xAA55))
    b[2] = 2                                  # version <= 2
    put(b, 3, le16(0b11))                     # disk_bit_mask
    b[5] = 0x01                               # disk_array_ex
    put(b, 6, le32(nsect - 4096))
    b[50] = sum(b[:50]) & 0xFF
    return [((nsect - 1) * SECTOR, b)]


def lsi(nsect, level, members):
    return [((nsect - 1) * SECTOR, b'$XIDE$')]


def adaptec(nsect, level, members):
    b = bytearray(SECTOR)
    put(b, 0, b'\x37\xFC\x4D\x1E')            # b0idcode
    b[63] = 3                                 # resver
    put(b, 256, b'DPTM')                      # smagic
    return [((nsect - 1) * SECTOR, b)]


def hpt37x(nsect, level, members):
    return [(4608 + 32, b'\xf0\x16\x78\x5a')]


def hpt45x(nsect, level, members):
    return [((nsect - 11) * SECTOR, le32(0x5a7816f3))]


FORMATS = {'isw': isw, 'ddf': ddf, 'nvidia': nvidia, 'promise': promise,
           'silicon': silicon, 'jmicron': jmicron, 'via': via, 'lsi': lsi,
           'adaptec': adaptec, 'hpt37x': hpt37x, 'hpt45x': hpt45x}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('format', choices=sorted(FORMATS))
    ap.add_argument('image')
    ap.add_argument('--size', type=int, default=8 << 20)
    ap.add_argument('--level', default='raid1', choices=['raid0', 'raid1', 'raid5', 'raid10'])
    ap.add_argument('--members', type=int, default=0)
    ap.add_argument('--keep', action='store_true', help='write into an existing image')
    a = ap.parse_args()
    members = a.members or {'raid10': 4, 'raid5': 3}.get(a.level, 2)
    if a.keep:
        size = os.path.getsize(a.image)
    else:
        size = a.size
        with open(a.image, 'wb') as f:
            f.truncate(size)
    if size % SECTOR:
        sys.exit('image size must be a multiple of 512')
    with open(a.image, 'r+b') as f:
        for off, data in FORMATS[a.format](size // SECTOR, a.level, members):
            f.seek(off)
            f.write(bytes(data))


if __name__ == '__main__':
    main()
