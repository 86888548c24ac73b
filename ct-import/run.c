#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

extern char **environ;

/* Read everything from fd into a growing buffer. */
static int slurp(int fd, char **out)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len + 1 >= cap) {
			char *n = realloc(buf, cap * 2);
			if (!n) {
				free(buf);
				return -ENOMEM;
			}
			buf = n;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;
			free(buf);
			return e;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

int run_argv(char *const argv[], char **captured_stdout)
{
	int pipefd[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (captured_stdout) {
		*captured_stdout = NULL;
		if (pipe2(pipefd, O_CLOEXEC) < 0) {
			int e = -errno;
			log_error("pipe: %s", strerror(errno));
			posix_spawn_file_actions_destroy(&fa);
			return e;
		}
		posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	}
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (rc != 0) {
		log_error("cannot run %s: %s", argv[0], strerror(rc));
		if (pipefd[0] >= 0)
			close(pipefd[0]);
		return -rc;
	}
	int srd = 0;
	if (captured_stdout) {
		srd = slurp(pipefd[0], captured_stdout);
		close(pipefd[0]);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			int e = -errno;
			log_error("waitpid %s: %s", argv[0], strerror(errno));
			return e;
		}
	}
	if (srd < 0) {
		log_error("reading the output of %s: %s", argv[0], strerror(-srd));
		return srd;
	}
	if (WIFSIGNALED(status)) {
		log_error("%s was killed by signal %d", argv[0], WTERMSIG(status));
		if (captured_stdout) {
			free(*captured_stdout);
			*captured_stdout = NULL;
		}
		return -EINTR;
	}
	return WEXITSTATUS(status);
}

bool program_on_path(const char *name)
{
	if (strchr(name, '/'))
		return access(name, X_OK) == 0;
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";
	_cleanup_free_ char *copy = strdup(path);
	if (!copy)
		return false;
	char *save = NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *full = NULL;
		if (asprintf(&full, "%s/%s", *dir ? dir : ".", name) < 0)
			return false;
		if (access(full, X_OK) == 0)
			return true;
	}
	return false;
}

static bool needs_quoting(const char *s)
{
	if (!*s)
		return true;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			    "@%+=:,./_-", *s))
			return true;
	return false;
}

void print_argv_quoted(FILE *f, char *const argv[])
{
	for (size_t i = 0; argv[i]; i++) {
		if (i)
			fputc(' ', f);
		if (!needs_quoting(argv[i])) {
			fputs(argv[i], f);
			continue;
		}
		/* Single quotes keep everything literal; a ' becomes '\''. */
		fputc('\'', f);
		for (const char *p = argv[i]; *p; p++) {
			if (*p == '\'')
				fputs("'\\''", f);
			else
				fputc(*p, f);
		}
		fputc('\'', f);
	}
	fputc('\n', f);
}
