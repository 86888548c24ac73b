#include "run_dialogue.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmdline.h"
#include "commands.h"
#include "inventory.h"
#include "log.h"
#include "run_dialogue_io.h"
#include "run_log.h"
#include "run_net_up.h"
#include "ssh.h"
#include "ssh_probe.h"
#include "util.h"

/* The p2v.* words: the command line's first, then the answers. */
struct words {
	struct cmdline_param *p;
	size_t n, cap;
};

/* Our words hold a key and a value of their own (put), unlike
 * cmdline_split's, whose value lives in the key's allocation. */
static void words_free(struct words *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->p[i].key);
		free(w->p[i].value);
	}
	free(w->p);
	memset(w, 0, sizeof(*w));
}

static const char *get(const struct words *w, const char *key)
{
	const char *v = NULL;
	for (size_t i = 0; i < w->n; i++)
		if (cmdline_key_eq(w->p[i].key, key))
			v = w->p[i].value ? w->p[i].value : "";
	return v;
}

/* Forget every word with key: for keys an answer replaces rather than
 * overrides (p2v.disks adds up; p2v.root and p2v.device exclude each other). */
static void drop(struct words *w, const char *key)
{
	size_t j = 0;
	for (size_t i = 0; i < w->n; i++) {
		if (cmdline_key_eq(w->p[i].key, key)) {
			free(w->p[i].key);
			free(w->p[i].value);
		} else {
			w->p[j++] = w->p[i];
		}
	}
	w->n = j;
}

static int put(struct words *w, const char *key, const char *value)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct cmdline_param *p = realloc(w->p, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		w->p = p;
		w->cap = cap;
	}
	struct cmdline_param *p = &w->p[w->n];
	p->key = strdup(key);
	p->value = value ? strdup(value) : NULL;
	if (!p->key || (value && !p->value)) {
		free(p->key);
		free(p->value);
		return -ENOMEM;
	}
	w->n++;
	return 0;
}

static int load_cmdline(const char *cmdline, struct words *w)
{
	struct cmdline_param *all;
	size_t n;
	memset(w, 0, sizeof(*w));
	if (cmdline_split(cmdline, &all, &n) < 0)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (!strncmp(all[i].key, "p2v.", 4))
			rc = put(w, all[i].key, all[i].value);
	cmdline_params_free(all, n);
	return rc;
}

/* ---- what the machine holds ---- */

/* The device of the first Linux root the inventory found, for a default. */
static void guess_root(const struct inventory *inv, char *buf, size_t cap, char *host, size_t hcap)
{
	*buf = *host = '\0';
	for (size_t i = 0; i < inv->n_oses; i++) {
		const struct inv_os *os = &inv->oses[i];
		if (!os->pretty_name && !os->id)
			continue;
		for (size_t d = 0; d < inv->n_disks && !*buf; d++) {
			const struct inv_disk *disk = &inv->disks[d];
			if (strcmp(disk->path, os->disk) && strcmp(disk->name, os->disk))
				continue;
			if (os->partition == 0)
				snprintf(buf, cap, "%s", disk->path);
			for (size_t p = 0; p < disk->n_parts && !*buf; p++)
				if (disk->parts[p].number == os->partition && disk->parts[p].path)
					snprintf(buf, cap, "%s", disk->parts[p].path);
		}
		if (os->hostname)
			snprintf(host, hcap, "%s", os->hostname);
		if (*buf)
			return;
	}
}

static void show_machine(struct inventory *inv, bool *have_inv)
{
	struct inventory_opts o = { 0 };
	dlg_say("\n=== What this machine holds (p2v inventory) ===\n\n");
	*have_inv = inventory_collect(&o, inv) == 0;
	run_log_sync();
	if (*have_inv) {
		inventory_print_human(stdout, inv);
		fflush(stdout);
	}
	dlg_say("\n=== BIOS (fake) RAID (p2v check) ===\n\n");
	char *argv[] = { "check", NULL };
	int rc = cmd_check(1, argv);
	fflush(stdout);
	if (rc == P2V_EXIT_FAKERAID)
		dlg_say("\nThe disks above cannot be read as they are: p2v disk and p2v ct --device "
			"will refuse until that is handled (p2v ct of a mounted directory can still "
			"run).\n");
	log_info("dialogue: fake-RAID check: %s", rc == P2V_EXIT_OK ? "migration may proceed"
		 : rc == P2V_EXIT_FAKERAID ? "refused (see above)" : "could not be run");
}

/* ---- the questions ---- */

