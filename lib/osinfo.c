#include "osinfo.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Unquote an os-release value (shell-like: "..." with \ escapes, or '...'). */
static char *unquote(const char *v, size_t len)
{
	char *out = malloc(len + 1), *o = out;
	if (!out)
		return NULL;
	char q = 0;
	for (size_t i = 0; i < len; i++) {
		char c = v[i];
		if (!q && (c == '"' || c == '\'')) {
			q = c;
			continue;
		}
		if (q && c == q) {
			q = 0;
			continue;
		}
		if (c == '\\' && q != '\'' && i + 1 < len) {
			*o++ = v[++i];
			continue;
		}
		if (!q && c == '#')
			break;
		*o++ = c;
	}
	/* Trailing blanks outside quotes are not part of the value. */
	while (o > out && (o[-1] == ' ' || o[-1] == '\t' || o[-1] == '\r'))
		o--;
	*o = '\0';
	return out;
}

char *os_release_value(const char *text, const char *key)
{
	size_t klen = strlen(key);
	char *found = NULL;
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *p = line;
		while (p < line + len && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(line + len - p) > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			/* The last assignment wins, as when the file is sourced. */
			free(found);
			found = unquote(p + klen + 1, (size_t)(line + len - p - klen - 1));
		}
		line = end ? end + 1 : NULL;
	}
	return found;
}

static const char *ostype_one(const char *id)
{
	static const char *const direct[] = { "debian", "devuan", "ubuntu", "centos", "fedora",
					      "opensuse", "archlinux", "alpine", "gentoo", "nixos" };
	static const char *const rhel_like[] = { "rocky", "almalinux", "rhel", "ol", "centos-stream",
						 "cloudlinux", "eurolinux", "virtuozzo" };
	for (size_t i = 0; i < sizeof(direct) / sizeof(direct[0]); i++)
		if (!strcmp(id, direct[i]))
			return direct[i];
	for (size_t i = 0; i < sizeof(rhel_like) / sizeof(rhel_like[0]); i++)
		if (!strcmp(id, rhel_like[i]))
			return "centos";
	if (!strcmp(id, "sles") || !strcmp(id, "sled") || !strcmp(id, "suse") ||
	    !strncmp(id, "opensuse-", 9))
		return "opensuse";
	if (!strcmp(id, "arch"))
		return "archlinux";
	return NULL;
}

const char *ostype_from_id(const char *id, const char *id_like)
{
	const char *t = id ? ostype_one(id) : NULL;
	if (t || !id_like)
		return t;
	/* A derivative (ID_LIKE="ubuntu debian") is handled as what it is like. */
	char word[64];
	for (const char *p = id_like; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		size_t n = strcspn(p, " \t");
		if (n && n < sizeof(word)) {
			memcpy(word, p, n);
			word[n] = '\0';
			if ((t = ostype_one(word)))
				return t;
		}
		p += n;
	}
	return NULL;
}

const char *ostype_from_os_release(const char *text)
{
	char *id = os_release_value(text, "ID");
	char *like = os_release_value(text, "ID_LIKE");
	const char *t = ostype_from_id(id, like);
	free(id);
	free(like);
	return t;
}

const char *const osinfo_release_files[] = {
	"devuan_version", "lsb-release", "debian_version", "fedora-release", "centos-release",
	"redhat-release", "SuSE-release", "arch-release", "alpine-release", "gentoo-release", NULL,
};

static bool contains_ci(const char *text, const char *word)
{
	return strcasestr(text, word) != NULL;
}

const char *ostype_from_release_file(const char *name, const char *text)
{
	if (!strcmp(name, "devuan_version"))
		return "devuan";
	if (!strcmp(name, "lsb-release")) {
		char *id = os_release_value(text, "DISTRIB_ID");
		const char *t = NULL;
		if (id) {
			for (char *p = id; *p; p++)
				*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
			t = ostype_one(id);
		}
		free(id);
		return t;
	}
	if (!strcmp(name, "debian_version"))
		return "debian";
	if (!strcmp(name, "fedora-release"))
		return "fedora";
	if (!strcmp(name, "centos-release"))
		return "centos";
	if (!strcmp(name, "redhat-release"))
		return contains_ci(text, "fedora") ? "fedora" : "centos";
	if (!strcmp(name, "SuSE-release"))
		return "opensuse";
	if (!strcmp(name, "arch-release"))
		return "archlinux";
	if (!strcmp(name, "alpine-release"))
		return "alpine";
	if (!strcmp(name, "gentoo-release"))
		return "gentoo";
	return NULL;
}

enum {
	EM_386_ = 3,
	EM_ARM_ = 40,
	EM_X86_64_ = 62,
	EM_AARCH64_ = 183,
	EM_RISCV_ = 243,
	EF_ARM_ABI_FLOAT_HARD_ = 0x400,
};

static uint32_t rd(const uint8_t *p, size_t n, bool big)
{
	uint32_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint32_t)p[big ? n - 1 - i : i] << (8 * i);
	return v;
}

const char *arch_from_elf(const void *header, size_t len)
{
	const uint8_t *h = header;
	if (len < 20 || memcmp(h, "\177ELF", 4))
		return NULL;
	bool is64 = h[4] == 2, big = h[5] == 2;
	if ((h[4] != 1 && h[4] != 2) || (h[5] != 1 && h[5] != 2))
		return NULL;
	switch (rd(h + 18, 2, big)) {
	case EM_X86_64_:
		return is64 ? "amd64" : NULL; /* x32 is not a Proxmox arch */
	case EM_386_:
		return is64 ? NULL : "i386";
	case EM_AARCH64_:
		return is64 ? "arm64" : NULL;
	case EM_ARM_: {
		/* Only hard-float EABI is armhf; soft-float armel has no ostype arch. */
		size_t off = is64 ? 48 : 36;
		if (is64 || len < off + 4)
			return NULL;
		return rd(h + off, 4, big) & EF_ARM_ABI_FLOAT_HARD_ ? "armhf" : NULL;
	}
	case EM_RISCV_:
		return is64 ? "riscv64" : "riscv32";
	}
	return NULL;
}
