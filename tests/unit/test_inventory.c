/* p2v inventory's parsers and sysfs reading, on a fake sysfs tree built in a
 * temporary directory (symlinks shaped like the kernel's), /proc text given
 * as strings, and device-mapper structs formatted as JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "create_spec.h"
#include "inventory.h"
#include "log.h"

static void transport_from_paths(void **state)
{
	(void)state;
	struct { const char *path, *want; } cases[] = {
		{ "/sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda", "sata" },
		{ "/sys/devices/pci0000:00/0000:00:1d.0/nvme/nvme0/nvme0n1", "nvme" },
		{ "/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb", "usb" },
		{ "/sys/devices/pci0000:00/0000:00:03.0/virtio1/block/vda", "virtio" },
		{ "/sys/devices/pci0000:00/0000:00:04.0/virtio2/host2/target2:0:0/2:0:0:0/block/sdc", "scsi" },
		{ "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/host0/port-0:0/end_device-0:0/target0:0:0/0:0:0:0/block/sdd", "scsi" },
		{ "/sys/devices/platform/fe320000.mmc/mmc_host/mmc0/mmc0:0001/block/mmcblk0", "mmc" },
		{ "/sys/devices/virtual/block/loop0", "virtual" },
		{ "/sys/devices/platform/something/block/xyz", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = inv_transport_from_path(cases[i].path);
		if (cases[i].want)
			assert_non_null(got), assert_string_equal(got, cases[i].want);
		else
			assert_null(got);
	}
}

static void cpuinfo_x86_and_arm(void **state)
{
	(void)state;
	unsigned n;
	char *model;
	const char *x86 =
		"processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz\n\n"
		"processor\t: 1\nmodel name\t: Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz\n\n"
		"processor\t: 2\nmodel name\t: Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz\n";
	assert_int_equal(inv_parse_cpuinfo(x86, &n, &model), 0);
	assert_int_equal(n, 3);
	assert_string_equal(model, "Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz");
	free(model);
	const char *arm = "processor\t: 0\nBogoMIPS\t: 108.00\nCPU part\t: 0xd08\n\n"
			  "processor\t: 1\nBogoMIPS\t: 108.00\n\nHardware\t: BCM2835\nModel\t: Raspberry Pi 4\n";
	assert_int_equal(inv_parse_cpuinfo(arm, &n, &model), 0);
	assert_int_equal(n, 2);
	assert_string_equal(model, "BCM2835");
	free(model);
	assert_int_equal(inv_parse_cpuinfo("", &n, &model), 0);
	assert_int_equal(n, 0);
	assert_null(model);
}

static void meminfo_total(void **state)
{
	(void)state;
	uint64_t b = 0;
	assert_int_equal(inv_parse_meminfo("MemTotal:       16303460 kB\nMemFree:  1 kB\n", &b), 0);
	assert_true(b == 16303460ull * 1024);
	assert_int_equal(inv_parse_meminfo("MemFree: 12 kB\nSwapTotal: 0 kB\n", &b), -ENOENT);
	assert_int_equal(inv_parse_meminfo("Foo: 1\nMemTotal: 2048 kB", &b), 0);
	assert_true(b == 2 * 1024 * 1024);
}

static void mountinfo_lines(void **state)
{
	(void)state;
	unsigned ma, mi;
	char mnt[PATH_MAX];
	assert_int_equal(inv_parse_mountinfo_line(
		"36 35 98:0 /mnt1 /run/archiso/boot\\040mnt rw,noatime master:1 - ext3 /dev/root rw\n",
		&ma, &mi, mnt, sizeof(mnt)), 0);
	assert_int_equal(ma, 98);
	assert_int_equal(mi, 0);
	assert_string_equal(mnt, "/run/archiso/boot mnt");
	assert_int_equal(inv_parse_mountinfo_line("garbage\n", &ma, &mi, mnt, sizeof(mnt)), -EINVAL);
}

/* ---- a fake sysfs ------------------------------------------------------ */

static char root[PATH_MAX];

static void put(const char *rel, const char *text)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void link_to(const char *rel, const char *target)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	assert_int_equal(symlink(target, p), 0);
}

#define SATA "devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda"
#define NVME "devices/pci0000:00/0000:00:1d.0/nvme/nvme0/nvme0n1"
#define LOOP "devices/virtual/block/loop3"
#define MD "devices/virtual/block/md127"

