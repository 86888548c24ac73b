/* os-release → Proxmox ostype and ELF header → Proxmox arch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "osinfo.h"

static void test_os_release_value(void **state)
{
	(void)state;
	const char *t = "NAME=\"Debian GNU/Linux\"\n# ID=wrong\nID=debian\nVERSION_ID='12'\n"
			"PRETTY_NAME=\"Say \\\"hi\\\"\"  \n";
	char *v = os_release_value(t, "ID");
	assert_string_equal(v, "debian");
	free(v);
	v = os_release_value(t, "VERSION_ID");
	assert_string_equal(v, "12");
	free(v);
	v = os_release_value(t, "PRETTY_NAME");
	assert_string_equal(v, "Say \"hi\"");
	free(v);
	assert_null(os_release_value(t, "VERSION"));
	assert_null(os_release_value(t, "NAM"));
}

static void test_ostype_mapping(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{ "debian", "debian" }, { "devuan", "devuan" }, { "ubuntu", "ubuntu" },
		{ "centos", "centos" }, { "rocky", "centos" }, { "almalinux", "centos" },
		{ "rhel", "centos" }, { "ol", "centos" }, { "fedora", "fedora" },
		{ "opensuse-leap", "opensuse" }, { "opensuse-tumbleweed", "opensuse" },
		{ "sles", "opensuse" }, { "arch", "archlinux" }, { "archlinux", "archlinux" },
		{ "alpine", "alpine" }, { "gentoo", "gentoo" }, { "nixos", "nixos" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(ostype_from_id(cases[i][0], NULL), cases[i][1]);
	assert_null(ostype_from_id("slackware", NULL));
	assert_null(ostype_from_id(NULL, NULL));
	/* Derivatives follow ID_LIKE. */
	assert_string_equal(ostype_from_id("linuxmint", "ubuntu debian"), "ubuntu");
	assert_string_equal(ostype_from_id("kali", "debian"), "debian");
	assert_null(ostype_from_id("weird", "also-weird"));
}

static void test_ostype_from_os_release(void **state)
{
	(void)state;
	assert_string_equal(ostype_from_os_release("NAME=\"Rocky Linux\"\nID=\"rocky\"\n"
						   "ID_LIKE=\"rhel centos fedora\"\n"), "centos");
	assert_string_equal(ostype_from_os_release("ID=opensuse-leap\nID_LIKE=\"suse opensuse\"\n"),
			    "opensuse");
	assert_string_equal(ostype_from_os_release("ID=arch\n"), "archlinux");
	assert_null(ostype_from_os_release("NAME=nothing\n"));
}

static void test_release_files(void **state)
{
	(void)state;
	assert_string_equal(ostype_from_release_file("debian_version", "10.13\n"), "debian");
	assert_string_equal(ostype_from_release_file("devuan_version", "chimaera\n"), "devuan");
	assert_string_equal(ostype_from_release_file("redhat-release", "CentOS release 6.10 (Final)\n"), "centos");
	assert_string_equal(ostype_from_release_file("redhat-release", "Fedora release 20 (Heisenbug)\n"), "fedora");
	assert_string_equal(ostype_from_release_file("alpine-release", "3.18.4\n"), "alpine");
	assert_string_equal(ostype_from_release_file("lsb-release", "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=14.04\n"), "ubuntu");
	assert_null(ostype_from_release_file("lsb-release", "DISTRIB_ID=Whatever\n"));
	assert_string_equal(ostype_from_release_file("gentoo-release", "Gentoo Base System release 2.7\n"), "gentoo");
	assert_string_equal(ostype_from_release_file("arch-release", ""), "archlinux");
	/* The ordered list holds every file the mapping knows. */
	size_t n = 0;
	while (osinfo_release_files[n])
		n++;
	assert_true(n >= 9);
}

/* A real ELF header as the kernel and file(1) read it: e_ident, e_type,
 * e_machine, e_version, then e_flags at 36 (32-bit) or 48 (64-bit). */
