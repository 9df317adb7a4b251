/* strbuf.h - a growable, always NUL-terminated byte string for renderers
 * that build text of unknown length (protobuf, message lines). */
#ifndef TLSTOP_STRBUF_H
#define TLSTOP_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *s; /* NUL-terminated once anything was added; NULL before */
	size_t len;
	size_t cap;
	bool oom; /* an allocation failed: the text is cut short */
};

void sb_add(struct strbuf *b, const void *p, size_t n);
void sb_adds(struct strbuf *b, const char *s);
void sb_addc(struct strbuf *b, char c);
void sb_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Shortens to len bytes (len <= b->len). */
void sb_truncate(struct strbuf *b, size_t len);
/* The text ("" when empty); valid until the next change. */
const char *sb_str(const struct strbuf *b);
/* Hands the text over to the caller (NULL when empty) and empties b. */
char *sb_steal(struct strbuf *b);
void sb_free(struct strbuf *b);

#endif
