/* The container fixups: the pure text transforms, and fixups_apply on a
 * scratch rootfs, including a hostile one whose files are symlinks out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixups.h"
#include "log.h"
#include "lxc.h"

static const char physical_fstab[] =
	"# /etc/fstab: static file system information.\n"
	"UUID=0a1b-2c3d /          ext4 errors=remount-ro 0 1\n"
	"UUID=5555-6666 /boot      ext4 defaults 0 2\n"
	"PARTUUID=abcd-01 /boot/efi vfat umask=0077 0 1\n"
	"/dev/mapper/vg-swap none  swap sw 0 0\n"
	"LABEL=data     /srv       xfs  defaults 0 2\n"
	"PARTLABEL=logs /var/log   ext4 defaults 0 2\n"
	"/swapfile      none       swap sw 0 0\n"
	"proc           /proc      proc defaults 0 0\n"
	"tmpfs          /tmp       tmpfs defaults,size=1g 0 0\n"
	"/srv/share     /export    none bind 0 0\n"
	"\n"
	"   # an indented comment\n";

static void fstab_comments_out_disks_boot_swap(void **state)
{
	(void)state;
	char *out = fixup_fstab_text(physical_fstab);
	assert_non_null(out);
	assert_string_equal(out,
		"# /etc/fstab: static file system information.\n"
		"# p2v: UUID=0a1b-2c3d /          ext4 errors=remount-ro 0 1\n"
		"# p2v: UUID=5555-6666 /boot      ext4 defaults 0 2\n"
		"# p2v: PARTUUID=abcd-01 /boot/efi vfat umask=0077 0 1\n"
		"# p2v: /dev/mapper/vg-swap none  swap sw 0 0\n"
		"# p2v: LABEL=data     /srv       xfs  defaults 0 2\n"
		"# p2v: PARTLABEL=logs /var/log   ext4 defaults 0 2\n"
		"# p2v: /swapfile      none       swap sw 0 0\n"
		"proc           /proc      proc defaults 0 0\n"
		"tmpfs          /tmp       tmpfs defaults,size=1g 0 0\n"
		"/srv/share     /export    none bind 0 0\n"
		"\n"
		"   # an indented comment\n");
	/* Idempotent: a second pass changes nothing. */
	assert_null(fixup_fstab_text(out));
	free(out);
}

static void fstab_unchanged_and_no_final_newline(void **state)
{
	(void)state;
	assert_null(fixup_fstab_text("proc /proc proc defaults 0 0\ntmpfs /tmp tmpfs defaults 0 0\n"));
	assert_null(fixup_fstab_text(""));
	char *out = fixup_fstab_text("/dev/sda1 / ext4 defaults 0 1");
	assert_non_null(out);
	assert_string_equal(out, "# p2v: /dev/sda1 / ext4 defaults 0 1\n");
	free(out);
}

static const char physical_interfaces[] =
	"source /etc/network/interfaces.d/*\n"
	"\n"
	"auto lo eno1\n"
	"iface lo inet loopback\n"
	"\n"
	"allow-hotplug enp3s0\n"
	"iface enp3s0 inet manual\n"
	"\n"
	"auto bond0\n"
	"iface bond0 inet manual\n"
	"    bond-slaves eno1 enp3s0\n"
	"    bond-mode 802.3ad\n"
	"\n"
	"auto vmbr0\n"
	"iface vmbr0 inet static\n"
	"    address 192.0.2.10/24\n"
	"    gateway 192.0.2.1\n"
	"    bridge-ports bond0\n"
	"\n"
	"auto eno1.100\n"
	"iface eno1.100 inet6 auto\n"
	"\n"
	"auto tun0\n"
	"iface tun0 inet manual\n"
	"    pre-up ip tuntap add tun0 mode tun\n";

