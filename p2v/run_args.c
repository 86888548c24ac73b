#include "run_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "commands.h"
#include "log.h"
#include "remote.h"
#include "ssh_opts.h"
#include "util.h"

enum { RK_MODE = 600, RK_PORT, RK_USER, RK_PASSWORD, RK_IP, RK_IFACE, RK_PRE, RK_POST, RK_FAIL };

const struct opt_def run_keys[] = {
	{ "mode", RK_MODE, "ct|disk", "what to run: p2v ct or p2v disk (required)", "p2v.mode" },
	{ "user", RK_USER, "USER", "SSH user: p2v.server becomes USER@HOST", "p2v.user" },
	{ "port", RK_PORT, "N", "SSH port: p2v.server becomes HOST:N", "p2v.port" },
	{ "password", RK_PASSWORD, "PASSWORD",
	  "log in with this password, written to a 0600 file in /run/p2v and given as --password-file; "
	  "anyone on the machine can read it in /proc/cmdline: prefer p2v.identity", "p2v.password" },
	{ "ip", RK_IP, "dhcp|ADDR/CIDR[,GW[,DNS]]",
	  "set the network up before connecting: DHCP (udhcpc, busybox udhcpc or dhclient), or this "
	  "address, default route via GW and name server DNS in /etc/resolv.conf; without p2v.ip the "
	  "network is left as it is", "p2v.ip" },
	{ "iface", RK_IFACE, "NAME",
	  "the interface for p2v.ip (default: the first Ethernet interface with a link, waiting up to "
	  "10 s for one)", "p2v.iface" },
	{ "pre", RK_PRE, "CMD", "run CMD with /bin/sh -c first; if it fails, nothing is migrated", "p2v.pre" },
	{ "post", RK_POST, "poweroff|reboot|shell|none", "after success (default none: p2v run exits)", "p2v.post" },
	{ "fail", RK_FAIL, "poweroff|reboot|shell|none", "after a failure (default none)", "p2v.fail" },
	{ 0 },
};

static const char *const action_names[] = { "none", "poweroff", "reboot", "shell" };

const char *run_action_name(enum run_action a) { return action_names[a]; }

/* The p2v.* words, by index; the last one with key wins. */
struct words {
	struct cmdline_param *p;
	size_t n;
};

static const char *last_value(const struct words *w, const char *key, bool *found)
{
	const char *v = NULL;
	*found = false;
	for (size_t i = 0; i < w->n; i++)
		if (cmdline_key_eq(w->p[i].key, key)) {
			v = w->p[i].value;
			*found = true;
		}
	return v;
}

/* A key that needs a value: NULL (absent) stays NULL; a bare or empty one
 * is an error. */
static int need_value(const struct words *w, const char *key, const char **out)
{
	bool found;
	*out = last_value(w, key, &found);
	if (found && (!*out || !**out)) {
		log_error("%s needs a value (%s=...)", key, key);
		return -EINVAL;
	}
	return 0;
}

static int parse_action(const struct words *w, const char *key, enum run_action *out)
{
	const char *v;
	*out = RUN_NOTHING;
	if (need_value(w, key, &v) < 0)
		return -EINVAL;
	if (!v)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(action_names); i++)
		if (!strcmp(v, action_names[i])) {
			*out = (enum run_action)i;
			return 0;
		}
	log_error("%s=%s: expected poweroff, reboot, shell or none", key, v);
	return -EINVAL;
}

/* [USER@]HOST[:PORT] from p2v.server, p2v.user and p2v.port. The server may
 * carry its own user or port, but not as well as p2v.user or p2v.port. */
static char *compose_target(const char *server, const char *user, const char *port)
{
	const char *at = strrchr(server, '@');
	const char *host = at ? at + 1 : server;
	const char *colon = strchr(host, ':');
	bool bracketed = host[0] == '[';
	bool has_port = bracketed ? strstr(host, "]:") != NULL : colon && !strchr(colon + 1, ':');
	uint64_t n;
	if (user && at) {
		log_error("p2v.user=%s and a user in p2v.server=%s: give one", user, server);
		return NULL;
	}
	if (port && has_port) {
		log_error("p2v.port=%s and a port in p2v.server=%s: give one", port, server);
		return NULL;
	}
	if (port && parse_u64(port, 1, 65535, &n) < 0) {
		log_error("p2v.port=%s: expected a number from 1 to 65535", port);
		return NULL;
	}
	/* A bare IPv6 address gets brackets so the port stays apart. */
	bool wrap = port && !bracketed && colon;
	char *s = NULL;
	if (asprintf(&s, "%s%s%s%s%s%s%s", user ? user : "", user ? "@" : "", wrap ? "[" : "",
		     server, wrap ? "]" : "", port ? ":" : "", port ? port : "") < 0)
		return NULL;
	return s;
}