static int make_tree(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/test_inventory.XXXXXX");
	assert_non_null(mkdtemp(root));
	put(SATA "/size", "1953525168\n");
	put(SATA "/removable", "0\n");
	put(SATA "/ro", "0\n");
	put(SATA "/queue/logical_block_size", "512\n");
	put(SATA "/queue/physical_block_size", "4096\n");
	put(SATA "/queue/rotational", "1\n");
	put(SATA "/device/model", "WDC WD10EZEX-08W\n");
	put(SATA "/sda1/partition", "1\n");
	link_to("block/sda", "../" SATA);
	link_to("class/block/sda1", "../../" SATA "/sda1");
	put(NVME "/size", "1000215216\n");
	put(NVME "/removable", "0\n");
	put(NVME "/queue/logical_block_size", "512\n");
	put(NVME "/queue/physical_block_size", "512\n");
	put(NVME "/queue/rotational", "0\n");
	put(NVME "/device/model", "Samsung SSD 970 EVO Plus 1TB          \n");
	put(NVME "/device/serial", "S4EWNX0N123456  \n");
	link_to("block/nvme0n1", "../" NVME);
	put(LOOP "/size", "16384\n");
	put(LOOP "/loop/backing_file", "/srv/images/disk.img\n");
	link_to("block/loop3", "../" LOOP);
	put(MD "/size", "1953519616\n");
	put(MD "/md/level", "raid1\n");
	put(MD "/md/metadata_version", "external:imsm\n");
	put(MD "/md/array_state", "inactive\n");
	link_to(MD "/md/dev-sda/block", "../../../../" SATA);
	link_to(MD "/md/dev-nvme0n1/block", "../../../../" NVME);
	link_to("block/md127", "../" MD);
	/* NICs */
	put("devices/pci0000:00/0000:00:19.0/net/eno1/address", "3c:ec:ef:01:02:03\n");
	put("devices/pci0000:00/0000:00:19.0/net/eno1/operstate", "up\n");
	put("devices/pci0000:00/0000:00:19.0/net/eno1/carrier", "1\n");
	put("devices/pci0000:00/0000:00:19.0/net/eno1/speed", "1000\n");
	link_to("devices/pci0000:00/0000:00:19.0/net/eno1/device", "../../../0000:00:19.0");
	link_to("devices/pci0000:00/0000:00:19.0/driver", "../../../bus/pci/drivers/e1000e");
	link_to("class/net/eno1", "../../devices/pci0000:00/0000:00:19.0/net/eno1");
	put("devices/virtual/net/br0/address", "aa:bb:cc:dd:ee:ff\n");
	put("devices/virtual/net/br0/operstate", "down\n");
	put("devices/virtual/net/br0/speed", "-1\n");
	link_to("class/net/br0", "../../devices/virtual/net/br0");
	link_to("class/net/lo", "../../devices/virtual/net/lo");
	return 0;
}

static int remove_tree(void **state)
{
	(void)state;
	char *argv[] = { "rm", "-rf", root, NULL };
	pid_t p = fork();
	if (p == 0) {
		execvp("rm", argv);
		_exit(127);
	}
	return 0;
}

static const struct inv_disk *find_disk(const struct inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->n_disks; i++)
		if (!strcmp(inv->disks[i].name, name))
			return &inv->disks[i];
	return NULL;
}

