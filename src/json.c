/* json.c - a small streaming JSON Lines writer. A writer's FILE is only
 * ever used by the thread writing through it, so the unlocked stdio calls
 * are used: the locking ones were a third of tlstop's CPU at 130,000
 * records a second. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "json.h"

static const char hex_digits[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence starting at p (2 to 4), or 0 when the
 * bytes are not one: overlongs, surrogates, code points past U+10FFFF and
 * sequences cut short by the end of the buffer all give 0 (RFC 3629
 * section 4, Unicode table 3-7). Only called for p[0] >= 0x80. */
size_t utf8_seq_len(const uint8_t *p, size_t avail)
{
	uint8_t c = p[0];
	uint8_t lo = 0x80, hi = 0xbf;
	size_t len;

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (avail < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static inline uint64_t has_zero_byte(uint64_t v)
{
	return (v - ONES) & ~v & HIGHS;
}

/* Length of the leading run of printable ASCII other than '"' and '\\':
 * bytes that pass through JSON unchanged. Eight at a time, because
 * payloads are mostly such text and this is the hot loop of --json. */
static size_t plain_run(const uint8_t *s, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t x;

		memcpy(&x, s + i, sizeof(x));
		if ((x & HIGHS) || has_zero_byte(x & 0xe0e0e0e0e0e0e0e0ULL) ||
		    has_zero_byte(x ^ (0x7f * ONES)) || has_zero_byte(x ^ ('"' * ONES)) ||
		    has_zero_byte(x ^ ('\\' * ONES)))
			break;
	}
	while (i < n && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
		i++;
	return i;
}

/* Position the writer for a new value: a comma between siblings, nothing
 * after a key. Depths past JSON_MAX_DEPTH share the last slot so misuse
 * gives wrong commas, never an out-of-bounds write. */
static void json_sep(struct json_writer *w)
{
	int d = w->depth < JSON_MAX_DEPTH ? w->depth : JSON_MAX_DEPTH - 1;

	if (w->after_key) {
		w->after_key = false;
		return;
	}
	/* top-level values are separated by the newline of object_end */
	if (w->depth == 0)
		return;
	if (w->need_comma[d])
		putc_unlocked(',', w->f);
	w->need_comma[d] = true;
}

static void json_open(struct json_writer *w, char c)
{
	json_sep(w);
	putc_unlocked(c, w->f);
	w->depth++;
	if (w->depth < JSON_MAX_DEPTH)
		w->need_comma[w->depth] = false;
	else
		w->need_comma[JSON_MAX_DEPTH - 1] = false;
}

static void json_close(struct json_writer *w, char c)
{
	putc_unlocked(c, w->f);
	w->after_key = false;
	if (w->depth > 0)
		w->depth--;
}

static void json_escaped(FILE *f, const uint8_t *s, size_t n)
{
	char esc[6] = { '\\', 'u', '0', '0', 0, 0 };
	size_t run = 0, i = 0;

	putc_unlocked('"', f);
	while (i < n) {
		uint8_t c;
		size_t len;

		i += plain_run(s + i, n - i);
		if (i == n)
			break;
		c = s[i];
		if (c >= 0x80 && (len = utf8_seq_len(s + i, n - i))) {
			i += len;
			continue;
		}
		if (i > run)
			fwrite_unlocked(s + run, 1, i - run, f);
		switch (c) {
		case '"':
			fputs_unlocked("\\\"", f);
			break;
		case '\\':
			fputs_unlocked("\\\\", f);
			break;
		case '\n':
			fputs_unlocked("\\n", f);
			break;
		case '\r':
			fputs_unlocked("\\r", f);
			break;
		case '\t':
			fputs_unlocked("\\t", f);
			break;
		default:
			/* other controls, DEL and bytes outside valid UTF-8 */
			esc[4] = hex_digits[c >> 4];
			esc[5] = hex_digits[c & 0xf];
			fwrite_unlocked(esc, 1, sizeof(esc), f);
			break;
		}
		run = ++i;
	}
	if (n > run)
		fwrite_unlocked(s + run, 1, n - run, f);
	putc_unlocked('"', f);
}

void json_init(struct json_writer *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
}

void json_object_begin(struct json_writer *w)
{
	json_open(w, '{');
}

void json_object_end(struct json_writer *w)
{
	json_close(w, '}');
	if (w->depth == 0)
		putc_unlocked('\n', w->f);
}

void json_array_begin(struct json_writer *w)
{
	json_open(w, '[');
}

void json_array_end(struct json_writer *w)
{
	json_close(w, ']');
}

void json_key(struct json_writer *w, const char *key)
{
	json_sep(w);
	json_escaped(w->f, (const uint8_t *)key, strlen(key));
	putc_unlocked(':', w->f);
	w->after_key = true;
}

void json_string(struct json_writer *w, const char *s)
{
	if (!s) {
		json_null(w);
		return;
	}
	json_string_n(w, s, strlen(s));
}

void json_string_n(struct json_writer *w, const char *s, size_t n)
{
	json_sep(w);
	json_escaped(w->f, (const uint8_t *)s, n);
}

static void put_u64(FILE *f, uint64_t v)
{
	char buf[20];
	int i = sizeof(buf);

	do
		buf[--i] = (char)('0' + v % 10);
	while ((v /= 10));
	fwrite_unlocked(buf + i, 1, sizeof(buf) - i, f);
}

void json_u64(struct json_writer *w, uint64_t v)
{
	json_sep(w);
	put_u64(w->f, v);
}

void json_i64(struct json_writer *w, int64_t v)
{
	json_sep(w);
	if (v < 0)
		putc_unlocked('-', w->f);
	put_u64(w->f, v < 0 ? -(uint64_t)v : (uint64_t)v);
}

void json_double(struct json_writer *w, double v, int decimals)
{
	char buf[384];
	int n;

	json_sep(w);
	if (!isfinite(v)) {
		fputs_unlocked("null", w->f);
		return;
	}
	/* printf reads a negative precision as none at all, i.e. six digits */
	if (decimals < 0)
		decimals = 0;
	else if (decimals > 17)
		decimals = 17;
	n = snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		fputs_unlocked("null", w->f);
		return;
	}
	/* main() calls setlocale(LC_ALL, ""), so %f may write the locale's
	 * decimal separator ("," or even a multibyte one): JSON wants '.'. */
	for (int i = 0; i < n; i++) {
		if ((buf[i] >= '0' && buf[i] <= '9') || buf[i] == '-') {
			putc_unlocked(buf[i], w->f);
			continue;
		}
		putc_unlocked('.', w->f);
		while (i + 1 < n && !(buf[i + 1] >= '0' && buf[i + 1] <= '9'))
			i++;
	}
}

void json_bool(struct json_writer *w, bool v)
{
	json_sep(w);
	fputs_unlocked(v ? "true" : "false", w->f);
}

void json_null(struct json_writer *w)
{
	json_sep(w);
	fputs_unlocked("null", w->f);
}

void json_base64(struct json_writer *w, const void *buf, size_t n)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t *p = buf;
	char out[4096];
	size_t o = 0;

	json_sep(w);
	putc_unlocked('"', w->f);
	for (; n >= 3; p += 3, n -= 3) {
		uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 0x3f];
		out[o++] = alphabet[(v >> 6) & 0x3f];
		out[o++] = alphabet[v & 0x3f];
		if (o == sizeof(out)) {
			fwrite_unlocked(out, 1, o, w->f);
			o = 0;
		}
	}
	if (n) {
		uint32_t v = (uint32_t)p[0] << 16 | (n > 1 ? (uint32_t)p[1] << 8 : 0);

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 0x3f];
		out[o++] = n > 1 ? alphabet[(v >> 6) & 0x3f] : '=';
		out[o++] = '=';
	}
	fwrite_unlocked(out, 1, o, w->f);
	putc_unlocked('"', w->f);
}

bool json_is_text(const void *buf, size_t n)
{
	const uint8_t *p = buf;
	size_t i = 0;

	while (i < n) {
		uint8_t c;
		size_t len;

		i += plain_run(p + i, n - i);
		if (i == n)
			break;
		c = p[i];
		if (c >= 0x20 && c < 0x7f) {
			i++;
		} else if (c == '\t' || c == '\r' || c == '\n') {
			i++;
		} else if (c >= 0x80 && (len = utf8_seq_len(p + i, n - i))) {
			/* C1 controls U+0080..U+009F are valid UTF-8 but not printable */
			if (c == 0xc2 && p[i + 1] < 0xa0)
				return false;
			i += len;
		} else {
			return false;
		}
	}
	return true;
}
