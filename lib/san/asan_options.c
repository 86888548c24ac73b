/* Linked into sanitizer builds only (see the Makefile): default ASan
 * options carried by the binary itself, so they also hold where the
 * environment does not reach, such as a ct-import started by sshd.
 *
 * intercept_strchr=0: libparted's load-time GPT setup (ped_disk_gpt_init,
 * Debian 12's libparted 3.5) calls strchr on a buffer ASan considers
 * unterminated, which aborts every binary that links libparted before
 * main. ASan still checks our own memory accesses everywhere else. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "intercept_strchr=0";
}