#define EOI (-EPIPE)

static int ask_network(struct words *w, const struct run_dialogue_env *env)
{
	struct run_net n;
	const char *ip = get(w, "p2v.ip"), *iface = get(w, "p2v.iface");
	char buf[256];
	dlg_say("\n=== Network ===\n\n");
	if (ip) {
		/* The command line said how: no question. */
		if (run_net_parse(ip, iface, &n) < 0 || run_net_up(&n, env->run_dir, env->resolv_conf, false) < 0)
			return -ENETDOWN;
		return 0;
	}
	run_net_log_addresses();
	for (;;) {
		int rc = dlg_ask("Set the network up? Enter: leave it as it is; dhcp; or ADDR/CIDR[,GW[,DNS]]",
				 NULL, buf, sizeof(buf));
		if (rc < 0)
			return rc;
		if (!*buf)
			return 0;
		if (run_net_parse(buf, iface, &n) == 0 &&
		    run_net_up(&n, env->run_dir, env->resolv_conf, false) == 0)
			return put(w, "p2v.ip", buf);
		dlg_say("That did not work (see above). Try again, or press Enter to leave the network alone.\n");
	}
}

static int ask_mode(struct words *w, bool *ct)
{
	char buf[16];
	const char *def = get(w, "p2v.mode");
	for (;;) {
		int rc = dlg_ask("Migrate into a container (ct) or whole disks into a VM (disk)?",
				 def && *def ? def : "ct", buf, sizeof(buf));
		if (rc < 0)
			return rc;
		if (!strcmp(buf, "ct") || !strcmp(buf, "disk")) {
			*ct = buf[0] == 'c';
			return put(w, "p2v.mode", buf);
		}
		dlg_say("Please answer ct or disk.\n");
	}
}

static int ask_source_ct(struct words *w, const char *guess)
{
	char buf[4096];
	const char *def = get(w, "p2v.root") ? get(w, "p2v.root") : get(w, "p2v.device") ? get(w, "p2v.device") : guess;
	for (;;) {
		int rc = dlg_ask("Root filesystem: a device (like /dev/sda2) or a mounted directory", def, buf,
				 sizeof(buf));
		if (rc < 0)
			return rc;
		struct stat st;
		if (*buf && stat(buf, &st) == 0 && (S_ISBLK(st.st_mode) || S_ISDIR(st.st_mode))) {
			drop(w, "p2v.root");
			drop(w, "p2v.device");
			return put(w, S_ISBLK(st.st_mode) ? "p2v.device" : "p2v.root", buf);
		}
		dlg_say("%s is no block device or directory here.\n", *buf ? buf : "(nothing)");
	}
}

static int ask_source_disk(struct words *w)
{
	char buf[4096];
	_cleanup_free_ char *def = get(w, "p2v.disks") ? strdup(get(w, "p2v.disks")) : NULL;
	for (char *p = def; p && *p; p++)
		if (*p == ',')
			*p = ' ';
	for (;;) {
		int rc = dlg_ask("Disks to copy, separated by spaces (Enter: every fixed disk except the "
				 "boot medium)", def, buf, sizeof(buf));
		if (rc < 0)
			return rc;
		bool ok = true;
		char list[4096] = "";
		for (char *save = NULL, *d = strtok_r(buf, " ,\t", &save); d; d = strtok_r(NULL, " ,\t", &save)) {
			struct stat st;
			if (stat(d, &st) < 0) {
				dlg_say("%s: %s\n", d, strerror(errno));
				ok = false;
			}
			size_t len = strlen(list);
			snprintf(list + len, sizeof(list) - len, "%s%s", len ? "," : "", d);
		}
		if (!ok)
			continue;
		drop(w, "p2v.disks");
		return *list ? put(w, "p2v.disks", list) : 0;
	}
}

/* A host name or address, without user or port (they are asked apart). */
static bool plain_host(const char *h)
{
	unsigned char a[16];
	if (!*h || strchr(h, '@') || strpbrk(h, " \t/"))
		return false;
	return !strchr(h, ':') || inet_pton(AF_INET6, h, a) == 1;
}

struct login {
	char host[256], user[64], port[8], identity[4096];
	unsigned port_n;
};

