/* Throughput of p2v's SSH transport (p2v/ssh.c) on one exec channel:
 * streams MIB MiB of incompressible bytes to a remote command (default
 * 'cat >/dev/null') and prints MB/s. With CIPHER set, a plain libssh session
 * using that cipher (or libssh's default list for CIPHER=default) is
 * measured instead, for comparison with ssh.c's choice.
 *
 *   cc -std=gnu11 -O2 -D_GNU_SOURCE -Ilib -Ip2v -o build/bench-ssh-write \
 *      bench/ssh_write.c p2v/ssh.c p2v/ssh_auth.c p2v/ssh_hostkey.c lib/log.c lib/util.c -lssh
 *   bench-ssh-write HOST PORT IDENTITY PIN [MIB [CMD]]
 *
 * bench/ssh.sh runs it against a throwaway loopback sshd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libssh/libssh.h>

#include "log.h"
#include "ssh.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill(unsigned char *buf, size_t n)
{
	/* xorshift: incompressible, and cheap next to the cipher. */
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i + 8 <= n; i += 8) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		memcpy(buf + i, &x, 8);
	}
}

/* A bare libssh session with the given cipher list (NULL: libssh's). */
static int raw(const char *host, int port, const char *id, const char *cipher,
	       unsigned char *buf, size_t chunk, long mib, const char *cmd)
{
	ssh_session s = ssh_new();
	bool no = false;
	ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
	ssh_options_set(s, SSH_OPTIONS_HOST, host);
	ssh_options_set(s, SSH_OPTIONS_PORT, &port);
	ssh_options_set(s, SSH_OPTIONS_USER, "root");
	if (cipher) {
		ssh_options_set(s, SSH_OPTIONS_CIPHERS_C_S, cipher);
		ssh_options_set(s, SSH_OPTIONS_CIPHERS_S_C, cipher);
	}
	ssh_key key = NULL;
	if (ssh_connect(s) != SSH_OK || ssh_pki_import_privkey_file(id, NULL, NULL, NULL, &key) ||
	    ssh_userauth_publickey(s, NULL, key) != SSH_AUTH_SUCCESS) {
		fprintf(stderr, "raw: %s\n", ssh_get_error(s));
		return 1;
	}
	ssh_key_free(key);
	ssh_channel ch = ssh_channel_new(s);
	ssh_channel_open_session(ch);
	ssh_channel_request_exec(ch, cmd);
	double t0 = now();
	for (long i = 0; i < mib * 1024 * 1024 / (long)chunk; i++)
		if (ssh_channel_write(ch, buf, (uint32_t)chunk) != (int)chunk) {
			fprintf(stderr, "raw write: %s\n", ssh_get_error(s));
			return 1;
		}
	ssh_channel_send_eof(ch);
	char tmp[256];
	while (ssh_channel_read(ch, tmp, sizeof(tmp), 0) > 0)
		;
	double t = now() - t0;
	printf("libssh cipher %-30s %8.1f MB/s\n", cipher ? cipher : "(libssh default)",
	       (double)mib * 1048576 / t / 1e6);
	ssh_channel_close(ch);
	ssh_channel_free(ch);
	ssh_disconnect(s);
	ssh_free(s);
	return 0;
}

int main(int argc, char **argv)
{
	log_init("bench-ssh-write");
	if (argc < 5) {
		fprintf(stderr, "usage: %s HOST PORT IDENTITY PIN [MIB [CMD]]\n", argv[0]);
		return 2;
	}
	long mib = argc > 5 ? atol(argv[5]) : 1024;
	const char *cmd = argc > 6 ? argv[6] : "cat >/dev/null";
	const size_t chunk = 1u << 20;  /* the stream's frame size */
	unsigned char *buf = malloc(chunk);
	fill(buf, chunk);
	const char *cipher = getenv("CIPHER");
	if (cipher) {
		int r = raw(argv[1], atoi(argv[2]), argv[3],
			    strcmp(cipher, "default") ? cipher : NULL, buf, chunk, mib, cmd);
		free(buf);
		return r;
	}
	char spec[512];
	snprintf(spec, sizeof(spec), "root@%s:%s", argv[1], argv[2]);
	struct ssh_target tg;
	struct ssh_auth_opts o = { .identity = argv[3], .hostkey_pin = argv[4] };
	struct ssh_conn *c = NULL;
	int rc = ssh_target_parse(spec, &tg);
	if (rc == 0)
		rc = ssh_conn_open(&tg, &o, &c);
	if (rc == 0)
		rc = ssh_conn_exec(c, cmd);
	double t0 = now();
	for (long i = 0; rc == 0 && i < mib; i++)
		rc = ssh_conn_write(c, buf, chunk);
	char reply[256];
	int status = c ? ssh_conn_finish(c, reply, sizeof(reply)) : -1;
	double t = now() - t0;
	if (rc == 0 && status == 0)
		printf("p2v ssh.c %-36s %8.1f MB/s (%ld MiB)\n", "", (double)mib * 1048576 / t / 1e6, mib);
	else
		fprintf(stderr, "failed: rc %d, remote status %d\n", rc, status);
	ssh_conn_close(c);
	ssh_target_free(&tg);
	free(buf);
	return rc == 0 && status == 0 ? 0 : 1;
}
