/* A growing malloc'd array of malloc'd strings (notes for a report, the
 * log of fixups made): one append, so every list fails the same way. */
#ifndef CTI_STR_LIST_H
#define CTI_STR_LIST_H

#include <stdarg.h>
#include <stddef.h>

/* Append the formatted string to the n strings at *v: 0, or -ENOMEM with
 * *v and *n unchanged. */
int str_list_vappendf(char ***v, size_t *n, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Free the n strings and the array. */
void str_list_free(char **v, size_t n);

#endif
