/* test_json.c - unit tests for the streaming JSON writer. */
#include <locale.h>
#include <math.h>
#include <stdint.h>

#include "json.h"
#include "unit.h"

struct mem {
	char *buf;
	size_t len;
	FILE *f;
	struct json_writer w;
};

static struct json_writer *mem_begin(struct mem *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	if (!m->f) {
		perror("open_memstream");
		exit(99);
	}
	json_init(&m->w, m->f);
	return &m->w;
}

/* Closes the stream; the caller frees the returned string. */
static char *mem_end(struct mem *m)
{
	fclose(m->f);
	return m->buf;
}

/* The output of json_string_n alone, as a malloc'd string. */
static char *render_string(const void *s, size_t n)
{
	struct mem m;

	json_string_n(mem_begin(&m), s, n);
	return mem_end(&m);
}

#define CHECK_RENDER(in, expected)                                                   \
	do {                                                                         \
		char *out_ = render_string(in, sizeof(in) - 1);                      \
		CHECK_STR(out_, expected);                                           \
		free(out_);                                                          \
	} while (0)

/* An independent reading of UTF-8 (decode, then check ranges) for the
 * differential test: returns the sequence length or 0 when invalid. */
static size_t ref_utf8_len(const uint8_t *p, size_t avail)
{
	size_t len;
	uint32_t cp, min;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (avail < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static char *ref_escape(const uint8_t *s, size_t n)
{
	char *out = malloc(n * 6 + 3), *o = out;
	size_t i = 0;

	*o++ = '"';
	while (i < n) {
		size_t len = ref_utf8_len(s + i, n - i);
		uint8_t c = s[i];

		if (len > 1) {
			memcpy(o, s + i, len);
			o += len;
			i += len;
			continue;
		}
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c == '\n') {
			o += sprintf(o, "\\n");
		} else if (c == '\r') {
			o += sprintf(o, "\\r");
		} else if (c == '\t') {
			o += sprintf(o, "\\t");
		} else if (c < 0x20 || c >= 0x7f) {
			o += sprintf(o, "\\u%04x", c);
		} else {
			*o++ = (char)c;
		}
		i++;
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

static bool ref_is_text(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t len = ref_utf8_len(s + i, n - i);

		if (len == 0)
			return false;
		if (len == 1 && (s[i] < 0x20 || s[i] == 0x7f) && s[i] != '\t' && s[i] != '\r' &&
		    s[i] != '\n')
			return false;
		if (len == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0)
			return false;
		i += len;
	}
	return true;
}

static char *ref_base64(const uint8_t *s, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(n / 3 * 4 + 7), *o = out;

	*o++ = '"';
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		*o++ = a[v >> 18 & 63];
		*o++ = a[v >> 12 & 63];
		*o++ = i + 1 < n ? a[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? a[v & 63] : '=';
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static void test_nesting(void)
{
	struct json_writer *w;
	struct mem m;
	char *s;

	w = mem_begin(&m);
	json_object_begin(w);
	json_key(w, "a");
	json_u64(w, 1);
	json_key(w, "b");
	json_array_begin(w);
	json_u64(w, 1);
	json_i64(w, -2);
	json_object_begin(w);
	json_key(w, "c");
	json_null(w);
	json_object_end(w);
	json_array_begin(w);
	json_array_end(w);
	json_array_end(w);
	json_key(w, "d");
	json_object_begin(w);
	json_key(w, "e");
	json_bool(w, true);
	json_key(w, "f");
	json_bool(w, false);
	json_object_end(w);
	json_key(w, "g");
	json_object_begin(w);
	json_object_end(w);
	json_key(w, "h");
	json_string(w, "x");
	json_object_end(w);
	/* a second line reuses the writer */
	json_object_begin(w);
	json_key(w, "n");
	json_string(w, NULL);
	json_object_end(w);
	json_object_begin(w);
	json_object_end(w);
	s = mem_end(&m);
	CHECK_STR(s, "{\"a\":1,\"b\":[1,-2,{\"c\":null},[]],\"d\":{\"e\":true,\"f\":false},"
		     "\"g\":{},\"h\":\"x\"}\n{\"n\":null}\n{}\n");
	free(s);
}

static void test_numbers(void)
{
	struct json_writer *w;
	struct mem m;
	char *s;

	w = mem_begin(&m);
	json_array_begin(w);
	json_u64(w, 0);
	json_u64(w, UINT64_MAX);
	json_i64(w, INT64_MIN);
	json_i64(w, INT64_MAX);
	json_double(w, 1.5, 1);
	json_double(w, 3.14159, 2);
	json_double(w, 2.5, 0);
	json_double(w, -0.25, 2);
	json_double(w, 12.0, 3);
	json_double(w, NAN, 1);
	json_double(w, INFINITY, 1);
	json_double(w, -INFINITY, 1);
	json_double(w, 1.0, -1);
	json_array_end(w);
	s = mem_end(&m);
	CHECK_STR(s, "[0,18446744073709551615,-9223372036854775808,9223372036854775807,"
		     "1.5,3.14,2,-0.25,12.000,null,null,null,1]");
	free(s);
}

/* main() runs with the user's locale; JSON numbers must keep '.'. */
static void test_locale(void)
{
	struct json_writer *w;
	struct mem m;
	char *s;

	if (!setlocale(LC_NUMERIC, "de_DE.UTF-8")) {
		printf("test_json: de_DE.UTF-8 locale not installed, locale check skipped\n");
		return;
	}
	w = mem_begin(&m);
	json_array_begin(w);
	json_double(w, 1234.5, 2);
	json_double(w, -0.125, 3);
	json_array_end(w);
	s = mem_end(&m);
	CHECK_STR(s, "[1234.50,-0.125]");
	free(s);
	setlocale(LC_NUMERIC, "C");
}

static void test_escapes(void)
{
	struct json_writer *w;
	struct mem m;
	char *s;

	CHECK_RENDER("", "\"\"");
	CHECK_RENDER("plain text", "\"plain text\"");
	CHECK_RENDER("a\"b\\c", "\"a\\\"b\\\\c\"");
	CHECK_RENDER("\n\r\t", "\"\\n\\r\\t\"");
	CHECK_RENDER("\x01\x1f\x7f\b\f", "\"\\u0001\\u001f\\u007f\\u0008\\u000c\"");
	CHECK_RENDER("a\0b", "\"a\\u0000b\"");
	CHECK_RENDER("/", "\"/\"");

	/* json_string stops at NUL, json_string_n does not */
	w = mem_begin(&m);
	json_array_begin(w);
	json_string(w, "a\0b");
	json_string_n(w, "a\0b", 3);
	json_array_end(w);
	s = mem_end(&m);
	CHECK_STR(s, "[\"a\",\"a\\u0000b\"]");
	free(s);

	/* keys are escaped too */
	w = mem_begin(&m);
	json_object_begin(w);
	json_key(w, "k\"\n");
	json_u64(w, 1);
	json_object_end(w);
	s = mem_end(&m);
	CHECK_STR(s, "{\"k\\\"\\n\":1}\n");
	free(s);
}

static void test_utf8(void)
{
	/* valid sequences pass through, at the edges of each range */
	CHECK_RENDER("\xc3\xa9", "\"\xc3\xa9\"");                       /* U+00E9 */
	CHECK_RENDER("\xc2\x80", "\"\xc2\x80\"");                       /* U+0080 */
	CHECK_RENDER("\xdf\xbf", "\"\xdf\xbf\"");                       /* U+07FF */
	CHECK_RENDER("\xe0\xa0\x80", "\"\xe0\xa0\x80\"");               /* U+0800 */
	CHECK_RENDER("\xe2\x82\xac", "\"\xe2\x82\xac\"");               /* U+20AC */
	CHECK_RENDER("\xed\x9f\xbf", "\"\xed\x9f\xbf\"");               /* U+D7FF */
	CHECK_RENDER("\xee\x80\x80", "\"\xee\x80\x80\"");               /* U+E000 */
	CHECK_RENDER("\xef\xbf\xbf", "\"\xef\xbf\xbf\"");               /* U+FFFF */
	CHECK_RENDER("\xf0\x90\x80\x80", "\"\xf0\x90\x80\x80\"");       /* U+10000 */
	CHECK_RENDER("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");       /* U+1F600 */
	CHECK_RENDER("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");       /* U+10FFFF */
	CHECK_RENDER("a\xf0\x9f\x98\x80z\"", "\"a\xf0\x9f\x98\x80z\\\"\"");

	/* invalid bytes become \u00XX of the byte */
	CHECK_RENDER("\x80", "\"\\u0080\"");
	CHECK_RENDER("\xbf", "\"\\u00bf\"");
	CHECK_RENDER("\xff\xfe", "\"\\u00ff\\u00fe\"");
	CHECK_RENDER("\xc0\xaf", "\"\\u00c0\\u00af\"");                 /* overlong '/' */
	CHECK_RENDER("\xc1\xbf", "\"\\u00c1\\u00bf\"");                 /* overlong */
	CHECK_RENDER("\xe0\x80\xaf", "\"\\u00e0\\u0080\\u00af\"");      /* overlong */
	CHECK_RENDER("\xe0\x9f\xbf", "\"\\u00e0\\u009f\\u00bf\"");      /* overlong */
	CHECK_RENDER("\xf0\x8f\xbf\xbf", "\"\\u00f0\\u008f\\u00bf\\u00bf\""); /* overlong */
	CHECK_RENDER("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"");      /* U+D800 */
	CHECK_RENDER("\xed\xbf\xbf", "\"\\u00ed\\u00bf\\u00bf\"");      /* U+DFFF */
	CHECK_RENDER("\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\""); /* > U+10FFFF */
	CHECK_RENDER("\xf5\x80\x80\x80", "\"\\u00f5\\u0080\\u0080\\u0080\"");
	CHECK_RENDER("\xf8\x88\x80\x80\x80", "\"\\u00f8\\u0088\\u0080\\u0080\\u0080\"");
	/* truncated sequences: at the end and before another character */
	CHECK_RENDER("\xe2\x82", "\"\\u00e2\\u0082\"");
	CHECK_RENDER("\xf0\x9f\x98", "\"\\u00f0\\u009f\\u0098\"");
	CHECK_RENDER("\xf0\x9f\x98z", "\"\\u00f0\\u009f\\u0098z\"");
	CHECK_RENDER("\xc3", "\"\\u00c3\"");
	CHECK_RENDER("\xc3\xc3\xa9", "\"\\u00c3\xc3\xa9\"");
	CHECK_RENDER("\xe2\x82\xe2\x82\xac", "\"\\u00e2\\u0082\xe2\x82\xac\"");
}

static void test_base64(void)
{
	static const char *const expect[] = {
		"\"\"", "\"Zg==\"", "\"Zm8=\"", "\"Zm9v\"", "\"Zm9vYg==\"", "\"Zm9vYmE=\"",
	};
	struct json_writer *w;
	struct mem m;
	uint8_t *big;
	char *s, *ref;

	for (size_t n = 0; n <= 5; n++) {
		w = mem_begin(&m);
		json_base64(w, "foobar", n);
		s = mem_end(&m);
		CHECK_STR(s, expect[n]);
		free(s);
	}

	w = mem_begin(&m);
	json_base64(w, "\xff\xfe\xfd\x00\x01", 5);
	s = mem_end(&m);
	CHECK_STR(s, "\"//79AAE=\"");
	free(s);

	/* sizes around the writer's 4 KiB output chunk and a full record */
	big = malloc(65536);
	for (size_t i = 0; i < 65536; i++)
		big[i] = (uint8_t)rng();
	for (size_t n = 3070; n <= 6150; n = n == 3075 ? 6140 : n + 1) {
		w = mem_begin(&m);
		json_base64(w, big, n);
		s = mem_end(&m);
		ref = ref_base64(big, n);
		CHECK_STR(s, ref);
		free(ref);
		free(s);
	}
	w = mem_begin(&m);
	json_base64(w, big, 65536);
	s = mem_end(&m);
	ref = ref_base64(big, 65536);
	CHECK_STR(s, ref);
	free(ref);
	free(s);
	free(big);
}

#define CHECK_TEXT(lit, expected) CHECK(json_is_text(lit, sizeof(lit) - 1) == (expected))

static void test_is_text(void)
{
	CHECK(json_is_text("", 0));
	CHECK(json_is_text(NULL, 0));
	CHECK_TEXT("GET / HTTP/1.1\r\nHost: example.org\r\n\r\n", true);
	CHECK_TEXT("col1\tcol2\n", true);
	CHECK_TEXT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", true);
	CHECK_TEXT("\xc2\xa0", true);                          /* NBSP */
	CHECK_TEXT("\xf4\x8f\xbf\xbf", true);
	CHECK_TEXT("a\0b", false);
	CHECK_TEXT("\x1b[31mred", false);
	CHECK_TEXT("\x7f", false);
	CHECK_TEXT("\x0b", false);
	CHECK_TEXT("\xc2\x85", false);                         /* NEL, a C1 control */
	CHECK_TEXT("\xc2\x9f", false);
	CHECK_TEXT("\x80", false);
	CHECK_TEXT("abc\xe2\x82", false);                      /* cut mid-character */
	CHECK_TEXT("\xc0\xaf", false);
	CHECK_TEXT("\xed\xa0\x80", false);
	CHECK_TEXT("\xf4\x90\x80\x80", false);
	CHECK_TEXT("\xff", false);
	CHECK_TEXT("\x16\x03\x01\x02\x00", false);             /* a TLS record header */
}

/* Random bytes biased towards UTF-8 lead and continuation bytes, checked
 * against the reference escaper and validator. */
static void test_differential(void)
{
	static const uint8_t pool[] = { 'a', ' ', '"', '\\', '\n', '\t', 0, 0x1f, 0x7f,
					0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1,
					0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xee, 0xef, 0xf0,
					0xf1, 0xf4, 0xf5, 0xff };
	uint8_t buf[16];
	int mismatches = 0, text_mismatches = 0;

	for (int iter = 0; iter < 200000; iter++) {
		size_t n = rng() % sizeof(buf);
		char *s, *ref;

		for (size_t i = 0; i < n; i++)
			buf[i] = rng() % 4 ? pool[rng() % sizeof(pool)] : (uint8_t)rng();
		s = render_string(buf, n);
		ref = ref_escape(buf, n);
		if (strcmp(s, ref) && mismatches++ < 5)
			CHECK_STR(s, ref);
		if (json_is_text(buf, n) != ref_is_text(buf, n) && text_mismatches++ < 5)
			CHECK(json_is_text(buf, n) == ref_is_text(buf, n));
		free(ref);
		free(s);
	}
	CHECK(mismatches == 0);
	CHECK(text_mismatches == 0);
}

static void test_large_string(void)
{
	size_t n = 65536;
	uint8_t *buf = malloc(n);
	char *s, *ref;

	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(' ' + i % 95);
	memcpy(buf + 1000, "\xf0\x9f\x98\x80", 4);
	buf[5000] = '\n';
	buf[n - 1] = 0xe2;
	s = render_string(buf, n);
	ref = ref_escape(buf, n);
	CHECK_STR(s, ref);
	free(ref);
	free(s);
	free(buf);
}

static void test_deep_nesting(void)
{
	struct json_writer *w;
	struct mem m;
	char *s;
	int depth = JSON_MAX_DEPTH + 4;

	w = mem_begin(&m);
	for (int i = 0; i < depth; i++)
		json_array_begin(w);
	json_u64(w, 7);
	for (int i = 0; i < depth; i++)
		json_array_end(w);
	/* unbalanced ends must not underflow the depth */
	json_array_end(w);
	json_array_end(w);
	CHECK(w->depth == 0);
	s = mem_end(&m);
	CHECK(strncmp(s, "[[[[[[[[[[[[[[[[[[[[7]]]]]]]]]]]]]]]]]]]]]]", 44) == 0);
	free(s);
}

int main(void)
{
	test_nesting();
	test_numbers();
	test_locale();
	test_escapes();
	test_utf8();
	test_base64();
	test_is_text();
	test_differential();
	test_large_string();
	test_deep_nesting();
	return unit_result("test_json");
}