static const char kept_part[] =
	"source /etc/network/interfaces.d/*\n"
	"\n"
	"# p2v: auto lo eno1\n"
	"auto lo\n"
	"iface lo inet loopback\n"
	"\n"
	"# p2v: allow-hotplug enp3s0\n"
	"# p2v: iface enp3s0 inet manual\n"
	"\n"
	"# p2v: auto bond0\n"
	"# p2v: iface bond0 inet manual\n"
	"# p2v:     bond-slaves eno1 enp3s0\n"
	"# p2v:     bond-mode 802.3ad\n"
	"\n"
	"# p2v: auto vmbr0\n"
	"# p2v: iface vmbr0 inet static\n"
	"# p2v:     address 192.0.2.10/24\n"
	"# p2v:     gateway 192.0.2.1\n"
	"# p2v:     bridge-ports bond0\n"
	"\n"
	"# p2v: auto eno1.100\n"
	"# p2v: iface eno1.100 inet6 auto\n"
	"\n"
	"auto tun0\n"
	"iface tun0 inet manual\n"
	"    pre-up ip tuntap add tun0 mode tun\n";

static void interfaces_pve_leaves_eth0_to_proxmox(void **state)
{
	(void)state;
	struct ct_spec spec = { .bridge = "vmbr0", .ip = "dhcp" };
	char *out = fixup_interfaces_text(physical_interfaces, &spec, BACKEND_PVE);
	assert_non_null(out);
	assert_string_equal(out, kept_part);
	assert_null(strstr(out, "eth0"));
	free(out);
}

static void interfaces_lxc_static_eth0(void **state)
{
	(void)state;
	struct ct_spec spec = { .bridge = "br0", .ip = "198.51.100.7/24", .gw = "198.51.100.1" };
	char *out = fixup_interfaces_text(physical_interfaces, &spec, BACKEND_LXC);
	assert_non_null(out);
	assert_memory_equal(out, kept_part, strlen(kept_part));
	assert_string_equal(out + strlen(kept_part),
		"\n# The container's network device (written by ct-import)\n"
		"auto eth0\n"
		"iface eth0 inet static\n"
		"\taddress 198.51.100.7/24\n"
		"\tgateway 198.51.100.1\n");
	free(out);
}

static void interfaces_lxc_dhcp_and_no_network(void **state)
{
	(void)state;
	const char *in = "auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n";
	struct ct_spec dhcp = { .bridge = "br0" };
	char *out = fixup_interfaces_text(in, &dhcp, BACKEND_LXC);
	assert_non_null(out);
	assert_string_equal(out,
		"auto lo\niface lo inet loopback\n\n"
		"# p2v: auto eth0\n# p2v: iface eth0 inet dhcp\n"
		"\n# The container's network device (written by ct-import)\n"
		"auto eth0\niface eth0 inet dhcp\n");
	free(out);
	/* No bridge: LXC's network type is empty, so no eth0 stanza at all. */
	struct ct_spec none = { 0 };
	out = fixup_interfaces_text(in, &none, BACKEND_LXC);
	assert_non_null(out);
	assert_string_equal(out,
		"auto lo\niface lo inet loopback\n\n"
		"# p2v: auto eth0\n# p2v: iface eth0 inet dhcp\n");
	free(out);
	assert_null(fixup_interfaces_text("auto lo\niface lo inet loopback\n", &none, BACKEND_LXC));
	assert_null(fixup_interfaces_d_text("auto wg0\niface wg0 inet manual\n"));
}

static void physical_names(void **state)
{
	(void)state;
	const char *yes[] = { "eth0", "eno1", "enp3s0f1", "ens18", "wlan0", "wlp2s0", "bond0",
			      "br0", "vmbr0", "vlan100", "eno1.100", "eth0:1", "em1", "p1p1", "ib0",
			      "team0", "wwan0" };
	const char *no[] = { "lo", "tun0", "wg0", "dummy0", "veth1", "", ".100", "ppp0" };
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++)
		assert_true(ifname_is_physical(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++)
		assert_false(ifname_is_physical(no[i]));
}

static void inittab_and_hosts(void **state)
{
	(void)state;
	char *out = fixup_inittab_text("id:2:initdefault:\n1:2345:respawn:/sbin/getty 38400 tty1\n"
				       "T0:23:respawn:/sbin/getty -L ttyS0 9600 vt100\n"
				       "#T1:23:respawn:/sbin/getty -L ttyS1 9600 vt100\n");
	assert_non_null(out);
	assert_string_equal(out, "id:2:initdefault:\n1:2345:respawn:/sbin/getty 38400 tty1\n"
				 "# p2v: T0:23:respawn:/sbin/getty -L ttyS0 9600 vt100\n"
				 "#T1:23:respawn:/sbin/getty -L ttyS1 9600 vt100\n");
	free(out);
	out = fixup_hosts_text("127.0.0.1\tlocalhost\n127.0.1.1\told.example old\n", "web01");
	assert_non_null(out);
	assert_string_equal(out, "127.0.0.1\tlocalhost\n127.0.1.1\tweb01\n");
	assert_null(fixup_hosts_text(out, "web01"));
	free(out);
	out = fixup_hosts_text("127.0.0.1 localhost\n", "web01");
	assert_string_equal(out, "127.0.0.1 localhost\n127.0.1.1\tweb01\n");
	free(out);
}

