/* The `qm create` argv for several kinds of source machine, each option
 * checked against the schema qemu-server declares for it
 * (src/PVE/QemuServer.pm $confdesc, QemuServer/Drive.pm drive and efidisk
 * formats with import-from, QemuServer/Network.pm $net_fmt, pve-common
 * PVE::JSONSchema formats), implemented here independently of
 * ct-import/qm.c with POSIX regexes. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pve.h"
#include "qm.h"
#include "vm_spec.h"

/* ---- the schema ---- */

static bool matches(const char *re, const char *s)
{
	regex_t r;
	assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	bool ok = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return ok;
}

static bool in_enum(const char *s, const char *const *values)
{
	for (; *values; values++)
		if (!strcmp(s, *values))
			return true;
	return false;
}

static bool integer_min(const char *s, long long min)
{
	return matches("^[0-9]+$", s) && strtoll(s, NULL, 10) >= min;
}

#define DNS_LABEL "[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?"
/* pve-storage-id */
#define STORAGE_ID "[a-zA-Z][-_.a-zA-Z0-9]*[a-zA-Z0-9]"

/* Split a property string "k=v,k=v" (the first item may be a bare default
 * key's value), check each key is known and given once, and hand each pair
 * to its value check. */
static void check_props(const char *value, const char *const *keys, const char *default_key,
			void (*each)(const char *k, const char *v))
{
	char *copy = strdup(value), *save = NULL;
	char seen[32][32];
	size_t nseen = 0;
	bool first = true;
	for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save), first = false) {
		char *eq = strchr(kv, '=');
		const char *k, *v;
		if (!eq) {
			assert_true(first && default_key);  /* only the first item may omit its key */
			k = default_key;
			v = kv;
		} else {
			*eq = '\0';
			k = kv;
			v = eq + 1;
		}
		assert_true(in_enum(k, keys));
		for (size_t i = 0; i < nseen; i++)
			assert_string_not_equal(seen[i], k);
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", k);
		each(k, v);
	}
	free(copy);
}

static const char *const nic_models[] = { "e1000", "e1000-82540em", "e1000-82544gc", "e1000-82545em",
					  "e1000e", "i82551", "i82557b", "i82559er", "ne2k_isa", "ne2k_pci",
					  "pcnet", "rtl8139", "virtio", "vmxnet3", NULL };

static void net_prop(const char *k, const char *v)
{
	if (!strcmp(k, "model"))
		assert_true(in_enum(v, nic_models));
	else if (!strcmp(k, "bridge"))
		assert_true(matches("^[-_.a-zA-Z0-9]+$", v));  /* pve-bridge-id */
}

/* A drive allocated with import: "STORAGE:0,import-from=/abs/path". */
static void drive_prop(const char *k, const char *v)
{
	if (!strcmp(k, "file"))
		assert_true(matches("^" STORAGE_ID ":0$", v));
	else if (!strcmp(k, "import-from"))
		assert_true(v[0] == '/' && !strstr(v, "/../") && !strchr(v, ','));
}

static void efidisk_prop(const char *k, const char *v)
{
	static const char *const bools[] = { "0", "1", "on", "off", "yes", "no", "true", "false", NULL };
	if (!strcmp(k, "file"))
		assert_true(matches("^" STORAGE_ID ":[0-9]+$", v));
	else if (!strcmp(k, "efitype"))
		assert_true(!strcmp(v, "2m") || !strcmp(v, "4m"));
	else if (!strcmp(k, "pre-enrolled-keys"))
		assert_true(in_enum(v, bools));
}

struct parsed {
	const char *boot;
	const char *bios;
	const char *ostype;
	bool efidisk;
	char drives[40][16];
	size_t ndrives;
};

