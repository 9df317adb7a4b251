/* test_protobuf.c - unit tests for schema-less protobuf validation and rendering. */
#include <stdint.h>

#include "proto/protobuf.h"
#include "unit.h"

#define BUF(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

static void check_render(const uint8_t *p, size_t n, const char *one, const char *multi)
{
	struct strbuf sb = { 0 };
	int r;

	r = protobuf_render(p, n, 0, &sb);
	CHECK_STR(r < 0 ? "(invalid)" : sb_str(&sb), one);
	sb_free(&sb);
	r = protobuf_render(p, n, PB_MULTILINE, &sb);
	CHECK_STR(r < 0 ? "(invalid)" : sb_str(&sb), multi ? multi : one);
	sb_free(&sb);
	CHECK(protobuf_valid(p, n) == (r == 0 && n > 0));
}

static void test_example(void)
{
	/* the order example of doc/json.md; protoc --decode_raw prints the multi-line form */
	check_render(BUF(0x0a, 0x06, 'o', 'r', 'd', '-', '7', '7', 0x10, 0xcf, 0x0f, 0x1a, 0x05,
			 0x0a, 0x03, 'E', 'U', 'R'),
		     "1: \"ord-77\" 2: 1999 3 { 1: \"EUR\" }",
		     "1: \"ord-77\"\n2: 1999\n3 {\n  1: \"EUR\"\n}");
}

