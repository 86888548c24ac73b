#include "progress.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static int line_on_screen;

/* A log line must not land in the middle of the progress line. */
static void clear_line(void)
{
	if (line_on_screen) {
		fputs("\r\033[K", stderr);
		line_on_screen = 0;
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int progress_mode_parse(const char *s, enum progress_mode *mode)
{
	if (!strcmp(s, "auto"))
		*mode = PROGRESS_AUTO;
	else if (!strcmp(s, "json"))
		*mode = PROGRESS_JSON;
	else if (!strcmp(s, "none"))
		*mode = PROGRESS_NONE;
	else
		return -EINVAL;
	return 0;
}

void progress_init(struct progress *p, enum progress_mode mode, const char *label, uint64_t total)
{
	if (mode == PROGRESS_AUTO && !isatty(STDERR_FILENO))
		mode = PROGRESS_NONE;
	*p = (struct progress){ .mode = mode, .label = label, .total = total };
	if (mode == PROGRESS_AUTO)
		log_set_before_hook(clear_line);
	p->start = p->last = now();
}

double progress_elapsed(const struct progress *p) { return now() - p->start; }

static void print(struct progress *p, int final)
{
	double t = now() - p->start;
	double rate = t > 0 ? (double)p->done / t : 0;
	if (p->mode == PROGRESS_JSON) {
		fprintf(stderr, "{\"progress\":\"%s\",\"done\":%llu,\"total\":%llu,\"sent\":%llu,"
			"\"seconds\":%.1f,\"final\":%s}\n", p->label, (unsigned long long)p->done,
			(unsigned long long)p->total, (unsigned long long)p->sent, t,
			final ? "true" : "false");
		return;
	}
	char done[32], sent[32], rt[32], eta[32] = "";
	format_bytes(p->done, done, sizeof(done));
	format_bytes(p->sent, sent, sizeof(sent));
	format_bytes((uint64_t)rate, rt, sizeof(rt));
	if (p->total > p->done && rate > 0 && !final) {
		unsigned s = (unsigned)((double)(p->total - p->done) / rate);
		snprintf(eta, sizeof(eta), ", ETA %u:%02u:%02u", s / 3600, s / 60 % 60, s % 60);
	}
	char pct[16] = "";
	if (p->total)
		snprintf(pct, sizeof(pct), " (%u%%)",
			 (unsigned)(p->done >= p->total ? 100 : p->done * 100 / p->total));
	fprintf(stderr, "\r\033[K%s: %s read%s, %s sent, %s/s%s%s", p->label, done, pct, sent, rt,
		eta, final ? "\n" : "");
	line_on_screen = !final;
}

void progress_update(struct progress *p, uint64_t done, uint64_t sent)
{
	p->done = done;
	p->sent = sent;
	if (p->mode == PROGRESS_NONE)
		return;
	double t = now();
	if (t - p->last < 0.5)
		return;
	p->last = t;
	print(p, 0);
}

void progress_finish(struct progress *p)
{
	if (p->mode != PROGRESS_NONE)
		print(p, 1);
}
