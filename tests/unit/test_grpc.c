/* test_grpc.c - unit tests for gRPC message reassembly, inflation and status helpers. */
#include <stdint.h>
#include <zlib.h>

#include "proto/grpc.h"
#include "unit.h"

struct env {
	struct msg_limits lim;
	struct proto_counters cnt;
	uint64_t next_id;
	struct proto_ctx ctx;
	struct grpc_parser g;
	struct message *m;
};

static void env_init(struct env *e, enum grpc_encoding enc, uint32_t body_max)
{
	*e = (struct env){ .lim = { .body_max = body_max, .grpc_max = 64 } };
	e->ctx = (struct proto_ctx){ .lim = &e->lim, .next_id = &e->next_id, .cnt = &e->cnt };
	grpc_parser_init(&e->g, enc);
	e->m = msg_new(MSG_GRPC, MSG_REQUEST, true);
}

static void env_free(struct env *e)
{
	grpc_parser_free(&e->g);
	msg_free(e->m);
}

/* Appends a length-prefixed message to buf; returns the new length. */
static size_t frame(uint8_t *buf, size_t at, uint8_t flag, const void *p, uint32_t n)
{
	buf[at] = flag;
	buf[at + 1] = (uint8_t)(n >> 24);
	buf[at + 2] = (uint8_t)(n >> 16);
	buf[at + 3] = (uint8_t)(n >> 8);
	buf[at + 4] = (uint8_t)n;
	memmove(buf + at + 5, p, n);
	return at + 5 + n;
}

static bool msg_is(const struct grpc_msg *g, const char *s)
{
	size_t n = strlen(s);

	return g->data_len == n && g->full_len == n && !g->incomplete &&
	       (!n || !memcmp(g->data, s, n));
}

/* Three messages (one empty) split at every byte, then fed byte by byte. */
static void test_splits(void)
{
	uint8_t buf[64];
	size_t n = frame(buf, 0, 0, "hello", 5);
	struct env e;

	n = frame(buf, n, 0, "", 0);
	n = frame(buf, n, 0, "world!", 6);
	for (size_t cut = 0; cut <= n; cut++) {
		env_init(&e, GRPC_IDENTITY, 1024);
		grpc_feed(&e.g, e.m, buf, cut, &e.ctx);
		grpc_feed(&e.g, e.m, buf + cut, n - cut, &e.ctx);
		grpc_finish(&e.g, e.m, &e.ctx);
		CHECK_EQ_U64(e.m->ngrpc, 3);
		if (e.m->ngrpc == 3) {
			CHECK(msg_is(&e.m->grpc[0], "hello"));
			CHECK(msg_is(&e.m->grpc[1], ""));
			CHECK(msg_is(&e.m->grpc[2], "world!"));
			CHECK(!e.m->grpc[0].compressed && e.m->grpc[0].len == 5);
		}
		CHECK(!(e.m->flags & MSG_F_GAP));
		env_free(&e);
	}
	env_init(&e, GRPC_IDENTITY, 1024);
	for (size_t i = 0; i < n; i++)
		grpc_feed(&e.g, e.m, buf + i, 1, NULL);
	CHECK_EQ_U64(e.m->ngrpc, 3);
	CHECK(e.m->ngrpc == 3 && msg_is(&e.m->grpc[2], "world!"));
	env_free(&e);
}

static void test_many_in_one_feed(void)
{
	uint8_t buf[100 * 8];
	size_t n = 0;
	struct env e;
	char s[2];

	for (int i = 0; i < 100; i++) {
		s[0] = (char)('0' + i / 10);
		s[1] = (char)('0' + i % 10);
		n = frame(buf, n, 0, s, 2);
	}
	env_init(&e, GRPC_IDENTITY, 1024);
	grpc_feed(&e.g, e.m, buf, n, &e.ctx);
	/* the per-message budget keeps 64, counts 100 */
	CHECK_EQ_U64(e.m->ngrpc, 64);
	CHECK_EQ_U64(e.m->grpc_total, 100);
	CHECK(msg_is(&e.m->grpc[63], "63"));
	CHECK(!e.g.in_msg && e.g.prefix_have == 0);
	env_free(&e);
}

