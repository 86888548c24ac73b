/* The disks `p2v disk` images when none are named: every fixed disk in
 * /sys/block (not removable, not loop, ram, zram, optical, device-mapper,
 * md, nbd or floppy; size > 0) except the one holding the medium p2v booted
 * from. A stop-gap until p2v inventory provides the list. */
#ifndef P2V_DISK_LIST_H
#define P2V_DISK_LIST_H

#include <stddef.h>

/* Fills *paths with malloc'd "/dev/NAME" strings (free each, then the
 * array). Returns the count (0: none found) or a negative errno. */
int disk_list_default(char ***paths);

#endif
