#include "run_net_up.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define SYS_NET "/sys/class/net"
#define MAX_LINKS 64

/* Run argv (found in PATH) and wait. Its stdout joins our stderr, which is
 * the run's log; env ("KEY=VALUE", or NULL) is added to its environment.
 * The exit status, or a negative errno when it did not run to an end. */
static int spawn(const char *const *argv, const char *env)
{
	char line[1024];
	log_info("running: %s", run_net_argv_line(argv, line, sizeof(line)));
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		log_error("fork: %s", strerror(e));
		return -e;
	}
	if (pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
		if (env)
			putenv((char *)env);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "p2v: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	log_error("%s was killed by signal %d", argv[0], WTERMSIG(st));
	return -EINTR;
}

/* spawn, and an error naming the command when it fails. */
static int spawn_ok(const char *const *argv, const char *env)
{
	int st = spawn(argv, env);
	if (st > 0)
		log_error("%s %s failed (exit status %d)", argv[0], argv[1], st);
	return st == 0 ? 0 : st > 0 ? -EIO : st;
}

static bool on_path(const char *name)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		char file[4096];
		snprintf(file, sizeof(file), "%.*s/%s", (int)len, path, name);
		if (len && access(file, X_OK) == 0)
			return true;
		path += len + (path[len] == ':');
	}
	return false;
}

/* Whether this busybox was built with applet: `busybox --list` names it. */
static bool busybox_has(const char *applet)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return false;
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, STDERR_FILENO);
		execlp("busybox", "busybox", "--list", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char buf[16384];
	ssize_t n = pid < 0 ? -1 : read_full(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	if (n <= 0)
		return false;
	buf[n] = '\0';
	size_t alen = strlen(applet);
	for (char *l = buf; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, applet, alen) && (l[alen] == '\n' || l[alen] == '\0'))
			return true;
	return false;
}

/* /sys/class/net/NAME/ATTR as a number (hex with 0x), or -1. */
static long sys_long(const char *name, const char *attr)
{
	char path[128];
	_cleanup_free_ char *text = NULL;
	snprintf(path, sizeof(path), SYS_NET "/%s/%s", name, attr);
	if (read_file(path, 64, &text, NULL) < 0)
		return -1;
	char *end;
	errno = 0;
	long v = strtol(text, &end, 0);
	return errno || end == text ? -1 : v;
}

struct links {
	size_t n;
	char names[MAX_LINKS][16];
	struct run_net_link l[MAX_LINKS];
	bool was_up[MAX_LINKS];
};

static int cmp_names(const void *a, const void *b)
{
	return strverscmp(a, b);
}

/* Every interface, in natural name order, with what sysfs says now. */
static int read_links(struct links *ls, bool dry)
{
	memset(ls, 0, sizeof(*ls));
	DIR *d = opendir(SYS_NET);
	if (!d) {
		int e = errno;
		/* A dry run still shows the commands, with a placeholder. */
		log_msg(dry ? LOG_WARN : LOG_ERROR, SYS_NET ": %s", strerror(e));
		return dry ? 0 : -e;
	}
	struct dirent *de;
	while ((de = readdir(d)) && ls->n < MAX_LINKS)
		if (de->d_name[0] != '.' && strlen(de->d_name) < sizeof(ls->names[0]))
			strcpy(ls->names[ls->n++], de->d_name);
	closedir(d);
	qsort(ls->names, ls->n, sizeof(ls->names[0]), cmp_names);
	for (size_t i = 0; i < ls->n; i++) {
		ls->l[i].name = ls->names[i];
		char dev[128];
		snprintf(dev, sizeof(dev), SYS_NET "/%s/device", ls->names[i]);
		ls->l[i].ether = sys_long(ls->names[i], "type") == 1;
		ls->l[i].physical = access(dev, F_OK) == 0;
		/* carrier reads as an error while the link is down. */
		ls->l[i].carrier = sys_long(ls->names[i], "carrier") == 1;
		ls->was_up[i] = sys_long(ls->names[i], "flags") > 0 && (sys_long(ls->names[i], "flags") & 1);
	}
	return 0;
}

static void refresh_carrier(struct links *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		ls->l[i].carrier = sys_long(ls->names[i], "carrier") == 1;
}

