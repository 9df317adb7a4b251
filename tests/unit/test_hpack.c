/* test_hpack.c - unit tests for HPACK: the RFC 7541 appendix C examples, the
 * encoder, Huffman, malformed blocks and the mid-connection (unknown) model. */
#include <stdint.h>

#include "proto/hpack.h"
#include "unit.h"

#define MAX_FIELDS 64

struct got_field {
	char *name, *value; /* NULL when unknown */
	size_t nlen, vlen;
	unsigned int flags;
};

struct got {
	struct got_field f[MAX_FIELDS];
	int n;
};

static char *dup_or_null(const char *s, size_t n)
{
	char *d;

	if (!s)
		return NULL;
	d = malloc(n + 1);
	memcpy(d, s, n + 1);
	return d;
}

static void collect(void *arg, const char *name, size_t nlen, const char *value, size_t vlen,
		    unsigned int flags)
{
	struct got *g = arg;

	CHECK(g->n < MAX_FIELDS);
	CHECK(!name || name[nlen] == '\0');
	CHECK(!value || value[vlen] == '\0');
	CHECK(!!name == !(flags & HPACK_NAME_UNKNOWN));
	CHECK(!!value == !(flags & HPACK_VALUE_UNKNOWN));
	if (g->n >= MAX_FIELDS)
		return;
	g->f[g->n++] = (struct got_field){ dup_or_null(name, nlen), dup_or_null(value, vlen), nlen,
					   vlen, flags };
}

static void got_reset(struct got *g)
{
	int i;

	for (i = 0; i < g->n; i++) {
		free(g->f[i].name);
		free(g->f[i].value);
	}
	g->n = 0;
}

/* "82 86 84be" -> bytes; returns the length */
static size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = 0;
	unsigned int b;

	while (*hex) {
		if (*hex == ' ' || *hex == '\n') {
			hex++;
			continue;
		}
		if (sscanf(hex, "%2x", &b) != 1)
			abort();
		out[n++] = (uint8_t)b;
		hex += 2;
	}
	return n;
}

static int decode_hex(struct hpack_decoder *d, const char *hex, struct got *g)
{
	uint8_t buf[1024];

	got_reset(g);
	return hpack_decode_block(d, buf, unhex(hex, buf), collect, g);
}

/* A header list as pairs, NULL-terminated. */
static void check_fields(const struct got *g, const char *const *want)
{
	int i;

	for (i = 0; want[2 * i]; i++) {
		CHECK(i < g->n);
		if (i >= g->n)
			return;
		CHECK_STR(g->f[i].name, want[2 * i]);
		CHECK_STR(g->f[i].value, want[2 * i + 1]);
	}
	CHECK_EQ_U64(g->n, i);
}

/* The dynamic table, newest first, read back through indexed fields. */
static void check_table(struct hpack_decoder *d, const char *const *want, uint32_t size)
{
	struct got g = { .n = 0 };
	uint8_t idx;
	int i;

	for (i = 0; want[2 * i]; i++) {
		idx = (uint8_t)(0x80 | (62 + i));
		CHECK_EQ_U64(hpack_decode_block(d, &idx, 1, collect, &g), 0);
		CHECK_STR(g.f[i].name, want[2 * i]);
		CHECK_STR(g.f[i].value, want[2 * i + 1]);
	}
	CHECK_EQ_U64(d->nentries, i);
	CHECK_EQ_U64(d->size, size);
	got_reset(&g);
}

/* ---- RFC 7541 appendix C ---------------------------------------------- */

static void test_c1_integers(void)
{
	struct hpack_decoder d;
	struct got g = { .n = 0 };
	uint8_t block[64] = { 0x00, 0x2a };

	/* C.1.1 and C.1.2 through the 5-bit prefix of a size update */
	hpack_decoder_init(&d, false);
	CHECK_EQ_U64(decode_hex(&d, "2a", &g), 0);
	CHECK_EQ_U64(d.max_size, 10);
	CHECK_EQ_U64(decode_hex(&d, "3f9a0a", &g), 0);
	CHECK_EQ_U64(d.max_size, 1337);
	/* C.1.3: 42 is "2a" at an octet boundary; HPACK has no 8-bit prefix, so it
	 * is read as the 7-bit length of a 42-byte name. */
	memset(block + 2, 'x', 42);
	CHECK_EQ_U64(hpack_decode_block(&d, block, 2 + 42 + 1, collect, &g), 0);
	CHECK_EQ_U64(g.n, 1);
	CHECK_EQ_U64(g.f[0].nlen, 42);
	CHECK_EQ_U64(g.f[0].vlen, 0);
	got_reset(&g);
	hpack_decoder_free(&d);
}