/* Every option of a `qm create` argv against its schema entry. */
static void check_against_schema(char **argv, struct parsed *p)
{
	static const char *const ostype[] = { "other", "wxp", "w2k", "w2k3", "w2k8", "wvista", "win7",
					      "win8", "win10", "win11", "l24", "l26", "solaris", NULL };
	static const char *const scsihw[] = { "lsi", "lsi53c810", "virtio-scsi-pci", "virtio-scsi-single",
					      "megasas", "pvscsi", NULL };
	static const char *const drive_keys[] = { "file", "import-from", "media", "cache", "discard",
						  "iothread", "ssd", "format", "size", NULL };
	static const char *const net_keys[] = { "model", "bridge", "macaddr", "firewall", "link_down",
						"mtu", "queues", "rate", "tag", "trunks", NULL };
	static const char *const efi_keys[] = { "file", "format", "size", "efitype", "pre-enrolled-keys",
						"ms-cert", "import-from", NULL };
	*p = (struct parsed){ 0 };
	assert_string_equal(argv[0], "qm");
	assert_string_equal(argv[1], "create");
	assert_true(matches("^[1-9][0-9]{2,8}$", argv[2]));  /* pve-vmid */
	char seen[64][32];
	size_t nseen = 0;
	for (size_t i = 3; argv[i]; i += 2) {
		const char *opt = argv[i], *v = argv[i + 1];
		assert_true(!strncmp(opt, "--", 2));
		assert_non_null(v);
		opt += 2;
		for (size_t j = 0; j < nseen; j++)
			assert_string_not_equal(seen[j], opt);
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", opt);
		if (!strcmp(opt, "name")) {
			assert_true(strlen(v) <= 255 && matches("^(" DNS_LABEL "\\.)*" DNS_LABEL "$", v));
		} else if (!strcmp(opt, "memory")) {
			assert_true(integer_min(v, 16));
		} else if (!strcmp(opt, "cores")) {
			assert_true(integer_min(v, 1));
		} else if (!strcmp(opt, "net0")) {
			check_props(v, net_keys, "model", net_prop);
			assert_true(strstr(v, "bridge=") != NULL);
		} else if (!strcmp(opt, "scsihw")) {
			assert_true(in_enum(v, scsihw));
		} else if (matches("^(scsi([0-9]|[12][0-9]|30)|sata[0-5])$", opt)) {
			check_props(v, drive_keys, "file", drive_prop);
			assert_true(strstr(v, ",import-from=/") != NULL);
			snprintf(p->drives[p->ndrives++], sizeof(p->drives[0]), "%s", opt);
		} else if (!strcmp(opt, "boot")) {
			/* pve-qm-boot: order=dev;dev… */
			assert_true(matches("^order=[a-z0-9]+(;[a-z0-9]+)*$", v));
			p->boot = v + 6;
		} else if (!strcmp(opt, "ostype")) {
			assert_true(in_enum(v, ostype));
			p->ostype = v;
		} else if (!strcmp(opt, "bios")) {
			assert_true(!strcmp(v, "seabios") || !strcmp(v, "ovmf"));
			p->bios = v;
		} else if (!strcmp(opt, "efidisk0")) {
			check_props(v, efi_keys, "file", efidisk_prop);
			p->efidisk = true;
		} else {
			fail_msg("option --%s is not one qm create is given", opt);
		}
	}
	/* Every boot device is a drive of this VM. */
	assert_non_null(p->boot);
	bool found = false;
	for (size_t j = 0; j < p->ndrives; j++)
		found |= !strcmp(p->drives[j], p->boot);
	assert_true(found);
	/* efidisk0 only makes sense with OVMF. */
	assert_int_equal(p->efidisk, p->bios && !strcmp(p->bios, "ovmf"));
}

static char *joined(char **argv)
{
	size_t n = 1;
	for (char **a = argv; *a; a++)
		n += strlen(*a) + 1;
	char *s = calloc(1, n);
	for (char **a = argv; *a; a++) {
		strcat(s, *a);
		if (a[1])
			strcat(s, " ");
	}
	return s;
}

static const struct vm_disk one_disk[] = { { "/var/lib/vz/import/web01-disk0.qcow2", true, false } };
static const struct vm_disk three_disks[] = {
	{ "/var/lib/vz/import/db1-disk0.qcow2", true, false },
	{ "/var/lib/vz/import/db1-disk1.raw", false, false },
	{ "/dev/pve/vm-disk-9", false, true },
};