static const char *names_of(const struct links *ls, bool candidates_only, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < ls->n && len < cap; i++)
		if (!candidates_only || run_net_candidate(ls->l, ls->n, i)) {
			int w = snprintf(buf + len, cap - len, "%s%s", len ? " " : "", ls->names[i]);
			if (w > 0)
				len += (size_t)w;
		}
	if (!buf[0])
		snprintf(buf, cap, "none");
	return buf;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int link_set(const char *name, const char *state)
{
	const char *argv[] = { "ip", "link", "set", "dev", name, state, NULL };
	return spawn_ok(argv, NULL);
}

/* Bring name up and wait for its carrier; a missing carrier is only a
 * warning: a link may come up late, and the commands then say more. */
static int use_named(const char *name, struct links *ls, bool dry)
{
	char all[512];
	size_t i;
	for (i = 0; i < ls->n && strcmp(ls->names[i], name); i++)
		;
	if (i == ls->n && dry) {
		log_warn("p2v.iface=%s: no such interface here now (there are: %s)", name,
			 names_of(ls, false, all, sizeof(all)));
	} else if (i == ls->n) {
		log_error("p2v.iface=%s: no such interface (there are: %s)", name, names_of(ls, false, all, sizeof(all)));
		return -ENODEV;
	}
	log_info("interface: %s (p2v.iface)", name);
	if (dry) {
		log_info("would run: ip link set dev %s up", name);
		return 0;
	}
	int rc = link_set(name, "up");
	if (rc < 0)
		return rc;
	for (int t = 0; t < RUN_NET_CARRIER_WAIT * 5; t++) {
		if (sys_long(name, "carrier") == 1)
			return 0;
		sleep_ms(200);
	}
	log_warn("%s has no link (carrier) after %d s: is the cable in? Trying anyway", name,
		 RUN_NET_CARRIER_WAIT);
	return 0;
}

/* The first Ethernet link with carrier: bring every candidate up, wait for
 * carrier, take the first (by name) that has it, and put the others that
 * were down back down. */
static int choose(struct links *ls, bool dry, char *out, size_t cap)
{
	char cands[512];
	names_of(ls, true, cands, sizeof(cands));
	int pick = run_net_choose(ls->l, ls->n);
	if (dry) {
		for (size_t i = 0; pick < 0 && i < ls->n; i++)
			if (run_net_candidate(ls->l, ls->n, i))
				pick = (int)i;
		if (pick < 0) {
			log_warn("no Ethernet interface here now (there are: %s)", names_of(ls, false, cands, sizeof(cands)));
			snprintf(out, cap, "IFACE");
			return 0;
		}
		log_info("interface: would bring up %s and take the first with a link (carrier); "
			 "now: %s", cands, ls->names[pick]);
		log_info("would run: ip link set dev %s up", ls->names[pick]);
		snprintf(out, cap, "%s", ls->names[pick]);
		return 0;
	}
	bool any = false;
	for (size_t i = 0; i < ls->n; i++)
		if (run_net_candidate(ls->l, ls->n, i)) {
			any = true;
			if (!ls->was_up[i] && link_set(ls->names[i], "up") < 0)
				log_warn("could not bring %s up", ls->names[i]);
		}
	if (!any) {
		log_error("no Ethernet interface for p2v.ip (there are: %s); is the NIC's driver loaded?",
			  names_of(ls, false, cands, sizeof(cands)));
		return -ENODEV;
	}
	for (int t = 0; t <= RUN_NET_CARRIER_WAIT * 5; t++) {
		refresh_carrier(ls);
		if ((pick = run_net_choose(ls->l, ls->n)) >= 0)
			break;
		sleep_ms(200);
	}
	for (size_t i = 0; i < ls->n; i++)
		if (run_net_candidate(ls->l, ls->n, i) && !ls->was_up[i] && (int)i != pick)
			link_set(ls->names[i], "down");
	if (pick < 0) {
		log_error("none of the Ethernet interfaces (%s) has a link (carrier) after %d s: "
			  "check the cable, or name one with p2v.iface", cands, RUN_NET_CARRIER_WAIT);
		return -ENETDOWN;
	}
	log_info("interface: %s, the first with a link (carrier) of: %s", ls->names[pick], cands);
	snprintf(out, cap, "%s", ls->names[pick]);
	return 0;
}

/* Write resolv_conf through a temporary and rename. A bind-mounted file
 * (containers mount one) cannot be renamed over: it is rewritten in place. */
