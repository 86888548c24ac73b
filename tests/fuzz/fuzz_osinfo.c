/* What a root file system says about its OS and architecture:
 * os-release and the legacy release files to a Proxmox ostype, and the
 * bytes of an ELF header to an arch. */
#include "fuzz.h"
#include "log.h"
#include "osinfo.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_init("fuzz_osinfo");
	return 0;
}

static const char *const ostypes[] = {
	"debian", "ubuntu", "centos", "fedora", "opensuse", "archlinux", "alpine",
	"gentoo", "nixos", "devuan", "unmanaged", NULL,
};

static void check_ostype(const char *t, const char *from)
{
	if (!t)
		return;
	for (size_t i = 0; ostypes[i]; i++)
		if (!strcmp(t, ostypes[i]))
			return;
	fuzz_die("%s gave ostype '%s', not one Proxmox knows", from, t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	char *id = os_release_value(text, "ID");
	char *like = os_release_value(text, "ID_LIKE");
	free(os_release_value(text, "VERSION_ID"));
	free(os_release_value(text, "PRETTY_NAME"));
	check_ostype(ostype_from_id(id ? id : "", like), "ostype_from_id");
	check_ostype(ostype_from_os_release(text), "ostype_from_os_release");
	for (size_t i = 0; osinfo_release_files[i]; i++)
		check_ostype(ostype_from_release_file(osinfo_release_files[i], text),
			     osinfo_release_files[i]);
	free(id);
	free(like);

	const char *arch = arch_from_elf(data, size);
	static const char *const arches[] = { "amd64", "i386", "arm64", "armhf", "riscv32",
					      "riscv64", NULL };
	if (arch) {
		size_t i = 0;
		while (arches[i] && strcmp(arches[i], arch))
			i++;
		if (!arches[i])
			fuzz_die("arch_from_elf gave '%s'", arch);
		if (size < 20 || memcmp(data, "\177ELF", 4))
			fuzz_die("arch '%s' from %zu bytes that are no ELF header", arch, size);
	}
	free(text);
	return 0;
}