/* The argv the issue specifies, word for word, for a BIOS Linux server. */
static void test_linux_bios_exact(void **state)
{
	(void)state;
	struct vm_spec s = { .vmid = 105, .name = "web01", .memory_mb = 2048, .cores = 2,
			     .bridge = "vmbr0", .storage = "local-lvm", .disks = one_disk, .ndisks = 1 };
	char **argv = qm_create_argv(&s);
	assert_non_null(argv);
	struct parsed p;
	check_against_schema(argv, &p);
	char *j = joined(argv);
	assert_string_equal(j, "qm create 105 --name web01 --memory 2048 --cores 2 --net0 virtio,bridge=vmbr0 "
			       "--scsihw virtio-scsi-single --scsi0 local-lvm:0,import-from=/var/lib/vz/import/web01-disk0.qcow2 "
			       "--boot order=scsi0 --ostype l26");
	free(j);
	pve_argv_free(argv);
}

static void test_linux_uefi_three_disks(void **state)
{
	(void)state;
	struct vm_spec s = { .vmid = 999999999, .name = "db1.example.com", .memory_mb = 65536, .cores = 16,
			     .bridge = "vmbr1", .storage = "ceph-pool.1", .disks = three_disks, .ndisks = 3,
			     .uefi = true };
	char **argv = qm_create_argv(&s);
	struct parsed p;
	check_against_schema(argv, &p);
	assert_string_equal(p.boot, "scsi0");
	assert_string_equal(p.bios, "ovmf");
	assert_string_equal(p.ostype, "l26");
	assert_int_equal(p.ndrives, 3);
	assert_string_equal(p.drives[2], "scsi2");
	char *j = joined(argv);
	assert_non_null(strstr(j, " --scsi2 ceph-pool.1:0,import-from=/dev/pve/vm-disk-9 "));
	assert_non_null(strstr(j, " --bios ovmf --efidisk0 ceph-pool.1:1,efitype=4m,pre-enrolled-keys=0"));
	free(j);
	pve_argv_free(argv);
}

static void test_windows_on_sata(void **state)
{
	(void)state;
	struct vm_spec s = { .vmid = 100, .name = "WIN-SRV01", .memory_mb = 4096, .cores = 4,
			     .bridge = "vmbr0", .storage = "local-lvm", .disks = three_disks, .ndisks = 3,
			     .uefi = true, .windows = true };
	char **argv = qm_create_argv(&s);
	struct parsed p;
	check_against_schema(argv, &p);
	assert_string_equal(p.boot, "sata0");
	assert_string_equal(p.ostype, "win10");
	assert_string_equal(p.drives[0], "sata0");
	assert_string_equal(p.drives[2], "sata2");
	char *j = joined(argv);
	assert_non_null(strstr(j, " --net0 e1000,bridge=vmbr0 "));
	free(j);
	pve_argv_free(argv);
}

/* More Windows disks than SATA ports: the rest go on SCSI, still valid. */
static void test_windows_many_disks(void **state)
{
	(void)state;
	struct vm_disk d[9];
	char paths[9][64];
	for (int i = 0; i < 9; i++) {
		snprintf(paths[i], sizeof(paths[i]), "/var/lib/vz/import/w-disk%d.qcow2", i);
		d[i] = (struct vm_disk){ paths[i], true, false };
	}
	struct vm_spec s = { .vmid = 100, .name = "w", .memory_mb = 16, .cores = 1, .bridge = NULL,
			     .storage = "local", .disks = d, .ndisks = 9, .windows = true };
	char **argv = qm_create_argv(&s);
	struct parsed p;
	check_against_schema(argv, &p);
	assert_int_equal(p.ndrives, 9);
	assert_string_equal(p.drives[5], "sata5");
	assert_string_equal(p.drives[6], "scsi0");
	assert_string_equal(p.drives[8], "scsi2");
	char *j = joined(argv);
	assert_null(strstr(j, "--net0"));  /* --bridge none */
	free(j);
	pve_argv_free(argv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linux_bios_exact),
		cmocka_unit_test(test_linux_uefi_three_disks),
		cmocka_unit_test(test_windows_on_sata),
		cmocka_unit_test(test_windows_many_disks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