static int write_resolv(const char *path, const char *dns)
{
	char text[128], tmp[4096];
	int rc = run_net_resolv_conf(dns, text, sizeof(text));
	if (rc < 0)
		return rc;
	const char *slash = strrchr(path, '/');
	snprintf(tmp, sizeof(tmp), "%.*s.%s.p2v.%d", slash ? (int)(slash - path + 1) : 0, path,
		 slash ? slash + 1 : path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
	} else {
		rc = write_full(fd, text, strlen(text));
		if (rc == 0 && fsync(fd) < 0)
			rc = -errno;
		if (close(fd) < 0 && rc == 0)
			rc = -errno;
		if (rc == 0 && rename(tmp, path) < 0)
			rc = -errno;
		if (rc < 0)
			unlink(tmp);
	}
	if (rc == -EBUSY) {
		_cleanup_close_ int f = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
		rc = f < 0 ? -errno : write_full(f, text, strlen(text));
		if (rc == 0)
			log_info("%s is a mount point: rewritten in place", path);
	}
	if (rc < 0) {
		log_warn("could not write the name server %s to %s: %s (host names will not resolve)",
			 dns, path, strerror(-rc));
		return rc;
	}
	log_info("name server %s written to %s", dns, path);
	return 0;
}

/* A tentative IPv6 address (duplicate address detection, a second or so)
 * cannot be a source yet, and the connection follows at once. `ip addr add
 * ... nodad` would say so, but busybox ip does not know nodad: the sysctl
 * does the same for any ip. */
static void no_dad(const char *iface, bool dry)
{
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_dad", iface);
	if (dry) {
		log_info("would write 0 to %s (no duplicate address detection delay)", path);
		return;
	}
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write_full(fd, "0\n", 2) < 0)
		log_warn("%s: %s (the address may need a second before it works)", path, strerror(errno));
}

static int apply_static(const struct run_net *n, const char *iface, const char *resolv_conf, bool dry)
{
	struct run_net_cmds c;
	char line[1024];
	run_net_static_cmds(n, iface, &c);
	if (strchr(n->addr, ':'))
		no_dad(iface, dry);
	for (size_t i = 0; i < c.n; i++) {
		if (dry)
			log_info("would run: %s", run_net_argv_line(c.argv[i], line, sizeof(line)));
		else if (spawn_ok(c.argv[i], NULL) < 0)
			return -EIO;
	}
	if (*n->dns && dry)
		log_info("would write %s: nameserver %s", resolv_conf, n->dns);
	else if (*n->dns)
		write_resolv(resolv_conf, n->dns);
	return 0;
}

static enum run_dhcp_client dhcp_client(void)
{
	if (on_path("udhcpc"))
		return RUN_DHCP_UDHCPC;
	if (on_path("busybox") && busybox_has("udhcpc"))
		return RUN_DHCP_BUSYBOX;
	if (on_path("dhclient"))
		return RUN_DHCP_DHCLIENT;
	return RUN_DHCP_NONE;
}

static int write_script(const char *path)
{
	unlink(path);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0700);
	int rc = fd < 0 ? -errno : write_full(fd, run_net_udhcpc_script, strlen(run_net_udhcpc_script));
	if (rc < 0)
		log_error("writing the udhcpc script %s: %s", path, strerror(-rc));
	return rc;
}

