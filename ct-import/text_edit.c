/* text_edit (text_edit.h). */
#include "text_edit.h"

#include <ctype.h>
#include <stdlib.h>

bool text_out_open(struct text_out *t)
{
	*t = (struct text_out){ 0 };
	t->f = open_memstream(&t->buf, &t->len);
	return t->f != NULL;
}

char *text_out_finish(struct text_out *t)
{
	bool err = ferror(t->f);
	fclose(t->f);
	if (err || !t->changed) {
		free(t->buf);
		return NULL;
	}
	return t->buf;
}

void text_out_comment(struct text_out *t, const char *prefix, const char *line, size_t len)
{
	fprintf(t->f, "%s%.*s\n", prefix, (int)len, line);
	t->changed = true;
}

const char *text_word(const char *line, size_t len, int n, char *buf, size_t size)
{
	size_t i = 0;
	for (int k = 0;; k++) {
		while (i < len && isspace((unsigned char)line[i]))
			i++;
		size_t start = i;
		while (i < len && !isspace((unsigned char)line[i]))
			i++;
		if (k == n || start == i) {
			size_t w = i - start < size - 1 ? i - start : size - 1;
			memcpy(buf, line + start, w);
			buf[w] = '\0';
			return buf;
		}
	}
}