static void test_c2_fields(void)
{
	static const char *const c21[] = { "custom-key", "custom-header", NULL };
	static const char *const c22[] = { ":path", "/sample/path", NULL };
	static const char *const c23[] = { "password", "secret", NULL };
	static const char *const c24[] = { ":method", "GET", NULL };
	static const char *const none[] = { NULL };
	struct hpack_decoder d;
	struct got g = { .n = 0 };

	hpack_decoder_init(&d, false);
	CHECK_EQ_U64(decode_hex(&d, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164"
				"6572", &g), 0);
	check_fields(&g, c21);
	CHECK_EQ_U64(g.f[0].flags, 0);
	check_table(&d, c21, 55);
	hpack_decoder_free(&d);

	hpack_decoder_init(&d, false);
	CHECK_EQ_U64(decode_hex(&d, "040c 2f73 616d 706c 652f 7061 7468", &g), 0);
	check_fields(&g, c22);
	CHECK_EQ_U64(g.f[0].flags, 0);
	check_table(&d, none, 0);

	CHECK_EQ_U64(decode_hex(&d, "1008 7061 7373 776f 7264 0673 6563 7265 74", &g), 0);
	check_fields(&g, c23);
	CHECK_EQ_U64(g.f[0].flags, HPACK_NEVER_INDEXED);
	check_table(&d, none, 0);

	CHECK_EQ_U64(decode_hex(&d, "82", &g), 0);
	check_fields(&g, c24);
	check_table(&d, none, 0);
	got_reset(&g);
	hpack_decoder_free(&d);
}

struct step {
	const char *hex;
	const char *const *fields;
	const char *const *table;
	uint32_t size;
};

static const char *const req1[] = { ":method", "GET", ":scheme", "http", ":path", "/",
				    ":authority", "www.example.com", NULL };
static const char *const req2[] = { ":method", "GET", ":scheme", "http", ":path", "/",
				    ":authority", "www.example.com", "cache-control", "no-cache",
				    NULL };
static const char *const req3[] = { ":method", "GET", ":scheme", "https", ":path", "/index.html",
				    ":authority", "www.example.com", "custom-key", "custom-value",
				    NULL };
static const char *const req_t1[] = { ":authority", "www.example.com", NULL };
static const char *const req_t2[] = { "cache-control", "no-cache", ":authority",
				      "www.example.com", NULL };
static const char *const req_t3[] = { "custom-key", "custom-value", "cache-control", "no-cache",
				      ":authority", "www.example.com", NULL };

#define DATE1 "Mon, 21 Oct 2013 20:13:21 GMT"
#define DATE2 "Mon, 21 Oct 2013 20:13:22 GMT"
#define LOC "https://www.example.com"
#define COOKIE "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
static const char *const resp1[] = { ":status", "302", "cache-control", "private", "date", DATE1,
				     "location", LOC, NULL };
static const char *const resp2[] = { ":status", "307", "cache-control", "private", "date", DATE1,
				     "location", LOC, NULL };
static const char *const resp3[] = { ":status", "200", "cache-control", "private", "date", DATE2,
				     "location", LOC, "content-encoding", "gzip", "set-cookie",
				     COOKIE, NULL };
static const char *const resp_t1[] = { "location", LOC, "date", DATE1, "cache-control", "private",
				       ":status", "302", NULL };
static const char *const resp_t2[] = { ":status", "307", "location", LOC, "date", DATE1,
				       "cache-control", "private", NULL };
static const char *const resp_t3[] = { "set-cookie", COOKIE, "content-encoding", "gzip", "date",
				       DATE2, NULL };

