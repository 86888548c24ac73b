/* The fake-RAID gate: before p2v reads a block of a disk, BIOS RAID
 * metadata on it must be handled — the rescue system booted with nodmraid,
 * no dmraid map or imsm/ddf container holding it, and the set a mirror (one
 * member of a stripe is not a disk). The decision is pure; fakeraid_gate()
 * gathers its inputs from the disks, /proc/cmdline and the kernel. */
#ifndef P2V_GATE_H
#define P2V_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "fakeraid.h"
#include "fakeraid_active.h"

/* Whether the kernel command line holds `nodmraid` as a word of its own or
 * as `nodmraid=…` (not `xnodmraid`, `nodmraidx`, nor inside a quoted value
 * like foo="a nodmraid"). */
bool gate_cmdline_has_nodmraid(const char *cmdline);

/* Split a kernel command line into words the way the kernel does: spaces
 * separate, double quotes group (and are kept out). Calls fn for each word;
 * stops when fn returns true and returns true then. */
bool gate_cmdline_words(const char *cmdline, bool (*fn)(const char *word, size_t len, void *ctx),
			void *ctx);

struct gate_input {
	bool metadata;   /* a disk to be read carries BIOS RAID metadata */
	bool striped;    /* … and its set is striped or parity (level known) */
	bool nodmraid;   /* the kernel command line has nodmraid */
	bool active;     /* dmraid maps or imsm/ddf md containers are assembled */
	bool assembled;  /* the user named an assembled set's device itself */
};

enum gate_verdict {
	GATE_ALLOW,
	GATE_REFUSE_NODMRAID,   /* metadata, and the rescue system may assemble it */
	GATE_REFUSE_ACTIVE,     /* nodmraid, but sets are assembled: tear them down */
	GATE_REFUSE_STRIPED,    /* a stripe/parity member: name the assembled device */
};

/* The decision table (see doc in gate.c). */
enum gate_verdict gate_decide(const struct gate_input *in);
/* "allow", "refuse-need-nodmraid", "refuse-active-maps", "refuse-striped". */
const char *gate_verdict_name(enum gate_verdict v);

/* One device the gate looked at. */
struct gate_disk {
	char path[4096];        /* what was named */
	char probed[4096];      /* the whole disk or file actually probed ("" if assembled) */
	bool assembled;         /* an assembled fake-RAID set (or its partition) */
	int error;              /* -errno when it could not be read (see gate_run) */
	struct fr_probe probe;
};

struct gate_report {
	struct gate_disk *disks;
	size_t n_disks;
	struct fr_active active;
	struct gate_input input;
	enum gate_verdict verdict;
};

/* Resolve `path` to what carries the metadata: a partition's whole disk
 * (through /sys/class/block/NAME/..), else the device or file itself. Sets
 * *assembled for a dmraid map or an md array in an imsm/ddf container.
 * 0 or -errno (logged). */
int gate_resolve_disk(const char *sysfs, const char *path, char *disk, size_t size,
		      bool *assembled);

/* Run the gate over `disks` with the command line given (NULL: read
 * /proc/cmdline). Fills *r (free with gate_report_free). 0 or -errno.
 * With skip_unreadable (disks p2v listed itself, not ones the user named),
 * a disk that cannot be opened is noted in its error and passed over: p2v
 * cannot read it for a migration either. */
int gate_run(const char *const *disks, size_t n, const char *cmdline, bool skip_unreadable,
	     struct gate_report *r);
void gate_report_free(struct gate_report *r);

/* The verdict for a human: what was found, and for a refusal exactly what
 * to do (the nodmraid boot line, teardown, or the assembled device). */
void gate_print_human(FILE *f, const struct gate_report *r);

/* What `p2v ct --device` and `p2v disk` call before reading any block:
 * 0 when migration may proceed, -EPERM when refused (the reasons printed
 * on stderr), another -errno on failure. */
int fakeraid_gate(const char *const *disks, size_t n, const char *cmdline_or_null);

#endif
