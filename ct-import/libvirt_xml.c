#include "libvirt_xml.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* open_memstream text with escaping helpers; every value we print comes
 * from a file name or an option, so all of it is escaped. */
static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '\'': fputs("&apos;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* A single-quoted shell word. */
static void sh_word(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* buf is only valid after fclose, hence the pointer. */
static char *finish(FILE *f, char **buf)
{
	bool failed = ferror(f);
	if (fclose(f) != 0 || failed) {
		free(*buf);
		return NULL;
	}
	return *buf;
}

char *libvirt_domain_xml(const struct vm_spec *spec)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fputs("<!-- written by ct-import create-vm: virsh define this file -->\n", f);
	fputs("<domain type='kvm'>\n  <name>", f);
	xml_text(f, spec->name);
	fprintf(f, "</name>\n  <memory unit='MiB'>%u</memory>\n  <vcpu>%u</vcpu>\n",
		spec->memory_mb, spec->cores);
	fprintf(f, "  <os%s>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n",
		spec->uefi ? " firmware='efi'" : "");
	fputs("  <features>\n    <acpi/>\n    <apic/>\n  </features>\n", f);
	fputs("  <cpu mode='host-passthrough'/>\n", f);
	fprintf(f, "  <clock offset='%s'/>\n", spec->windows ? "localtime" : "utc");
	fputs("  <devices>\n    <controller type='scsi' index='0' model='virtio-scsi'/>\n", f);
	unsigned sata = 0, scsi = 0;
	for (size_t i = 0; i < spec->ndisks; i++) {
		const struct vm_disk *d = &spec->disks[i];
		bool on_sata = spec->windows && sata < VM_MAX_SATA;
		unsigned n = sata + scsi;
		fprintf(f, "    <disk type='%s' device='disk'>\n", d->block_device ? "block" : "file");
		fprintf(f, "      <driver name='qemu' type='%s'/>\n", d->qcow2 ? "qcow2" : "raw");
		fprintf(f, "      <source %s='", d->block_device ? "dev" : "file");
		xml_text(f, d->path);
		/* sda…sdz, then sdaa…sdzz. */
		char dev[8];
		if (n < 26)
			snprintf(dev, sizeof(dev), "sd%c", 'a' + n);
		else
			snprintf(dev, sizeof(dev), "sd%c%c", 'a' + (n / 26 - 1) % 26, 'a' + n % 26);
		fprintf(f, "'/>\n      <target dev='%s' bus='%s'/>\n", dev, on_sata ? "sata" : "scsi");
		if (i == 0)
			fputs("      <boot order='1'/>\n", f);
		fputs("    </disk>\n", f);
		on_sata ? sata++ : scsi++;
	}
	if (spec->bridge) {
		fputs("    <interface type='bridge'>\n      <source bridge='", f);
		xml_text(f, spec->bridge);
		fprintf(f, "'/>\n      <model type='%s'/>\n    </interface>\n",
			spec->windows ? "e1000" : "virtio");
	}
	fputs("    <serial type='pty'/>\n    <console type='pty'/>\n", f);
	fputs("    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>\n", f);
	fputs("  </devices>\n</domain>\n", f);
	return finish(f, &buf);
}

char *qemu_run_script(const struct vm_spec *spec, const char *vars_path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fputs("#!/bin/sh\n# VM ", f);
	fputs(spec->name, f);
	fputs(", written by ct-import create-vm: the QEMU equivalent of its libvirt XML.\n"
	      "# P2V_QEMU_ACCEL=kvm|tcg (default kvm), P2V_QEMU_NET=bridge|user|none,\n"
	      "# P2V_QEMU_DISPLAY (default -nographic: serial console here). Arguments go to QEMU.\n"
	      "set -eu\n"
	      "ACCEL=${P2V_QEMU_ACCEL:-kvm}\n"
	      "case $ACCEL in kvm) CPU=host ;; *) CPU=max ;; esac\n", f);
	const char *model = spec->windows ? "e1000" : "virtio-net-pci";
	if (spec->bridge) {
		fputs("case ${P2V_QEMU_NET:-bridge} in\n  bridge) set -- -netdev bridge,id=net0,br=", f);
		sh_word(f, spec->bridge);
		fprintf(f, " -device %s,netdev=net0 \"$@\" ;;\n"
			"  user) set -- -netdev user,id=net0 -device %s,netdev=net0 \"$@\" ;;\n"
			"  *) set -- -nic none \"$@\" ;;\n"
			"esac\n", model, model);
	} else {
		/* Without this QEMU adds its default NIC on user networking. */
		fputs("set -- -nic none \"$@\"\n", f);
	}
	if (spec->uefi) {
		fputs("VARS=", f);
		sh_word(f, vars_path);
		fputs("\nCODE=\nfor c in /usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_CODE.fd \\\n"
		      "    /usr/share/edk2/ovmf/OVMF_CODE.fd /usr/share/edk2/x64/OVMF_CODE.4m.fd; do\n"
		      "  [ -e \"$c\" ] && { CODE=$c; break; }\n"
		      "done\n"
		      "[ -n \"$CODE\" ] || { echo \"$0: no OVMF firmware found (install ovmf)\" >&2; exit 1; }\n"
		      "if [ ! -e \"$VARS\" ]; then\n"
		      "  case $CODE in *.4m.fd) T=${CODE%CODE.4m.fd}VARS.4m.fd ;; *) T=$(echo \"$CODE\" | sed 's/CODE/VARS/') ;; esac\n"
		      "  cp \"$T\" \"$VARS\"\n"
		      "fi\n"
		      "set -- -drive if=pflash,format=raw,unit=0,readonly=on,file=\"$CODE\" \\\n"
		      "  -drive if=pflash,format=raw,unit=1,file=\"$VARS\" \"$@\"\n", f);
	}
	fputs("exec qemu-system-x86_64 -name ", f);
	sh_word(f, spec->name);
	fprintf(f, " -machine q35,accel=\"$ACCEL\" -cpu \"$CPU\" \\\n  -smp %u -m %u", spec->cores,
		spec->memory_mb);
	if (spec->windows)
		fputs(" -rtc base=localtime", f);
	fputs(" ${P2V_QEMU_DISPLAY:--nographic} \\\n  -device virtio-scsi-pci,id=scsi0", f);
	unsigned sata = 0, scsi = 0;
	for (size_t i = 0; i < spec->ndisks; i++) {
		const struct vm_disk *d = &spec->disks[i];
		bool on_sata = spec->windows && sata < VM_MAX_SATA;
		fputs(" \\\n  -drive ", f);
		/* The path is one shell word; QEMU's own syntax needs no ',' in it (checked). */
		fputs("file=", f);
		sh_word(f, d->path);
		fprintf(f, ",format=%s,if=none,id=disk%zu", d->qcow2 ? "qcow2" : "raw", i);
		if (on_sata)
			fprintf(f, " -device ide-hd,drive=disk%zu,bus=ide.%u", i, sata);
		else
			fprintf(f, " -device scsi-hd,drive=disk%zu,bus=scsi0.0,scsi-id=%u", i, scsi);
		if (i == 0)
			fputs(",bootindex=1", f);
		on_sata ? sata++ : scsi++;
	}
	fputs(" \\\n  \"$@\"\n", f);
	return finish(f, &buf);
}