static const struct step c3[] = {
	{ "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", req1, req_t1, 57 },
	{ "8286 84be 5808 6e6f 2d63 6163 6865", req2, req_t2, 110 },
	{ "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65", req3, req_t3,
	  164 },
	{ NULL },
};

static const struct step c4[] = {
	{ "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", req1, req_t1, 57 },
	{ "8286 84be 5886 a8eb 1064 9cbf", req2, req_t2, 110 },
	{ "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf", req3, req_t3, 164 },
	{ NULL },
};

static const struct step c5[] = {
	{ "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133"
	  "2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70"
	  "6c65 2e63 6f6d",
	  resp1, resp_t1, 222 },
	{ "4803 3330 37c1 c0bf", resp2, resp_t2, 222 },
	{ "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d"
	  "54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049"
	  "5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e"
	  "3d31",
	  resp3, resp_t3, 215 },
	{ NULL },
};

static const struct step c6[] = {
	{ "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6"
	  "2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
	  resp1, resp_t1, 222 },
	{ "4883 640e ffc1 c0bf", resp2, resp_t2, 222 },
	{ "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab"
	  "77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f"
	  "9587 3160 65c0 03ed 4ee5 b106 3d50 07",
	  resp3, resp_t3, 215 },
	{ NULL },
};

static void run_series(const struct step *steps, uint32_t table_size)
{
	struct hpack_decoder d;
	struct got g = { .n = 0 };

	hpack_decoder_init(&d, false);
	d.max_size = table_size; /* the examples start with both ends at this size */
	for (; steps->hex; steps++) {
		CHECK_EQ_U64(decode_hex(&d, steps->hex, &g), 0);
		check_fields(&g, steps->fields);
		check_table(&d, steps->table, steps->size);
	}
	got_reset(&g);
	hpack_decoder_free(&d);
}

/* The encoder makes the RFC's choices: static names first, exact dynamic
 * hits, incremental indexing, Huffman when shorter. "307" is the exception:
 * its Huffman code is no shorter, so the encoder keeps it raw. */
static void encode_series(const struct step *steps, uint32_t table_size, bool huffman,
			  int exception, const char *exception_hex)
{
	struct hpack_encoder e;
	uint8_t want[1024], out[1024];
	size_t n, len;
	int i;

	hpack_encoder_init(&e, huffman);
	if (table_size != HPACK_DEFAULT_TABLE) {
		hpack_encoder_set_max(&e, table_size);
		e.pending_size_update = UINT32_MAX; /* both ends start at this size */
	}
	for (; steps->hex; steps++, exception--) {
		for (len = 0, i = 0; steps->fields[2 * i]; i++) {
			n = hpack_encode_field(&e, steps->fields[2 * i], steps->fields[2 * i + 1],
					       HPACK_INCREMENTAL, out + len, sizeof(out) - len);
			CHECK(n > 0);
			len += n;
		}
		n = unhex(exception ? steps->hex : exception_hex, want);
		CHECK_EQ_U64(len, n);
		CHECK(!memcmp(out, want, n));
		CHECK_EQ_U64(e.table.size, steps->size);
	}
	hpack_encoder_free(&e);
}

static void test_c3_to_c6(void)
{
	run_series(c3, 4096);
	run_series(c4, 4096);
	run_series(c5, 256);
	run_series(c6, 256);
	encode_series(c3, 4096, false, -1, NULL);
	encode_series(c4, 4096, true, -1, NULL);
	encode_series(c5, 256, false, -1, NULL);
	encode_series(c6, 256, true, 1, "4803 3330 37c1 c0bf");
}

/* ---- Huffman ---------------------------------------------------------- */

static void huff_roundtrip(const char *s, size_t n)
{
	uint8_t enc[2048];
	char dec[4096];
	size_t elen = hpack_huffman_encode(s, n, enc);
	long dlen;

	CHECK_EQ_U64(elen, hpack_huffman_len(s, n));
	dlen = hpack_huffman_decode(enc, elen, dec);
	CHECK_EQ_U64(dlen, n);
	CHECK(dlen == (long)n && !memcmp(dec, s, n));
}

