#include "create_spec.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "validate.h"

/* Apply check to every word of a space/comma-separated list. */
static bool each_word(const char *list, bool (*check)(const char *))
{
	char word[256];
	bool any = false;
	for (const char *p = list; *p;) {
		p += strspn(p, " \t,;");
		size_t n = strcspn(p, " \t,;");
		if (!n)
			break;
		if (n >= sizeof(word))
			return false;
		memcpy(word, p, n);
		word[n] = '\0';
		if (!check(word))
			return false;
		any = true;
		p += n;
	}
	return any;
}

/* Proxmox's pve-bridge-id: ^[-_.\w\d]+$ */
static bool valid_bridge(const char *s)
{
	if (!*s || strlen(s) > 15)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
			return false;
	return true;
}

static int check_num(const char *opt, const char *v, uint64_t min, uint64_t max)
{
	uint64_t x;
	if (v && parse_u64(v, min, max, &x) < 0) {
		log_error("--%s '%s': expected a whole number from %llu to %llu", opt, v,
			  (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	return 0;
}

int create_args_check(const struct create_args *a)
{
	if (!a->template) {
		log_error("create-ct: --template is required (see --help)");
		return -EINVAL;
	}
	if (check_num("vmid", a->vmid, 100, 999999999) || check_num("cores", a->cores, 1, 8192) ||
	    check_num("memory", a->memory, 16, 1ull << 31) || check_num("disk-gb", a->disk_gb, 1, 1u << 20))
		return -EINVAL;
	if (a->hostname && !valid_dns_name(a->hostname)) {
		log_error("--hostname '%s' is not a valid DNS name", a->hostname);
		return -EINVAL;
	}
	if (a->ip && strcmp(a->ip, "dhcp") && !valid_cidr(a->ip)) {
		log_error("--ip '%s': expected ADDRESS/PREFIX or dhcp", a->ip);
		return -EINVAL;
	}
	if (a->gw && !valid_ip(a->gw)) {
		log_error("--gw '%s' is not an IPv4 or IPv6 address", a->gw);
		return -EINVAL;
	}
	if (a->gw && a->ip && !strcmp(a->ip, "dhcp")) {
		log_error("--gw makes no sense with --ip dhcp");
		return -EINVAL;
	}
	if (a->gw && a->ip && (strchr(a->gw, ':') != NULL) != (strchr(a->ip, ':') != NULL)) {
		log_error("--gw %s and --ip %s are of different address families", a->gw, a->ip);
		return -EINVAL;
	}
	if (a->storage && !valid_storage(a->storage)) {
		log_error("--storage '%s': a storage ID has no ':' or blanks", a->storage);
		return -EINVAL;
	}
	if (a->bridge && !valid_bridge(a->bridge)) {
		log_error("--bridge '%s' is not a bridge name", a->bridge);
		return -EINVAL;
	}
	if (a->nameserver && !each_word(a->nameserver, valid_ip)) {
		log_error("--nameserver '%s': expected IP addresses", a->nameserver);
		return -EINVAL;
	}
	if (a->searchdomain && !each_word(a->searchdomain, valid_dns_name)) {
		log_error("--searchdomain '%s': expected DNS names", a->searchdomain);
		return -EINVAL;
	}
	if (a->backend && strcmp(a->backend, "pve") && strcmp(a->backend, "lxc")) {
		log_error("--backend '%s': expected pve or lxc", a->backend);
		return -EINVAL;
	}
	if (a->name && !name_is_safe(a->name)) {
		log_error("--name '%s': use letters, digits and . _ + - only", a->name);
		return -EINVAL;
	}
	return 0;
}

unsigned default_disk_gb(unsigned long long used_bytes)
{
	const unsigned long long gib = 1ull << 30;
	unsigned long long want = used_bytes + used_bytes / 2;
	unsigned long long gb = (want + gib - 1) / gib;
	return gb < CTI_MIN_DISK_GB ? CTI_MIN_DISK_GB : (unsigned)gb;
}

/* The words of a template's list that check accepts, space-separated;
 * the rest are dropped with a warning. NULL when none is left. */
static char *filter_words(const char *what, const char *list, bool (*check)(const char *))
{
	char *out = NULL;
	char word[256];
	for (const char *p = list; p && *p;) {
		p += strspn(p, " \t,;");
		size_t n = strcspn(p, " \t,;");
		if (!n)
			break;
		snprintf(word, sizeof(word), "%.*s", (int)n, p);
		p += n;
		if (!check(word)) {
			log_warn("ignoring the template's %s '%s'", what, word);
			continue;
		}
		char *s;
		if (asprintf(&s, "%s%s%s", out ? out : "", out ? " " : "", word) < 0) {
			free(out);
			return NULL;
		}
		free(out);
		out = s;
	}
	return out;
}

static unsigned num(const char *v, unsigned dflt)
{
	return v ? (unsigned)strtoul(v, NULL, 10) : dflt;
}

/* The template's file name without its archive extension. */
static char *strip_ext(const char *name)
{
	static const char *const exts[] = { ".tar.zst", ".tar.gz", ".tar.xz", ".tar.bz2", ".tgz", ".tar" };
	size_t l = strlen(name);
	for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
		size_t e = strlen(exts[i]);
		if (l > e && !strcmp(name + l - e, exts[i]))
			return strndup(name, l - e);
	}
	return strdup(name);
}

static void fill_network(struct ct_spec *spec, const struct create_args *a,
			 const struct template_info *info, enum ct_backend backend)
{
	spec->bridge = a->bridge ? a->bridge : backend == BACKEND_PVE ? CTI_DEFAULT_BRIDGE : NULL;
	const char *tip = info->net.ip, *tgw = info->net.gw;
	if (tip && strcmp(tip, "dhcp") && !valid_cidr(tip)) {
		log_warn("ignoring the template's address '%s'", tip);
		tip = tgw = NULL;
	}
	if (tgw && !valid_ip(tgw)) {
		log_warn("ignoring the template's gateway '%s'", tgw);
		tgw = NULL;
	}
	if (a->ip) {
		spec->ip = a->ip;
		/* The template's gateway only fits a new address in its subnet. */
		spec->gw = a->gw ? a->gw : tgw && ipv4_in_subnet(a->ip, tgw) ? tgw : NULL;
	} else if (tip) {
		spec->ip = tip;
		spec->gw = a->gw ? a->gw : tgw;
	} else {
		if (spec->bridge)
			log_warn("no network configuration found in the template; using dhcp");
		spec->ip = "dhcp";
		spec->gw = NULL;
	}
	if (!strcmp(spec->ip, "dhcp"))
		spec->gw = NULL;
	else if (spec->gw && (strchr(spec->gw, ':') != NULL) != (strchr(spec->ip, ':') != NULL))
		spec->gw = NULL;
}

int inventory_hw_defaults(const char *json, unsigned long long host_mem_bytes, unsigned host_cpus,
			  unsigned *memory_mb, unsigned *cores)
{
	*memory_mb = *cores = 0;
	json_t *inv = json_loads(json, 0, NULL);
	if (!json_is_object(inv)) {
		json_decref(inv);
		return -EINVAL;
	}
	json_int_t mem = json_integer_value(json_object_get(json_object_get(inv, "memory"), "total_bytes"));
	json_int_t cpus = json_integer_value(json_object_get(json_object_get(inv, "cpus"), "count"));
	json_decref(inv);
	if (mem > 0) {
		unsigned long long mb = (unsigned long long)mem >> 20;
		if (host_mem_bytes && mb > host_mem_bytes >> 20)
			mb = host_mem_bytes >> 20;
		if (mb > CTI_MAX_DEFAULT_MEMORY_MB)
			mb = CTI_MAX_DEFAULT_MEMORY_MB;
		*memory_mb = mb < 16 ? 16 : (unsigned)mb;  /* pct's minimum */
	}
	if (cpus > 0)
		*cores = host_cpus && (unsigned long long)cpus > host_cpus ? host_cpus :
			 cpus > 8192 ? 8192 : (unsigned)cpus;
	return 0;
}

/* Defaults from <cache>/.p2v/NAME.json, which `ct-import receive` stores
 * from p2v's stream header, for the memory and cores not given. */
static void fill_from_inventory(struct ct_spec *spec, const struct create_args *a, const char *name)
{
	_cleanup_free_ char *dir = strdup(spec->template_path), *path = NULL, *json = NULL;
	char *slash = dir ? strrchr(dir, '/') : NULL;
	if ((a->memory && a->cores) || !slash)
		return;
	*slash = '\0';
	if (asprintf(&path, "%s/.p2v/%s.json", dir, name) < 0 || read_file(path, 1 << 20, &json, NULL) < 0)
		return;
	unsigned long long host_mem = 0;
	_cleanup_free_ char *meminfo = NULL;
	if (read_file("/proc/meminfo", 1 << 16, &meminfo, NULL) == 0) {
		const char *m = strstr(meminfo, "MemTotal:");
		if (m && sscanf(m, "MemTotal: %llu kB", &host_mem) == 1)
			host_mem *= 1024;
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned mem_mb, cores;
	if (inventory_hw_defaults(json, host_mem, ncpu > 0 ? (unsigned)ncpu : 0, &mem_mb, &cores) < 0) {
		log_warn("ignoring %s: not an inventory", path);
		return;
	}
	if (!a->memory && mem_mb)
		spec->memory_mb = mem_mb;
	if (!a->cores && cores)
		spec->cores = cores;
	log_info("defaults from the source's inventory (%s): %u MiB, %u core(s)", path,
		 spec->memory_mb, spec->cores);
}

int create_spec_fill(struct ct_spec *spec, struct spec_storage *store,
		     const struct create_args *a, const struct template_info *info,
		     enum ct_backend backend)
{
	const char *base = strrchr(spec->template_path, '/');
	store->template_name = strdup(base ? base + 1 : spec->template_path);
	if (!store->template_name)
		return -ENOMEM;
	spec->template_name = store->template_name;
	spec->vmid = num(a->vmid, 0);
	spec->storage = a->storage ? a->storage : CTI_DEFAULT_STORAGE;
	spec->memory_mb = num(a->memory, CTI_DEFAULT_MEMORY_MB);
	spec->cores = num(a->cores, CTI_DEFAULT_CORES);
	_cleanup_free_ char *base_name = strip_ext(store->template_name);
	if (base_name)
		fill_from_inventory(spec, a, base_name);
	spec->disk_gb = a->disk_gb ? num(a->disk_gb, 0) : default_disk_gb(info->used_bytes);
	spec->arch = info->arch;
	spec->ostype = info->ostype ? info->ostype : "unmanaged";
	spec->start = a->start;
	spec->dry_run = a->dry_run;

	spec->hostname = a->hostname;
	if (!spec->hostname && info->hostname) {
		if (valid_dns_name(info->hostname))
			spec->hostname = info->hostname;
		else
			log_warn("ignoring the template's hostname '%s': not a valid DNS name", info->hostname);
	}
	fill_network(spec, a, info, backend);

	if (a->nameserver) {
		spec->nameserver = a->nameserver;
	} else if (info->net.nameserver) {
		store->nameserver = filter_words("nameserver", info->net.nameserver, valid_ip);
		spec->nameserver = store->nameserver;
	}
	if (a->searchdomain) {
		spec->searchdomain = a->searchdomain;
	} else if (info->net.searchdomain) {
		store->searchdomain = filter_words("search domain", info->net.searchdomain, valid_dns_name);
		spec->searchdomain = store->searchdomain;
	}

	if (a->name)
		spec->name = a->name;
	else if (a->vmid)
		spec->name = a->vmid;
	else {
		store->name = strip_ext(store->template_name);
		if (!store->name)
			return -ENOMEM;
		if (backend == BACKEND_LXC && !name_is_safe(store->name)) {
			log_error("template name '%s' is not usable as a container name; give --name", store->name);
			return -EINVAL;
		}
		spec->name = store->name;
	}
	return 0;
}

void spec_storage_free(struct spec_storage *store)
{
	free(store->template_name);
	free(store->name);
	free(store->nameserver);
	free(store->searchdomain);
	*store = (struct spec_storage){ 0 };
}