static int dhcp(const char *iface, const char *run_dir, const char *resolv_conf, bool dry)
{
	char env[300], line[1024];
	struct run_net_dhcp d;
	enum run_dhcp_client c = dhcp_client();
	if (!run_net_dhcp_argv(c, iface, run_dir, &d)) {
		log_error("p2v.ip=dhcp: no DHCP client here (neither udhcpc, busybox udhcpc nor "
			  "dhclient); give p2v.ip=ADDR/CIDR,GW,DNS");
		return -ENOENT;
	}
	if (dry) {
		log_info("would run: %s", run_net_argv_line(d.argv, line, sizeof(line)));
		if (c != RUN_DHCP_DHCLIENT)
			log_info("then set the lease's address, default route and name server as p2v.ip=ADDR/CIDR,GW,DNS would");
		return 0;
	}
	if (mkdir(run_dir, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		log_error("%s: %s", run_dir, strerror(e));
		return -e;
	}
	if (c == RUN_DHCP_DHCLIENT) {
		int rc = spawn_ok(d.argv, NULL);
		if (rc < 0)
			log_error("dhclient got no lease on %s", iface);
		return rc;
	}
	unlink(d.lease);
	int rc = write_script(d.script);
	if (rc < 0)
		return rc;
	snprintf(env, sizeof(env), "P2V_LEASE=%s", d.lease);
	int st = spawn(d.argv, env);
	_cleanup_free_ char *text = NULL;
	if (st != 0 || read_file(d.lease, 4096, &text, NULL) < 0) {
		log_error("udhcpc got no lease on %s (exit status %d)", iface, st);
		return -EIO;
	}
	struct run_net got;
	if (run_net_parse_lease(text, &got) < 0)
		return -EINVAL;
	log_info("DHCP lease: %s/%d%s%s%s%s", got.addr, got.prefix, *got.gw ? ", router " : "", got.gw,
		 *got.dns ? ", name server " : "", got.dns);
	return apply_static(&got, iface, resolv_conf, false);
}

int run_net_up(const struct run_net *n, const char *run_dir, const char *resolv_conf, bool dry)
{
	if (!n->set) {
		if (*n->iface)
			log_warn("p2v.iface=%s without p2v.ip: ignored", n->iface);
		log_info("network: no p2v.ip, left as the boot system set it up");
		run_net_log_addresses();
		return 0;
	}
	struct links ls;
	char iface[16];
	int rc = read_links(&ls, dry);
	if (rc == 0)
		rc = *n->iface ? use_named(n->iface, &ls, dry) : choose(&ls, dry, iface, sizeof(iface));
	if (rc < 0)
		return rc;
	const char *ifn = *n->iface ? n->iface : iface;
	rc = n->dhcp ? dhcp(ifn, run_dir, resolv_conf, dry) : apply_static(n, ifn, resolv_conf, dry);
	if (rc == 0 && !dry)
		run_net_log_addresses();
	return rc;
}

static int prefix_len(const struct sockaddr *mask)
{
	const unsigned char *b;
	size_t len;
	if (!mask)
		return -1;
	if (mask->sa_family == AF_INET) {
		b = (const unsigned char *)&((const struct sockaddr_in *)mask)->sin_addr;
		len = 4;
	} else {
		b = (const unsigned char *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
		len = 16;
	}
	int p = 0;
	for (size_t i = 0; i < len; i++)
		p += __builtin_popcount(b[i]);
	return p;
}

/* Default routes from /proc/net/route (IPv4) and /proc/net/ipv6_route. */
static void log_default_routes(void)
{
	_cleanup_free_ char *v4 = NULL, *v6 = NULL;
	bool any = false;
	if (read_file("/proc/net/route", 1 << 20, &v4, NULL) == 0)
		for (char *l = v4; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
			char ifn[32];
			unsigned dest, gw, flags, mask;
			if (sscanf(l, "%31s %x %x %x %*d %*d %*d %x", ifn, &dest, &gw, &flags, &mask) == 5 &&
			    dest == 0 && mask == 0 && (flags & 1)) {
				char a[INET_ADDRSTRLEN];
				struct in_addr in = { .s_addr = gw };
				inet_ntop(AF_INET, &in, a, sizeof(a));
				log_info("default route: via %s dev %s", a, ifn);
				any = true;
			}
		}
	if (read_file("/proc/net/ipv6_route", 1 << 20, &v6, NULL) == 0)
		for (char *l = v6; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
			char dest[33], gw[33], ifn[32];
			unsigned plen, flags;
			if (sscanf(l, "%32s %x %*s %*x %32s %*x %*x %*x %x %31s", dest, &plen, gw, &flags, ifn) == 5 &&
			    plen == 0 && !strcmp(dest, "00000000000000000000000000000000") && strcmp(ifn, "lo") &&
			    (flags & 1)) {
				unsigned char b[16];
				char a[INET6_ADDRSTRLEN];
				for (int i = 0; i < 16; i++)
					sscanf(gw + 2 * i, "%2hhx", &b[i]);
				inet_ntop(AF_INET6, b, a, sizeof(a));
				log_info("default route: via %s dev %s", a, ifn);
				any = true;
			}
		}
	if (!any)
		log_info("default route: none");
}

void run_net_log_addresses(void)
{
	struct ifaddrs *ifa;
	bool any = false;
	if (getifaddrs(&ifa) < 0) {
		log_warn("cannot list the network addresses: %s", strerror(errno));
		return;
	}
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6) ||
		    !strcmp(i->ifa_name, "lo"))
			continue;
		char a[INET6_ADDRSTRLEN];
		const void *src = i->ifa_addr->sa_family == AF_INET
			? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
			: (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		inet_ntop(i->ifa_addr->sa_family, src, a, sizeof(a));
		log_info("address: %s %s/%d", i->ifa_name, a, prefix_len(i->ifa_netmask));
		any = true;
	}
	freeifaddrs(ifa);
	if (!any)
		log_warn("no network address besides loopback: the server must be reachable some other way");
	log_default_routes();
}