/* A 1 MiB message over many feeds: the budget is kept, the length known. */
static void test_cap(void)
{
	uint32_t len = 1 << 20;
	uint8_t *buf = malloc(len + 5);
	struct env e;

	for (uint32_t i = 0; i < len; i++)
		buf[5 + i] = (uint8_t)(i * 7);
	frame(buf, 0, 0, buf + 5, len);
	/* fed without a ctx: the default budget of 64 KiB */
	env_init(&e, GRPC_IDENTITY, 0);
	for (size_t at = 0; at < len + 5; at += 1000)
		grpc_feed(&e.g, e.m, buf + at, at + 1000 > len + 5 ? len + 5 - at : 1000, NULL);
	CHECK_EQ_U64(e.m->ngrpc, 1);
	if (e.m->ngrpc) {
		CHECK_EQ_U64(e.m->grpc[0].data_len, 64 * 1024);
		CHECK_EQ_U64(e.m->grpc[0].full_len, len);
		CHECK(!memcmp(e.m->grpc[0].data, buf + 5, 64 * 1024));
		CHECK(!e.m->grpc[0].incomplete);
	}
	env_free(&e);

	/* the same with a larger budget: all of it */
	env_init(&e, GRPC_IDENTITY, 2 << 20);
	grpc_feed(&e.g, e.m, buf, 3, &e.ctx);
	grpc_feed(&e.g, e.m, buf + 3, len + 2, &e.ctx);
	CHECK(e.m->ngrpc == 1 && e.m->grpc[0].data_len == len &&
	      !memcmp(e.m->grpc[0].data, buf + 5, len));
	env_free(&e);
	free(buf);
}

/* A peer announcing 4 GiB gets a buffer for what arrived, not for the announcement. */
static void test_huge_announce(void)
{
	static const uint8_t buf[] = { 0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	struct env e;

	env_init(&e, GRPC_IDENTITY, UINT32_MAX);
	grpc_feed(&e.g, e.m, buf, sizeof(buf), &e.ctx);
	CHECK(e.g.in_msg && e.g.need == 0xffffffffu - 10);
	CHECK(e.g.data_alloc <= 256);
	grpc_finish(&e.g, e.m, &e.ctx);
	CHECK_EQ_U64(e.m->ngrpc, 1);
	if (e.m->ngrpc) {
		CHECK(e.m->grpc[0].incomplete);
		CHECK_EQ_U64(e.m->grpc[0].len, 0xffffffffu);
		CHECK_EQ_U64(e.m->grpc[0].full_len, 0xffffffffu);
		CHECK_EQ_U64(e.m->grpc[0].data_len, 10);
	}
	CHECK(e.m->flags & MSG_F_GAP);
	env_free(&e);
}

/* Compresses s with the given zlib window bits (31 gzip, 15 zlib, -15 raw). */
static size_t squeeze(const void *s, size_t n, uint8_t *out, size_t cap, int wbits)
{
	z_stream z = { 0 };

	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		exit(99);
	z.next_in = (Bytef *)s;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		exit(99);
	n = z.total_out;
	deflateEnd(&z);
	return n;
}

/* A fresh env for enc that was fed one compressed frame holding z. */
static void feed_compressed(struct env *e, enum grpc_encoding enc, const uint8_t *z, size_t zn,
			    uint32_t body_max)
{
	uint8_t *buf = malloc(zn + 5);

	frame(buf, 0, 1, z, (uint32_t)zn);
	env_init(e, enc, body_max);
	grpc_feed(&e->g, e->m, buf, zn + 5, &e->ctx);
	free(buf);
}

static void test_inflate(void)
{
	static const char text[] = "the quick brown fox jumps over the lazy dog, the quick fox";
	static const struct {
		enum grpc_encoding enc;
		int wbits;
	} cases[] = {
		{ GRPC_GZIP, 16 + MAX_WBITS },
		{ GRPC_DEFLATE, MAX_WBITS },
		{ GRPC_DEFLATE, -MAX_WBITS }, /* raw deflate, accepted as a fallback */
		{ GRPC_IDENTITY, 16 + MAX_WBITS }, /* grpc-encoding lost: gzip magic recognised */
	};
	uint8_t z[256];
	struct env e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t zn = squeeze(text, strlen(text), z, sizeof(z), cases[i].wbits);

		feed_compressed(&e, cases[i].enc, z, zn, 1024);
		CHECK_EQ_U64(e.m->ngrpc, 1);
		if (e.m->ngrpc) {
			struct grpc_msg *g = &e.m->grpc[0];

			CHECK(g->compressed && g->inflated && !g->incomplete);
			CHECK_EQ_U64(g->len, zn);
			CHECK(msg_is(g, text));
		}
		CHECK_EQ_U64(e.cnt.inflate_errors, 0);
		env_free(&e);
	}
}

