/* fstab parsing, the choice of what p2v mounts, and the no-replay options.
 * With P2V_TEST_SOURCE_DEV set (tests/integration/test_source_mount.sh does),
 * it also mounts that device for real through source_mount. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "source.h"

static void parse_basic(void **state)
{
	(void)state;
	const char *text =
		"# /etc/fstab: static file system information.\n"
		"\n"
		"   # indented comment\n"
		"UUID=1234-abcd /               ext4    errors=remount-ro 0       1\n"
		"UUID=bbbb\t/boot\text4\tdefaults\t0\t2\n"
		"LABEL=my\\040home /home/with\\040space ext4 defaults,noatime 0 2\r\n"
		"/dev/sdb1 /srv xfs\n"                       /* too short: skipped */
		"short\n"                                    /* too short: skipped */
		"/dev/sdc1 /data ext4 defaults"              /* 4 fields, no newline */;
	struct fstab_entry *e = NULL;
	int n = fstab_parse(text, &e);
	assert_int_equal(n, 4);
	assert_string_equal(e[0].spec, "UUID=1234-abcd");
	assert_string_equal(e[0].file, "/");
	assert_string_equal(e[0].vfstype, "ext4");
	assert_string_equal(e[0].options, "errors=remount-ro");
	assert_string_equal(e[1].spec, "UUID=bbbb");
	assert_string_equal(e[1].file, "/boot");
	assert_string_equal(e[1].options, "defaults");
	assert_string_equal(e[2].spec, "LABEL=my home");
	assert_string_equal(e[2].file, "/home/with space");
	assert_string_equal(e[2].options, "defaults,noatime");
	assert_string_equal(e[3].spec, "/dev/sdc1");
	assert_string_equal(e[3].file, "/data");
	fstab_free(e, (size_t)n);
}

static void parse_escapes(void **state)
{
	(void)state;
	struct fstab_entry *e = NULL;
	/* \011 tab, \134 backslash, \012 newline; \000 and short or non-octal
	 * sequences stay literal; a trailing backslash too. */
	int n = fstab_parse("a\\011b /x\\134y\\012 t\\000 o\\9\\01\\\n", &e);
	assert_int_equal(n, 1);
	assert_string_equal(e[0].spec, "a\tb");
	assert_string_equal(e[0].file, "/x\\y\n");
	assert_string_equal(e[0].vfstype, "t\\000");
	assert_string_equal(e[0].options, "o\\9\\01\\");
	fstab_free(e, (size_t)n);
}

static void parse_empty(void **state)
{
	(void)state;
	struct fstab_entry *e = (void *)1;
	assert_int_equal(fstab_parse("", &e), 0);
	fstab_free(e, 0);
	assert_int_equal(fstab_parse("# only a comment\n\n\t\n", &e), 0);
	fstab_free(e, 0);
}

static void parse_many(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	for (int i = 0; i < 100; i++)
		fprintf(f, "/dev/x%d /m%d ext4 defaults 0 2\n", i, i);
	fclose(f);
	struct fstab_entry *e = NULL;
	int n = fstab_parse(text, &e);
	assert_int_equal(n, 100);
	assert_string_equal(e[99].file, "/m99");
	fstab_free(e, (size_t)n);
	free(text);
}

static int local(const char *spec, const char *file, const char *type, const char *opts)
{
	struct fstab_entry e = { (char *)spec, (char *)file, (char *)type, (char *)opts };
	return fstab_entry_is_local_fs(&e);
}

