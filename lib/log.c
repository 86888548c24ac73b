#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static const char *log_program = "p2v";
static enum log_level log_level = LOG_INFO;
static void (*log_before)(void);
static void (*log_seen)(enum log_level, const char *);

void log_set_before_hook(void (*hook)(void)) { log_before = hook; }
void log_set_message_hook(void (*hook)(enum log_level, const char *)) { log_seen = hook; }

void log_init(const char *program) { log_program = program; }
void log_set_level(enum log_level level) { log_level = level; }
enum log_level log_get_level(void) { return log_level; }

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };
	if (level > log_level && !(log_seen && level <= LOG_WARN))
		return;
	char line[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_seen && level <= LOG_WARN)
		log_seen(level, line);
	if (level > log_level)
		return;
	if (log_before)
		log_before();
	/* One fprintf call so lines from concurrent processes do not interleave. */
	fprintf(stderr, "%s: %s%s\n", log_program, prefix[level], line);
}
