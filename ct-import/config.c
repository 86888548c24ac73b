#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

int cti_config_set(struct cti_config *cfg, const char *key, const char *value)
{
	char **dst = !strcmp(key, "cache_dir") ? &cfg->cache_dir :
		     !strcmp(key, "lxc_path") ? &cfg->lxc_path :
		     !strcmp(key, "import_dir") ? &cfg->import_dir : NULL;
	if (!dst)
		return -EINVAL;
	char *v = strdup(value);
	if (!v)
		return -ENOMEM;
	free(*dst);
	*dst = v;
	return 0;
}

void cti_config_free(struct cti_config *cfg)
{
	free(cfg->cache_dir);
	free(cfg->lxc_path);
	free(cfg->import_dir);
	*cfg = (struct cti_config){ 0 };
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t l = strlen(s);
	while (l && isspace((unsigned char)s[l - 1]))
		s[--l] = '\0';
	return s;
}

static int parse_text(const char *path, char *text, struct cti_config *cfg)
{
	unsigned lineno = 0;
	for (char *line = text, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		line = trim(line);
		if (!*line)
			continue;
		char *eq = strchr(line, '=');
		if (!eq) {
			log_error("%s:%u: expected 'key = value'", path, lineno);
			return -EINVAL;
		}
		*eq = '\0';
		char *key = trim(line), *value = trim(eq + 1);
		size_t vl = strlen(value);
		/* A value may be quoted to keep leading or trailing blanks. */
		if (vl >= 2 && (value[0] == '"' || value[0] == '\'') && value[vl - 1] == value[0]) {
			value[vl - 1] = '\0';
			value++;
		}
		if (!*key || !*value) {
			log_error("%s:%u: expected 'key = value'", path, lineno);
			return -EINVAL;
		}
		int rc = cti_config_set(cfg, key, value);
		if (rc == -EINVAL) {
			log_error("%s:%u: unknown key '%s' (known: cache_dir, lxc_path, import_dir)", path, lineno, key);
			return rc;
		}
		if (rc < 0) {
			log_error("%s:%u: %s", path, lineno, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int cti_config_load(const char *path, struct cti_config *cfg)
{
	*cfg = (struct cti_config){ 0 };
	int rc = cti_config_set(cfg, "cache_dir", CTI_DEFAULT_CACHE_DIR);
	if (rc == 0)
		rc = cti_config_set(cfg, "lxc_path", CTI_DEFAULT_LXC_PATH);
	if (rc == 0)
		rc = cti_config_set(cfg, "import_dir", CTI_DEFAULT_IMPORT_DIR);
	if (rc < 0) {
		log_error("out of memory");
		cti_config_free(cfg);
		return rc;
	}
	bool optional = false;
	if (!path)
		path = getenv("CT_IMPORT_CONF");
	if (!path || !*path) {
		path = CTI_CONFIG_FILE;
		optional = true;
	}
	_cleanup_free_ char *text = NULL;
	rc = read_file(path, 1 << 20, &text, NULL);
	if (rc == -ENOENT && optional)
		return 0;
	if (rc < 0) {
		log_error("cannot read config file %s: %s", path, strerror(-rc));
		cti_config_free(cfg);
		return rc;
	}
	rc = parse_text(path, text, cfg);
	if (rc < 0)
		cti_config_free(cfg);
	return rc;
}
