#include "qm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "argv.h"
#include "log.h"
#include "pve.h"
#include "run.h"

char **qm_create_argv(const struct vm_spec *spec)
{
	struct argv_builder b = { 0 };
	argv_push(&b, "qm");
	argv_push(&b, "create");
	argv_push(&b, "%u", spec->vmid);
	argv_push(&b, "--name");
	argv_push(&b, "%s", spec->name);
	argv_push(&b, "--memory");
	argv_push(&b, "%u", spec->memory_mb);
	argv_push(&b, "--cores");
	argv_push(&b, "%u", spec->cores);
	if (spec->bridge) {
		argv_push(&b, "--net0");
		argv_push(&b, "%s,bridge=%s", spec->windows ? "e1000" : "virtio", spec->bridge);
	}
	argv_push(&b, "--scsihw");
	argv_push(&b, "virtio-scsi-single");
	unsigned sata = 0, scsi = 0;
	const char *boot = NULL;
	for (size_t i = 0; i < spec->ndisks; i++) {
		bool on_sata = spec->windows && sata < VM_MAX_SATA;
		argv_push(&b, "--%s%u", on_sata ? "sata" : "scsi", on_sata ? sata : scsi);
		argv_push(&b, "%s:0,import-from=%s", spec->storage, spec->disks[i].path);
		if (i == 0)
			boot = on_sata ? "sata0" : "scsi0";
		on_sata ? sata++ : scsi++;
	}
	argv_push(&b, "--boot");
	argv_push(&b, "order=%s", boot ? boot : "scsi0");
	argv_push(&b, "--ostype");
	argv_push(&b, "%s", spec->windows ? "win10" : "l26");
	if (spec->uefi) {
		argv_push(&b, "--bios");
		argv_push(&b, "ovmf");
		argv_push(&b, "--efidisk0");
		argv_push(&b, "%s:1,efitype=4m,pre-enrolled-keys=0", spec->storage);
	}
	return argv_finish(&b);
}

int qm_create_vm(const struct vm_spec *spec)
{
	char **argv = qm_create_argv(spec);
	if (!argv) {
		log_error("out of memory");
		return -ENOMEM;
	}
	log_info("running: qm create %u … (importing %zu disk%s into %s)", spec->vmid, spec->ndisks,
		 spec->ndisks == 1 ? "" : "s", spec->storage);
	int rc = run_argv(argv, NULL);
	pve_argv_free(argv);
	if (rc > 0) {
		log_error("qm create %u failed with exit status %d", spec->vmid, rc);
		return -EIO;
	}
	if (rc == 0)
		log_info("VM %u created", spec->vmid);
	return rc;
}
