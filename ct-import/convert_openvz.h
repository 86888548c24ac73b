/* ct-import convert-openvz: one OpenVZ container to LXC. This header is the
 * contract `ct-import batch` (which runs one convert-openvz child process per
 * container) relies on; doc/openvz.md explains it for people.
 *
 *   ct-import convert-openvz SOURCE [--vmid N] [--storage S] [--bridge BR]
 *       [--gw IP] [--output template|vzdump|create] [--backend pve|lxc]
 *       [--start] [--dry-run] [--report FILE] [--cache-dir DIR] [--force]
 *       [--config VE.CONF] [--name NAME] [--lxc-path DIR] [-v]
 *
 * SOURCE  a vzdump-openvz archive (.tar .tgz .tar.gz .tar.lzo .tar.zst
 *         .tar.bz2; config ./etc/vzdump/vps.conf inside), or an OpenVZ
 *         private area directory (/vz/private/CTID; config from --config,
 *         else PREFIX/etc/vz/conf/CTID.conf for PREFIX/vz/private/CTID or
 *         PREFIX/var/lib/vz/private/CTID, DIR/../CTID.conf, or
 *         DIR/etc/vzdump/vps.conf). Never written to.
 * CTID    from the archive name (vzdump-openvz-CTID-…) or the private
 *         area's directory name; else the archive's base name.
 * --vmid  default: the CTID when it is a number from 100 up, else (pve)
 *         the next free one. --output vzdump needs a VMID from one of these.
 * --output
 *   template (default)  <cache>/openvz-CTID.tar.zst
 *   create              that template, then the container through create-ct's
 *                       code (pve when pct is installed, else lxc; LXC name
 *                       --name, else the VMID, else the CTID). A taken VMID
 *                       or name is refused (exit 3) before anything is
 *                       written; a template whose container failed is removed.
 *   vzdump              <cache>/vzdump-lxc-VMID-YYYY_MM_DD-HH_MM_SS.tar.zst with
 *                       ./etc/vzdump/pct.conf (pct restore-able)
 *   Files appear under their final name only when complete; an existing
 *   template is not overwritten without --force (exit 3).
 * Scratch space: <cache>/.convert-openvz.PID.XXXXXX, removed on success and
 *   failure; ones left by a killed process (PID no longer running) are
 *   removed by the next convert-openvz run on the same cache dir.
 *
 * Exit status (ct-import's):
 *   0 converted (or the dry run succeeded)
 *   1 failed (I/O, pct/lxc failed, out of space …)
 *   2 usage (bad option or option value)
 *   3 exists (template file, VMID or LXC container already exists)
 *   4 malformed or unsafe input (ve.conf syntax/value error, unreadable or
 *     corrupt archive, ../ or absolute or symlink-escaping entries, hard
 *     links out of the tree, no config found)
 *
 * --report FILE: written atomically (complete or absent) at the end of every
 * run that got past option parsing, success or failure. JSON object:
 *   "version": 1,
 *   "source": SOURCE as given, "source_type": "archive" | "private",
 *   "config": the ve.conf path (inside an archive: "./etc/vzdump/vps.conf"),
 *   "ctid": string or null, "vmid": number or null, "name": string or null,
 *   "output": "template" | "vzdump" | "create",
 *   "backend": "pve" | "lxc" | null (only with --output create),
 *   "dry_run": bool,
 *   "mapped": { "hostname", "memory_mb", "swap_mb", "disk_gb", "cores",
 *               "cpulimit" (string, "1.5"), "cpuunits", "onboot" (bool),
 *               "nameserver", "searchdomain",
 *               "net0": { "name", "bridge", "hwaddr", "ip", "ip6", "gw" } }
 *              (a member is null when the config did not say),
 *   "unmapped": [ { "key", "value", "line", "why" } ],
 *   "notes": [ string ],        warnings about the mapping and conversion
 *   "fixups": [ string ],       guest files changed ("path: what")
 *   "outputs": [ { "kind": "template" | "vzdump" | "container",
 *                  "path": string (files), "vmid"/"name" (containers) } ],
 *   "result": "ok" | "failed" | "usage" | "exists" | "invalid",
 *   "exit_code": the process exit status,
 *   "error": the first error message, or null
 */
#ifndef CTI_CONVERT_OPENVZ_H
#define CTI_CONVERT_OPENVZ_H

#define CTI_OVZ_REPORT_VERSION 1
#define CTI_OVZ_TMP_PREFIX ".convert-openvz."
#define CTI_OVZ_TEMPLATE_FMT "openvz-%s.tar.zst"

int cmd_convert_openvz(int argc, char **argv);

#endif
