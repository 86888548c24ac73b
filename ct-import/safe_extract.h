/* The one secure tar extraction both create-ct (templates) and
 * convert-openvz (vzdump archives, private areas) use, so the safety rules
 * live in one place: every entry is checked here before libarchive writes
 * it (absolute, "..", through a symlink in the tree, hard links to such
 * targets), and libarchive's own secure flags stay on as a second line. */
#ifndef CTI_SAFE_EXTRACT_H
#define CTI_SAFE_EXTRACT_H

#include <stdbool.h>

/* The error for an archive that cannot be read, is corrupt, cut short or
 * empty, or has an entry refused above. */
#define SAFE_EXTRACT_EBADINPUT EBADMSG

struct safe_extract {
	const char *name;  /* the source, in messages */
	const char *path;  /* the archive to open, or NULL: read fd */
	int fd;
	bool skip_dev;     /* leave out entries below dev/ (LXC makes /dev itself) */
};

/* Unpack the tar stream (any compression libarchive reads) x describes into
 * the existing directory dest, keeping numeric owners, modes, times, ACLs,
 * xattrs (security.capability too) and sparse files; device nodes outside
 * dev/ are kept. 0, -SAFE_EXTRACT_EBADINPUT (logged, with the entry's name
 * when one is refused), or -errno of a failed write or of entering dest. */
int safe_extract(const struct safe_extract *x, const char *dest);

#endif