static long huff_hex(const char *hex, char *out)
{
	uint8_t in[64];

	return hpack_huffman_decode(in, unhex(hex, in), out);
}

static void test_huffman(void)
{
	char all[256], c, out[64];
	int i;

	for (i = 0; i < 256; i++) {
		c = (char)i;
		all[i] = c;
		huff_roundtrip(&c, 1);
	}
	huff_roundtrip(all, sizeof(all));
	huff_roundtrip("", 0);
	huff_roundtrip("www.example.com", 15);
	CHECK_EQ_U64(huff_hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff", out), 15);
	CHECK(!memcmp(out, "www.example.com", 15));
	/* 'a' (00011) padded with 111 is fine; more ones, zeros or EOS are not */
	CHECK_EQ_U64(huff_hex("1f", out), 1);
	CHECK_EQ_U64(huff_hex("1fff", out), -1);
	CHECK_EQ_U64(huff_hex("ff", out), -1);
	CHECK_EQ_U64(huff_hex("18", out), -1);
	CHECK_EQ_U64(huff_hex("1e", out), -1);
	CHECK_EQ_U64(huff_hex("ffff ffff", out), -1); /* EOS and two ones */
	CHECK_EQ_U64(huff_hex("ffff fffc", out), -1); /* EOS then 00 */
	CHECK_EQ_U64(huff_hex("1f ffff ffff", out), -1);
}

/* ---- malformed blocks -------------------------------------------------- */

static void expect_malformed(bool joined_late, const char *hex, int fields_before)
{
	struct hpack_decoder d;
	struct got g = { .n = 0 };

	hpack_decoder_init(&d, joined_late);
	CHECK_EQ_U64(decode_hex(&d, "4001 6101 62", &g), 0); /* a: b, indexed */
	CHECK_EQ_U64(decode_hex(&d, hex, &g), -1);
	CHECK_EQ_U64(g.n, fields_before);
	/* The table is no longer trusted: what was known is gone, and an index
	 * past the static table is now unknown rather than wrong. */
	CHECK(d.unknown_tail);
	CHECK_EQ_U64(d.nentries, 0);
	CHECK_EQ_U64(decode_hex(&d, "be", &g), 0);
	CHECK(g.n == 1 && !g.f[0].name && !g.f[0].value);
	got_reset(&g);
	hpack_decoder_free(&d);
}

static void test_malformed(void)
{
	expect_malformed(false, "ff ff ff ff ff 0f", 0); /* index over 2^32 */
	expect_malformed(false, "3f 80 80 80 80 80 00", 0); /* 6 continuation bytes */
	expect_malformed(false, "ff 80", 0); /* integer cut short */
	expect_malformed(false, "82 400a 6375 7374", 1); /* name cut short */
	expect_malformed(false, "82 4001 61 05 6263", 1); /* value cut short */
	expect_malformed(false, "82 04 ff ff ff ff 0f 61", 1); /* huge length */
	expect_malformed(false, "82 80", 1); /* index 0 */
	expect_malformed(false, "82 00 00", 1); /* empty name, then no value */
	expect_malformed(false, "82 bf", 1); /* index 63 past a 1-entry table */
	expect_malformed(false, "3f e9 26", 0); /* size update 5000 > 4096 */
	expect_malformed(false, "82 20", 1); /* size update after a field */
	expect_malformed(false, "82 4081 ff 00", 1); /* Huffman name of 8 ones */
	expect_malformed(true, "82 20 82", 1);
}

/* ---- encoder round trip ------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static void random_string(char *s, size_t max)
{
	static const char *const common[] = { "content-type", "accept", ":path", "x-id",
					      "x-request-id", "grpc-status" };
	size_t n = rnd((uint32_t)max), i;

	if (rnd(3) == 0) {
		strcpy(s, common[rnd(6)]);
		return;
	}
	for (i = 0; i < n; i++)
		s[i] = (char)(rnd(4) ? 'a' + rnd(26) : 1 + rnd(255));
	s[n] = '\0';
}

static void test_roundtrip(void)
{
	static uint8_t block[1 << 16];
	char names[16][64], values[16][300];
	struct hpack_encoder e;
	struct hpack_decoder d;
	struct got g = { .n = 0 };
	enum hpack_how how[16];
	int round, i, nf;
	size_t len, n;

	for (round = 0; round < 2000; round++) {
		if (round % 200 == 0) {
			if (round) {
				hpack_encoder_free(&e);
				hpack_decoder_free(&d);
			}
			hpack_encoder_init(&e, round % 400 == 0);
			hpack_decoder_init(&d, false);
			hpack_decoder_settings(&d, 8192);
		}
		len = 0;
		if (rnd(10) == 0)
			hpack_encoder_set_max(&e, rnd(8193));
		nf = 1 + (int)rnd(16);
		for (i = 0; i < nf; i++) {
			random_string(names[i], 40);
			/* the same field again now and then, to hit the table */
			if (i && rnd(4) == 0) {
				memcpy(names[i], names[i - 1], sizeof(names[i]));
				memcpy(values[i], values[i - 1], sizeof(values[i]));
			} else {
				random_string(values[i], rnd(8) ? 40 : 300);
			}
			how[i] = (enum hpack_how)rnd(3);
			n = hpack_encode_field(&e, names[i], values[i], how[i], block + len,
					       sizeof(block) - len);
			CHECK(n > 0);
			len += n;
		}
		got_reset(&g);
		CHECK_EQ_U64(hpack_decode_block(&d, block, len, collect, &g), 0);
		CHECK_EQ_U64(g.n, nf);
		for (i = 0; i < nf && i < g.n; i++) {
			CHECK_STR(g.f[i].name, names[i]);
			CHECK_STR(g.f[i].value, values[i]);
			CHECK_EQ_U64(g.f[i].flags, how[i] == HPACK_NEVER ? HPACK_NEVER_INDEXED : 0);
		}
		CHECK_EQ_U64(d.nentries, e.table.nentries);
		CHECK_EQ_U64(d.size, e.table.size);
		CHECK_EQ_U64(d.max_size, e.table.max_size);
	}
	got_reset(&g);
	hpack_encoder_free(&e);
	hpack_decoder_free(&d);
}

