/* Taking BIOS ("fake") RAID assemblies apart again: dmraid's device-mapper
 * maps and md containers with external (imsm/ddf) metadata, with everything
 * stacked on them, leaves first. The graph and the removal plan are pure and
 * unit-tested; collection reads libdevmapper and sysfs; removal goes through
 * libdevmapper (DM_DEVICE_REMOVE) and the md STOP_ARRAY ioctl. */
#ifndef P2V_DMRAID_TEARDOWN_H
#define P2V_DMRAID_TEARDOWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum dmt_kind { DMT_DM, DMT_MD };

struct dmt_devno { unsigned major, minor; };

struct dmt_node {
	enum dmt_kind kind;
	char *name;             /* dm name, or md's kernel name ("md126") */
	char *uuid;             /* dm uuid, "" if none */
	char *metadata;         /* md metadata_version ("external:imsm"), "" for dm */
	struct dmt_devno dev;
	struct dmt_devno *deps; /* the devices it is built on */
	size_t n_deps;
	unsigned open_count;    /* dm: openers at collection time */
	bool fakeraid;          /* itself a dmraid map or an external-metadata md */
};

struct dmt_graph {
	struct dmt_node *nodes;
	size_t n;
};

/* dmraid's own maps (fakeraid_active.h's classifiers): uuid "DMRAID-…" (or
 * a kpartx "partN-DMRAID-…"), or without uuid a set name of one of its
 * formats ("isw_…", "pdc_…", "nvidia_…" …). */
bool dmt_is_dmraid_map(const char *name, const char *uuid);
/* Any external md metadata_version ("external:imsm", "external:/md127/0"):
 * the kernel writes no superblock for these, so stopping them is safe. An
 * md node's `fakeraid` is narrower: an imsm/ddf container or a volume in one. */
bool dmt_md_is_external(const char *metadata_version);

/* Add a node; copies the strings and deps, sets `fakeraid`. 0 or -ENOMEM. */
int dmt_graph_add(struct dmt_graph *g, enum dmt_kind kind, const char *name,
		  const char *uuid, const char *metadata, struct dmt_devno dev,
		  const struct dmt_devno *deps, size_t n_deps);
void dmt_graph_free(struct dmt_graph *g);
/* The node with device number dev, or NULL. */
const struct dmt_node *dmt_graph_find(const struct dmt_graph *g, struct dmt_devno dev);

/* Parse `dmsetup info -c --noheadings --separator ' ' -o name,major,minor,uuid`
 * (uuid may be missing) plus either `dmsetup table` or `dmsetup deps` output
 * (major:minor or "(major, minor)" references name the dependencies).
 * 0 or -EINVAL (logged) on a malformed line. */
int dmt_parse_dmsetup(const char *info, const char *table_or_deps, struct dmt_graph *g);

/* The removal plan: the fakeraid nodes and everything stacked on them,
 * ordered so that each comes before every device it is built on (partitions
 * before sets, md volumes before their containers). `order` (malloc'd,
 * indices into g->nodes) may be empty. -ELOOP on a cycle, -EPERM (logged)
 * when a native-metadata md array sits on a fakeraid device: stopping it
 * would write its superblock. */
int dmt_plan(const struct dmt_graph *g, size_t **order, size_t *n_order);

/* Active dm devices through libdevmapper; -ENODEV when the kernel has no
 * device-mapper (nothing to collect), other -errno logged. */
int dmt_collect_dm(struct dmt_graph *g);
/* md arrays from SYSFS/block/md* (slaves and the container named by an
 * external metadata_version). 0 when there are none. */
int dmt_collect_md(const char *sysfs, struct dmt_graph *g);

/* Remove one dm device by name (udev-synchronised only when udev runs). */
int dmt_remove_dm(const char *name);
/* STOP_ARRAY on DEVDIR/NAME (e.g. /dev/md126). */
int dmt_stop_md(const char *devdir, const char *name);

/* Carry out a plan: remove or stop each node in order, a line per node on
 * `out`. Stops at the first failure (the later nodes are built on it).
 * 0, or the first failure's -errno (logged). */
int dmt_execute(const struct dmt_graph *g, const size_t *order, size_t n_order,
		const char *devdir, FILE *out);

#endif