static void eth0_files(void **state)
{
	(void)state;
	struct ct_spec st = { .bridge = "br0", .ip = "198.51.100.7/24", .gw = "198.51.100.1",
			      .nameserver = "192.0.2.53 192.0.2.54", .searchdomain = "example.org" };
	char *s = eth0_ifcfg_text(&st);
	assert_non_null(strstr(s, "DEVICE=eth0\n"));
	assert_non_null(strstr(s, "BOOTPROTO=none\nIPADDR=198.51.100.7\nPREFIX=24\nGATEWAY=198.51.100.1\n"));
	free(s);
	s = eth0_netplan_text(&st);
	assert_non_null(strstr(s, "    eth0:\n      addresses: [\"198.51.100.7/24\"]\n"
				  "      routes:\n        - to: default\n          via: \"198.51.100.1\"\n"));
	free(s);
	s = resolv_conf_text(&st);
	assert_string_equal(s, "# Written by ct-import\nsearch example.org\n"
			       "nameserver 192.0.2.53\nnameserver 192.0.2.54\n");
	free(s);
	struct ct_spec dhcp = { .bridge = "br0" };
	s = eth0_ifcfg_text(&dhcp);
	assert_non_null(strstr(s, "BOOTPROTO=dhcp\n"));
	free(s);
	s = eth0_netplan_text(&dhcp);
	assert_non_null(strstr(s, "dhcp4: true"));
	free(s);
	assert_null(resolv_conf_text(&dhcp));
}

static void lxc_config(void **state)
{
	(void)state;
	struct ct_spec spec = { .name = "web01", .hostname = "web01", .template_name = "t.tar.zst",
				.arch = "amd64", .memory_mb = 512, .cores = 2 };
	char *c = lxc_config_text(&spec, "/var/lib/lxc/web01/rootfs");
	assert_non_null(c);
	assert_non_null(strstr(c, "lxc.rootfs.path = dir:/var/lib/lxc/web01/rootfs\n"));
	assert_non_null(strstr(c, "lxc.net.0.type = empty\n"));
	assert_non_null(strstr(c, "lxc.uts.name = web01\n"));
	assert_non_null(strstr(c, "lxc.start.auto = 1\n"));
	assert_true(strstr(c, "memory.limit_in_bytes = 536870912\n") || strstr(c, "memory.max = 536870912\n"));
	free(c);
	spec.bridge = "br0";
	spec.ip = "198.51.100.7/24";
	spec.gw = "198.51.100.1";
	c = lxc_config_text(&spec, "/r");
	assert_non_null(strstr(c, "lxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.0.flags = up\n"
				  "lxc.net.0.name = eth0\nlxc.net.0.ipv4.address = 198.51.100.7/24\n"
				  "lxc.net.0.ipv4.gateway = 198.51.100.1\n"));
	free(c);
	/* A newline would inject config keys. */
	spec.hostname = "x\nlxc.mount.entry = / host none bind";
	assert_null(lxc_config_text(&spec, "/r"));
}

/* ---- fixups_apply on a scratch rootfs ---- */

static char root[64];

static void put(const char *rel, const char *text, mode_t mode)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(p, mode);
}

static char *get(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "r");
	if (!f)
		return NULL;
	static char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static bool exists(const char *rel)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return lstat(p, &st) == 0;
}

static void mkdirs(const char *const *dirs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char p[512];
		snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
}

static int rm_one(const char *p, const struct stat *st, int fl, struct FTW *ftw)
{
	(void)st, (void)ftw;
	return fl == FTW_DP ? rmdir(p) : unlink(p);
}