static void test_inflate_bounds(void)
{
	size_t n = 1 << 20, zn;
	uint8_t *zeros = calloc(1, n), *z = malloc(n);
	struct env e;

	/* 1 MiB inflated from a few KiB: body_max kept, full length known */
	zn = squeeze(zeros, n, z, n, 16 + MAX_WBITS);
	feed_compressed(&e, GRPC_GZIP, z, zn, 4096);
	CHECK(e.m->ngrpc == 1 && e.m->grpc[0].inflated && !e.m->grpc[0].incomplete);
	CHECK(e.m->ngrpc == 1 && e.m->grpc[0].data_len == 4096 && e.m->grpc[0].full_len == n);
	env_free(&e);

	/* budget 0: nothing kept, length still counted */
	feed_compressed(&e, GRPC_GZIP, z, zn, 0);
	CHECK(e.m->ngrpc == 1 && !e.m->grpc[0].inflated && e.m->grpc[0].data_len == 0);
	CHECK(e.m->ngrpc == 1 && e.m->grpc[0].full_len == zn && !e.m->grpc[0].data);
	env_free(&e);

	/* compressed bytes past the budget cannot be inflated: kept raw, no error */
	feed_compressed(&e, GRPC_GZIP, z, zn, (uint32_t)zn - 1);
	CHECK(e.m->ngrpc == 1 && !e.m->grpc[0].inflated && e.m->grpc[0].data_len == zn - 1);
	CHECK(e.m->ngrpc == 1 && e.m->grpc[0].full_len == zn);
	CHECK_EQ_U64(e.cnt.inflate_errors, 0);
	env_free(&e);
	free(zeros);
	free(z);
}

