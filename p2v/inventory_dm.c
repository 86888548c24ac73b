/* Active device-mapper devices through libdevmapper: name, uuid, and each
 * table line's target type. Only reads (DM_DEVICE_LIST, DM_DEVICE_TABLE). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <libdevmapper.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inventory.h"
#include "log.h"

static int add_targets(struct inv_dm *dm)
{
	struct dm_task *t = dm_task_create(DM_DEVICE_TABLE);
	if (!t)
		return -ENOMEM;
	int rc = 0;
	if (!dm_task_set_name(t, dm->name) || !dm_task_run(t)) {
		dm_task_destroy(t);
		return 0;   /* gone meanwhile */
	}
	const char *uuid = dm_task_get_uuid(t);
	if (uuid && *uuid && !(dm->uuid = strdup(uuid)))
		rc = -ENOMEM;
	void *next = NULL;
	do {
		uint64_t start, length;
		char *type = NULL, *params = NULL;
		next = dm_get_next_target(t, next, &start, &length, &type, &params);
		if (!type || rc < 0)
			continue;
		struct inv_dm_target *v = realloc(dm->targets, (dm->n_targets + 1) * sizeof(*v));
		if (!v || !(type = strdup(type))) {
			if (v)
				dm->targets = v;
			rc = -ENOMEM;
			continue;
		}
		dm->targets = v;
		v[dm->n_targets++] = (struct inv_dm_target){ .type = type, .start = start * 512,
							      .length = length * 512 };
	} while (next);
	dm_task_destroy(t);
	dm_log_with_errno_init(NULL);
	return rc;
}

/* libdevmapper's messages go to our debug log: a missing driver is a
 * normal state here, not an error to print. */
static void dm_quiet(int level, const char *file, int line, int dm_errno, const char *f, ...)
{
	(void)level, (void)file, (void)line, (void)dm_errno;
	if (log_get_level() < LOG_DEBUG)
		return;
	char buf[512];
	va_list ap;
	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	log_debug("libdevmapper: %s", buf);
}

int inv_collect_dm(struct inventory *inv)
{
	/* Without the control node there is no device-mapper (this is the
	 * normal case on a machine without the dm-mod module): asking would
	 * only make libdevmapper complain on stderr. */
	if (access("/dev/mapper/control", F_OK) < 0)
		return 0;
	dm_log_with_errno_init(dm_quiet);
	struct dm_task *t = dm_task_create(DM_DEVICE_LIST);
	int rc = 0;
	if (!t || !dm_task_run(t)) {
		/* A control node without a working driver (or no driver version). */
		log_info("device-mapper is not available; no dm devices listed");
		if (t)
			dm_task_destroy(t);
		dm_log_with_errno_init(NULL);
		return 0;
	}
	inv->dm_available = true;
	struct dm_names *n = dm_task_get_names(t);
	if (n && n->dev) {
		for (;;) {
			struct inv_dm *v = realloc(inv->dms, (inv->n_dms + 1) * sizeof(*v));
			if (!v) {
				rc = -ENOMEM;
				break;
			}
			inv->dms = v;
			struct inv_dm *dm = &v[inv->n_dms++];
			*dm = (struct inv_dm){ .name = strdup(n->name) };
			if (!dm->name || (rc = add_targets(dm)) < 0) {
				rc = -ENOMEM;
				break;
			}
			if (!n->next)
				break;
			n = (struct dm_names *)((char *)n + n->next);
		}
	}
	dm_task_destroy(t);
	dm_log_with_errno_init(NULL);
	return rc;
}
