/* /etc/fstab as p2v reads it: parsing (with the octal escapes fstab(5)
 * allows) and the rules for which entries belong in the archive. */
#include "fstab.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void fstab_free(struct fstab_entry *e, size_t n)
{
	if (!e)
		return;
	for (size_t i = 0; i < n; i++) {
		free(e[i].spec);
		free(e[i].file);
		free(e[i].vfstype);
		free(e[i].options);
	}
	free(e);
}

/* fstab(5) escapes blanks and backslashes in fields as \NNN octal. */
static char *unescape(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len &&
		    s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			int c = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');
			if (c != 0) {  /* \000 would cut the string: keep it literal */
				*o++ = (char)c;
				i += 3;
				continue;
			}
		}
		*o++ = s[i];
	}
	*o = '\0';
	return out;
}

int fstab_parse(const char *text, struct fstab_entry **out)
{
	struct fstab_entry *v = NULL;
	size_t n = 0, cap = 0;
	unsigned lineno = 0;
	*out = NULL;
	for (const char *line = text; line && *line;) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		const char *next = eol ? eol + 1 : NULL;
		lineno++;
		const char *f[4];
		size_t flen[4];
		int nf = 0, extra = 0;
		const char *p = line, *end = line + len;
		while (p < end) {
			while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
				p++;
			if (p == end)
				break;
			if (nf == 0 && *p == '#')
				break;
			const char *start = p;
			while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
				p++;
			if (nf < 4) {
				f[nf] = start;
				flen[nf] = (size_t)(p - start);
				nf++;
			} else {
				extra++;
			}
		}
		line = next;
		if (nf == 0)
			continue;  /* blank or comment */
		if (nf < 4) {
			log_warn("fstab line %u: %d field%s instead of at least 4, skipped",
				 lineno, nf, nf == 1 ? "" : "s");
			continue;
		}
		if (extra > 2)
			log_warn("fstab line %u: more than 6 fields, extra ones ignored", lineno);
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct fstab_entry *nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto oom;
			v = nv;
		}
		struct fstab_entry *e = &v[n];
		e->spec = unescape(f[0], flen[0]);
		e->file = unescape(f[1], flen[1]);
		e->vfstype = unescape(f[2], flen[2]);
		e->options = unescape(f[3], flen[3]);
		n++;
		if (!e->spec || !e->file || !e->vfstype || !e->options)
			goto oom;
	}
	*out = v;
	return (int)n;
oom:
	log_error("parsing fstab: out of memory");
	fstab_free(v, n);
	return -ENOMEM;
}

/* Whether the comma-separated option list holds `opt` exactly. */
bool fstab_has_option(const char *options, const char *opt)
{
	size_t ol = strlen(opt);
	for (const char *p = options; p && *p;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);
		if (l == ol && !strncmp(p, opt, ol))
			return true;
		p = c ? c + 1 : NULL;
	}
	return false;
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

/* Why p2v does not mount this entry, or NULL when it does. */
const char *fstab_skip_reason(const struct fstab_entry *e)
{
	static const char *const network[] = {
		"nfs", "nfs4", "cifs", "smbfs", "smb3", "sshfs", "glusterfs", "ceph",
		"9p", "davfs", "afs", "ncpfs", "lustre", "gfs2", "ocfs2", "beegfs", NULL,
	};
	static const char *const pseudo[] = {
		"proc", "sysfs", "tmpfs", "ramfs", "devpts", "devtmpfs", "securityfs",
		"debugfs", "tracefs", "configfs", "pstore", "efivarfs", "bpf", "mqueue",
		"hugetlbfs", "fusectl", "binfmt_misc", "autofs", "overlay", "rpc_pipefs",
		"nfsd", "none", "bind", "rbind", "usbfs", "selinuxfs", NULL,
	};
	const char *t = e->vfstype;
	if (!strcmp(t, "swap") || !strcmp(e->file, "swap"))
		return "swap";
	if (e->file[0] != '/')
		return "not an absolute mount point";
	const char *f = e->file;
	while (*f == '/')
		f++;
	if (!*f)
		return "the root filesystem";
	if (in_list(t, network) || !strncmp(t, "fuse", 4) || fstab_has_option(e->options, "_netdev"))
		return "a network or FUSE filesystem";
	if (in_list(t, pseudo) || !strncmp(t, "cgroup", 6))
		return "a pseudo filesystem";
	if (fstab_has_option(e->options, "bind") || fstab_has_option(e->options, "rbind"))
		return "a bind mount";
	if (fstab_has_option(e->options, "loop"))
		return "a loop-mounted image (the image file is archived)";
	/* An automount entry is mounted on first access: part of the system. */
	if (fstab_has_option(e->options, "noauto") && !fstab_has_option(e->options, "x-systemd.automount"))
		return "noauto";
	if (e->spec[0] != '/' && strncmp(e->spec, "UUID=", 5) && strncmp(e->spec, "LABEL=", 6) &&
	    strncmp(e->spec, "PARTUUID=", 9) && strncmp(e->spec, "PARTLABEL=", 10))
		return "not a local device";
	return NULL;
}

int fstab_entry_is_local_fs(const struct fstab_entry *e)
{
	return fstab_skip_reason(e) == NULL;
}

const char *source_ro_options(const char *fstype)
{
	if (!fstype)
		return "ro";
	if (!strcmp(fstype, "ext3") || !strcmp(fstype, "ext4") || !strcmp(fstype, "ext4dev"))
		return "ro,noload";
	if (!strcmp(fstype, "xfs"))
		return "ro,norecovery";
	if (!strcmp(fstype, "btrfs"))
		return "ro,nologreplay";
	return "ro";
}