static void local_fs_choice(void **state)
{
	(void)state;
	/* mounted */
	assert_true(local("UUID=1", "/boot", "ext4", "defaults"));
	assert_true(local("LABEL=homefs", "/home", "xfs", "defaults"));
	assert_true(local("PARTUUID=abc", "/var", "btrfs", "subvol=@var"));
	assert_true(local("PARTLABEL=srv", "/srv", "ext2", "rw"));
	assert_true(local("/dev/mapper/vg-var", "/var/log", "auto", "defaults,nofail"));
	assert_true(local("UUID=AB-CD", "/boot/efi", "vfat", "umask=0077"));
	/* mounted on first access, so part of the system */
	assert_true(local("UUID=AB-CD", "/boot/efi", "vfat", "noauto,x-systemd.automount"));
	/* not mounted */
	assert_false(local("UUID=1", "/", "ext4", "errors=remount-ro"));
	assert_false(local("UUID=1", "//", "ext4", "defaults"));
	assert_false(local("UUID=2", "none", "swap", "sw"));
	assert_false(local("/swapfile", "swap", "swap", "defaults"));
	assert_false(local("server:/export", "/mnt/nfs", "nfs", "defaults"));
	assert_false(local("server:/export", "/mnt/nfs4", "nfs4", "defaults"));
	assert_false(local("//srv/share", "/mnt/smb", "cifs", "credentials=/x"));
	assert_false(local("//srv/share", "/mnt/smb", "smbfs", "defaults"));
	assert_false(local("u@h:/p", "/mnt/ssh", "fuse.sshfs", "defaults"));
	assert_false(local("u@h:/p", "/mnt/ssh", "sshfs", "defaults"));
	assert_false(local("h:/vol", "/mnt/g", "glusterfs", "defaults"));
	assert_false(local("h:/", "/mnt/c", "ceph", "name=admin"));
	assert_false(local("share", "/mnt/9p", "9p", "trans=virtio"));
	assert_false(local("https://dav", "/mnt/dav", "davfs", "user"));
	assert_false(local("/dev/sdb1", "/mnt/iscsi", "ext4", "_netdev"));
	assert_false(local("proc", "/proc", "proc", "defaults"));
	assert_false(local("sysfs", "/sys", "sysfs", "defaults"));
	assert_false(local("tmpfs", "/tmp", "tmpfs", "size=1G"));
	assert_false(local("devpts", "/dev/pts", "devpts", "gid=5"));
	assert_false(local("udev", "/dev", "devtmpfs", "defaults"));
	assert_false(local("cgroup", "/sys/fs/cgroup", "cgroup2", "defaults"));
	assert_false(local("cgroup", "/sys/fs/cgroup/cpu", "cgroup", "cpu"));
	assert_false(local("securityfs", "/sys/kernel/security", "securityfs", "defaults"));
	assert_false(local("debugfs", "/sys/kernel/debug", "debugfs", "defaults"));
	assert_false(local("overlay", "/merged", "overlay", "lowerdir=/a"));
	assert_false(local("/srv/data", "/data", "none", "bind"));
	assert_false(local("/srv/data", "/data", "ext4", "rbind"));
	assert_false(local("/srv/data", "/data", "auto", "defaults,bind"));
	assert_false(local("UUID=3", "/mnt/usb", "ext4", "noauto,user"));
	assert_false(local("/dev/sr0", "/media/cdrom", "udf,iso9660", "user,noauto"));
	assert_false(local("/images/x.img", "/mnt/img", "ext4", "loop"));
	assert_false(local("UUID=4", "relative/path", "ext4", "defaults"));
	assert_false(local("somehost", "/mnt/x", "ext4", "defaults"));
}

static void ro_options(void **state)
{
	(void)state;
	assert_string_equal(source_ro_options("ext2"), "ro");
	assert_string_equal(source_ro_options("ext3"), "ro,noload");
	assert_string_equal(source_ro_options("ext4"), "ro,noload");
	assert_string_equal(source_ro_options("xfs"), "ro,norecovery");
	assert_string_equal(source_ro_options("btrfs"), "ro,nologreplay");
	assert_string_equal(source_ro_options("vfat"), "ro");
	assert_string_equal(source_ro_options("iso9660"), "ro");
	assert_string_equal(source_ro_options(NULL), "ro");
}

/* Real mounts: only with a device prepared by the integration test. */
static void real_source_mount(void **state)
{
	(void)state;
	const char *dev = getenv("P2V_TEST_SOURCE_DEV");
	if (!dev || geteuid() != 0)
		skip();
	struct source_mounts *m = NULL;
	const char *root = NULL;
	int rc = source_mount(dev, &m, &root);
	const char *expect = getenv("P2V_TEST_EXPECT_FAIL");
	if (expect) {
		assert_true(rc < 0);
		assert_null(m);
		return;
	}
	assert_int_equal(rc, 0);
	assert_non_null(m);
	const char *markers = getenv("P2V_TEST_MARKERS");  /* "boot/marker home/marker" */
	if (markers) {
		char *copy = strdup(markers), *save = NULL;
		for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", root, t);
			if (access(path, R_OK) != 0)
				fail_msg("%s not readable below the mounted source", t);
		}
		free(copy);
	}
	/* Read-only for real: creating a file must fail. */
	char path[4096];
	snprintf(path, sizeof(path), "%s/p2v-write-test", root);
	FILE *f = fopen(path, "w");
	assert_null(f);
	source_unmount(m);
	assert_int_not_equal(access(root, F_OK), 0);  /* directory removed */
}

int main(void)
{
	log_init("test_fstab");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_basic),
		cmocka_unit_test(parse_escapes),
		cmocka_unit_test(parse_empty),
		cmocka_unit_test(parse_many),
		cmocka_unit_test(local_fs_choice),
		cmocka_unit_test(ro_options),
		cmocka_unit_test(real_source_mount),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
