/* Which OS and architecture a root file system holds, from file contents
 * given as strings or bytes (ct-import/inspect.c walks a template for them,
 * p2v/inventory_os.c a mounted root). */
#ifndef OSINFO_H
#define OSINFO_H

#include <stddef.h>

/* The value of KEY= in os-release text (quotes and escapes removed),
 * malloc'd, or NULL when absent. */
char *os_release_value(const char *text, const char *key);

/* Proxmox ostype for an os-release ID (and ID_LIKE, a space-separated
 * fallback list, may be NULL): a static string, or NULL when unknown. */
const char *ostype_from_id(const char *id, const char *id_like);

/* Proxmox ostype from a whole os-release text, or NULL when unknown. */
const char *ostype_from_os_release(const char *text);

/* Proxmox ostype from a legacy release file: name is its path below /etc
 * ("debian_version", "redhat-release", "lsb-release" …), text its content.
 * NULL when the file says nothing we recognise. */
const char *ostype_from_release_file(const char *name, const char *text);

/* The legacy release files, in the order they are consulted; NULL-terminated. */
extern const char *const osinfo_release_files[];

/* Proxmox arch (amd64 i386 arm64 armhf riscv32 riscv64) from the first len
 * bytes of an ELF file, or NULL when it is not ELF or not one of those. */
const char *arch_from_elf(const void *header, size_t len);

#endif
