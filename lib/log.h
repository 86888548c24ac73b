/* Logging: one line per event on stderr, prefixed with the program name.
 * Errors are logged once, where the reason is known (see doc/architecture.md). */
#ifndef LOG_H
#define LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_init(const char *program);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Called before each line is printed (progress.c clears its line). */
void log_set_before_hook(void (*hook)(void));
/* Called with every error and warning (even when not printed), e.g. to
 * collect them for a report. */
void log_set_message_hook(void (*hook)(enum log_level level, const char *msg));
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
