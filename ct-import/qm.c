#include "qm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "pve.h"
#include "run.h"

struct argv_builder {
	char **v;
	size_t n;
	bool failed;
};

static void push(struct argv_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void push(struct argv_builder *b, const char *fmt, ...)
{
	if (b->failed)
		return;
	char **nv = realloc(b->v, (b->n + 2) * sizeof(*nv));
	if (!nv) {
		b->failed = true;
		return;
	}
	b->v = nv;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&b->v[b->n], fmt, ap);
	va_end(ap);
	if (r < 0) {
		b->failed = true;
		b->v[b->n] = NULL;
		return;
	}
	b->v[++b->n] = NULL;
}

char **qm_create_argv(const struct vm_spec *spec)
{
	struct argv_builder b = { 0 };
	push(&b, "qm");
	push(&b, "create");
	push(&b, "%u", spec->vmid);
	push(&b, "--name");
	push(&b, "%s", spec->name);
	push(&b, "--memory");
	push(&b, "%u", spec->memory_mb);
	push(&b, "--cores");
	push(&b, "%u", spec->cores);
	if (spec->bridge) {
		push(&b, "--net0");
		push(&b, "%s,bridge=%s", spec->windows ? "e1000" : "virtio", spec->bridge);
	}
	push(&b, "--scsihw");
	push(&b, "virtio-scsi-single");
	unsigned sata = 0, scsi = 0;
	const char *boot = NULL;
	for (size_t i = 0; i < spec->ndisks; i++) {
		bool on_sata = spec->windows && sata < VM_MAX_SATA;
		push(&b, "--%s%u", on_sata ? "sata" : "scsi", on_sata ? sata : scsi);
		push(&b, "%s:0,import-from=%s", spec->storage, spec->disks[i].path);
		if (i == 0)
			boot = on_sata ? "sata0" : "scsi0";
		on_sata ? sata++ : scsi++;
	}
	push(&b, "--boot");
	push(&b, "order=%s", boot ? boot : "scsi0");
	push(&b, "--ostype");
	push(&b, "%s", spec->windows ? "win10" : "l26");
	if (spec->uefi) {
		push(&b, "--bios");
		push(&b, "ovmf");
		push(&b, "--efidisk0");
		push(&b, "%s:1,efitype=4m,pre-enrolled-keys=0", spec->storage);
	}
	if (b.failed) {
		pve_argv_free(b.v);
		return NULL;
	}
	return b.v;
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