static int setup_root(void **state)
{
	(void)state;
	strcpy(root, "/tmp/test_fixups.XXXXXX");
	assert_non_null(mkdtemp(root));
	static const char *const dirs[] = {
		"etc", "etc/network", "etc/network/interfaces.d", "etc/netplan", "etc/systemd",
		"etc/systemd/system", "etc/systemd/system/getty.target.wants", "etc/sysconfig",
		"etc/sysconfig/network-scripts", "etc/NetworkManager",
		"etc/NetworkManager/system-connections", "etc/rcS.d",
	};
	mkdirs(dirs, sizeof(dirs) / sizeof(*dirs));
	return 0;
}

static int teardown_root(void **state)
{
	(void)state;
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void apply_lxc(void **state)
{
	(void)state;
	put("etc/fstab", physical_fstab, 0640);
	put("etc/network/interfaces", physical_interfaces, 0644);
	put("etc/network/interfaces.d/bond", "auto bond1\niface bond1 inet manual\n", 0644);
	put("etc/netplan/01-netcfg.yaml", "network:\n  ethernets:\n    eno1: {dhcp4: true}\n", 0600);
	put("etc/sysconfig/network-scripts/ifcfg-lo", "DEVICE=lo\n", 0644);
	put("etc/sysconfig/network-scripts/ifcfg-eno1", "DEVICE=eno1\n", 0644);
	put("etc/NetworkManager/system-connections/eno1.nmconnection",
	    "[connection]\nid=eno1\ninterface-name=eno1\n", 0600);
	put("etc/NetworkManager/system-connections/vpn.nmconnection",
	    "[connection]\nid=vpn\ntype=vpn\n", 0600);
	put("etc/inittab", "T0:23:respawn:/sbin/getty -L ttyS0 9600 vt100\n", 0644);
	put("etc/hostname", "old\n", 0644);
	put("etc/hosts", "127.0.0.1 localhost\n127.0.1.1 old\n", 0644);
	char p[512];
	snprintf(p, sizeof(p), "%s/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service", root);
	assert_int_equal(symlink("/lib/systemd/system/serial-getty@.service", p), 0);
	snprintf(p, sizeof(p), "%s/etc/rcS.d/S01hwclock.sh", root);
	assert_int_equal(symlink("../init.d/hwclock.sh", p), 0);

	struct ct_spec spec = { .name = "web01", .hostname = "web01", .bridge = "br0",
				.ip = "198.51.100.7/24", .gw = "198.51.100.1",
				.nameserver = "192.0.2.53" };
	assert_int_equal(fixups_apply(root, &spec, BACKEND_LXC), 0);

	assert_non_null(strstr(get("etc/fstab"), "# p2v: UUID=0a1b-2c3d /"));
	struct stat st;
	snprintf(p, sizeof(p), "%s/etc/fstab", root);
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);  /* mode kept */
	assert_non_null(strstr(get("etc/network/interfaces"), "iface eth0 inet static\n\taddress 198.51.100.7/24"));
	assert_non_null(strstr(get("etc/network/interfaces.d/bond"), "# p2v: iface bond1"));
	assert_false(exists("etc/netplan/01-netcfg.yaml"));
	assert_true(exists("etc/netplan/01-netcfg.yaml.p2v-disabled"));
	assert_non_null(strstr(get("etc/netplan/10-p2v-eth0.yaml"), "eth0"));
	assert_true(exists("etc/sysconfig/network-scripts/ifcfg-lo"));
	assert_true(exists("etc/sysconfig/network-scripts/ifcfg-eno1.p2v-disabled"));
	assert_non_null(strstr(get("etc/sysconfig/network-scripts/ifcfg-eth0"), "IPADDR=198.51.100.7"));
	assert_true(exists("etc/NetworkManager/system-connections/eno1.nmconnection.p2v-disabled"));
	assert_true(exists("etc/NetworkManager/system-connections/vpn.nmconnection"));
	char link[64] = "";
	snprintf(p, sizeof(p), "%s/etc/systemd/system/systemd-udevd.service", root);
	assert_int_equal(readlink(p, link, sizeof(link) - 1), 9);
	assert_string_equal(link, "/dev/null");
	assert_false(exists("etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service"));
	assert_false(exists("etc/rcS.d/S01hwclock.sh"));
	assert_string_equal(get("etc/inittab"), "# p2v: T0:23:respawn:/sbin/getty -L ttyS0 9600 vt100\n");
	assert_string_equal(get("etc/hostname"), "web01\n");
	assert_non_null(strstr(get("etc/hosts"), "127.0.1.1\tweb01\n"));
	assert_non_null(strstr(get("etc/resolv.conf"), "nameserver 192.0.2.53\n"));
	/* Applying again is harmless. */
	assert_int_equal(fixups_apply(root, &spec, BACKEND_LXC), 0);
}