static void test_varints(void)
{
	check_render(BUF(0x08, 0x00), "1: 0", NULL);
	check_render(BUF(0x08, 0x96, 0x01), "1: 150", NULL);
	/* int32 -1 is sign-extended to ten bytes; decode_raw shows it unsigned */
	check_render(BUF(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
		     "1: 18446744073709551615", NULL);
	check_render(BUF(0x08, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
		     "1: 18446744073709551614", NULL);
	/* bits past 64 in the tenth byte are dropped, as protobuf does */
	check_render(BUF(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
		     "1: 18446744073709551615", NULL);
	/* eleven bytes */
	check_render(BUF(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
		     "(invalid)", NULL);
	check_render(BUF(0x08, 0x80), "(invalid)", NULL);
	check_render(BUF(0x08), "(invalid)", NULL);
	/* largest field number, 2^29 - 1 */
	check_render(BUF(0xf8, 0xff, 0xff, 0xff, 0x0f, 0x05), "536870911: 5", NULL);
	/* a tag past 32 bits */
	check_render(BUF(0x80, 0x80, 0x80, 0x80, 0x10, 0x05), "(invalid)", NULL);
	/* field number 0 */
	check_render(BUF(0x00, 0x05), "(invalid)", NULL);
	check_render(BUF(0x02, 0x00), "(invalid)", NULL);
}

static void test_fixed(void)
{
	check_render(BUF(0x0d, 0x01, 0x02, 0x03, 0x04, 0x11, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
			 0x07, 0x08),
		     "1: 0x04030201 2: 0x0807060504030201", "1: 0x04030201\n2: 0x0807060504030201");
	check_render(BUF(0x0d, 0x01, 0x02, 0x03), "(invalid)", NULL);
	check_render(BUF(0x09, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07), "(invalid)", NULL);
}

static void test_strings(void)
{
	check_render(BUF(0x12, 0x05, 'i', 't', '\'', 's', '\n'), "2: \"it\\'s\\n\"", NULL);
	check_render(BUF(0x12, 0x05, '"', '\\', '\t', '\r', 0x7f),
		     "2: \"\\\"\\\\\\t\\r\\177\"", NULL);
	/* UTF-8 stays readable; a lone continuation byte, a C1 control and NUL are escaped */
	check_render(BUF(0x1a, 0x03, 0xc3, 0xa9, 0x00), "3: \"\xc3\xa9\\000\"", NULL);
	check_render(BUF(0x1a, 0x04, 'a', 0xa9, 0xc2, 0x9b), "3: \"a\\251\\302\\233\"", NULL);
	/* an overlong encoding and a UTF-16 surrogate are not UTF-8 */
	check_render(BUF(0x1a, 0x02, 0xc0, 0xaf), "3: \"\\300\\257\"", NULL);
	check_render(BUF(0x1a, 0x03, 0xed, 0xa0, 0x80), "3: \"\\355\\240\\200\"", NULL);
	check_render(BUF(0x1a, 0x04, 0xf0, 0x9f, 0x98, 0x80), "3: \"\xf0\x9f\x98\x80\"", NULL);
	check_render(BUF(0x0a, 0x00), "1: \"\"", NULL);
	/* "hi" parses as field 13 = 105 (protoc shows it so) but is taken as text */
	check_render(BUF(0x0a, 0x02, 'h', 'i'), "1: \"hi\"", NULL);
	/* 'E' would be an I32 field lacking bytes: a string either way */
	check_render(BUF(0x0a, 0x03, 'E', 'U', 'R'), "1: \"EUR\"", NULL);
	/* bytes */
	check_render(BUF(0x22, 0x04, 0xff, 0xfe, 0x80, 0x01), "4: \"\\377\\376\\200\\001\"", NULL);
	/* packed repeated int32 {1, 2, 3}: field 0 inside, so bytes, as protoc shows it */
	check_render(BUF(0x22, 0x03, 0x01, 0x02, 0x03), "4: \"\\001\\002\\003\"", NULL);
	/* truncated and overlong lengths */
	check_render(BUF(0x0a, 0x05, 'a', 'b'), "(invalid)", NULL);
	check_render(BUF(0x0a), "(invalid)", NULL);
	check_render(BUF(0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 'a'),
		     "(invalid)", NULL);
}

static void test_nested(void)
{
	/* 1 { 1 { 2: 7 } 3: "x" } 2: 1 */
	check_render(BUF(0x0a, 0x07, 0x0a, 0x02, 0x10, 0x07, 0x1a, 0x01, 'x', 0x10, 0x01),
		     "1 { 1 { 2: 7 } 3: \"x\" } 2: 1",
		     "1 {\n  1 {\n    2: 7\n  }\n  3: \"x\"\n}\n2: 1");
	/* a nested message whose bytes look like a string of control characters */
	check_render(BUF(0x12, 0x02, 0x08, 0x01), "2 { 1: 1 }", "2 {\n  1: 1\n}");
}

static void test_groups(void)
{
	/* 4 { 1: 1 } 5 { } as protoc --decode_raw shows start/end group pairs */
	check_render(BUF(0x23, 0x08, 0x01, 0x24, 0x2b, 0x2c), "4 { 1: 1 } 5 { }",
		     "4 {\n  1: 1\n}\n5 {\n}");
	/* nested groups holding a message */
	check_render(BUF(0x0b, 0x13, 0x1a, 0x02, 0x08, 0x02, 0x14, 0x0c),
		     "1 { 2 { 3 { 1: 2 } } }", "1 {\n  2 {\n    3 {\n      1: 2\n    }\n  }\n}");
	check_render(BUF(0x23, 0x08, 0x01), "(invalid)", NULL);
	check_render(BUF(0x23, 0x2c), "(invalid)", NULL);
	check_render(BUF(0x24), "(invalid)", NULL);
	check_render(BUF(0x08, 0x01, 0x24), "(invalid)", NULL);
	/* a group may not cross the end of the message holding it */
	check_render(BUF(0x0a, 0x01, 0x23, 0x24), "(invalid)", NULL);
}

static void test_wire_types(void)
{
	check_render(BUF(0x0e, 0x00), "(invalid)", NULL);
	check_render(BUF(0x0f, 0x00), "(invalid)", NULL);
	/* a LEN field holding wire type 6 is a string */
	check_render(BUF(0x0a, 0x02, 0x0e, 0x00), "1: \"\\016\\000\"", NULL);
}

static void test_empty(void)
{
	struct strbuf sb = { 0 };

	CHECK(!protobuf_valid(NULL, 0));
	CHECK(protobuf_render(NULL, 0, 0, &sb) == 0);
	CHECK_STR(sb_str(&sb), "");
	sb_free(&sb);
}

/* Appends depth levels of field 1 nesting around 08 01. */
static size_t nest(uint8_t *buf, unsigned int depth)
{
	size_t n = 2, len;

	buf[0] = 0x08;
	buf[1] = 0x01;
	for (unsigned int i = 0; i < depth; i++) {
		len = n;
		memmove(buf + 2, buf, len);
		buf[0] = 0x0a;
		buf[1] = (uint8_t)len;
		n += 2;
	}
	return n;
}

static void test_depth(void)
{
	uint8_t buf[256];
	struct strbuf sb = { 0 }, want = { 0 };
	size_t n = nest(buf, 34);
	unsigned int i;

	/* 32 levels open, then the rest shows as bytes */
	CHECK(protobuf_render(buf, n, 0, &sb) == 0);
	for (i = 0; i < 32; i++)
		sb_adds(&want, "1 { ");
	sb_adds(&want, "1: \"\\n\\002\\010\\001\"");
	for (i = 0; i < 32; i++)
		sb_adds(&want, " }");
	CHECK_STR(sb_str(&sb), sb_str(&want));
	sb_free(&sb);
	sb_free(&want);

	/* 32 nested groups are fine, 33 are not */
	for (unsigned int depth = 32; depth <= 33; depth++) {
		n = 0;
		for (i = 0; i < depth; i++)
			buf[n++] = 0x0b;
		for (i = 0; i < depth; i++)
			buf[n++] = 0x0c;
		CHECK(protobuf_valid(buf, n) == (depth == 32));
	}
	/* a group at depth 31 leaves no room for a message inside it */
	n = 0;
	for (i = 0; i < 32; i++)
		buf[n++] = 0x0b;
	buf[n++] = 0x12;
	buf[n++] = 0x02;
	buf[n++] = 0x08;
	buf[n++] = 0x01;
	for (i = 0; i < 32; i++)
		buf[n++] = 0x0c;
	CHECK(protobuf_render(buf, n, 0, &sb) == 0);
	CHECK(strstr(sb_str(&sb), "2: \"\\010\\001\"") != NULL);
	sb_free(&sb);
}

static void test_output_bound(void)
{
	size_t n = 3 * 100000;
	uint8_t *buf = malloc(n);
	struct strbuf sb = { 0 };
	const char *s;

	for (size_t i = 0; i < n; i += 3) {
		buf[i] = 0x08;
		buf[i + 1] = 0x96;
		buf[i + 2] = 0x01;
	}
	CHECK(protobuf_render(buf, n, PB_MULTILINE, &sb) == 0);
	s = sb_str(&sb);
	CHECK(sb.len > 60000 && sb.len < 64 * 1024 + 64);
	CHECK(!strcmp(s + sb.len - 4, " \xe2\x80\xa6"));
	sb_free(&sb);

	/* one huge string is cut too, without its closing quote */
	buf[0] = 0x0a;
	buf[1] = 0x80 | ((n - 4) & 0x7f);
	buf[2] = 0x80 | (((n - 4) >> 7) & 0x7f);
	buf[3] = (uint8_t)((n - 4) >> 14);
	memset(buf + 4, 0x01, n - 4);
	CHECK(protobuf_render(buf, n, 0, &sb) == 0);
	CHECK(sb.len < 64 * 1024 + 64);
	CHECK(!strcmp(sb_str(&sb) + sb.len - 8, "\\001 \xe2\x80\xa6"));
	sb_free(&sb);
	free(buf);
}

/* Rendering appends; a refused buffer leaves out as it was. */
static void test_appends(void)
{
	struct strbuf sb = { 0 };

	sb_adds(&sb, "<");
	CHECK(protobuf_render(BUF(0x08, 0x01), 0, &sb) == 0);
	CHECK_STR(sb_str(&sb), "<1: 1");
	CHECK(protobuf_render(BUF(0x08), 0, &sb) == -1);
	CHECK_STR(sb_str(&sb), "<1: 1");
	sb_free(&sb);
}

int main(void)
{
	test_example();
	test_varints();
	test_fixed();
	test_strings();
	test_nested();
	test_groups();
	test_wire_types();
	test_empty();
	test_depth();
	test_output_bound();
	test_appends();
	return unit_result("test_protobuf");
}
