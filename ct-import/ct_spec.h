/* One container to create, as decided from the options and the template. */
#ifndef CTI_CT_SPEC_H
#define CTI_CT_SPEC_H

#include <stdbool.h>

enum ct_backend { BACKEND_PVE, BACKEND_LXC };

struct ct_spec {
	const char *template_path;  /* absolute path of the template archive */
	const char *template_name;  /* its file name in the template cache */
	unsigned vmid;              /* Proxmox VMID; 0 until chosen */
	const char *name;           /* LXC container name */
	const char *hostname;
	const char *storage;        /* Proxmox storage for the root disk */
	unsigned disk_gb;
	unsigned memory_mb;
	unsigned cores;
	bool has_swap;              /* swap_mb is set (else the backend's default) */
	unsigned swap_mb;
	int onboot;                 /* 0: default (start at boot), 1 yes, -1 no */
	unsigned cpuunits;          /* CPU weight; 0: the backend's default */
	const char *cpulimit;       /* CPUs of CFS quota ("1.5"); NULL: none */
	const char *hwaddr;         /* eth0 MAC; NULL: the backend chooses */
	const char *bridge;         /* NULL: no network device (LXC type empty) */
	const char *ip;             /* "ADDR/PREFIX" or "dhcp" */
	const char *gw;
	const char *ip6;            /* "ADDR/PREFIX", "dhcp", "auto"; NULL: none */
	const char *gw6;
	const char *nameserver;
	const char *searchdomain;
	const char *arch;
	const char *ostype;
	const char *lxc_path;       /* LXC backend: container directory root */
	bool start;
	bool dry_run;
};

#endif
