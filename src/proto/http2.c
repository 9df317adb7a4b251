/* http2.c - HTTP/2 decoder (RFC 9113): frames of both directions parsed across any split, header
 * blocks through per-direction HPACK state, streams turned into requests and responses (gRPC on
 * top), resets, goaways, and resynchronisation after gaps and late joins. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/grpc.h"
#include "proto/hpack.h"
#include "proto/http2.h"

#define H2_PLAUSIBLE_LEN 16384 /* the default SETTINGS_MAX_FRAME_SIZE */
#define H2_BLOCK_MAX (256u << 10) /* a longer header block is dropped */
#define H2_BLOCK_KEEP (16u << 10) /* a block buffer grown past this is freed after use */
#define H2_STREAMS_MAX 4096
#define H2_PARTIAL_NS 1000000000ull
#define H2_SETTINGS_HEADER_TABLE_SIZE 1

/* The flags each type defines. Receivers ignore others, but a peer does not
 * set them, so they tell garbage from frames when looking for framing. */
static const uint8_t h2_type_flags[H2_NTYPES] = {
	[H2_DATA] = H2_END_STREAM | H2_PADDED,
	[H2_HEADERS] = H2_END_STREAM | H2_END_HEADERS | H2_PADDED | H2_PRIO,
	[H2_SETTINGS] = H2_ACK,
	[H2_PUSH_PROMISE] = H2_END_HEADERS | H2_PADDED,
	[H2_PING] = H2_ACK,
	[H2_CONTINUATION] = H2_END_HEADERS,
};

enum h2_state {
	ST_UNSYNC, /* framing unknown: the start of each feed is tried */
	ST_START, /* the client preface may come */
	ST_HDR,
	ST_PAYLOAD,
};

/* the parts of a frame payload, each possibly empty */
enum h2_phase {
	PH_PRE, /* pad length, priority, promised stream, fixed control fields */
	PH_BODY, /* data, header block fragment, settings, debug data */
	PH_PAD, /* padding, and payloads that are skipped */
};

enum h2_half_state { HALF_NONE, HALF_OPEN, HALF_DONE };

struct h2_frame {
	uint32_t len;
	uint32_t sid;
	uint8_t type;
	uint8_t flags;
	bool r;
};

/* one direction of one stream: the message it carries */
struct h2_half {
	struct message *m; /* the open record */
	struct grpc_parser g;
	uint8_t state;
	bool grpc;
	bool fresh; /* the record after a PARTIAL one: begins at its first frame */
	uint32_t part;
};

struct h2_stream {
	uint32_t id;
	bool req_seen; /* request fields known (a request or a PUSH_PROMISE) */
	bool path_unknown;
	bool grpc;
	bool resp_done;
	struct h2_stream *older, *newer;
	struct h2_half h[2]; /* by direction: [out] */
	uint64_t req_id; /* the request record, for pairing; 0 when not seen */
	uint64_t req_start;
	/* the request's, copied into its response and reset records: NULL
	 * when absent, else in the one allocation req_strs */
	const char *method, *path, *authority;
	char *req_strs;
};

struct h2_dir {
	uint8_t st;
	uint8_t phase;
	uint8_t preface_have;
	uint8_t hdr_have;
	uint8_t hdr[H2_HDR_LEN];
	/* the frame being read */
	uint8_t type, flags;
	uint8_t pre_need, pre_have;
	uint8_t pre[8]; /* also one SETTINGS entry (6 bytes) at a time */
	bool lost; /* a gap hit the frame's settings */
	uint32_t sid;
	uint32_t left; /* payload bytes still to come */
	uint32_t body_left, body_total;
	struct h2_stream *fs; /* a DATA frame's stream */
	struct message *goaway;
	/* the header block being gathered (HEADERS or PUSH_PROMISE + CONTINUATION) */
	bool in_block;
	bool blk_lost;
	uint8_t blk_type, blk_flags;
	uint32_t blk_sid, blk_promised;
	uint64_t blk_ts;
	uint8_t *blk;
	uint32_t blk_len, blk_cap;
	/* a whole block in the caller's buffer, valid until the frame's body ends */
	const uint8_t *blk_direct;
	struct hpack_decoder hp; /* models the encoder of this direction's sender */
};

struct h2_conn {
	struct proto_ctx ctx;
	enum h2_side side;
	struct h2_dir d[2]; /* [out] */
	struct h2_stream **tab; /* open addressing, linear probing */
	uint32_t tab_bits;
	uint32_t nstreams;
	struct h2_stream *oldest, *newest;
};

/* fields gathered while a header block is decoded */
struct h2_fields {
	struct h2_conn *c;
	struct message *m; /* NULL: decoded only to keep the HPACK state */
	uint32_t hflags; /* MSG_HDR_TRAILER in trailers */
	bool pseudo; /* pseudo-header fields allowed (not in trailers) */
	bool grpc_status; /* grpc-status/message taken (trailers, trailers-only response) */
	bool method, status, path, path_unknown, name_unknown, lost, failed;
	bool ctype, grpc;
	enum grpc_encoding enc;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void h2_frame_header(uint8_t *out, uint32_t len, uint8_t type, uint8_t flags, uint32_t stream)
{
	out[0] = len >> 16;
	out[1] = len >> 8;
	out[2] = len;
	out[3] = type;
	out[4] = flags;
	out[5] = stream >> 24;
	out[6] = stream >> 16;
	out[7] = stream >> 8;
	out[8] = stream;
}

static struct h2_frame frame_parse(const uint8_t *p)
{
	return (struct h2_frame){
		.len = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2],
		.type = p[3],
		.flags = p[4],
		.sid = be32(p + 5) & 0x7fffffff,
		.r = p[5] & 0x80,
	};
}