static void make_elf(uint8_t *h, int is64, int big, uint16_t machine, uint32_t flags)
{
	memset(h, 0, 64);
	memcpy(h, "\177ELF", 4);
	h[4] = is64 ? 2 : 1;  /* EI_CLASS */
	h[5] = big ? 2 : 1;   /* EI_DATA */
	h[6] = 1;             /* EI_VERSION */
	uint16_t type = 3;    /* ET_DYN */
	size_t foff = is64 ? 48 : 36;
	if (big) {
		h[16] = (uint8_t)(type >> 8); h[17] = (uint8_t)type;
		h[18] = (uint8_t)(machine >> 8); h[19] = (uint8_t)machine;
		h[23] = 1;
		for (int i = 0; i < 4; i++)
			h[foff + (size_t)i] = (uint8_t)(flags >> (24 - 8 * i));
	} else {
		h[16] = (uint8_t)type; h[17] = (uint8_t)(type >> 8);
		h[18] = (uint8_t)machine; h[19] = (uint8_t)(machine >> 8);
		h[20] = 1;
		for (int i = 0; i < 4; i++)
			h[foff + (size_t)i] = (uint8_t)(flags >> (8 * i));
	}
	/* e_ehsize: 64 or 52, as real headers carry. */
	size_t ehs = is64 ? 52 : 40;
	h[ehs] = is64 ? 64 : 52;
}

static void test_elf_arch(void **state)
{
	(void)state;
	uint8_t h[64];
	make_elf(h, 1, 0, 62, 0);
	assert_string_equal(arch_from_elf(h, sizeof(h)), "amd64");
	make_elf(h, 0, 0, 3, 0);
	assert_string_equal(arch_from_elf(h, sizeof(h)), "i386");
	make_elf(h, 1, 0, 183, 0);
	assert_string_equal(arch_from_elf(h, sizeof(h)), "arm64");
	make_elf(h, 0, 0, 40, 0x05000400);  /* EABI5 | EF_ARM_ABI_FLOAT_HARD */
	assert_string_equal(arch_from_elf(h, sizeof(h)), "armhf");
	make_elf(h, 0, 0, 40, 0x05000200);  /* EABI5 soft-float: armel */
	assert_null(arch_from_elf(h, sizeof(h)));
	make_elf(h, 1, 0, 243, 0x5);        /* RVC | float ABI double */
	assert_string_equal(arch_from_elf(h, sizeof(h)), "riscv64");
	make_elf(h, 0, 0, 243, 0x1);
	assert_string_equal(arch_from_elf(h, sizeof(h)), "riscv32");
	/* x32 (EM_X86_64 in a 32-bit file) and unknown machines have no arch. */
	make_elf(h, 0, 0, 62, 0);
	assert_null(arch_from_elf(h, sizeof(h)));
	make_elf(h, 1, 1, 22, 0);           /* s390x, big-endian */
	assert_null(arch_from_elf(h, sizeof(h)));
	/* Big-endian fields are read as such. */
	make_elf(h, 1, 1, 183, 0);
	assert_string_equal(arch_from_elf(h, sizeof(h)), "arm64");
}

static void test_elf_rejects(void **state)
{
	(void)state;
	uint8_t h[64];
	make_elf(h, 1, 0, 62, 0);
	assert_null(arch_from_elf(h, 19));
	assert_null(arch_from_elf("#!/bin/sh\necho hi\n", 18));
	h[4] = 3;
	assert_null(arch_from_elf(h, sizeof(h)));
	make_elf(h, 0, 0, 40, 0x05000400);
	assert_null(arch_from_elf(h, 38));  /* e_flags cut off */
}

/* The host's own /bin/sh must map to the host's arch. */
static void test_elf_host(void **state)
{
	(void)state;
	FILE *f = fopen("/bin/sh", "rb");
	if (!f)
		skip();
	uint8_t h[64];
	size_t n = fread(h, 1, sizeof(h), f);
	fclose(f);
#if defined(__x86_64__)
	assert_string_equal(arch_from_elf(h, n), "amd64");
#elif defined(__aarch64__)
	assert_string_equal(arch_from_elf(h, n), "arm64");
#else
	(void)n;
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_os_release_value),
		cmocka_unit_test(test_ostype_mapping),
		cmocka_unit_test(test_ostype_from_os_release),
		cmocka_unit_test(test_release_files),
		cmocka_unit_test(test_elf_arch),
		cmocka_unit_test(test_elf_rejects),
		cmocka_unit_test(test_elf_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
