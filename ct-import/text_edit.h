/* Line-by-line rewriting of a configuration file's text, shared by the
 * container fixups (fixups_text.c) and the OpenVZ ones (ovz_fixups_text.c):
 * a new text built with open_memstream that counts only when something
 * changed, a line iterator and a word splitter. */
#ifndef CTI_TEXT_EDIT_H
#define CTI_TEXT_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct text_out {
	FILE *f;       /* write the new text here */
	char *buf;
	size_t len;
	bool changed;  /* set by whoever writes something different */
};

/* false when out of memory. */
bool text_out_open(struct text_out *t);
/* The new text (malloc'd), or NULL when unchanged or on an error. */
char *text_out_finish(struct text_out *t);
/* Disable line[0..len): keep it behind prefix (a comment marker saying who
 * disabled it), so an administrator sees what was there; marks t changed. */
void text_out_comment(struct text_out *t, const char *prefix, const char *line, size_t len);

/* The n-th (from 0) blank-separated word of line[0..len) into buf,
 * truncated to size; "" when there is none. Returns buf. */
const char *text_word(const char *line, size_t len, int n, char *buf, size_t size);

/* Each line of text, as line and its length len without the '\n'. */
#define TEXT_EACH_LINE(text, line, len)                                           \
	for (const char *line = (text), *_nl; *line; line = *_nl ? _nl + 1 : _nl) \
		for (size_t len = (size_t)((_nl = strchrnul(line, '\n')) - line), \
			    _once = 1; _once; _once = 0)

#endif
