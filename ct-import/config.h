/* /etc/ct-import.conf: "key = value" lines, '#' comments. Keys:
 *   cache_dir   the template cache (default /var/lib/vz/template/cache)
 *   lxc_path    where the LXC backend creates containers (default /var/lib/lxc)
 *   import_dir  where received disk images go (default /var/lib/vz/import)
 * Command-line options override the file; CT_IMPORT_CONF names another file. */
#ifndef CTI_CONFIG_H
#define CTI_CONFIG_H

struct cti_config {
	char *cache_dir;
	char *lxc_path;
	char *import_dir;
};

#define CTI_CONFIG_FILE "/etc/ct-import.conf"
#define CTI_DEFAULT_CACHE_DIR "/var/lib/vz/template/cache"
#define CTI_DEFAULT_LXC_PATH "/var/lib/lxc"
#define CTI_DEFAULT_IMPORT_DIR "/var/lib/vz/import"

/* Load defaults, then the file (path NULL: $CT_IMPORT_CONF or the default
 * file; a missing default file is fine). 0 or a negative error (logged). */
int cti_config_load(const char *path, struct cti_config *cfg);
/* Set one key; replaces the previous value. 0 or -EINVAL for an unknown key. */
int cti_config_set(struct cti_config *cfg, const char *key, const char *value);
void cti_config_free(struct cti_config *cfg);

#endif
