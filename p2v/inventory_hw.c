/* Inventory of the machine itself: CPUs and memory from /proc, NICs from
 * /sys/class/net and getifaddrs. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inventory.h"
#include "inventory_util.h"
#include "log.h"
#include "util.h"

int inv_parse_cpuinfo(const char *text, unsigned *count, char **model)
{
	/* Keys naming the CPU model, by preference: x86, then other arches. */
	static const char *const model_keys[] = { "model name", "cpu model", "cpu", "uarch",
						  "Hardware", NULL };
	int best = -1;
	*count = 0;
	*model = NULL;
	for (const char *line = text; line && *line;) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		const char *colon = memchr(line, ':', len);
		if (colon) {
			size_t kl = (size_t)(colon - line);
			while (kl && (line[kl - 1] == ' ' || line[kl - 1] == '\t'))
				kl--;
			const char *v = colon + 1;
			while (v < line + len && (*v == ' ' || *v == '\t'))
				v++;
			size_t vl = (size_t)(line + len - v);
			if (kl == 9 && !strncmp(line, "processor", 9))
				(*count)++;
			for (int k = 0; model_keys[k] && (best < 0 || k < best); k++) {
				if (kl == strlen(model_keys[k]) && !strncmp(line, model_keys[k], kl) && vl) {
					free(*model);
					if (!(*model = strndup(v, vl)))
						return -ENOMEM;
					best = k;
					break;
				}
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	return 0;
}

int inv_parse_meminfo(const char *text, uint64_t *bytes)
{
	for (const char *line = text; line && *line;) {
		unsigned long long kb;
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) {
			*bytes = (uint64_t)kb * 1024;
			return 0;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -ENOENT;
}

int inv_collect_cpu_mem(const char *proc, struct inventory *inv)
{
	char path[PATH_MAX];
	_cleanup_free_ char *cpuinfo = NULL;
	snprintf(path, sizeof(path), "%s/cpuinfo", proc);
	if (read_file(path, 32 << 20, &cpuinfo, NULL) == 0 && inv_parse_cpuinfo(cpuinfo, &inv->cpus, &inv->cpu_model) < 0)
		return -ENOMEM;
	if (!inv->cpus) {
		long n = sysconf(_SC_NPROCESSORS_CONF);
		inv->cpus = n > 0 ? (unsigned)n : 1;
	}
	_cleanup_free_ char *meminfo = inv_read_attr(proc, "meminfo", NULL);
	if (!meminfo || inv_parse_meminfo(meminfo, &inv->mem_bytes) < 0)
		log_warn("no MemTotal in %s/meminfo", proc);
	return 0;
}

static int prefix_len(const struct sockaddr *mask)
{
	const unsigned char *b;
	size_t n;
	if (!mask)
		return -1;
	if (mask->sa_family == AF_INET) {
		b = (const unsigned char *)&((const struct sockaddr_in *)mask)->sin_addr;
		n = 4;
	} else if (mask->sa_family == AF_INET6) {
		b = ((const struct sockaddr_in6 *)mask)->sin6_addr.s6_addr;
		n = 16;
	} else {
		return -1;
	}
	int bits = 0;
	for (size_t i = 0; i < n; i++)
		bits += __builtin_popcount(b[i]);
	return bits;
}

/* Addresses of every interface, attached to the NICs by name. */
static int add_addresses(struct inventory *inv)
{
	struct ifaddrs *ifa = NULL;
	if (getifaddrs(&ifa) < 0) {
		log_warn("getifaddrs: %s", strerror(errno));
		return 0;
	}
	int rc = 0;
	for (struct ifaddrs *i = ifa; i && rc == 0; i = i->ifa_next) {
		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		for (size_t k = 0; k < inv->n_nics; k++) {
			if (strcmp(inv->nics[k].name, i->ifa_name))
				continue;
			char buf[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN + 16];
			const void *a = i->ifa_addr->sa_family == AF_INET ?
				(const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr :
				(const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
			if (!inet_ntop(i->ifa_addr->sa_family, a, buf, sizeof(buf)))
				break;
			snprintf(s, sizeof(s), "%s/%d", buf, prefix_len(i->ifa_netmask));
			rc = inv_strv_add(&inv->nics[k].addrs, s);
			break;
		}
	}
	freeifaddrs(ifa);
	return rc;
}

int inv_collect_nics(const char *sysfs, struct inventory *inv)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/class/net", sysfs);
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		log_warn("listing %s: %s", dir, strerror(errno));
		return 0;
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		if (rc == 0 && nm[0] != '.' && strcmp(nm, "lo")) {
			struct inv_nic *v = realloc(inv->nics, (inv->n_nics + 1) * sizeof(*v));
			if (!v) {
				rc = -ENOMEM;
			} else {
				inv->nics = v;
				struct inv_nic *c = &v[inv->n_nics++];
				*c = (struct inv_nic){ .carrier = -1, .speed_mbps = -1 };
				char p[PATH_MAX];
				if (snprintf(p, sizeof(p), "%s/%s", dir, nm) >= (int)sizeof(p))
					p[0] = '\0';
				c->name = strdup(nm);
				c->mac = inv_read_attr(p, "address", NULL);
				c->operstate = inv_read_attr(p, "operstate", NULL);
				c->driver = inv_link_base(p, "device/driver");
				long long x;
				if (inv_read_ll(p, "carrier", &x) == 0)
					c->carrier = (int)x;
				if (inv_read_ll(p, "speed", &x) == 0 && x > 0)
					c->speed_mbps = (long)x;
				char real[PATH_MAX];
				c->is_virtual = !realpath(p, real) || strstr(real, "/devices/virtual/");
				if (!c->name)
					rc = -ENOMEM;
			}
		}
		free(names[i]);
	}
	free(names);
	if (rc == 0 && !strcmp(sysfs, "/sys"))
		rc = add_addresses(inv);
	return rc;
}
