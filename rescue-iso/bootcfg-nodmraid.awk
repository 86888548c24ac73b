# bootcfg-nodmraid.awk: give every boot entry of a syslinux or GRUB config
# exactly one WORD (default nodmraid) on its kernel command line.
#   awk -v format=syslinux|grub [-v word=W] -f bootcfg-nodmraid.awk FILE FILE
# (FILE twice: the first pass learns what each syslinux LABEL boots.) The
# result goes to stdout, the number of entries given the word or already
# carrying it to stderr as "entries N". Lines that need no change are copied
# byte for byte, so a second run changes nothing.
#
# syslinux: APPEND of a label that boots a Linux kernel (LINUX, or KERNEL
# naming no .c32/.0/.bin module or memdisk); for ifcpu64.c32 labels (old
# SystemRescueCd: APPEND rescue64 args -- rescue32 args) each side of every
# "--" is a kernel command line of its own. Labels that chain to modules,
# CONFIG files or local disks are left alone. A Linux label without APPEND
# inherits the file's global APPEND (patched too) or, when there is none,
# gets "APPEND WORD".
# grub: every linux/linux16/linuxefi line.
BEGIN {
	if (word == "") word = "nodmraid"
	if (format != "syslinux" && format != "grub") { print "format must be syslinux or grub" > "/dev/stderr"; exit 2 }
	blk = 0; entries = 0
}

# Exactly one `word` in the command line s: s itself when it has one, s with
# the word appended when it has none, later duplicates dropped otherwise.
function ensure(s,    n, a, i, cnt, out, seen) {
	n = split(s, a, /[ \t]+/)
	cnt = 0
	for (i = 1; i <= n; i++) if (a[i] == word) cnt++
	if (cnt == 1) return s
	if (cnt == 0) {
		sub(/[ \t]+$/, "", s)
		return s == "" ? word : s " " word
	}
	out = ""; seen = 0
	for (i = 1; i <= n; i++) {
		if (a[i] == "" || (a[i] == word && seen++)) continue
		out = out (out == "" ? "" : " ") a[i]
	}
	return out
}

# ifcpu64.c32's argument: command lines separated by "--", each given the word.
function ensure_sides(s,    n, a, i, seg, out, changed, fixed) {
	n = split(s, a, /[ \t]+/)
	out = ""; seg = ""; changed = 0
	for (i = 1; i <= n + 1; i++) {
		if (i <= n && a[i] == "") continue
		if (i == n + 1 || a[i] == "--") {
			fixed = ensure(seg)
			if (fixed != seg) changed = 1
			out = out (out == "" ? "" : " -- ") fixed
			seg = ""
			continue
		}
		seg = seg (seg == "" ? "" : " ") a[i]
	}
	return changed ? out : s
}

function kind_of(kw, arg,    base) {
	base = tolower(arg); sub(/^.*\//, "", base)
	if (base ~ /^ifcpu64\.c32$/) return "ifcpu64"
	if (kw == "linux") return "linux"
	if (kw != "kernel") return "other"
	if (base == "memdisk" || base ~ /\.(c32|com|cbt|0|bin|bs|bss|img)$/) return "other"
	return "linux"
}

{
	line = $0; cr = ""
	if (line ~ /\r$/) { cr = "\r"; sub(/\r$/, "", line) }
}

# First pass (syslinux only): what each label boots and whether it has APPEND.
NR == FNR {
	if (format != "syslinux") next
	kw = tolower(line); sub(/^[ \t]+/, "", kw); arg = kw; sub(/[ \t].*$/, "", kw)
	sub(/^[^ \t]*[ \t]*/, "", arg)
	orig = line; sub(/^[ \t]*[^ \t]+[ \t]*/, "", orig)
	if (kw == "label") { blk++; kind[blk] = "none" }
	else if (kw == "kernel" || kw == "linux" || kw == "com32" || kw == "config" || kw == "localboot" ||
		 kw == "boot" || kw == "bss" || kw == "pxe" || kw == "fdimage" || kw == "comboot") {
		kind[blk] = kind_of(kw, orig); kline[blk] = FNR
	}
	else if (kw == "append") { has_append[blk] = 1; if (blk == 0) global_append = 1 }
	blkof[FNR] = blk
	next
}

format == "grub" {
	if (match(line, /^[ \t]*linux(16|efi)?[ \t]+/)) {
		head = substr(line, 1, RLENGTH); rest = substr(line, RLENGTH + 1)
		line = head ensure(rest); entries++
	}
	print line cr
	next
}

{
	b = blkof[FNR]
	kw = tolower(line); sub(/^[ \t]+/, "", kw); sub(/[ \t].*$/, "", kw)
	if (kw == "append" && (b == 0 || kind[b] == "linux" || kind[b] == "ifcpu64")) {
		match(line, /^[ \t]*[^ \t]+[ \t]*/)
		head = substr(line, 1, RLENGTH); rest = substr(line, RLENGTH + 1)
		if (head !~ /[ \t]$/) head = head " "
		if (rest ~ /^-[ \t]*$/) rest = ""      # "APPEND -": no options at all
		line = head (kind[b] == "ifcpu64" ? ensure_sides(rest) : ensure(rest))
		if (b > 0) entries++
	}
	print line cr
	if (b > 0 && FNR == kline[b] && kind[b] == "linux" && !has_append[b]) {
		if (!global_append) {
			match(line, /^[ \t]*/)
			print substr(line, 1, RLENGTH) "APPEND " word cr
		}
		entries++
	}
}

END { if (format == "syslinux" || format == "grub") print "entries " entries > "/dev/stderr" }
