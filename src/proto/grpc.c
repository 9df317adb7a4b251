/* grpc.c - gRPC length-prefixed messages: reassembly, inflation, status codes, grpc-message. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "proto/grpc.h"

/* The budget when no proto_ctx is given (tests, tools). */
static const struct msg_limits grpc_default_lim = {
	.body_max = 64 * 1024,
	.grpc_max = 64,
	.header_bytes_max = 16 * 1024,
};

/* Inflated bytes produced at most per message: a kilobyte of deflate can
 * announce a megabyte, so a zip bomb costs bounded work. */
#define GRPC_INFLATE_WORK_MAX (64u << 20)

static const char *const grpc_status_names[] = {
	"OK",
	"CANCELLED",
	"UNKNOWN",
	"INVALID_ARGUMENT",
	"DEADLINE_EXCEEDED",
	"NOT_FOUND",
	"ALREADY_EXISTS",
	"PERMISSION_DENIED",
	"RESOURCE_EXHAUSTED",
	"FAILED_PRECONDITION",
	"ABORTED",
	"OUT_OF_RANGE",
	"UNIMPLEMENTED",
	"INTERNAL",
	"UNAVAILABLE",
	"DATA_LOSS",
	"UNAUTHENTICATED",
};

#define GRPC_NSTATUS (int)(sizeof(grpc_status_names) / sizeof(grpc_status_names[0]))

static const struct msg_limits *grpc_lim(const struct proto_ctx *ctx)
{
	return ctx && ctx->lim ? ctx->lim : &grpc_default_lim;
}

enum grpc_encoding grpc_encoding_parse(const char *v)
{
	if (!v || !strcasecmp(v, "identity"))
		return GRPC_IDENTITY;
	if (!strcasecmp(v, "gzip"))
		return GRPC_GZIP;
	if (!strcasecmp(v, "deflate"))
		return GRPC_DEFLATE;
	return GRPC_UNSUPPORTED;
}

void grpc_parser_init(struct grpc_parser *g, enum grpc_encoding enc)
{
	*g = (struct grpc_parser){ .enc = enc };
}

void grpc_parser_free(struct grpc_parser *g)
{
	free(g->cur.data);
	grpc_parser_init(g, g->enc);
}

/* Grows the buffer of the message being read to hold need bytes, by
 * doubling, never past the budget nor the announced length. */
static bool grpc_grow(struct grpc_parser *g, uint32_t need, uint32_t cap)
{
	uint64_t alloc = g->data_alloc ? g->data_alloc : 256;
	uint8_t *d;

	while (alloc < need)
		alloc *= 2;
	if (alloc > cap)
		alloc = cap;
	if (alloc > g->cur.len)
		alloc = g->cur.len;
	d = realloc(g->cur.data, alloc);
	if (!d)
		return false;
	g->cur.data = d;
	g->data_alloc = (uint32_t)alloc;
	return true;
}

/* Keeps what fits the budget; after a gap nothing more, as it would not line up. */
static void grpc_store(struct grpc_parser *g, const uint8_t *p, size_t n, uint32_t cap)
{
	struct grpc_msg *c = &g->cur;

	if (c->incomplete || c->data_len >= cap)
		return;
	if (n > cap - c->data_len)
		n = cap - c->data_len;
	if (c->data_len + n > g->data_alloc && !grpc_grow(g, c->data_len + (uint32_t)n, cap))
		return;
	memcpy(c->data + c->data_len, p, n);
	c->data_len += (uint32_t)n;
}