static int add(struct run_plan *p, const char *opt, const char *arg)
{
	if (remote_args_add(&p->argv, &p->argc, opt, arg) < 0)
		return -ENOMEM;
	return 0;
}

/* Append the option of d for each of its words: the last one, or every item
 * of every word for a list key. */
static int add_option(struct run_plan *p, const struct words *w, const struct opt_def *d,
		      const char *target)
{
	char key[128];
	cmdline_key(d, key, sizeof(key));
	if (target && !strcmp(key, "p2v.server"))
		return add(p, d->name, target);
	if (cmdline_is_list(d)) {
		for (size_t i = 0; i < w->n; i++) {
			if (!cmdline_key_eq(w->p[i].key, key))
				continue;
			const char *v = w->p[i].value ? w->p[i].value : "";
			while (*v) {
				size_t len = strcspn(v, ",");
				_cleanup_free_ char *item = strndup(v, len);
				if (!item || (len && add(p, d->name, item) < 0))
					return -ENOMEM;
				v += len + (v[len] == ',');
			}
		}
		return 0;
	}
	bool found, on;
	const char *v = last_value(w, key, &found);
	if (!found)
		return 0;
	if (!d->arg) {
		if (cmdline_flag(v, &on) < 0) {
			log_error("%s=%s: expected 1 or 0", key, v);
			return -EINVAL;
		}
		return on ? add(p, d->name, NULL) : 0;
	}
	if (!v || !*v) {
		log_error("%s needs a value (%s=%s)", key, key, d->arg);
		return -EINVAL;
	}
	return add(p, d->name, v);
}

/* Every p2v.* key must be run's own or one of the mode's command. */
static int check_keys(const struct words *w, const char *mode, const struct opt_def *mine,
		      const char *other_mode, const struct opt_def *other)
{
	int rc = 0;
	for (size_t i = 0; i < w->n; i++) {
		const char *k = w->p[i].key;
		if (cmdline_find(run_keys, k) || cmdline_find(mine, k))
			continue;
		if (cmdline_find(other, k)) {
			log_error("%s is an option of p2v %s, not of p2v %s (p2v.mode=%s)", k,
				  other_mode, mode, mode);
			rc = -EINVAL;
		} else {
			log_warn("unknown kernel command line key %s: ignored", k);
		}
	}
	return rc;
}

