/* json.h - a small streaming JSON Lines writer. */
#ifndef TLSTOP_JSON_H
#define TLSTOP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json_writer {
	FILE *f;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool after_key;
};

void json_init(struct json_writer *w, FILE *f);
void json_object_begin(struct json_writer *w);
void json_object_end(struct json_writer *w); /* at depth 0 also writes '\n' */
void json_array_begin(struct json_writer *w);
void json_array_end(struct json_writer *w);
void json_key(struct json_writer *w, const char *key);
void json_string(struct json_writer *w, const char *s);
/* Escapes quotes, backslash and control characters; bytes that are not
 * valid UTF-8 are written as \u00XX of the byte so the output stays valid. */
void json_string_n(struct json_writer *w, const char *s, size_t n);
void json_u64(struct json_writer *w, uint64_t v);
void json_i64(struct json_writer *w, int64_t v);
void json_double(struct json_writer *w, double v, int decimals);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);
void json_base64(struct json_writer *w, const void *buf, size_t n);

/* Length of the well-formed UTF-8 sequence at p (2 to 4 bytes), or 0 when
 * it is not one or is cut short (RFC 3629); for p[0] >= 0x80. */
size_t utf8_seq_len(const uint8_t *p, size_t avail);

/* True when buf is valid UTF-8 text made of printable characters, tabs,
 * CR and LF: shown as a JSON string rather than base64. */
bool json_is_text(const void *buf, size_t n);

#endif