/* A hostile rootfs: etc/fstab is a symlink to a host file and etc/network
 * is an absolute symlink to a host directory. Neither may be touched. */
static void apply_never_leaves_the_root(void **state)
{
	(void)state;
	char host[64] = "/tmp/test_fixups_host.XXXXXX";
	assert_non_null(mkdtemp(host));
	char hostfile[128], p[512];
	snprintf(hostfile, sizeof(hostfile), "%s/fstab", host);
	FILE *f = fopen(hostfile, "w");
	fputs("/dev/sda1 / ext4 defaults 0 1\n", f);
	fclose(f);
	mkdir(strcat(strcpy(p, host), "/network"), 0755);
	strcat(p, "/interfaces");
	f = fopen(p, "w");
	fputs("auto eno1\niface eno1 inet dhcp\n", f);
	fclose(f);

	snprintf(p, sizeof(p), "%s/etc/fstab", root);
	assert_int_equal(symlink(hostfile, p), 0);
	snprintf(p, sizeof(p), "%s/etc/network", root);
	char aside[600];
	snprintf(aside, sizeof(aside), "%s.real", p);
	assert_int_equal(rename(p, aside), 0);
	char target[128];
	snprintf(target, sizeof(target), "%s/network", host);
	assert_int_equal(symlink(target, p), 0);

	struct ct_spec spec = { .name = "c", .bridge = "br0" };
	assert_int_equal(fixups_apply(root, &spec, BACKEND_LXC), 0);

	f = fopen(hostfile, "r");
	char buf[256] = "";
	fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	assert_string_equal(buf, "/dev/sda1 / ext4 defaults 0 1\n");
	snprintf(p, sizeof(p), "%s/network/interfaces", host);
	f = fopen(p, "r");
	memset(buf, 0, sizeof(buf));
	fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	assert_string_equal(buf, "auto eno1\niface eno1 inet dhcp\n");
	nftw(host, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A dry run only prints; an existing container is refused untouched. */
static void lxc_dry_run_and_existing(void **state)
{
	(void)state;
	char p[512];
	struct ct_spec spec = { .name = "dry", .lxc_path = root, .template_path = "/nonexistent.tar",
				.template_name = "nonexistent.tar", .dry_run = true, .start = true };
	FILE *saved = stdout;
	stdout = fopen("/dev/null", "w");
	int rc = lxc_create_ct(&spec);
	fclose(stdout);
	stdout = saved;
	assert_int_equal(rc, 0);
	assert_false(exists("dry"));
	snprintf(p, sizeof(p), "%s/taken", root);
	assert_int_equal(mkdir(p, 0700), 0);
	spec.name = "taken";
	spec.dry_run = false;
	assert_int_equal(lxc_create_ct(&spec), -EEXIST);
	spec.name = "../escape";
	assert_int_equal(lxc_create_ct(&spec), -EINVAL);
	/* A failed unpack leaves no half-made container. */
	spec.name = "broken";
	spec.start = false;
	assert_true(lxc_create_ct(&spec) < 0);
	assert_false(exists("broken"));
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fstab_comments_out_disks_boot_swap),
		cmocka_unit_test(fstab_unchanged_and_no_final_newline),
		cmocka_unit_test(interfaces_pve_leaves_eth0_to_proxmox),
		cmocka_unit_test(interfaces_lxc_static_eth0),
		cmocka_unit_test(interfaces_lxc_dhcp_and_no_network),
		cmocka_unit_test(physical_names),
		cmocka_unit_test(inittab_and_hosts),
		cmocka_unit_test(eth0_files),
		cmocka_unit_test(lxc_config),
		cmocka_unit_test_setup_teardown(apply_lxc, setup_root, teardown_root),
		cmocka_unit_test_setup_teardown(apply_never_leaves_the_root, setup_root, teardown_root),
		cmocka_unit_test_setup_teardown(lxc_dry_run_and_existing, setup_root, teardown_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