static void test_encoder_limits(void)
{
	struct hpack_encoder e;
	uint8_t out[64];
	size_t n;

	hpack_encoder_init(&e, false);
	hpack_encoder_set_max(&e, 1337);
	/* too small: nothing written, nothing inserted, the update still due */
	CHECK_EQ_U64(hpack_encode_field(&e, "x-long", "0123456789", HPACK_INCREMENTAL, out, 8), 0);
	CHECK_EQ_U64(e.table.nentries, 0);
	n = hpack_encode_field(&e, "x-long", "0123456789", HPACK_INCREMENTAL, out, sizeof(out));
	CHECK_EQ_U64(n, 3 + 1 + 1 + 6 + 1 + 10);
	CHECK(!memcmp(out, "\x3f\x9a\x0a\x40\x06x-long\x0a", 12)); /* C.1.2 */
	CHECK_EQ_U64(e.table.nentries, 1);
	/* exact hit, never indexed stays literal */
	CHECK_EQ_U64(hpack_encode_field(&e, "x-long", "0123456789", HPACK_WITHOUT, out, 64), 1);
	CHECK_EQ_U64(out[0], 0xbe);
	n = hpack_encode_field(&e, "x-long", "0123456789", HPACK_NEVER, out, sizeof(out));
	CHECK_EQ_U64(n, 1 + 1 + 1 + 10);
	CHECK(!memcmp(out, "\x1f\x2f\x0a", 3)); /* never indexed, name index 62 */
	/* an entry larger than the table empties it */
	hpack_encoder_set_max(&e, 40);
	CHECK_EQ_U64(e.table.nentries, 0);
	CHECK(hpack_encode_field(&e, "x-long", "0123456789", HPACK_INCREMENTAL, out, 64) > 0);
	CHECK_EQ_U64(e.table.nentries, 0);
	CHECK_EQ_U64(e.table.size, 0);
	hpack_encoder_free(&e);
}

/* ---- mid-connection ------------------------------------------------------ */

