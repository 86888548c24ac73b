/* Spawning conversion children and cleaning up after half-done ones
 * (batch_cleanup.h). The cleanup only ever touches what the state file says
 * this batch started: a container that existed before is never removed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch_cleanup.h"
#include "convert_openvz.h"
#include "log.h"
#include "pve.h"
#include "remove_tree.h"
#include "util.h"

static void child_fds(int out_fd)
{
	int null = open("/dev/null", O_RDONLY);
	if (null >= 0 && null != STDIN_FILENO) {
		dup2(null, STDIN_FILENO);
		close(null);
	}
	if (out_fd >= 0) {
		dup2(out_fd, STDOUT_FILENO);
		dup2(out_fd, STDERR_FILENO);
	}
}

pid_t batch_spawn(char *const argv[], int out_fd, int *release_fd)
{
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0) {
		int e = errno;
		log_error("pipe: %s", strerror(e));
		return -e;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		log_error("fork: %s", strerror(e));
		close(go[0]);
		close(go[1]);
		return -e;
	}
	if (pid == 0) {
		/* A conversion must not outlive the batch that recorded it: a
		 * rerun would otherwise clean up under a running child. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		close(go[1]);
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(127);  /* the batch did not record us */
		child_fds(out_fd);
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], argv);
		dprintf(STDERR_FILENO, "ct-import batch: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(go[0]);
	*release_fd = go[1];
	return pid;
}

int batch_run(char *const argv[], int out_fd)
{
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		child_fds(out_fd);
		execvp(argv[0], argv);
		dprintf(STDERR_FILENO, "ct-import batch: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -EINTR;
}

static char *lxc_dir(const struct batch_env *env, const struct batch_entry *e)
{
	char *p;
	return asprintf(&p, "%s/%s", env->lxc_path, e->name) < 0 ? NULL : p;
}

bool batch_container_exists(const struct batch_env *env, const struct batch_entry *e)
{
	if (e->backend && !strcmp(e->backend, "pve"))
		return pve_vmid_exists(e->vmid);
	if (!e->name)
		return false;
	_cleanup_free_ char *dir = lxc_dir(env, e);
	struct stat st;
	return dir && lstat(dir, &st) == 0;
}

static int destroy_lxc(const struct batch_env *env, const struct batch_entry *e)
{
	_cleanup_free_ char *dir = lxc_dir(env, e);
	if (!dir)
		return -ENOMEM;
	struct stat st;
	if (lstat(dir, &st) < 0)
		return 0;
	log_info("removing the half-made LXC container %s (%s)", e->name, dir);
	char *stop[] = { "lxc-stop", "-k", "-n", e->name, "-P", (char *)env->lxc_path, NULL };
	char *destroy[] = { "lxc-destroy", "-n", e->name, "-P", (char *)env->lxc_path, NULL };
	batch_run(stop, env->log_fd);  /* fails when it is not running: fine */
	_cleanup_free_ char *config = NULL;
	if (asprintf(&config, "%s/config", dir) < 0)
		return -ENOMEM;
	if (access(config, F_OK) == 0)
		batch_run(destroy, env->log_fd);
	/* Killed before its config was written, lxc-destroy does not know it. */
	if (lstat(dir, &st) == 0)
		remove_tree(dir);
	if (lstat(dir, &st) == 0) {
		log_error("could not remove the half-made container %s", dir);
		return -EBUSY;
	}
	return 0;
}

static int destroy_pve(const struct batch_env *env, const struct batch_entry *e)
{
	if (!pve_vmid_exists(e->vmid))
		return 0;
	char id[16];
	snprintf(id, sizeof(id), "%u", e->vmid);
	log_info("removing the half-made container %s", id);
	/* A killed `pct create` leaves the config locked ("lock: create"). */
	char *unlock[] = { "pct", "unlock", id, NULL };
	char *stop[] = { "pct", "stop", id, NULL };
	char *destroy[] = { "pct", "destroy", id, "--purge", "1", NULL };
	batch_run(unlock, env->log_fd);
	batch_run(stop, env->log_fd);
	int rc = batch_run(destroy, env->log_fd);
	if (rc != 0 || pve_vmid_exists(e->vmid)) {
		log_error("could not remove the half-made container %s (pct destroy: %s)", id,
			  rc < 0 ? strerror(-rc) : "failed");
		return -EBUSY;
	}
	return 0;
}

/* Scratch directories <cache>/.convert-openvz.PID.XXXXXX whose process is
 * gone (a child of ours that is still running keeps its own). */
static void remove_stale_scratch(const struct batch_env *env)
{
	DIR *d = opendir(env->cache_dir);
	if (!d)
		return;
	const size_t pl = strlen(CTI_OVZ_TMP_PREFIX);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, CTI_OVZ_TMP_PREFIX, pl))
			continue;
		char *end;
		long pid = strtol(de->d_name + pl, &end, 10);
		if (pid <= 0 || *end != '.' || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		_cleanup_free_ char *p = NULL;
		if (asprintf(&p, "%s/%s", env->cache_dir, de->d_name) < 0)
			break;
		log_info("removing %s, left by a conversion that was killed", p);
		remove_tree(p);
	}
	closedir(d);
}

/* vzdump-lxc-VMID-*.tar.zst written since the conversion started. */
static void remove_new_vzdumps(const struct batch_env *env, const struct batch_entry *e)
{
	DIR *d = opendir(env->cache_dir);
	if (!d)
		return;
	char prefix[40];
	snprintf(prefix, sizeof(prefix), "vzdump-lxc-%u-", e->vmid);
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (strncmp(de->d_name, prefix, strlen(prefix)) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_mtime < e->time)
			continue;
		log_info("removing %s/%s, written by a conversion that did not finish", env->cache_dir, de->d_name);
		unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

int batch_cleanup(const struct batch_env *env, const struct batch_entry *e)
{
	int rc = 0;
	if (e->backend && e->vmid)
		rc = !strcmp(e->backend, "pve") ? destroy_pve(env, e) : destroy_lxc(env, e);
	remove_stale_scratch(env);
	if (e->template_path && unlink(e->template_path) == 0)
		log_info("removed %s, published by a conversion that did not finish", e->template_path);
	if (e->output && !strcmp(e->output, "vzdump") && e->vmid)
		remove_new_vzdumps(env, e);
	return rc;
}

bool batch_conversion_running(long pid, const char *source)
{
	if (pid <= 0)
		return false;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	_cleanup_free_ char *cmd = NULL;
	size_t len;
	if (read_file(path, 1 << 16, &cmd, &len) < 0)
		return false;
	bool convert = false, src = false;
	for (size_t i = 0; i < len; i += strlen(cmd + i) + 1) {
		convert |= !strcmp(cmd + i, "convert-openvz");
		src |= !strcmp(cmd + i, source);
	}
	return convert && src;
}