static int ask_login(struct words *w, struct login *l)
{
	const char *def = get(w, "p2v.server");
	int rc;
	for (;;) {
		if ((rc = dlg_ask("Hypervisor (host name or address)", def, l->host, sizeof(l->host))) < 0)
			return rc;
		if (plain_host(l->host))
			break;
		dlg_say("Only the host name or address, please (the port and user come next).\n");
		def = NULL;
	}
	for (;;) {
		uint64_t n;
		def = get(w, "p2v.port");
		if ((rc = dlg_ask("SSH port", def && *def ? def : "22", l->port, sizeof(l->port))) < 0)
			return rc;
		if (parse_u64(l->port, 1, 65535, &n) == 0) {
			l->port_n = (unsigned)n;
			break;
		}
		dlg_say("A number from 1 to 65535, please.\n");
	}
	def = get(w, "p2v.user");
	if ((rc = dlg_ask("SSH user", def && *def ? def : "root", l->user, sizeof(l->user))) < 0)
		return rc;
	if (!*l->user)
		snprintf(l->user, sizeof(l->user), "root");
	for (;;) {
		def = get(w, "p2v.identity");
		if ((rc = dlg_ask("SSH private key file (Enter: log in with a password)", def, l->identity,
				  sizeof(l->identity))) < 0)
			return rc;
		if (!*l->identity || access(l->identity, R_OK) == 0)
			break;
		dlg_say("%s: %s\n", l->identity, strerror(errno));
	}
	if ((rc = put(w, "p2v.server", l->host)) < 0 || (rc = put(w, "p2v.port", l->port)) < 0 ||
	    (rc = put(w, "p2v.user", l->user)) < 0)
		return rc;
	if (*l->identity) {
		drop(w, "p2v.password");
		return put(w, "p2v.identity", l->identity);
	}
	char pw[512];
	char q[400];
	snprintf(q, sizeof(q), "Password of %s on %s (not shown)", l->user, l->host);
	bool had = get(w, "p2v.password") != NULL;
	for (;;) {
		if ((rc = dlg_secret(q, pw, sizeof(pw))) < 0)
			return rc;
		if (*pw || had)
			break;
		dlg_say("An empty password is not accepted; give a key file instead if there is none.\n");
	}
	drop(w, "p2v.identity");
	rc = *pw ? put(w, "p2v.password", pw) : 0;
	explicit_bzero(pw, sizeof(pw));
	return rc;
}

static int ask_name(struct words *w, bool ct, const char *guess)
{
	char buf[128];
	const char *def = get(w, "p2v.name") ? get(w, "p2v.name") : guess;
	for (;;) {
		int rc = dlg_ask(ct ? "Name of the container template on the hypervisor"
				    : "Name of the VM on the hypervisor", def, buf, sizeof(buf));
		if (rc < 0)
			return rc;
		if (name_is_safe(buf) && strlen(buf) <= 100)
			return put(w, "p2v.name", buf);
		dlg_say("Letters, digits and . _ + - please (not first . or -), at most 100.\n");
	}
}

static int ask_create(struct words *w, bool ct)
{
	bool on = false, def = false;
	const char *v = get(w, "p2v.create");
	if (v)
		cmdline_flag(*v ? v : NULL, &def);
	int rc = dlg_yes(ct ? "Create the container on the hypervisor as well (ct-import create-ct)?"
			    : "Create the VM on the hypervisor as well (ct-import create-vm)?", def, &on);
	return rc < 0 ? rc : put(w, "p2v.create", on ? "1" : "0");
}

/* Connect for the host key; asks whether to try another server when it
 * cannot be reached. 0 with fp and type set, 1 to ask again, or < 0. */
static int fetch_key(const struct login *l, char **fp, char **type)
{
	struct ssh_target t = { .user = (char *)l->user, .host = (char *)l->host, .port = l->port_n };
	dlg_say("\nAsking %s port %u for its host key ...\n", l->host, l->port_n);
	if (ssh_probe_host_key(&t, NULL, fp, type) == 0)
		return 0;
	bool again;
	int rc = dlg_yes("The server could not be reached (see above). Enter the server again?", true, &again);
	return rc < 0 ? rc : again ? 1 : -ECONNREFUSED;
}

static const char *key_file_of(const char *type)
{
	return !strcmp(type, "ssh-ed25519") ? "ed25519" : !strcmp(type, "ssh-rsa") ? "rsa" : "ecdsa";
}

/* ---- the whole dialogue ---- */

static int fail(char *failed, size_t cap, int rc, int status, const char *what)
{
	snprintf(failed, cap, "%s", rc == EOI ? "the dialogue ended: no more input" : what);
	return rc == EOI ? P2V_EXIT_USAGE : status;
}