struct wire {
	uint8_t b[4096];
	size_t n;
};

static void put(struct hpack_encoder *e, struct wire *w, const char *name, const char *value,
		enum hpack_how how)
{
	size_t n = hpack_encode_field(e, name, value, how, w->b + w->n, sizeof(w->b) - w->n);

	CHECK(n > 0);
	w->n += n;
}

static void check_got(const struct got_field *f, const char *name, const char *value,
		      unsigned int flags)
{
	CHECK_EQ_U64(f->flags, flags);
	if (name)
		CHECK_STR(f->name, name);
	else
		CHECK(!f->name);
	if (value)
		CHECK_STR(f->value, value);
	else
		CHECK(!f->value);
}

static void test_joined_late(void)
{
	const unsigned int unknown = HPACK_NAME_UNKNOWN | HPACK_VALUE_UNKNOWN;
	struct hpack_encoder e;
	struct hpack_decoder d;
	struct got g = { .n = 0 };
	struct wire w = { .n = 0 };
	char value[48];
	int i;

	hpack_encoder_init(&e, true);
	hpack_decoder_init(&d, true);
	/* before tlstop attached: three entries */
	put(&e, &w, "x-old", "1", HPACK_INCREMENTAL);
	put(&e, &w, "x-tenant", "acme", HPACK_INCREMENTAL);
	put(&e, &w, ":authority", "old.example", HPACK_INCREMENTAL);

	/* first block seen: old entries referenced, a new one inserted */
	w.n = 0;
	put(&e, &w, ":method", "GET", HPACK_INCREMENTAL); /* static */
	put(&e, &w, ":authority", "old.example", HPACK_INCREMENTAL); /* 62: unknown */
	put(&e, &w, "x-new", "seen", HPACK_INCREMENTAL); /* inserted, known */
	put(&e, &w, "x-old", "1", HPACK_INCREMENTAL); /* now 65 */
	put(&e, &w, "x-tenant", "other", HPACK_INCREMENTAL); /* name unknown, inserted */
	CHECK_EQ_U64(hpack_decode_block(&d, w.b, w.n, collect, &g), 0);
	CHECK_EQ_U64(g.n, 5);
	check_got(&g.f[0], ":method", "GET", 0);
	check_got(&g.f[1], NULL, NULL, unknown);
	check_got(&g.f[2], "x-new", "seen", 0);
	check_got(&g.f[3], NULL, NULL, unknown);
	check_got(&g.f[4], NULL, "other", HPACK_NAME_UNKNOWN);
	CHECK_EQ_U64(d.nentries, 2);
	CHECK_EQ_U64(d.size, 32 + 5 + 32 + 5 + 4); /* unknown name counted as empty */

	/* later blocks: new entries stay exact as more insertions shift them;
	 * the name-unknown entry keeps its index too */
	for (i = 0; i < 3; i++) {
		w.n = 0;
		snprintf(value, sizeof(value), "v%d", i);
		put(&e, &w, "x-more", value, HPACK_INCREMENTAL);
		put(&e, &w, "x-new", "seen", HPACK_INCREMENTAL);
		put(&e, &w, "x-tenant", "other", HPACK_INCREMENTAL);
		put(&e, &w, "x-old", "1", HPACK_WITHOUT);
		got_reset(&g);
		CHECK_EQ_U64(hpack_decode_block(&d, w.b, w.n, collect, &g), 0);
		CHECK_EQ_U64(g.n, 4);
		check_got(&g.f[0], "x-more", value, 0);
		check_got(&g.f[1], "x-new", "seen", 0);
		check_got(&g.f[2], NULL, "other", HPACK_NAME_UNKNOWN);
		check_got(&g.f[3], NULL, NULL, unknown);
	}

	/* eviction under unknown_tail: fill past 4096 so the peer's old entries
	 * go, then the known ones; both tables agree from then on */
	for (i = 0; i < 60; i++) {
		w.n = 0;
		snprintf(value, sizeof(value), "%040d", i);
		put(&e, &w, "x-fill", value, HPACK_INCREMENTAL);
		got_reset(&g);
		CHECK_EQ_U64(hpack_decode_block(&d, w.b, w.n, collect, &g), 0);
	}
	CHECK_EQ_U64(d.nentries, e.table.nentries);
	CHECK_EQ_U64(d.size, e.table.size);
	CHECK(d.size <= 4096);
	w.n = 0;
	snprintf(value, sizeof(value), "%040d", 60 - (int)e.table.nentries);
	put(&e, &w, "x-fill", value, HPACK_WITHOUT); /* the oldest entry */
	CHECK_EQ_U64(w.b[0], 0x80 | (61 + e.table.nentries));
	got_reset(&g);
	CHECK_EQ_U64(hpack_decode_block(&d, w.b, w.n, collect, &g), 0);
	check_got(&g.f[0], "x-fill", value, 0);
	/* the peer cannot have more entries than both tables hold, yet tlstop
	 * stays lenient: an index past them is unknown, not an error */
	CHECK(d.unknown_tail);
	got_reset(&g);
	CHECK_EQ_U64(decode_hex(&d, "ff7f", &g), 0);
	check_got(&g.f[0], NULL, NULL, unknown);

	/* a lost block: every known entry may have moved, so all are dropped */
	hpack_decoder_lost_block(&d);
	CHECK_EQ_U64(d.nentries, 0);
	CHECK_EQ_U64(d.size, 0);
	w.n = 0;
	put(&e, &w, "x-lost", "1", HPACK_INCREMENTAL); /* this block is not fed */
	w.n = 0;
	put(&e, &w, "x-fill", value, HPACK_WITHOUT);
	put(&e, &w, "x-after", "2", HPACK_INCREMENTAL);
	put(&e, &w, "x-after", "2", HPACK_WITHOUT);
	got_reset(&g);
	CHECK_EQ_U64(hpack_decode_block(&d, w.b, w.n, collect, &g), 0);
	check_got(&g.f[0], NULL, NULL, unknown);
	check_got(&g.f[1], "x-after", "2", 0);
	check_got(&g.f[2], "x-after", "2", 0);

	/* a size update to 0 empties the peer's table: nothing is unknown, and
	 * an index past the table is an error again */
	hpack_encoder_set_max(&e, 0);
	w.n = 0;
	put(&e, &w, ":method", "GET", HPACK_INCREMENTAL);
	got_reset(&g);
	CHECK_EQ_U64(hpack_decode_block(&d, w.b, w.n, collect, &g), 0);
	CHECK(!d.unknown_tail);
	CHECK_EQ_U64(d.nentries, 0);
	CHECK_EQ_U64(decode_hex(&d, "be", &g), -1);
	got_reset(&g);
	hpack_encoder_free(&e);
	hpack_decoder_free(&d);
}

