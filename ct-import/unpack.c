/* archive_unpack_secure (declared in lxc.h): a template into a rootfs with
 * the secure extraction convert-openvz uses too (safe_extract.h). */
#include "lxc.h"

#include <errno.h>

#include "safe_extract.h"

int archive_unpack_secure(const char *archive_path, const char *dest_dir)
{
	const struct safe_extract x = { .name = archive_path, .path = archive_path, .skip_dev = true };
	int rc = safe_extract(&x, dest_dir);
	/* create-ct's exit status gives EEXIST and EINVAL a meaning (the
	 * container exists, a usage error) that a failed write does not have. */
	return rc == -EEXIST || rc == -EINVAL ? -EIO : rc;
}
