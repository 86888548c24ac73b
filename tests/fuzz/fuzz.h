/* Helpers shared by the libFuzzer harnesses (one LLVMFuzzerTestOneInput
 * per fuzz_*.c, built by `make fuzz`). */
#ifndef FUZZ_H
#define FUZZ_H

#include <sanitizer/common_interface_defs.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A broken invariant: say which through the sanitizer's report channel
 * (stderr may be closed by -close_fd_mask), then crash so libFuzzer keeps
 * the input. */
__attribute__((noreturn, format(printf, 1, 2)))
static inline void fuzz_die(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	__sanitizer_report_error_summary(msg);
	abort();
}

/* The input as a NUL-terminated string (it may hold NULs of its own). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