static void test_size_updates(void)
{
	struct hpack_decoder d;
	struct got g = { .n = 0 };

	/* an unknown bound: any size, clamped, and what was cut off is unknown */
	hpack_decoder_init(&d, true);
	CHECK_EQ_U64(decode_hex(&d, "3fe1ff7f", &g), 0); /* 2 MiB */
	CHECK_EQ_U64(d.max_size, 1 << 20);
	CHECK(d.unknown_tail);
	/* two updates at the start are fine; 0 leaves nothing unknown */
	CHECK_EQ_U64(decode_hex(&d, "20 3fe11f 82", &g), 0);
	CHECK(!d.unknown_tail);
	CHECK_EQ_U64(d.max_size, 4096);
	hpack_decoder_free(&d);

	hpack_decoder_init(&d, false);
	hpack_decoder_settings(&d, 100);
	CHECK_EQ_U64(decode_hex(&d, "3f45", &g), 0);
	CHECK_EQ_U64(d.max_size, 100);
	CHECK_EQ_U64(decode_hex(&d, "3f46", &g), -1);
	got_reset(&g);
	hpack_decoder_free(&d);
}

int main(void)
{
	test_c1_integers();
	test_c2_fields();
	test_c3_to_c6();
	test_huffman();
	test_malformed();
	test_roundtrip();
	test_encoder_limits();
	test_joined_late();
	test_size_updates();
	return unit_result("test_hpack");
}