/* Rules whose breach is a connection error for the peer: the framing read is wrong. */
static bool frame_valid(const struct h2_frame *f)
{
	switch (f->type) {
	case H2_DATA:
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
	case H2_CONTINUATION:
		return f->sid;
	case H2_PRIORITY:
		return f->sid && f->len == 5;
	case H2_RST_STREAM:
		return f->sid && f->len == 4;
	case H2_SETTINGS:
		return !f->sid && f->len % 6 == 0 && !((f->flags & H2_ACK) && f->len);
	case H2_PING:
		return !f->sid && f->len == 8;
	case H2_GOAWAY:
		return !f->sid && f->len >= 8;
	case H2_WINDOW_UPDATE:
		return f->len == 4;
	}
	return true; /* unknown types are ignored */
}

static bool frame_plausible(const struct h2_frame *f)
{
	return f->type < H2_NTYPES && !(f->flags & ~h2_type_flags[f->type]) && !f->r &&
	       frame_valid(f);
}

static bool is_preface(const uint8_t *p, size_t n)
{
	return n >= 4 && !memcmp(p, H2_PREFACE, n < H2_PREFACE_LEN ? n : H2_PREFACE_LEN);
}

bool h2_frames_plausible(const uint8_t *p, size_t n)
{
	size_t off = 0;

	if (is_preface(p, n))
		return true;
	if (n < H2_HDR_LEN)
		return false;
	/* a few trailing bytes too short for a header are let pass */
	while (n - off >= H2_HDR_LEN) {
		struct h2_frame f = frame_parse(p + off);

		if (!frame_plausible(&f))
			return false;
		off += H2_HDR_LEN + f.len;
		/* larger than the default maximum: only when the call holds all of it */
		if (f.len > H2_PLAUSIBLE_LEN && off > n)
			return false;
		if (off >= n)
			break;
	}
	return true;
}

/* ---- stream table ---- */

static uint32_t tab_home(const struct h2_conn *c, uint32_t id)
{
	return (id * 0x9e3779b1u) >> (32 - c->tab_bits);
}

static struct h2_stream *stream_find(const struct h2_conn *c, uint32_t id)
{
	uint32_t mask = (1u << c->tab_bits) - 1;

	for (uint32_t i = tab_home(c, id);; i = (i + 1) & mask) {
		struct h2_stream *s = c->tab[i];

		if (!s || s->id == id)
			return s;
	}
}

static void tab_put(struct h2_conn *c, struct h2_stream *s)
{
	uint32_t mask = (1u << c->tab_bits) - 1, i = tab_home(c, s->id);

	while (c->tab[i])
		i = (i + 1) & mask;
	c->tab[i] = s;
}

/* Keeps the load at most one half. */
static bool tab_reserve(struct h2_conn *c)
{
	struct h2_stream **old = c->tab;
	uint32_t n = 1u << c->tab_bits;

	if ((c->nstreams + 1) * 2 <= n)
		return true;
	c->tab = calloc((size_t)n * 2, sizeof(*c->tab));
	if (!c->tab) {
		c->tab = old;
		return false;
	}
	c->tab_bits++;
	for (uint32_t i = 0; i < n; i++)
		if (old[i])
			tab_put(c, old[i]);
	free(old);
	return true;
}