int run_dialogue(const struct run_dialogue_env *env, struct run_plan *plan, char *failed, size_t cap)
{
	struct words w;
	struct inventory inv;
	struct login l = { 0 };
	bool have_inv = false, ct = true, ok = false;
	char root_guess[4096], host_guess[256];
	_cleanup_free_ char *fp = NULL, *type = NULL, *line = NULL;
	int rc, status = P2V_EXIT_FAILURE;

	memset(plan, 0, sizeof(*plan));
	if (load_cmdline(env->cmdline, &w) < 0)
		return fail(failed, cap, -ENOMEM, P2V_EXIT_FAILURE, "out of memory");
	log_info("dialogue: no p2v.server on the kernel command line: asking on the terminal");
	dlg_say("p2v run: there is no p2v.server on the kernel command line, so this dialogue\n"
		"asks for what the migration needs. Nothing is written to this machine's disks.\n");
	show_machine(&inv, &have_inv);
	if (have_inv)
		guess_root(&inv, root_guess, sizeof(root_guess), host_guess, sizeof(host_guess));
	else
		*root_guess = *host_guess = '\0';

	if ((rc = ask_network(&w, env)) < 0) {
		status = fail(failed, cap, rc, P2V_EXIT_FAILURE, "network setup failed (p2v.ip)");
		goto out;
	}
	dlg_say("\n=== The migration ===\n\n");
	if ((rc = ask_mode(&w, &ct)) < 0 ||
	    (rc = ct ? ask_source_ct(&w, *root_guess ? root_guess : NULL) : ask_source_disk(&w)) < 0) {
		status = fail(failed, cap, rc, P2V_EXIT_FAILURE, "out of memory");
		goto out;
	}
	if ((rc = ask_login(&w, &l)) < 0 || (rc = ask_name(&w, ct, *host_guess ? host_guess : NULL)) < 0 ||
	    (rc = ask_create(&w, ct)) < 0) {
		status = fail(failed, cap, rc, P2V_EXIT_FAILURE, "out of memory");
		goto out;
	}
	while ((rc = fetch_key(&l, &fp, &type)) == 1) {
		if ((rc = ask_login(&w, &l)) < 0)
			break;
	}
	if (rc < 0) {
		status = fail(failed, cap, rc, P2V_EXIT_FAILURE, "the server could not be reached");
		goto out;
	}

	/* A pin from the command line stays the decision; else the key shown
	 * here, once confirmed, is pinned. */
	const char *pin = get(&w, "p2v.hostkey");
	log_info("dialogue: %s port %u shows the %s host key %s", l.host, l.port_n, type, fp);
	dlg_say("\nThe server's host key: %s %s\n"
		"Compare it with what the hypervisor itself says:\n"
		"  ssh-keygen -lf /etc/ssh/ssh_host_%s_key.pub\n", type, fp, key_file_of(type));
	if (pin)
		dlg_say("p2v.hostkey on the kernel command line pins %s: p2v %s will refuse any other key.\n",
			pin, ct ? "ct" : "disk");
	else if ((rc = put(&w, "p2v.hostkey", fp)) < 0) {
		status = fail(failed, cap, rc, P2V_EXIT_FAILURE, "out of memory");
		goto out;
	}
	if (run_plan_build_params(w.p, w.n, env->password_file, plan) < 0) {
		status = fail(failed, cap, 0, P2V_EXIT_USAGE,
			      "the answers and the kernel command line's p2v.* keys do not fit together (see above)");
		goto out;
	}
	line = run_argv_line(plan->argv, plan->argc);
	dlg_say("\nThis will run:\n  %s\n\n", line ? line : plan->mode);
	if ((rc = dlg_yes("Is that the hypervisor's host key, and shall the migration start?", false, &ok)) < 0 || !ok) {
		log_info("dialogue: the host key %s was not confirmed", fp);
		status = fail(failed, cap, rc, P2V_EXIT_HOSTKEY,
			      "the server's host key was not confirmed: nothing was sent");
		goto out;
	}
	log_info("dialogue: host key %s confirmed; %s", fp, line ? line : plan->mode);
	plan->net_ready = true;
	status = P2V_EXIT_OK;
out:
	if (status != P2V_EXIT_OK)
		run_plan_free(plan);
	if (have_inv)
		inventory_free(&inv);
	/* The password's copies: the words are freed, the plan keeps its own. */
	for (size_t i = 0; i < w.n; i++)
		if (cmdline_key_eq(w.p[i].key, "p2v.password") && w.p[i].value)
			explicit_bzero(w.p[i].value, strlen(w.p[i].value));
	words_free(&w);
	return status;
}