static void fake_sysfs_disks(void **state)
{
	(void)state;
	struct inventory inv;
	struct inventory_opts o = { .sysfs = root, .no_probe = true };
	assert_int_equal(inventory_collect(&o, &inv), 0);
	/* loop3 and md127 are not disks by default */
	assert_int_equal(inv.n_disks, 2);
	const struct inv_disk *sda = find_disk(&inv, "sda"), *nv = find_disk(&inv, "nvme0n1");
	assert_non_null(sda);
	assert_non_null(nv);
	assert_string_equal(sda->path, "/dev/sda");
	assert_true(sda->size == 1953525168ull * 512);
	assert_string_equal(sda->transport, "sata");
	assert_string_equal(sda->model, "WDC WD10EZEX-08W");
	assert_null(sda->serial);
	assert_int_equal(sda->logical_sector, 512);
	assert_int_equal(sda->physical_sector, 4096);
	assert_true(sda->rotational);
	assert_false(sda->removable);
	assert_string_equal(nv->transport, "nvme");
	assert_string_equal(nv->model, "Samsung SSD 970 EVO Plus 1TB");
	assert_string_equal(nv->serial, "S4EWNX0N123456");
	assert_false(nv->rotational);
	/* md127: an IMSM container's members come from md/dev-* links */
	assert_int_equal(inv.n_mds, 1);
	assert_string_equal(inv.mds[0].name, "md127");
	assert_string_equal(inv.mds[0].level, "raid1");
	assert_string_equal(inv.mds[0].metadata_version, "external:imsm");
	assert_string_equal(inv.mds[0].members[0], "nvme0n1");
	assert_string_equal(inv.mds[0].members[1], "sda");
	assert_null(inv.mds[0].members[2]);
	/* NICs: lo skipped, bridge virtual, driver from device/driver */
	assert_int_equal(inv.n_nics, 2);
	assert_string_equal(inv.nics[0].name, "br0");
	assert_true(inv.nics[0].is_virtual);
	assert_int_equal(inv.nics[0].speed_mbps, -1);
	assert_int_equal(inv.nics[0].carrier, -1);
	assert_string_equal(inv.nics[1].name, "eno1");
	assert_false(inv.nics[1].is_virtual);
	assert_string_equal(inv.nics[1].driver, "e1000e");
	assert_string_equal(inv.nics[1].mac, "3c:ec:ef:01:02:03");
	assert_int_equal(inv.nics[1].speed_mbps, 1000);
	assert_int_equal(inv.nics[1].carrier, 1);

	json_t *j = inventory_to_json(&inv);
	assert_non_null(j);
	json_t *d0 = json_array_get(json_object_get(j, "disks"), 0);
	assert_string_equal(json_string_value(json_object_get(d0, "transport")), "nvme");
	assert_true(json_is_null(json_object_get(d0, "blkid")));   /* not probed */
	assert_int_equal(json_integer_value(json_object_get(d0, "size")), 1000215216ll * 512);
	json_t *md = json_array_get(json_object_get(j, "md_arrays"), 0);
	assert_string_equal(json_string_value(json_object_get(md, "path")), "/dev/md127");
	json_decref(j);
	inventory_free(&inv);
}

static void named_loop_disk(void **state)
{
	(void)state;
	struct inventory inv;
	const char *disks[] = { "loop3" };
	struct inventory_opts o = { .sysfs = root, .no_probe = true, .disks = disks, .n_disks = 1 };
	assert_int_equal(inventory_collect(&o, &inv), 0);
	assert_int_equal(inv.n_disks, 1);
	assert_string_equal(inv.disks[0].transport, "loop");
	assert_string_equal(inv.disks[0].backing_file, "/srv/images/disk.img");
	assert_true(inv.disks[0].size == 16384 * 512);
	inventory_free(&inv);
	const char *part[] = { "sda1" };
	o.disks = part;
	assert_int_not_equal(inventory_collect(&o, &inv), 0);   /* not a whole disk */
}

static void dm_json(void **state)
{
	(void)state;
	struct inv_dm_target t[] = { { "mirror", 0, 1000 * 512ull }, { "linear", 1000 * 512ull, 8 * 512ull } };
	struct inv_dm dm = { .name = "isw_bdeadbeef_Volume0", .uuid = "DMRAID-isw_bdeadbeef_Volume0",
			     .targets = t, .n_targets = 2 };
	json_t *j = inv_dm_to_json(&dm);
	char *s = json_dumps(j, JSON_COMPACT);
	assert_string_equal(s, "{\"name\":\"isw_bdeadbeef_Volume0\",\"uuid\":\"DMRAID-isw_bdeadbeef_Volume0\","
			       "\"targets\":[{\"type\":\"mirror\",\"start\":0,\"length\":512000},"
			       "{\"type\":\"linear\",\"start\":512000,\"length\":4096}]}");
	free(s);
	json_decref(j);
	struct inv_dm none = { .name = "plain" };
	j = inv_dm_to_json(&none);
	s = json_dumps(j, JSON_COMPACT);
	assert_string_equal(s, "{\"name\":\"plain\",\"uuid\":null,\"targets\":[]}");
	free(s);
	json_decref(j);
}

