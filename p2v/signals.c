#include "signals.h"

volatile sig_atomic_t p2v_interrupted;

static void on_signal(int sig) { p2v_interrupted = sig; }

void p2v_install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
