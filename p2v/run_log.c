#include "run_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* The tee: copy the pipe to the console (its stderr) and the file. A
 * console that went away must not lose the file its copy. */
static void tee_loop(int in, int file)
{
	char buf[8192];
	bool console = true;
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		if (console && write_full(STDERR_FILENO, buf, (size_t)n) < 0)
			console = false;
		write_full(file, buf, (size_t)n);
	}
}

int run_log_start(struct run_log *l, const char *path)
{
	int p[2];
	l->saved_stderr = -1;
	l->tee = -1;
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		int e = errno;
		log_error("log file %s: %s", path, strerror(e));
		return -e;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		int e = errno;
		log_error("pipe for the log: %s", strerror(e));
		return -e;
	}
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		log_error("fork for the log: %s", strerror(e));
		return -e;
	}
	if (pid == 0) {
		close(p[1]);
		tee_loop(p[0], fd);
		_exit(0);
	}
	close(p[0]);
	l->tee = pid;
	l->saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (l->saved_stderr < 0 || dup2(p[1], STDERR_FILENO) < 0) {
		int e = errno;
		close(p[1]);
		run_log_stop(l);
		log_error("redirecting stderr to the log: %s", strerror(e));
		return -e;
	}
	close(p[1]);
	return 0;
}

void run_log_stop(struct run_log *l)
{
	fflush(stderr);
	if (l->saved_stderr >= 0) {
		/* Closes the pipe's last write end we hold: the tee sees EOF. */
		dup2(l->saved_stderr, STDERR_FILENO);
		close(l->saved_stderr);
		l->saved_stderr = -1;
	}
	if (l->tee > 0) {
		while (waitpid(l->tee, NULL, 0) < 0 && errno == EINTR)
			;
		l->tee = -1;
	}
}

void run_log_sync(void)
{
	struct timespec ms = { 0, 1000000L };
	struct stat st;
	int queued = 0;
	fflush(stderr);
	/* Only the tee's pipe: on a terminal there is nothing to wait for. */
	if (fstat(STDERR_FILENO, &st) < 0 || !S_ISFIFO(st.st_mode))
		return;
	/* FIONREAD on a pipe's write end counts what its reader has not read. */
	for (int i = 0; i < 500 && ioctl(STDERR_FILENO, FIONREAD, &queued) == 0 && queued > 0; i++)
		nanosleep(&ms, NULL);
	/* Read is not yet written: give the tee its turn. */
	ms.tv_nsec = 20000000L;
	nanosleep(&ms, NULL);
}
