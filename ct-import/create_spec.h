/* Deciding a ct_spec from create-ct's options and what the template says:
 * options win, the template fills the rest, then defaults. Separate from
 * create.c so the decisions can be unit-tested without running anything. */
#ifndef CTI_CREATE_SPEC_H
#define CTI_CREATE_SPEC_H

#include <stdbool.h>

#include "ct_spec.h"
#include "template_info.h"

/* The options as given (NULL when absent). */
struct create_args {
	const char *template, *vmid, *name, *hostname, *storage, *disk_gb, *memory, *cores;
	const char *bridge, *ip, *gw, *nameserver, *searchdomain, *backend;
	const char *cache_dir, *lxc_path, *config;
	bool start, dry_run, help;
};

/* Strings the spec points to that were made for it. */
struct spec_storage {
	char *template_name, *name, *nameserver, *searchdomain;
};

#define CTI_DEFAULT_STORAGE "local-lvm"
#define CTI_DEFAULT_BRIDGE "vmbr0"
#define CTI_DEFAULT_MEMORY_MB 1024
#define CTI_DEFAULT_CORES 1
#define CTI_MIN_DISK_GB 4

/* Validate every option value; logs the first bad one. 0 or -EINVAL. */
int create_args_check(const struct create_args *a);

/* Fill spec (template_path and lxc_path already set) from a, info and the
 * defaults. spec points into a, info and store. 0 or a negative error. */
int create_spec_fill(struct ct_spec *spec, struct spec_storage *store,
		     const struct create_args *a, const struct template_info *info,
		     enum ct_backend backend);
void spec_storage_free(struct spec_storage *store);

/* Memory (MiB) and cores from p2v's inventory JSON (doc/inventory.md):
 * the source's MemTotal rounded down to MiB, capped at the hypervisor's
 * memory and CTI_MAX_DEFAULT_MEMORY_MB; its CPU count, capped at the
 * hypervisor's. Each stays 0 when the inventory does not say. 0 or -EINVAL. */
#define CTI_MAX_DEFAULT_MEMORY_MB 65536
int inventory_hw_defaults(const char *json, unsigned long long host_mem_bytes, unsigned host_cpus,
			  unsigned *memory_mb, unsigned *cores);

/* Root disk size for used bytes: 1.5 x used, rounded up to whole GiB, at
 * least CTI_MIN_DISK_GB. */
unsigned default_disk_gb(unsigned long long used_bytes);

#endif