static int build(const struct words *w, const char *password_file, struct run_plan *p)
{
	const char *server, *mode, *user, *port, *hostkey, *ip, *iface, *v;
	bool found, accept_new = false;
	int rc = 0;
	if (need_value(w, "p2v.server", &server) < 0)
		return -EINVAL;
	if (!server) {
		p->interactive = true;
		return 0;
	}
	if (need_value(w, "p2v.mode", &mode) < 0)
		rc = -EINVAL;
	else if (!mode) {
		log_error("p2v.mode is required: p2v.mode=ct (a container) or p2v.mode=disk (a VM)");
		rc = -EINVAL;
	} else if (strcmp(mode, "ct") && strcmp(mode, "disk")) {
		log_error("p2v.mode=%s: expected ct or disk", mode);
		rc = -EINVAL;
	}
	if (rc < 0)
		return rc;
	bool ct = !strcmp(mode, "ct");
	p->mode = ct ? "ct" : "disk";
	const struct opt_def *defs = ct ? ct_opts : disk_opts;
	rc = check_keys(w, p->mode, defs, ct ? "disk" : "ct", ct ? disk_opts : ct_opts);

	if (need_value(w, "p2v.name", &v) < 0)
		rc = -EINVAL;
	else if (!v) {
		log_error("p2v.name is required: the %s's name on the hypervisor",
			  ct ? "template" : "VM");
		rc = -EINVAL;
	}
	if (need_value(w, "p2v.hostkey", &hostkey) < 0)
		rc = -EINVAL;
	v = last_value(w, "p2v.accept_new_hostkey", &found);
	if (found && cmdline_flag(v, &accept_new) < 0) {
		log_error("p2v.accept_new_hostkey=%s: expected 1 or 0", v);
		rc = -EINVAL;
	}
	if (!hostkey && !accept_new) {
		log_error("p2v.hostkey is required for an unattended run (the server's SHA256:... "
			  "fingerprint), or p2v.accept_new_hostkey=1 to trust the first key seen");
		rc = -EINVAL;
	}
	if (ct) {
		const char *root, *dev;
		if (need_value(w, "p2v.root", &root) < 0 || need_value(w, "p2v.device", &dev) < 0)
			rc = -EINVAL;
		else if (!root == !dev) {
			log_error("p2v.mode=ct needs exactly one of p2v.device=DEV (the root filesystem) "
				  "or p2v.root=DIR");
			rc = -EINVAL;
		}
	}
	if (need_value(w, "p2v.user", &user) < 0 || need_value(w, "p2v.port", &port) < 0 ||
	    need_value(w, "p2v.password", &v) < 0 || need_value(w, "p2v.pre", &v) < 0 ||
	    need_value(w, "p2v.ip", &ip) < 0 || need_value(w, "p2v.iface", &iface) < 0)
		rc = -EINVAL;
	if (parse_action(w, "p2v.post", &p->post) < 0 || parse_action(w, "p2v.fail", &p->fail) < 0)
		rc = -EINVAL;
	if (run_net_parse(ip, iface, &p->net) < 0)
		rc = -EINVAL;
	_cleanup_free_ char *target = compose_target(server, user, port);
	if (rc < 0 || !target)
		return -EINVAL;

	if (!(p->argv = calloc(1, sizeof(*p->argv))) || !(p->argv[0] = strdup(p->mode)))
		return -ENOMEM;
	p->argc = 1;
	for (const struct opt_def *d = defs; d->name && rc == 0; d++)
		if (d->cmdline)
			rc = add_option(p, w, d, target);
	if (rc < 0)
		return rc;
	const char *pw = last_value(w, "p2v.password", &found);
	const char *pre = last_value(w, "p2v.pre", &found);
	if (pw && (!(p->password = strdup(pw)) ||
		   add(p, opt_name(defs, SSH_OPT_PASSWORD_FILE), password_file) < 0))
		return -ENOMEM;
	if (pre && !(p->pre = strdup(pre)))
		return -ENOMEM;
	/* A NULL-terminated argv for the command's getopt. */
	char **v2 = realloc(p->argv, (p->argc + 1) * sizeof(*v2));
	if (!v2)
		return -ENOMEM;
	p->argv = v2;
	p->argv[p->argc] = NULL;
	return 0;
}

int run_plan_build(const char *cmdline, const char *password_file, struct run_plan *out)
{
	memset(out, 0, sizeof(*out));
	struct cmdline_param *all;
	size_t n;
	if (cmdline_split(cmdline, &all, &n) < 0)
		return -ENOMEM;
	/* Only p2v.* words are ours; nodmraid and the rest belong to others. */
	struct words w = { .p = all, .n = 0 };
	for (size_t i = 0; i < n; i++) {
		if (strncmp(all[i].key, "p2v.", 4)) {
			free(all[i].key);
			continue;
		}
		all[w.n++] = all[i];
	}
	int rc = build(&w, password_file, out);
	cmdline_params_free(w.p, w.n);
	if (rc < 0)
		run_plan_free(out);
	return rc;
}

int run_plan_build_params(const struct cmdline_param *p, size_t n, const char *password_file,
			  struct run_plan *out)
{
	memset(out, 0, sizeof(*out));
	struct cmdline_param *mine = calloc(n ? n : 1, sizeof(*mine));
	if (!mine)
		return -ENOMEM;
	struct words w = { .p = mine, .n = 0 };
	for (size_t i = 0; i < n; i++)
		if (!strncmp(p[i].key, "p2v.", 4))
			mine[w.n++] = p[i];
	int rc = build(&w, password_file, out);
	free(mine);   /* the strings are the caller's */
	if (rc < 0)
		run_plan_free(out);
	return rc;
}

void run_plan_free(struct run_plan *p)
{
	if (p->argv)
		remote_args_free(p->argv, p->argc);
	free(p->password);
	free(p->pre);
	memset(p, 0, sizeof(*p));
}

/* Words made only of these need no quotes. */
static bool plain(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			    "_-./:=@,+%", *s))
			return false;
	return true;
}

char *run_argv_line(char *const *argv, size_t argc)
{
	char *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);
	if (!f)
		return NULL;
	fputs("p2v", f);
	for (size_t i = 0; i < argc; i++) {
		_cleanup_free_ char *q = plain(argv[i]) ? NULL : shell_quote(argv[i]);
		fprintf(f, " %s", q ? q : argv[i]);
	}
	if (fclose(f) != 0) {
		free(line);
		return NULL;
	}
	return line;
}
