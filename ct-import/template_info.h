/* What a template says about the server it came from, read from the archive
 * itself without unpacking it (ct-import/inspect.c). */
#ifndef CTI_TEMPLATE_INFO_H
#define CTI_TEMPLATE_INFO_H

#include <stdint.h>

#include "netconfig.h"  /* struct net_config (lib/, shared with p2v inventory) */

struct template_info {
	char *os_id;       /* os-release ID= ("debian", "rocky" …), NULL if unknown */
	char *os_pretty;   /* PRETTY_NAME= */
	char *ostype;      /* Proxmox ostype: debian ubuntu centos … or "unmanaged" */
	char *arch;        /* amd64 i386 arm64 armhf riscv32 riscv64, NULL if unknown */
	char *hostname;
	struct net_config net;
	uint64_t used_bytes;  /* file data, rounded up to 4 KiB per file */
};

/* Read a template archive (any compression libarchive reads). 0 or -errno. */
int template_inspect(const char *path, struct template_info *info);
void template_info_free(struct template_info *info);

#endif