/* Backward-shift deletion: no tombstones, so lookups stay short. */
static void tab_del(struct h2_conn *c, const struct h2_stream *s)
{
	uint32_t mask = (1u << c->tab_bits) - 1, i = tab_home(c, s->id), j;

	while (c->tab[i] != s)
		i = (i + 1) & mask;
	c->tab[i] = NULL;
	for (j = (i + 1) & mask; c->tab[j]; j = (j + 1) & mask) {
		uint32_t k = tab_home(c, c->tab[j]->id);

		/* the entry at j may stay when its home lies cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		c->tab[i] = c->tab[j];
		c->tab[j] = NULL;
		i = j;
	}
}

static void half_free(struct h2_half *h)
{
	msg_free(h->m);
	h->m = NULL;
	grpc_parser_free(&h->g);
}

static void stream_free(struct h2_conn *c, struct h2_stream *s)
{
	tab_del(c, s);
	if (s->older)
		s->older->newer = s->newer;
	else
		c->oldest = s->newer;
	if (s->newer)
		s->newer->older = s->older;
	else
		c->newest = s->older;
	for (int i = 0; i < 2; i++) {
		if (c->d[i].fs == s)
			c->d[i].fs = NULL;
		half_free(&s->h[i]);
	}
	free(s->req_strs);
	free(s);
	c->nstreams--;
}

/* ---- records ---- */

static void copy_str(char **dst, const char *src)
{
	if (src)
		msg_set_str(dst, src, strlen(src));
}

static void rec_emit(struct h2_conn *c, const struct h2_stream *s, struct message *m)
{
	if (m->kind != MSG_REQUEST && s && s->req_id && m->end_ns >= s->req_start)
		m->latency_ns = m->end_ns - s->req_start;
	proto_emit(&c->ctx, m);
}

static void half_touch(struct h2_half *h, uint64_t ts)
{
	if (h->fresh) {
		h->m->start_ns = ts;
		h->fresh = false;
	}
	h->m->end_ns = ts;
}

/* The record of an open half is emitted with flags; the half is done. */
static void half_finish(struct h2_conn *c, struct h2_stream *s, struct h2_half *h, uint32_t flags,
			uint32_t err)
{
	struct message *m = h->m;

	if (h->grpc)
		grpc_finish(&h->g, m, &c->ctx);
	m->flags |= flags;
	if (flags & MSG_F_RESET)
		m->error_code = err;
	m->part = h->part;
	if (m->kind == MSG_RESPONSE)
		s->resp_done = true;
	h->m = NULL;
	h->state = HALF_DONE;
	rec_emit(c, s, m);
}

/* Emits what a long-lived gRPC stream half holds so far; a new record of
 * the same message continues (part + 1). */
static void half_partial(struct h2_conn *c, struct h2_stream *s, struct h2_half *h, uint64_t ts)
{
	struct message *m = h->m, *n = proto_msg_new(&c->ctx, m->proto, m->kind, m->out, ts);

	if (!n)
		return;
	n->stream = m->stream;
	n->pair_id = m->pair_id;
	n->status = m->status;
	n->flags = m->flags & MSG_F_PATH_UNKNOWN;
	copy_str(&n->method, m->method);
	copy_str(&n->path, m->path);
	copy_str(&n->authority, m->authority);
	copy_str(&n->scheme, m->scheme);
	m->flags |= MSG_F_PARTIAL;
	m->part = h->part++;
	rec_emit(c, s, m);
	h->m = n;
	h->fresh = true;
}

static void half_partial_due(struct h2_conn *c, struct h2_stream *s, struct h2_half *h,
			     uint64_t now)
{
	if (h->state == HALF_OPEN && h->grpc && !h->fresh && h->m->grpc_total &&
	    now >= h->m->start_ns && now - h->m->start_ns >= H2_PARTIAL_NS)
		half_partial(c, s, h, now);
}

/* A stream is freed once its response ended (or both directions did) and
 * nothing is open. */
static void stream_done_check(struct h2_conn *c, struct h2_stream *s)
{
	const struct h2_half *a = &s->h[0], *b = &s->h[1];

	if (a->state == HALF_OPEN || b->state == HALF_OPEN)
		return;
	if (s->resp_done || (a->state == HALF_DONE && b->state == HALF_DONE))
		stream_free(c, s);
}

static void half_end(struct h2_conn *c, struct h2_stream *s, bool out, uint64_t ts)
{
	struct h2_half *h = &s->h[out];

	half_touch(h, ts);
	half_finish(c, s, h, 0, 0);
	stream_done_check(c, s);
}

/* Open records emitted with flags, then the stream freed. */
static void stream_close(struct h2_conn *c, struct h2_stream *s, uint32_t flags, uint32_t err)
{
	for (int i = 0; i < 2; i++)
		if (s->h[i].state == HALF_OPEN)
			half_finish(c, s, &s->h[i], flags, err);
	stream_free(c, s);
}

static struct h2_stream *stream_get(struct h2_conn *c, uint32_t id)
{
	struct h2_stream *s = stream_find(c, id);

	if (s)
		return s;
	if (c->nstreams >= H2_STREAMS_MAX) {
		c->ctx.cnt->decode_errors++;
		stream_close(c, c->oldest, MSG_F_INCOMPLETE, 0);
	}
	if (!tab_reserve(c))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->id = id;
	tab_put(c, s);
	s->older = c->newest;
	if (c->newest)
		c->newest->newer = s;
	else
		c->oldest = s;
	c->newest = s;
	c->nstreams++;
	return s;
}

/* ---- header blocks ---- */

/* HTTP/2 field names are lowercase (RFC 9113 8.2.1): compared exactly. */
static bool name_is(const char *name, size_t nlen, const char *lit, size_t llen)
{
	return nlen == llen && !memcmp(name, lit, llen);
}

static int status_parse(const char *v, size_t n)
{
	if (!v || n != 3 || v[0] < '1' || v[0] > '9' || v[1] < '0' || v[1] > '9' || v[2] < '0' ||
	    v[2] > '9')
		return -1;
	return (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
}

static void field_pseudo(struct h2_fields *f, const char *name, size_t nlen, const char *value,
			 size_t vlen)
{
	struct message *m = f->m;

	if (name_is(name, nlen, ":path", 5)) {
		f->path = true;
		f->path_unknown |= !value;
		if (m)
			msg_set_str(&m->path, value, vlen);
	} else if (name_is(name, nlen, ":method", 7)) {
		f->method = true;
		if (m)
			msg_set_str(&m->method, value, vlen);
	} else if (name_is(name, nlen, ":status", 7)) {
		f->status = true;
		if (m)
			m->status = status_parse(value, vlen);
	} else if (m && name_is(name, nlen, ":authority", 10)) {
		msg_set_str(&m->authority, value, vlen);
	} else if (m && name_is(name, nlen, ":scheme", 7)) {
		msg_set_str(&m->scheme, value, vlen);
	}
}

/* The fields that steer decoding; all regular fields are also kept as headers. */
static void field_regular(struct h2_fields *f, const char *name, size_t nlen, const char *value,
			  size_t vlen)
{
	struct message *m = f->m;

	if (!value)
		return;
	if (name_is(name, nlen, "content-type", 12)) {
		f->ctype = true;
		f->grpc = vlen >= 16 && !strncasecmp(value, "application/grpc", 16);
	} else if (name_is(name, nlen, "grpc-encoding", 13)) {
		f->enc = grpc_encoding_parse(value);
	} else if (f->grpc_status && m && name_is(name, nlen, "grpc-status", 11)) {
		m->grpc_status = grpc_status_parse(value);
	} else if (f->grpc_status && m && name_is(name, nlen, "grpc-message", 12)) {
		free(m->grpc_message);
		m->grpc_message = grpc_percent_decode(value, vlen);
	}
}

static void h2_field(void *arg, const char *name, size_t nlen, const char *value, size_t vlen,
		     unsigned int flags)
{
	struct h2_fields *f = arg;
	uint32_t hflags = f->hflags;

	if (flags & (HPACK_NAME_UNKNOWN | HPACK_VALUE_UNKNOWN))
		f->c->ctx.cnt->unknown_headers++;
	if (flags & HPACK_NAME_UNKNOWN)
		hflags |= MSG_HDR_NAME_UNKNOWN;
	if (flags & HPACK_VALUE_UNKNOWN)
		hflags |= MSG_HDR_VALUE_UNKNOWN;
	if (!name) {
		/* maybe a pseudo-header field: :path then counts as unknown */
		f->name_unknown = true;
	} else if (name[0] == ':') {
		if (f->pseudo)
			field_pseudo(f, name, nlen, value, vlen);
		return;
	} else {
		field_regular(f, name, nlen, value, vlen);
	}
	if (f->m)
		msg_add_header(f->m, name, nlen, value, vlen, hflags, f->c->ctx.lim);
}

/* A request's :path is unknown when it was indexed from an unseen entry,
 * or could have been: no :path decoded while some field (or the block) was
 * not. */
static bool fields_path_unknown(const struct h2_fields *f)
{
	return f->path_unknown || (!f->path && (f->name_unknown || f->lost || f->failed));
}

static void block_decode(struct h2_conn *c, struct h2_dir *d, const uint8_t *b, size_t n,
			 struct h2_fields *f)
{
	if (d->blk_lost) {
		hpack_decoder_lost_block(&d->hp);
		f->lost = true;
		if (f->m)
			f->m->flags |= MSG_F_GAP;
		return;
	}
	if (hpack_decode_block(&d->hp, b, n, h2_field, f) < 0) {
		c->ctx.cnt->decode_errors++;
		f->failed = true;
		if (f->m)
			f->m->flags |= MSG_F_DECODE_ERROR;
	}
}

static bool dir_is_client(const struct h2_conn *c, bool out)
{
	return c->side == (out ? H2_SIDE_OUT_IS_CLIENT : H2_SIDE_IN_IS_CLIENT);
}

static void side_learn(struct h2_conn *c, bool out, bool client)
{
	if (c->side == H2_SIDE_UNKNOWN)
		c->side = out == client ? H2_SIDE_OUT_IS_CLIENT : H2_SIDE_IN_IS_CLIENT;
}

/* Request or response: the side when known, else the pseudo-header fields
 * (which teach the side), else the stream's other direction. */
static enum msg_kind half_kind(struct h2_conn *c, const struct h2_stream *s, bool out,
			       const struct h2_fields *f)
{
	if (c->side != H2_SIDE_UNKNOWN)
		return dir_is_client(c, out) ? MSG_REQUEST : MSG_RESPONSE;
	if (f->method || f->status) {
		side_learn(c, out, f->method);
		return f->method ? MSG_REQUEST : MSG_RESPONSE;
	}
	return s->req_seen && s->h[!out].state != HALF_NONE ? MSG_RESPONSE : MSG_REQUEST;
}

static size_t str_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* Copies src to *o and points *dst at the copy. */
static void str_place(const char **dst, const char *src, char **o)
{
	size_t n = str_size(src);

	if (!n)
		return;
	memcpy(*o, src, n);
	*dst = *o;
	*o += n;
}

static void request_keep(struct h2_stream *s, const struct message *m, bool path_unknown)
{
	size_t n = str_size(m->method) + str_size(m->path) + str_size(m->authority);
	char *o;

	s->req_seen = true;
	s->path_unknown = path_unknown;
	free(s->req_strs);
	s->req_strs = o = n ? malloc(n) : NULL;
	s->method = s->path = s->authority = NULL;
	if (!o)
		return;
	str_place(&s->method, m->method, &o);
	str_place(&s->path, m->path, &o);
	str_place(&s->authority, m->authority, &o);
}

static void request_fields(struct h2_stream *s, struct message *m, const struct h2_fields *f)
{
	if (fields_path_unknown(f)) {
		m->flags |= MSG_F_PATH_UNKNOWN;
		msg_set_str(&m->path, NULL, 0);
	}
	request_keep(s, m, m->flags & MSG_F_PATH_UNKNOWN);
	s->req_id = m->id;
	s->req_start = m->start_ns;
}

/* A response or reset carries its request's identity. */
static void request_copy(const struct h2_stream *s, struct message *m)
{
	if (!s->req_seen)
		return;
	m->pair_id = s->req_id;
	copy_str(&m->method, s->method);
	copy_str(&m->path, s->path);
	copy_str(&m->authority, s->authority);
	if (s->path_unknown)
		m->flags |= MSG_F_PATH_UNKNOWN;
}

/* The first header block of a stream direction begins its message. */
static void headers_open(struct h2_conn *c, bool out, struct h2_stream *s, const uint8_t *b,
			 size_t n, uint64_t ts)
{
	struct h2_dir *d = &c->d[out];
	struct h2_half *h = &s->h[out];
	struct h2_fields f = {
		.c = c,
		.pseudo = true,
		.grpc_status = d->blk_flags & H2_END_STREAM,
		.m = proto_msg_new(&c->ctx, MSG_H2, MSG_REQUEST, out, d->blk_ts),
	};
	struct message *m = f.m;
	enum msg_kind kind;

	block_decode(c, d, b, n, &f);
	kind = half_kind(c, s, out, &f);
	if (!m)
		return;
	m->kind = kind;
	m->stream = s->id;
	m->end_ns = ts;
	/* 1xx informational responses are not records: the final one follows */
	if (kind == MSG_RESPONSE && m->status >= 100 && m->status < 200) {
		msg_free(m);
		return;
	}
	if (kind == MSG_REQUEST)
		request_fields(s, m, &f);
	else
		request_copy(s, m);
	/* a response without content-type (some trailers-only ones) follows its request */
	if (f.grpc || (s->grpc && !f.ctype)) {
		m->proto = MSG_GRPC;
		h->grpc = s->grpc = true;
		grpc_parser_init(&h->g, f.enc);
	}
	h->m = m;
	h->state = HALF_OPEN;
}

static void headers_done(struct h2_conn *c, bool out, const uint8_t *b, size_t n, uint64_t ts)
{
	struct h2_dir *d = &c->d[out];
	struct h2_stream *s = stream_get(c, d->blk_sid);
	struct h2_fields f = { .c = c, .hflags = MSG_HDR_TRAILER, .grpc_status = true };
	struct h2_half *h;

	if (!s) {
		block_decode(c, d, b, n, &f);
		return;
	}
	h = &s->h[out];
	if (h->state == HALF_NONE) {
		headers_open(c, out, s, b, n, ts);
	} else if (h->state == HALF_OPEN) {
		f.m = h->m;
		block_decode(c, d, b, n, &f);
		half_touch(h, ts);
	} else {
		/* a header block after END_STREAM: kept only for the HPACK state */
		c->ctx.cnt->decode_errors++;
		block_decode(c, d, b, n, &f);
	}
	if ((d->blk_flags & H2_END_STREAM) && h->state == HALF_OPEN)
		half_end(c, s, out, ts);
}

/* The promised request gives the pushed response its identity; no record
 * of its own (the server sent it, it has no id to pair with). */
static void promise_done(struct h2_conn *c, bool out, const uint8_t *b, size_t n)
{
	struct h2_dir *d = &c->d[out];
	struct h2_fields f = { .c = c, .pseudo = true, .m = msg_new(MSG_H2, MSG_REQUEST, out) };
	struct h2_stream *s;

	side_learn(c, out, false);
	block_decode(c, d, b, n, &f);
	if (f.m && d->blk_promised && (s = stream_get(c, d->blk_promised)) && !s->req_seen)
		request_keep(s, f.m, fields_path_unknown(&f));
	msg_free(f.m);
}

static void block_done(struct h2_conn *c, bool out, uint64_t ts)
{
	struct h2_dir *d = &c->d[out];
	const uint8_t *b = d->blk_direct ? d->blk_direct : d->blk;
	size_t n = d->blk_direct ? d->body_total : d->blk_len;

	d->in_block = false;
	if (d->blk_type == H2_PUSH_PROMISE)
		promise_done(c, out, b, n);
	else
		headers_done(c, out, b, n, ts);
	d->blk_direct = NULL;
	d->blk_len = 0;
	if (d->blk_cap > H2_BLOCK_KEEP) {
		free(d->blk);
		d->blk = NULL;
		d->blk_cap = 0;
	}
}

/* A block cut short (a frame other than CONTINUATION, lost framing): its
 * message is flagged and the HPACK state marked partly unknown. */
static void block_abort(struct h2_conn *c, bool out, uint64_t ts)
{
	c->d[out].blk_lost = true;
	block_done(c, out, ts);
}

static void block_begin(struct h2_dir *d, uint64_t ts)
{
	d->in_block = true;
	d->blk_lost = false;
	d->blk_type = d->type;
	d->blk_flags = d->flags;
	d->blk_sid = d->sid;
	d->blk_promised = 0;
	d->blk_ts = ts;
	d->blk_len = 0;
}

static void block_chunk(struct h2_conn *c, struct h2_dir *d, const uint8_t *p, uint32_t k)
{
	uint32_t cap;
	uint8_t *b;

	if (d->blk_lost)
		return;
	/* the common case: a whole block in one frame and one call, not copied */
	if (!d->blk_len && k == d->body_total && (d->flags & H2_END_HEADERS)) {
		d->blk_direct = p;
		return;
	}
	if (k > H2_BLOCK_MAX - d->blk_len) {
		c->ctx.cnt->decode_errors++;
		d->blk_lost = true;
		return;
	}
	if (d->blk_len + k > d->blk_cap) {
		cap = d->blk_cap ? d->blk_cap : 1024;
		while (cap < d->blk_len + k)
			cap *= 2;
		if (cap > H2_BLOCK_MAX)
			cap = H2_BLOCK_MAX;
		b = realloc(d->blk, cap);
		if (!b) {
			d->blk_lost = true;
			return;
		}
		d->blk = b;
		d->blk_cap = cap;
	}
	memcpy(d->blk + d->blk_len, p, k);
	d->blk_len += k;
}

/* ---- control frames ---- */

/* A SETTINGS_HEADER_TABLE_SIZE bounds the table of the sender's HPACK
 * decoder, that is of the peer's encoder: the header blocks that go the
 * other way, which the other direction's decoder models. */
static void settings_chunk(struct h2_conn *c, bool out, const uint8_t *p, uint32_t k)
{
	struct h2_dir *d = &c->d[out];

	while (k && !d->lost) {
		uint32_t t = 6u - d->pre_have < k ? 6u - d->pre_have : k;

		memcpy(d->pre + d->pre_have, p, t);
		d->pre_have += (uint8_t)t;
		p += t;
		k -= t;
		if (d->pre_have < 6)
			break;
		d->pre_have = 0;
		if (((uint32_t)d->pre[0] << 8 | d->pre[1]) == H2_SETTINGS_HEADER_TABLE_SIZE)
			hpack_decoder_settings(&c->d[!out].hp, be32(d->pre + 2));
	}
}

static void rst_stream(struct h2_conn *c, bool out, uint32_t err, uint64_t ts)
{
	struct h2_dir *d = &c->d[out];
	struct h2_stream *s = stream_find(c, d->sid);
	struct message *r = proto_msg_new(&c->ctx, s && s->grpc ? MSG_GRPC : MSG_H2, MSG_RESET, out,
					  ts);

	if (r) {
		r->stream = d->sid;
		r->error_code = err;
		if (s) {
			request_copy(s, r);
			if (s->req_id && ts >= s->req_start)
				r->latency_ns = ts - s->req_start;
		}
	}
	/* the records the reset cut short come first */
	if (s)
		stream_close(c, s, MSG_F_RESET | MSG_F_INCOMPLETE, err);
	if (r)
		proto_emit(&c->ctx, r);
}

static void goaway_begin(struct h2_conn *c, bool out, uint64_t ts)
{
	struct h2_dir *d = &c->d[out];
	struct message *m = proto_msg_new(&c->ctx, MSG_H2, MSG_GOAWAY, out, ts);

	if (!m)
		return;
	m->last_stream = be32(d->pre) & 0x7fffffff;
	m->error_code = be32(d->pre + 4);
	d->goaway = m;
}

static void goaway_end(struct h2_conn *c, bool out, uint64_t ts, uint32_t flags)
{
	struct h2_dir *d = &c->d[out];

	if (!d->goaway)
		return;
	d->goaway->end_ns = ts;
	d->goaway->flags |= flags;
	proto_emit(&c->ctx, d->goaway);
	d->goaway = NULL;
}

/* ---- DATA ---- */

static struct h2_half *data_half(struct h2_conn *c, bool out)
{
	struct h2_stream *s = c->d[out].fs;

	return s && s->h[out].state == HALF_OPEN ? &s->h[out] : NULL;
}

static void data_chunk(struct h2_conn *c, bool out, const uint8_t *p, uint32_t k, uint64_t ts)
{
	struct h2_half *h = data_half(c, out);

	if (!h)
		return;
	half_touch(h, ts);
	if (h->grpc) {
		h->m->body_len += k;
		grpc_feed(&h->g, h->m, p, k, &c->ctx);
	} else {
		msg_add_body(h->m, p, k, c->ctx.lim);
	}
}

/* n DATA bytes lost; n == UINT64_MAX: an unknown number */
static void data_gap(struct h2_conn *c, bool out, uint64_t n)
{
	struct h2_half *h = data_half(c, out);

	if (!h)
		return;
	if (h->grpc)
		grpc_gap(&h->g, h->m, n);
	if (n == UINT64_MAX)
		h->m->flags |= MSG_F_GAP;
	else
		msg_body_gap(h->m, n);
}

static void data_done(struct h2_conn *c, bool out, uint64_t ts)
{
	struct h2_dir *d = &c->d[out];
	struct h2_half *h = data_half(c, out);

	if (!h)
		return;
	if (d->flags & H2_END_STREAM)
		half_end(c, d->fs, out, ts);
	else
		half_partial_due(c, d->fs, h, ts);
}

/* ---- frame payloads ---- */

/* Only these three types define PADDED. */
static bool frame_padded(const struct h2_dir *d)
{
	return (d->flags & H2_PADDED) &&
	       (d->type == H2_DATA || d->type == H2_HEADERS || d->type == H2_PUSH_PROMISE);
}

static uint8_t frame_pre_len(const struct h2_dir *d)
{
	uint8_t pad = frame_padded(d) ? 1 : 0;

	switch (d->type) {
	case H2_DATA:
		return pad;
	case H2_HEADERS:
		return pad + (d->flags & H2_PRIO ? 5 : 0);
	case H2_PUSH_PROMISE:
		return pad + 4;
	case H2_RST_STREAM:
		return 4;
	case H2_GOAWAY:
		return 8;
	}
	return 0;
}

static void body_start(struct h2_dir *d, uint32_t n)
{
	d->phase = PH_BODY;
	d->body_left = d->body_total = n;
}

/* k bytes of the frame's body lost; UINT64_MAX: all that is left of it,
 * its length unknown */
static void body_gap(struct h2_conn *c, bool out, uint64_t k)
{
	struct h2_dir *d = &c->d[out];

	switch (d->type) {
	case H2_DATA:
		data_gap(c, out, k);
		break;
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
	case H2_CONTINUATION:
		d->blk_lost = true;
		break;
	case H2_SETTINGS:
		d->lost = true;
		break;
	case H2_GOAWAY:
		if (d->goaway)
			msg_body_gap(d->goaway, k == UINT64_MAX ? 0 : k);
		break;
	}
}

/* The frame's payload can no longer be read (a gap in its first fields,
 * or lengths that do not add up): what it carried is lost, the rest of it
 * skipped. */
static void frame_lose_payload(struct h2_conn *c, bool out)
{
	body_gap(c, out, UINT64_MAX);
	body_start(&c->d[out], 0);
}


static void pre_done(struct h2_conn *c, bool out, uint64_t ts)
{
	struct h2_dir *d = &c->d[out];
	uint32_t pad = 0;

	if (frame_padded(d))
		pad = d->pre[0];
	if (pad > d->left) {
		c->ctx.cnt->decode_errors++;
		frame_lose_payload(c, out);
		return;
	}
	body_start(d, d->left - pad);
	switch (d->type) {
	case H2_PUSH_PROMISE:
		d->blk_promised = be32(d->pre + d->pre_need - 4) & 0x7fffffff;
		break;
	case H2_RST_STREAM:
		rst_stream(c, out, be32(d->pre), ts);
		break;
	case H2_GOAWAY:
		goaway_begin(c, out, ts);
		break;
	}
}

static void body_chunk(struct h2_conn *c, bool out, const uint8_t *p, uint32_t k, uint64_t ts)
{
	struct h2_dir *d = &c->d[out];

	switch (d->type) {
	case H2_DATA:
		data_chunk(c, out, p, k, ts);
		break;
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
	case H2_CONTINUATION:
		block_chunk(c, d, p, k);
		break;
	case H2_SETTINGS:
		settings_chunk(c, out, p, k);
		break;
	case H2_GOAWAY:
		if (d->goaway)
			msg_add_body(d->goaway, p, k, c->ctx.lim);
		break;
	}
}

static void body_done(struct h2_conn *c, bool out, uint64_t ts)
{
	struct h2_dir *d = &c->d[out];

	d->phase = PH_PAD;
	switch (d->type) {
	case H2_DATA:
		data_done(c, out, ts);
		break;
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
	case H2_CONTINUATION:
		if (d->in_block && (d->flags & H2_END_HEADERS))
			block_done(c, out, ts);
		break;
	case H2_GOAWAY:
		goaway_end(c, out, ts, 0);
		break;
	}
}

/* Moves through the parts of the frame that are complete, empty ones included. */
static void frame_settle(struct h2_conn *c, bool out, uint64_t ts)
{
	struct h2_dir *d = &c->d[out];

	if (d->phase == PH_PRE && d->pre_have == d->pre_need)
		pre_done(c, out, ts);
	if (d->phase == PH_BODY && !d->body_left)
		body_done(c, out, ts);
	if (!d->left) {
		d->st = ST_HDR;
		d->hdr_have = 0;
		d->fs = NULL;
	}
}

/* Framing is lost: everything open in this direction may have lost bytes. */
static void lose_framing(struct h2_conn *c, bool out, uint64_t ts)
{
	struct h2_dir *d = &c->d[out];

	goaway_end(c, out, ts, MSG_F_GAP | MSG_F_INCOMPLETE);
	if (d->in_block)
		block_abort(c, out, ts);
	hpack_decoder_lost_block(&d->hp);
	for (struct h2_stream *s = c->oldest; s; s = s->newer) {
		struct h2_half *h = &s->h[out];

		if (h->state != HALF_OPEN)
			continue;
		h->m->flags |= MSG_F_GAP;
		if (h->grpc)
			grpc_gap(&h->g, h->m, UINT64_MAX);
	}
	d->st = ST_UNSYNC;
	d->fs = NULL;
}

static void frame_start(struct h2_conn *c, bool out, const struct h2_frame *f, uint64_t ts)
{
	struct h2_dir *d = &c->d[out];

	if (!frame_valid(f)) {
		c->ctx.cnt->decode_errors++;
		lose_framing(c, out, ts);
		return;
	}
	if (d->in_block && (f->type != H2_CONTINUATION || f->sid != d->blk_sid)) {
		c->ctx.cnt->decode_errors++;
		block_abort(c, out, ts);
	}
	d->st = ST_PAYLOAD;
	d->type = f->type;
	d->flags = f->flags;
	d->sid = f->sid;
	d->left = f->len;
	d->lost = false;
	d->phase = PH_PRE;
	d->pre_have = 0;
	d->pre_need = frame_pre_len(d);
	if (d->type == H2_DATA)
		d->fs = stream_find(c, d->sid);
	else if (d->type == H2_HEADERS || d->type == H2_PUSH_PROMISE)
		block_begin(d, ts);
	if (d->pre_need > d->left) {
		c->ctx.cnt->decode_errors++;
		frame_lose_payload(c, out);
	} else if (d->type == H2_CONTINUATION && !d->in_block) {
		/* its block began in bytes not seen (after a resync): lost */
		hpack_decoder_lost_block(&d->hp);
		body_start(d, 0);
	}
	frame_settle(c, out, ts);
}

static const uint8_t *dir_header(struct h2_conn *c, bool out, const uint8_t *p,
				 const uint8_t *end, uint64_t ts)
{
	struct h2_dir *d = &c->d[out];
	struct h2_frame f;
	size_t k;

	if (!d->hdr_have && end - p >= H2_HDR_LEN) {
		f = frame_parse(p);
		p += H2_HDR_LEN;
	} else {
		k = H2_HDR_LEN - d->hdr_have;
		if (k > (size_t)(end - p))
			k = (size_t)(end - p);
		memcpy(d->hdr + d->hdr_have, p, k);
		d->hdr_have += (uint8_t)k;
		p += k;
		if (d->hdr_have < H2_HDR_LEN)
			return p;
		f = frame_parse(d->hdr);
	}
	frame_start(c, out, &f, ts);
	return p;
}

static const uint8_t *dir_payload(struct h2_conn *c, bool out, const uint8_t *p,
				  const uint8_t *end, uint64_t ts)
{
	struct h2_dir *d = &c->d[out];
	uint32_t k = (size_t)(end - p) < d->left ? (uint32_t)(end - p) : d->left;

	switch (d->phase) {
	case PH_PRE:
		if (k > (uint32_t)(d->pre_need - d->pre_have))
			k = d->pre_need - d->pre_have;
		memcpy(d->pre + d->pre_have, p, k);
		d->pre_have += (uint8_t)k;
		break;
	case PH_BODY:
		if (k > d->body_left)
			k = d->body_left;
		d->body_left -= k;
		body_chunk(c, out, p, k, ts);
		break;
	} /* PH_PAD: skipped */
	d->left -= k;
	frame_settle(c, out, ts);
	return p + k;
}

static const uint8_t *dir_preface(struct h2_conn *c, bool out, const uint8_t *p,
				  const uint8_t *end, uint64_t ts)
{
	struct h2_dir *d = &c->d[out];
	size_t k = H2_PREFACE_LEN - d->preface_have;

	if (k > (size_t)(end - p))
		k = (size_t)(end - p);
	if (memcmp(p, &H2_PREFACE[d->preface_have], k)) {
		d->st = ST_HDR;
		if (!d->preface_have)
			return p; /* frames from the start: the server side */
		c->ctx.cnt->decode_errors++;
		lose_framing(c, out, ts);
		return p;
	}
	d->preface_have += (uint8_t)k;
	if (d->preface_have == H2_PREFACE_LEN) {
		side_learn(c, out, true);
		d->st = ST_HDR;
		d->hdr_have = 0;
	}
	return p + k;
}

/* While framing is unknown, a call that starts with plausible frames (or
 * the preface) is taken as starting at a frame boundary. */
static bool dir_resync(struct h2_conn *c, bool out, const uint8_t *p, size_t n)
{
	struct h2_dir *d = &c->d[out];

	if (!h2_frames_plausible(p, n))
		return false;
	c->ctx.cnt->resyncs++;
	d->st = is_preface(p, n) ? ST_START : ST_HDR;
	d->preface_have = 0;
	d->hdr_have = 0;
	return true;
}

void h2_feed(struct h2_conn *c, bool out, const uint8_t *p, size_t n, uint64_t ts)
{
	struct h2_dir *d = &c->d[out];
	const uint8_t *end = p + n;

	if (!n)
		return;
	if (d->st == ST_UNSYNC && !dir_resync(c, out, p, n)) {
		c->ctx.cnt->gap_bytes += n;
		return;
	}
	while (p < end) {
		switch (d->st) {
		case ST_START:
			p = dir_preface(c, out, p, end, ts);
			break;
		case ST_HDR:
			p = dir_header(c, out, p, end, ts);
			break;
		case ST_PAYLOAD:
			p = dir_payload(c, out, p, end, ts);
			break;
		default:
			c->ctx.cnt->gap_bytes += (uint64_t)(end - p);
			return;
		}
	}
}

/* The caller counts gaps and their bytes (ctx->cnt->gaps, gap_bytes). */
void h2_gap(struct h2_conn *c, bool out, uint64_t n, uint64_t ts)
{
	struct h2_dir *d = &c->d[out];
	uint32_t k;

	if (!n || d->st == ST_UNSYNC)
		return;
	if (d->st != ST_PAYLOAD || n > d->left) {
		lose_framing(c, out, ts);
		return;
	}
	/* inside the payload: skipped exactly */
	if (d->phase == PH_PRE) {
		k = d->pre_need - d->pre_have;
		k = n < k ? (uint32_t)n : k;
		d->left -= k;
		n -= k;
		frame_lose_payload(c, out);
	}
	if (d->phase == PH_BODY) {
		k = n < d->body_left ? (uint32_t)n : d->body_left;
		if (k)
			body_gap(c, out, k);
		d->body_left -= k;
		d->left -= k;
		n -= k;
	}
	d->left -= (uint32_t)n;
	frame_settle(c, out, ts);
}

void h2_tick(struct h2_conn *c, uint64_t now)
{
	for (struct h2_stream *s = c->oldest; s; s = s->newer)
		for (int i = 0; i < 2; i++)
			half_partial_due(c, s, &s->h[i], now);
}

void h2_close(struct h2_conn *c, uint64_t ts)
{
	for (int i = 0; i < 2; i++)
		goaway_end(c, i, ts, MSG_F_INCOMPLETE);
	while (c->oldest)
		stream_close(c, c->oldest, MSG_F_INCOMPLETE, 0);
}

struct h2_conn *h2_new(const struct proto_ctx *ctx, enum h2_side side, bool joined_late)
{
	struct h2_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->tab_bits = 4;
	c->tab = calloc(1u << c->tab_bits, sizeof(*c->tab));
	if (!c->tab) {
		free(c);
		return NULL;
	}
	c->ctx = *ctx;
	c->side = side;
	for (int i = 0; i < 2; i++) {
		struct h2_dir *d = &c->d[i];

		hpack_decoder_init(&d->hp, joined_late);
		if (joined_late)
			d->st = ST_UNSYNC;
		else if (side == H2_SIDE_UNKNOWN || dir_is_client(c, i))
			d->st = ST_START;
		else
			d->st = ST_HDR;
	}
	return c;
}

void h2_free(struct h2_conn *c)
{
	if (!c)
		return;
	while (c->oldest)
		stream_free(c, c->oldest);
	for (int i = 0; i < 2; i++) {
		msg_free(c->d[i].goaway);
		free(c->d[i].blk);
		hpack_decoder_free(&c->d[i].hp);
	}
	free(c->tab);
	free(c);
}

size_t h2_mem(const struct h2_conn *c)
{
	size_t n = sizeof(*c) + ((size_t)1 << c->tab_bits) * sizeof(*c->tab);

	for (int i = 0; i < 2; i++) {
		const struct h2_dir *d = &c->d[i];

		/* the RFC 7541 size counts 32 bytes per entry for its overhead */
		n += d->blk_cap + d->hp.size + d->hp.scratch_cap;
		if (d->goaway)
			n += msg_mem(d->goaway);
	}
	for (const struct h2_stream *s = c->oldest; s; s = s->newer) {
		n += sizeof(*s) + str_size(s->method) + str_size(s->path) + str_size(s->authority);
		for (int i = 0; i < 2; i++)
			if (s->h[i].m)
				n += msg_mem(s->h[i].m) + s->h[i].g.data_alloc;
	}
	return n;
}
