/* OpenVZ container configuration (ve.conf: /etc/vz/conf/CTID.conf, or
 * ./etc/vzdump/vps.conf in a vzdump-openvz archive): a strict parser and the
 * value syntax of vzctl. The mapping onto an LXC container is veconf_map.h.
 *
 * Line syntax (vzctl's parse_line, made strict):
 *   KEY="value"   KEY=value   # comment   blank line
 * - KEY is [A-Z0-9_]+, immediately followed by '='; leading and trailing
 *   blanks of a line are ignored (vzctl strips them too).
 * - A quoted value ends at the first unescaped '"'; after it only blanks and
 *   an optional "# comment" may follow. '\' escapes the next character (vzctl
 *   unescapes every backslash before it looks at quotes).
 * - An unquoted value may not contain blanks, quotes or '#'.
 * - Single quotes are refused: vzctl would keep them as part of the value.
 * - A key given twice: the last one wins (as in a shell), and the entry
 *   records how many earlier definitions it replaced.
 * Anything else fails with "FILE:LINE: reason", logged once and kept in
 * veconf.error.
 *
 * Value syntax (vzctl's parse_ul_sfx/parse_twoul_sfx, vzctl(8) "Resource
 * limits"): barrier[:limit], limit = barrier when omitted. Each number is
 *   - "unlimited", or any number >= LONG_MAX: VECONF_UNLIMITED (vzctl stores
 *     unlimited as LONG_MAX, and clamps larger numbers to it);
 *   - decimal digits with an optional fraction ("2.2"), in the parameter's
 *     own unit (items, bytes, 1 KiB blocks, 4 KiB pages);
 *   - optionally followed by one suffix T, G, M, K (powers of 1024), P (one
 *     4 KiB page) or B (one byte), either case: then the number is that many
 *     bytes, converted to the parameter's unit and truncated — vzctl
 *     truncates too (PHYSPAGES="0:512M" = 131072 pages, DISKSPACE="2.2G" =
 *     2306867 blocks). Parameters counted in items (NUM*) take no suffix.
 *     vzctl computes with long double; we compute exactly, which gives the
 *     same result for every value below 2^63.
 */
#ifndef CTI_VECONF_H
#define CTI_VECONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VECONF_UNLIMITED UINT64_C(9223372036854775807) /* LONG_MAX */
#define VECONF_MAX_SIZE (1u << 20)                       /* bytes of one file */

struct veconf_entry {
	char *key;
	char *value;       /* unquoted and unescaped */
	unsigned line;     /* of the definition that won */
	unsigned replaced; /* earlier definitions of the same key */
	unsigned first_line;
};

struct veconf {
	char *file;                 /* name used in messages */
	struct veconf_entry *entry; /* in file order of first appearance */
	size_t n;
	char error[256];            /* the failure, "FILE:LINE: reason" */
};

/* Parse text (len bytes, NULs refused) named name in messages. 0, -EINVAL
 * (c->error says why; c is then empty) or -ENOMEM. */
int veconf_parse(const char *name, const char *text, size_t len, struct veconf *c);
/* Read and parse a file of at most VECONF_MAX_SIZE bytes; name is the path. */
int veconf_load(const char *path, struct veconf *c);
void veconf_free(struct veconf *c);

const struct veconf_entry *veconf_find(const struct veconf *c, const char *key);

/* The unit of a parameter: what a bare number counts, and the divisor for
 * a suffixed byte count (0: no suffix allowed). */
enum veconf_unit {
	VECONF_ITEMS = 0,
	VECONF_BYTES = 1,
	VECONF_BLOCKS = 1024,
	VECONF_PAGES = 4096,
};

struct veconf_pair {
	uint64_t barrier, limit; /* VECONF_UNLIMITED for unlimited */
};

/* One number as above, the whole of s. 0 or -EINVAL. */
int veconf_parse_number(const char *s, enum veconf_unit unit, uint64_t *out);
/* barrier[:limit], the whole of s. 0 or -EINVAL. */
int veconf_parse_pair(const char *s, enum veconf_unit unit, struct veconf_pair *out);

#endif