/* A zip bomb: inflating stops after 64 MiB, the message marked incomplete. */
static void test_zip_bomb(void)
{
	size_t chunk = 1 << 20, zn;
	uint8_t *zeros = calloc(1, chunk), *z = malloc(1 << 20);
	z_stream s = { 0 };
	struct env e;

	if (deflateInit2(&s, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 9,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		exit(99);
	s.next_out = z;
	s.avail_out = 1 << 20;
	for (int i = 0; i < 80; i++) {
		s.next_in = zeros;
		s.avail_in = (uInt)chunk;
		deflate(&s, i == 79 ? Z_FINISH : Z_NO_FLUSH);
	}
	zn = s.total_out;
	deflateEnd(&s);
	feed_compressed(&e, GRPC_GZIP, z, zn, 256 * 1024);
	CHECK(e.m->ngrpc == 1 && e.m->grpc[0].inflated && e.m->grpc[0].incomplete);
	CHECK(e.m->ngrpc == 1 && e.m->grpc[0].full_len >= 64u << 20 &&
	      e.m->grpc[0].full_len < 80u << 20);
	CHECK(e.m->ngrpc == 1 && e.m->grpc[0].data_len == 256 * 1024);
	env_free(&e);
	free(zeros);
	free(z);
}

static void test_inflate_errors(void)
{
	static const char junk[] = "this is not gzip";
	uint8_t z[256];
	size_t zn;
	struct env e;

	feed_compressed(&e, GRPC_GZIP, (const uint8_t *)junk, strlen(junk), 1024);
	CHECK_EQ_U64(e.cnt.inflate_errors, 1);
	CHECK(e.m->ngrpc == 1 && !e.m->grpc[0].inflated && e.m->grpc[0].compressed);
	CHECK(e.m->ngrpc == 1 && msg_is(&e.m->grpc[0], junk));
	env_free(&e);

	/* a gzip stream cut short inside a complete gRPC message */
	zn = squeeze(junk, strlen(junk), z, sizeof(z), 16 + MAX_WBITS);
	feed_compressed(&e, GRPC_GZIP, z, zn - 6, 1024);
	CHECK_EQ_U64(e.cnt.inflate_errors, 1);
	CHECK(e.m->ngrpc == 1 && !e.m->grpc[0].inflated && e.m->grpc[0].data_len == zn - 6);
	env_free(&e);

	/* zlib header with a bad check: raw deflate is tried, and fails */
	feed_compressed(&e, GRPC_DEFLATE, (const uint8_t *)"\x78\x00\xff\xff", 4, 1024);
	CHECK_EQ_U64(e.cnt.inflate_errors, 1);
	env_free(&e);

	/* encodings tlstop cannot inflate are kept as they are */
	zn = squeeze(junk, strlen(junk), z, sizeof(z), 16 + MAX_WBITS);
	feed_compressed(&e, GRPC_UNSUPPORTED, z, zn, 1024);
	CHECK_EQ_U64(e.cnt.inflate_errors, 0);
	CHECK(e.m->ngrpc == 1 && !e.m->grpc[0].inflated && e.m->grpc[0].data_len == zn);
	env_free(&e);

	/* ctx may be NULL */
	env_init(&e, GRPC_GZIP, 1024);
	grpc_feed(&e.g, e.m, (const uint8_t *)"\x01\x00\x00\x00\x02xx", 7, NULL);
	CHECK(e.m->ngrpc == 1 && !e.m->grpc[0].inflated);
	env_free(&e);
}

static void test_gap_in_payload(void)
{
	uint8_t buf[64];
	size_t n = frame(buf, 0, 0, "abcdefghij", 10);
	struct env e;

	n = frame(buf, n, 0, "next", 4);
	env_init(&e, GRPC_IDENTITY, 1024);
	grpc_feed(&e.g, e.m, buf, 8, &e.ctx);
	grpc_gap(&e.g, e.m, 4);
	grpc_feed(&e.g, e.m, buf + 12, n - 12, &e.ctx);
	grpc_finish(&e.g, e.m, &e.ctx);
	CHECK_EQ_U64(e.m->ngrpc, 2);
	if (e.m->ngrpc == 2) {
		/* the bytes after the gap are not appended: they would not line up */
		CHECK(e.m->grpc[0].incomplete && e.m->grpc[0].data_len == 3);
		CHECK(!memcmp(e.m->grpc[0].data, "abc", 3) && e.m->grpc[0].full_len == 10);
		CHECK(msg_is(&e.m->grpc[1], "next"));
	}
	CHECK(e.m->flags & MSG_F_GAP);
	env_free(&e);

	/* a gap ending exactly at the end of a message keeps the framing */
	env_init(&e, GRPC_IDENTITY, 1024);
	grpc_feed(&e.g, e.m, buf, 8, &e.ctx);
	grpc_gap(&e.g, e.m, 7);
	CHECK(!e.g.lost_sync);
	grpc_feed(&e.g, e.m, buf + 15, n - 15, &e.ctx);
	CHECK(e.m->ngrpc == 2 && msg_is(&e.m->grpc[1], "next"));
	env_free(&e);
}

static void test_gap_over_prefix(void)
{
	uint8_t buf[64];
	size_t n = frame(buf, 0, 0, "abcdefghij", 10);
	struct env e;

	n = frame(buf, n, 0, "next", 4);
	/* past the end of the message: framing lost, the cut message still added */
	env_init(&e, GRPC_IDENTITY, 1024);
	grpc_feed(&e.g, e.m, buf, 8, &e.ctx);
	grpc_gap(&e.g, e.m, 9);
	CHECK(e.g.lost_sync);
	grpc_feed(&e.g, e.m, buf + 17, n - 17, &e.ctx);
	CHECK_EQ_U64(e.m->ngrpc, 1);
	CHECK(e.m->ngrpc == 1 && e.m->grpc[0].incomplete && e.m->grpc[0].data_len == 3);
	grpc_finish(&e.g, e.m, &e.ctx);
	CHECK_EQ_U64(e.m->ngrpc, 1);
	env_free(&e);

	/* between messages, and inside a prefix */
	for (size_t at = 15; at <= 17; at++) {
		env_init(&e, GRPC_IDENTITY, 1024);
		grpc_feed(&e.g, e.m, buf, at, &e.ctx);
		grpc_gap(&e.g, e.m, 1);
		grpc_feed(&e.g, e.m, buf + at + 1, n - at - 1, &e.ctx);
		grpc_finish(&e.g, e.m, &e.ctx);
		CHECK_EQ_U64(e.m->ngrpc, 1);
		CHECK(e.m->flags & MSG_F_GAP);
		/* the parser is ready for the next stream */
		CHECK(!e.g.lost_sync && !e.g.in_msg && !e.g.prefix_have);
		grpc_feed(&e.g, e.m, buf, 15, &e.ctx);
		CHECK_EQ_U64(e.m->ngrpc, 2);
		env_free(&e);
	}
}

static void test_finish(void)
{
	uint8_t buf[64];
	size_t n = frame(buf, 0, 0, "abcdefghij", 10);
	struct env e;

	env_init(&e, GRPC_IDENTITY, 1024);
	grpc_feed(&e.g, e.m, buf, 9, &e.ctx);
	grpc_finish(&e.g, e.m, &e.ctx);
	CHECK(e.m->ngrpc == 1 && e.m->grpc[0].incomplete && e.m->grpc[0].data_len == 4);
	env_free(&e);

	/* a partial prefix is dropped */
	env_init(&e, GRPC_IDENTITY, 1024);
	grpc_feed(&e.g, e.m, buf, n, &e.ctx);
	grpc_feed(&e.g, e.m, buf, 3, &e.ctx);
	grpc_finish(&e.g, e.m, &e.ctx);
	CHECK_EQ_U64(e.m->ngrpc, 1);
	CHECK(e.m->flags & MSG_F_GAP);
	env_free(&e);

	/* a compressed message cut short is not inflated, and is no inflate error */
	env_init(&e, GRPC_GZIP, 1024);
	grpc_feed(&e.g, e.m, (const uint8_t *)"\x01\x00\x00\x00\x10\x1f\x8b", 7, &e.ctx);
	grpc_finish(&e.g, e.m, &e.ctx);
	CHECK(e.m->ngrpc == 1 && !e.m->grpc[0].inflated && e.m->grpc[0].incomplete);
	CHECK_EQ_U64(e.cnt.inflate_errors, 0);
	env_free(&e);
}

static void test_bad_flag(void)
{
	static const uint8_t buf[] = { 0x80, 0, 0, 0, 1, 'x', 0, 0, 0, 0, 0 };
	struct env e;

	env_init(&e, GRPC_IDENTITY, 1024);
	grpc_feed(&e.g, e.m, buf, sizeof(buf), &e.ctx);
	CHECK(e.g.lost_sync);
	CHECK_EQ_U64(e.m->ngrpc, 0);
	CHECK_EQ_U64(e.cnt.decode_errors, 1);
	CHECK(e.m->flags & MSG_F_DECODE_ERROR);
	env_free(&e);
}

static void check_decode(const char *in, const char *want)
{
	char *s = grpc_percent_decode(in, strlen(in));

	CHECK_STR(s, want);
	free(s);
}

static void test_percent(void)
{
	check_decode("ledger%20timeout", "ledger timeout");
	check_decode("%E2%82%ACprice", "\xe2\x82\xac" "price");
	check_decode("a%2fb%2Fc", "a/b/c");
	check_decode("100%", "100%");
	check_decode("%4", "%4");
	check_decode("%zz%g1", "%zz%g1");
	check_decode("nul%00here", "nul%00here");
	check_decode("%25%", "%%");
	check_decode("", "");
}

static void test_status(void)
{
	CHECK_STR(grpc_status_name(0), "OK");
	CHECK_STR(grpc_status_name(4), "DEADLINE_EXCEEDED");
	CHECK_STR(grpc_status_name(13), "INTERNAL");
	CHECK_STR(grpc_status_name(16), "UNAUTHENTICATED");
	CHECK(grpc_status_name(17) == NULL);
	CHECK(grpc_status_name(-1) == NULL);
	for (int i = 0; i <= 16; i++)
		CHECK(grpc_status_parse(grpc_status_name(i)) == i);
	CHECK(grpc_status_parse("14") == 14);
	CHECK(grpc_status_parse("unavailable") == 14);
	CHECK(grpc_status_parse("Deadline_Exceeded") == 4);
	CHECK(grpc_status_parse("99") == 99);
	CHECK(grpc_status_parse("") == -1);
	CHECK(grpc_status_parse(NULL) == -1);
	CHECK(grpc_status_parse("1a") == -1);
	CHECK(grpc_status_parse("-1") == -1);
	CHECK(grpc_status_parse("OKAY") == -1);
	CHECK(grpc_status_parse("99999999999999999999") == -1);

	CHECK(grpc_encoding_parse(NULL) == GRPC_IDENTITY);
	CHECK(grpc_encoding_parse("identity") == GRPC_IDENTITY);
	CHECK(grpc_encoding_parse("gzip") == GRPC_GZIP);
	CHECK(grpc_encoding_parse("deflate") == GRPC_DEFLATE);
	CHECK(grpc_encoding_parse("snappy") == GRPC_UNSUPPORTED);
	CHECK(grpc_encoding_parse("zstd") == GRPC_UNSUPPORTED);
}

int main(void)
{
	test_splits();
	test_many_in_one_feed();
	test_cap();
	test_huge_announce();
	test_inflate();
	test_inflate_bounds();
	test_zip_bomb();
	test_inflate_errors();
	test_gap_in_payload();
	test_gap_over_prefix();
	test_finish();
	test_bad_flag();
	test_percent();
	test_status();
	return unit_result("test_grpc");
}