/* zlib stream header (RFC 1950): deflate method and check bits. */
static bool grpc_zlib_header(const uint8_t *p, uint32_t n)
{
	return n >= 2 && (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 && ((p[0] << 8) | p[1]) % 31 == 0;
}

static int grpc_window_bits(const struct grpc_msg *c, enum grpc_encoding enc)
{
	if (enc == GRPC_GZIP)
		return 16 + MAX_WBITS;
	/* gRPC's "deflate" is the zlib format, but some peers send raw deflate */
	return grpc_zlib_header(c->data, c->data_len) ? MAX_WBITS : -MAX_WBITS;
}

/* Makes room in out for more inflated bytes, up to cap. */
static bool grpc_out_grow(uint8_t **out, size_t *alloc, size_t min, uint32_t cap)
{
	size_t n = *alloc ? *alloc * 2 : min;
	uint8_t *d;

	if (n > cap)
		n = cap;
	d = realloc(*out, n);
	if (!d)
		return false;
	*out = d;
	*alloc = n;
	return true;
}

/* The first guess at the inflated size is often too large; the store counts data_len only. */
static void grpc_shrink(uint8_t **out, size_t n)
{
	uint8_t *d;

	if (!n) {
		free(*out);
		*out = NULL;
		return;
	}
	d = realloc(*out, n);
	if (d)
		*out = d;
}

/* Inflates the whole captured message c, keeping cap bytes of the output and
 * counting the rest; false when the stream is invalid or truncated. */
static bool grpc_inflate(struct grpc_msg *c, enum grpc_encoding enc, uint32_t cap)
{
	uint8_t discard[16384], *out = NULL;
	size_t alloc = 0, kept;
	z_stream z = { .next_in = c->data, .avail_in = c->data_len };
	int ret = Z_MEM_ERROR;

	if (inflateInit2(&z, grpc_window_bits(c, enc)) != Z_OK)
		return false;
	do {
		if (z.total_out < cap) {
			if (z.total_out == alloc &&
			    !grpc_out_grow(&out, &alloc, 4 * (size_t)c->data_len + 256, cap))
				break;
			z.next_out = out + z.total_out;
			z.avail_out = (uInt)(alloc - z.total_out);
		} else {
			z.next_out = discard;
			z.avail_out = sizeof(discard);
		}
		ret = inflate(&z, Z_NO_FLUSH);
	} while (ret == Z_OK && z.total_out < GRPC_INFLATE_WORK_MAX);
	inflateEnd(&z);
	if (ret != Z_STREAM_END && !(ret == Z_OK && z.total_out >= GRPC_INFLATE_WORK_MAX)) {
		free(out);
		return false;
	}
	kept = z.total_out < alloc ? z.total_out : alloc;
	if (kept < alloc)
		grpc_shrink(&out, kept);
	free(c->data);
	c->data = out;
	c->data_len = (uint32_t)kept;
	c->full_len = z.total_out;
	c->inflated = true;
	c->incomplete = ret != Z_STREAM_END;
	return true;
}

/* A lost "grpc-encoding" (HPACK entry never seen) still lets gzip show. */
static enum grpc_encoding grpc_sniff(const struct grpc_msg *c, enum grpc_encoding enc)
{
	if (enc == GRPC_IDENTITY && c->data_len >= 2 && c->data[0] == 0x1f && c->data[1] == 0x8b)
		return GRPC_GZIP;
	return enc;
}

static void grpc_complete(struct grpc_parser *g, struct message *m, const struct proto_ctx *ctx)
{
	struct grpc_msg *c = &g->cur;
	const struct msg_limits *lim = grpc_lim(ctx);
	enum grpc_encoding enc = grpc_sniff(c, g->enc);

	if (c->compressed && !c->incomplete && c->data_len == c->len &&
	    (enc == GRPC_GZIP || enc == GRPC_DEFLATE) && !grpc_inflate(c, enc, lim->body_max) &&
	    ctx && ctx->cnt)
		ctx->cnt->inflate_errors++;
	msg_add_grpc(m, c, lim);
	g->cur = (struct grpc_msg){ 0 };
	g->data_alloc = 0;
	g->in_msg = false;
	g->prefix_have = 0;
}

static void grpc_lose_sync(struct grpc_parser *g, struct message *m)
{
	g->lost_sync = true;
	m->flags |= MSG_F_GAP;
}

/* Takes prefix bytes from p; returns where the message bytes start. */
static const uint8_t *grpc_prefix(struct grpc_parser *g, struct message *m, const uint8_t *p,
				  const uint8_t *end, const struct proto_ctx *ctx)
{
	size_t k = sizeof(g->prefix) - g->prefix_have;
	const uint8_t *b = g->prefix;

	if (k > (size_t)(end - p))
		k = (size_t)(end - p);
	memcpy(g->prefix + g->prefix_have, p, k);
	g->prefix_have += (uint8_t)k;
	if (g->prefix_have < sizeof(g->prefix))
		return p + k;
	if (b[0] > 1) {
		/* only 0 and 1 are defined: not gRPC framing, or out of step */
		grpc_lose_sync(g, m);
		m->flags |= MSG_F_DECODE_ERROR;
		if (ctx && ctx->cnt)
			ctx->cnt->decode_errors++;
		return p + k;
	}
	g->cur.compressed = b[0];
	g->cur.len = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4];
	g->cur.full_len = g->cur.len;
	g->need = g->cur.len;
	g->in_msg = true;
	return p + k;
}

void grpc_feed(struct grpc_parser *g, struct message *m, const uint8_t *p, size_t n,
	       const struct proto_ctx *ctx)
{
	const uint8_t *end = p + n;
	uint32_t cap = grpc_lim(ctx)->body_max;

	for (;;) {
		/* also a message a gap ended, even when that gap lost the framing */
		if (g->in_msg && !g->need) {
			grpc_complete(g, m, ctx);
			continue;
		}
		if (g->lost_sync || p == end)
			return;
		if (!g->in_msg) {
			p = grpc_prefix(g, m, p, end, ctx);
			continue;
		}
		n = (size_t)(end - p) < g->need ? (size_t)(end - p) : g->need;
		grpc_store(g, p, n, cap);
		g->need -= n;
		p += n;
	}
}

void grpc_gap(struct grpc_parser *g, struct message *m, uint64_t n)
{
	uint64_t k;

	if (g->lost_sync || !n)
		return;
	if (g->in_msg) {
		k = n < g->need ? n : g->need;
		g->need -= k;
		g->cur.incomplete = true;
		n -= k;
	}
	/* a message the gap ended is added by the next feed or finish, which know the budget */
	if (n)
		grpc_lose_sync(g, m);
}

void grpc_finish(struct grpc_parser *g, struct message *m, const struct proto_ctx *ctx)
{
	if (g->in_msg) {
		g->cur.incomplete |= g->need > 0;
		grpc_complete(g, m, ctx);
	} else if (g->prefix_have) {
		m->flags |= MSG_F_GAP;
	}
	grpc_parser_free(g);
}

const char *grpc_status_name(int code)
{
	return code >= 0 && code < GRPC_NSTATUS ? grpc_status_names[code] : NULL;
}

int grpc_status_parse(const char *s)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	if (*s >= '0' && *s <= '9') {
		errno = 0;
		v = strtol(s, &end, 10);
		return *end || errno || v > INT_MAX ? -1 : (int)v;
	}
	for (int i = 0; i < GRPC_NSTATUS; i++)
		if (!strcasecmp(s, grpc_status_names[i]))
			return i;
	return -1;
}

static int grpc_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *grpc_percent_decode(const char *s, size_t n)
{
	char *d = malloc(n + 1), *o = d;
	int hi, lo;

	if (!d)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		/* %00 stays as it is: a NUL would cut the string */
		if (s[i] == '%' && i + 2 < n && (hi = grpc_hex(s[i + 1])) >= 0 &&
		    (lo = grpc_hex(s[i + 2])) >= 0 && (hi | lo)) {
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return d;
}