/* An OS read from a directory tree: os-release, hostname, fstab, network. */
static void os_from_tree(void **state)
{
	(void)state;
	char saved[PATH_MAX / 2];
	assert_true(strlen(root) < sizeof(saved));
	memcpy(saved, root, strlen(root) + 1);
	assert_true(snprintf(root, sizeof(root), "%s/osroot", saved) < (int)sizeof(root));
	mkdir(root, 0755);
	put("etc/os-release", "ID=rocky\nVERSION_ID=\"9.3\"\nPRETTY_NAME=\"Rocky Linux 9.3 (Blue Onyx)\"\nID_LIKE=\"rhel centos fedora\"\n");
	put("etc/hostname", "db1.example.com\n");
	put("etc/fstab", "/dev/mapper/rl-root / xfs defaults 0 0\n");
	put("etc/sysconfig/network-scripts/ifcfg-ens192",
	    "DEVICE=ens192\nBOOTPROTO=none\nIPADDR=192.168.10.5\nPREFIX=24\nGATEWAY=192.168.10.1\n");
	put("etc/resolv.conf", "nameserver 192.168.10.2\nsearch example.com\n");
	int fd = open(root, O_PATH | O_DIRECTORY);
	assert_true(fd >= 0);
	struct inv_os os = { 0 };
	assert_int_equal(inv_read_os(fd, &os), 0);
	close(fd);
	assert_string_equal(os.id, "rocky");
	assert_string_equal(os.version_id, "9.3");
	assert_string_equal(os.ostype, "centos");
	assert_null(os.arch);   /* no /bin/sh */
	assert_string_equal(os.hostname, "db1.example.com");
	assert_int_equal(os.n_fstab, 1);
	assert_string_equal(os.net.iface, "ens192");
	assert_string_equal(os.net.ip, "192.168.10.5/24");
	assert_string_equal(os.net.gw, "192.168.10.1");
	assert_string_equal(os.net.nameserver, "192.168.10.2");
	inv_os_free(&os);
	/* a tree that is no root */
	assert_true(snprintf(root, sizeof(root), "%s/home", saved) < (int)sizeof(root));
	mkdir(root, 0755);
	put("user/notes.txt", "x\n");
	fd = open(root, O_PATH | O_DIRECTORY);
	assert_int_equal(inv_read_os(fd, &os), -ENOENT);
	close(fd);
	memcpy(root, saved, strlen(saved) + 1);
}

/* create-ct's defaults from the inventory stored beside a template. */
static void hw_defaults(void **state)
{
	(void)state;
	unsigned mem, cores;
	const char *inv = "{\"cpus\":{\"count\":8,\"model\":\"x\"},\"memory\":{\"total_bytes\":16777216000}}";
	assert_int_equal(inventory_hw_defaults(inv, 64ull << 30, 32, &mem, &cores), 0);
	assert_int_equal(mem, 16000);
	assert_int_equal(cores, 8);
	/* capped at the hypervisor's memory and CPUs */
	assert_int_equal(inventory_hw_defaults(inv, 8ull << 30, 4, &mem, &cores), 0);
	assert_int_equal(mem, 8192);
	assert_int_equal(cores, 4);
	/* and at CTI_MAX_DEFAULT_MEMORY_MB */
	assert_int_equal(inventory_hw_defaults("{\"memory\":{\"total_bytes\":549755813888}}",
					       1ull << 40, 0, &mem, &cores), 0);
	assert_int_equal(mem, CTI_MAX_DEFAULT_MEMORY_MB);
	assert_int_equal(cores, 0);
	assert_int_equal(inventory_hw_defaults("[1]", 0, 0, &mem, &cores), -EINVAL);
	assert_int_equal(inventory_hw_defaults("{}", 0, 0, &mem, &cores), 0);
	assert_int_equal(mem, 0);
}

int main(void)
{
	log_init("test_inventory");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(transport_from_paths),
		cmocka_unit_test(cpuinfo_x86_and_arm),
		cmocka_unit_test(meminfo_total),
		cmocka_unit_test(mountinfo_lines),
		cmocka_unit_test(fake_sysfs_disks),
		cmocka_unit_test(named_loop_disk),
		cmocka_unit_test(dm_json),
		cmocka_unit_test(os_from_tree),
		cmocka_unit_test(hw_defaults),
	};
	return cmocka_run_group_tests(tests, make_tree, remove_tree);
}
