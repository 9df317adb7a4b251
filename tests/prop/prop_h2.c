/* prop_h2.c - HTTP/2 and gRPC traffic for the property test: concurrent
 * streams whose frames interleave, bodies from empty to 40 KB, trailers,
 * resets, padding and CONTINUATION now and then, and :path in every HPACK
 * representation a peer may choose. A frame may stop mid-way while the
 * other direction speaks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prop_gen_int.h"
#include "proto/hpack.h"
#include "proto/http2.h"
#include "synth.h"
#include "tlstop.h"

#define STREAMS_MAX 10
#define CONCURRENT_MAX 4
#define BODY_MAX 40000
#define DATA_MAX 16000 /* data bytes of a frame: under 16384 with any padding */
#define GRPC_MSG_MAX 16000
#define FIELD_MAX 4096 /* room for one encoded header field */
#define FIELDS_MAX 12

/* How a request's :path is written. The encoder uses a static or dynamic
 * index wherever the exact field is in a table (so "/" and "/index.html"
 * are static index 4 and 5, and a path inserted earlier is indexed);
 * FORCED_HUFF and LIT_NAME are written here, the encoder never producing
 * them. */
enum path_how {
	PH_RAW, /* literal without indexing, not Huffman-coded */
	PH_HUFF, /* the same, Huffman-coded when shorter */
	PH_INDEXING, /* literal with incremental indexing: later ones reuse it */
	PH_NEVER, /* literal never indexed */
	PH_FORCED_HUFF, /* Huffman-coded even when longer (bytes 0x80-0xff) */
	PH_LIT_NAME, /* the name ":path" itself a literal */
};

static const uint8_t path_how_weights[] = { 15, 20, 35, 10, 10, 10 };

enum step_kind { ST_HEADERS, ST_DATA, ST_TRAILERS };

struct step {
	uint8_t kind;
	bool end; /* END_STREAM */
	uint32_t off, len; /* ST_DATA: bytes of the body */
};

/* One direction of a stream: [0] the request, [1] the response. */
struct side {
	struct step *steps;
	size_t n, next, cap;
	struct strbuf body;
};

struct stream {
	uint32_t id;
	bool grpc;
	bool trailers_only; /* a gRPC error answered by one HEADERS */
	const char *path;
	const char *method;
	int status, grpc_status;
	struct side side[2];
	uint32_t done; /* steps taken */
	uint32_t rst_after; /* RST_STREAM once done reaches it; 0: none */
	uint8_t rst_side; /* which end resets */
	bool open;
};

struct h2gen {
	struct hpack_encoder enc[2]; /* the client's (requests) and the server's */
	uint32_t next_id;
	bool started;
	bool grpc; /* a gRPC channel, else plain HTTP/2 (mostly) */
	bool failed;
};

struct field {
	const char *name, *value;
};

struct h2gen *h2gen_new(struct prop_rng *r)
{
	struct h2gen *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	hpack_encoder_init(&g->enc[0], true);
	hpack_encoder_init(&g->enc[1], true);
	g->next_id = 1;
	g->grpc = rng_pct(r, 60);
	return g;
}

void h2gen_free(struct h2gen *g)
{
	if (!g)
		return;
	hpack_encoder_free(&g->enc[0]);
	hpack_encoder_free(&g->enc[1]);
	free(g);
}

/* ---- the plan of a stream ---- */

static void side_push(struct side *s, uint8_t kind, bool end, uint32_t off, uint32_t len,
		      bool *failed)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct step *st = realloc(s->steps, cap * sizeof(*st));

		if (!st) {
			*failed = true;
			return;
		}
		s->steps = st;
		s->cap = cap;
	}
	s->steps[s->n++] = (struct step){ kind, end, off, len };
}

/* The body in DATA frames; end: END_STREAM on the last (or on an empty
 * DATA frame after it). */
static void data_steps(struct prop_rng *r, struct side *s, bool end, bool *failed)
{
	uint32_t n = (uint32_t)s->body.len, off = 0;

	while (off < n) {
		uint32_t k = rng_range(r, 1, n - off < DATA_MAX ? n - off : DATA_MAX);

		side_push(s, ST_DATA, false, off, k, failed);
		off += k;
	}
	if (!end)
		return;
	if (s->n && s->steps[s->n - 1].kind == ST_DATA && rng_pct(r, 85))
		s->steps[s->n - 1].end = true;
	else
		side_push(s, ST_DATA, true, off, 0, failed);
}

/* Length-prefixed gRPC messages, up to 3, within BODY_MAX. */
static void grpc_body(struct prop_rng *r, struct strbuf *b)
{
	uint32_t nmsgs = rng_pct(r, 75) ? 1 : rng_below(r, 4);

	for (uint32_t i = 0; i < nmsgs; i++) {
		uint32_t room = BODY_MAX - (uint32_t)b->len, size;
		uint8_t prefix[5];

		if (room < sizeof(prefix))
			return;
		size = rng_size(r, room - 5 < GRPC_MSG_MAX ? room - 5 : GRPC_MSG_MAX);
		synth_grpc_prefix(prefix, size);
		sb_add(b, prefix, sizeof(prefix));
		rng_fill(r, b, size);
	}
}

static void plan_request(struct prop_rng *r, struct stream *s, bool *failed)
{
	struct side *q = &s->side[0];

	if (s->grpc) {
		s->method = "POST";
		grpc_body(r, &q->body);
	} else {
		s->method = rng_pct(r, 50) ? "GET" : "POST";
		if (s->method[0] == 'P')
			rng_fill(r, &q->body, rng_size(r, BODY_MAX));
	}
	side_push(q, ST_HEADERS, !q->body.len && rng_pct(r, 80), 0, 0, failed);
	if (!q->steps[0].end)
		data_steps(r, q, true, failed);
}

static void plan_response(struct prop_rng *r, struct stream *s, bool *failed)
{
	static const int statuses[] = { 200, 200, 200, 204, 301, 404, 500, 503 };
	struct side *p = &s->side[1];
	bool trailers;

	s->grpc_status = rng_pct(r, 70) ? 0 : (int)rng_range(r, 1, 16);
	if (s->grpc) {
		s->status = 200;
		s->trailers_only = s->grpc_status && rng_pct(r, 30);
		trailers = !s->trailers_only;
		if (!s->trailers_only)
			grpc_body(r, &p->body);
	} else {
		s->status = statuses[rng_below(r, sizeof(statuses) / sizeof(statuses[0]))];
		trailers = rng_pct(r, 15);
		if (s->status != 204)
			rng_fill(r, &p->body, rng_size(r, BODY_MAX));
	}
	side_push(p, ST_HEADERS, !trailers && !p->body.len, 0, 0, failed);
	if (p->steps[0].end)
		return;
	data_steps(r, p, !trailers, failed);
	if (trailers)
		side_push(p, ST_TRAILERS, true, 0, 0, failed);
}

static void plan_stream(struct prop_rng *r, struct h2gen *g, struct stream *s,
			const struct gen_paths *paths)
{
	uint32_t steps;

	memset(s, 0, sizeof(*s));
	s->id = g->next_id;
	g->next_id += 2;
	s->grpc = g->grpc ? rng_pct(r, 90) : rng_pct(r, 10);
	s->path = gen_path(r, paths);
	plan_request(r, s, &g->failed);
	plan_response(r, s, &g->failed);
	steps = (uint32_t)(s->side[0].n + s->side[1].n);
	if (rng_pct(r, 10) && steps >= 2) {
		s->rst_after = rng_range(r, 1, steps - 1);
		s->rst_side = (uint8_t)rng_below(r, 2);
	}
}

static void stream_free(struct stream *s)
{
	for (int i = 0; i < 2; i++) {
		free(s->side[i].steps);
		sb_free(&s->side[i].body);
	}
}

/* ---- HPACK ---- */

/* RFC 7541 5.1: v with an n-bit prefix, first's other bits kept. */
static void hp_int(struct strbuf *b, uint8_t first, unsigned int prefix, uint32_t v)
{
	uint32_t mask = (1u << prefix) - 1;

	if (v < mask) {
		sb_addc(b, (char)(first | v));
		return;
	}
	sb_addc(b, (char)(first | mask));
	for (v -= mask; v >= 0x80; v >>= 7)
		sb_addc(b, (char)(0x80 | (v & 0x7f)));
	sb_addc(b, (char)v);
}

static void hp_str(struct strbuf *b, const char *s, bool huffman)
{
	size_t n = strlen(s), hlen = hpack_huffman_len(s, n);
	uint8_t *h;

	if (!huffman) {
		hp_int(b, 0, 7, (uint32_t)n);
		sb_add(b, s, n);
		return;
	}
	h = malloc(hlen + 1);
	if (!h) {
		b->oom = true;
		return;
	}
	hp_int(b, 0x80, 7, (uint32_t)hlen);
	sb_add(b, h, hpack_huffman_encode(s, n, h));
	free(h);
}

/* :path as a literal the table never keeps (with or without indexing
 * means nothing then): name index 4 and a forced Huffman value, or the
 * name spelt out. */
static void raw_path(struct prop_rng *r, struct strbuf *b, const char *path, enum path_how how)
{
	uint8_t first = rng_pct(r, 50) ? 0x10 : 0x00; /* never indexed, or without */

	if (how == PH_FORCED_HUFF) {
		hp_int(b, first, 4, 4);
		hp_str(b, path, true);
		return;
	}
	hp_int(b, first, 4, 0);
	hp_str(b, ":path", rng_pct(r, 50));
	hp_str(b, path, rng_pct(r, 50));
}

static enum path_how pick_path_how(struct prop_rng *r)
{
	uint32_t k = rng_below(r, 100), i = 0;

	while (k >= path_how_weights[i]) {
		k -= path_how_weights[i];
		i++;
	}
	return (enum path_how)i;
}

/* Encoder settings for a field: how the :path is asked for, else mostly
 * indexed (the table churns, moving the path's index). */
static enum hpack_how field_how(struct prop_rng *r, bool is_path, enum path_how ph,
				bool *huffman)
{
	*huffman = rng_pct(r, 50);
	if (is_path) {
		if (ph == PH_RAW || ph == PH_HUFF)
			*huffman = ph == PH_HUFF;
		return ph == PH_INDEXING ? HPACK_INCREMENTAL :
		       ph == PH_NEVER	 ? HPACK_NEVER :
					   HPACK_WITHOUT;
	}
	return rng_pct(r, 70) ? HPACK_INCREMENTAL : rng_pct(r, 66) ? HPACK_WITHOUT : HPACK_NEVER;
}

/* The header block of fields f in enc's table state; path_at: the :path's
 * index in f, or -1. Now and then it starts with a table size update. */
static void encode_block(struct prop_rng *r, struct h2gen *g, struct hpack_encoder *enc,
			 const struct field *f, size_t n, int path_at, struct strbuf *blk)
{
	static const uint32_t table_sizes[] = { 0, 64, 256, 1024, 4096 };
	enum path_how ph = pick_path_how(r);
	bool raw = ph == PH_FORCED_HUFF || ph == PH_LIT_NAME;
	uint8_t buf[FIELD_MAX];

	/* an update must open the block: the encoder writes it with the next field */
	if (rng_pct(r, 5) && !(raw && path_at == 0))
		hpack_encoder_set_max(enc, table_sizes[rng_below(r, 5)]);
	for (size_t i = 0; i < n; i++) {
		bool is_path = (int)i == path_at, huffman;
		enum hpack_how how;
		size_t k;

		if (is_path && raw) {
			raw_path(r, blk, f[i].value, ph);
			continue;
		}
		how = field_how(r, is_path, ph, &huffman);
		enc->huffman = huffman;
		k = hpack_encode_field(enc, f[i].name, f[i].value, how, buf, sizeof(buf));
		if (!k)
			g->failed = true;
		sb_add(blk, buf, k);
	}
}

/* ---- frames ---- */

static void frame_header(struct strbuf *b, uint32_t len, uint8_t type, uint8_t flags,
			 uint32_t sid)
{
	uint8_t h[H2_HDR_LEN];

	h2_frame_header(h, len, type, flags, sid);
	sb_add(b, h, sizeof(h));
}

static void be32(struct strbuf *b, uint32_t v)
{
	uint8_t p[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	sb_add(b, p, sizeof(p));
}

static void zeros(struct strbuf *b, size_t n)
{
	static const uint8_t z[256];

	sb_add(b, z, n);
}

/* A header block as HEADERS and, now and then, CONTINUATION frames cut at
 * any byte; HEADERS padded or with a priority now and then. */
static void header_frames(struct prop_rng *r, struct strbuf *out, const struct strbuf *blk,
			  uint32_t sid, bool end)
{
	uint32_t nfrag = rng_pct(r, 20) ? rng_range(r, 2, 3) : 1;
	size_t at = 0;

	for (uint32_t i = 0; i < nfrag; i++) {
		bool last = i + 1 == nfrag;
		size_t k = last ? blk->len - at : rng_below(r, (uint32_t)(blk->len - at + 1));
		uint8_t flags = (last ? H2_END_HEADERS : 0) | (!i && end ? H2_END_STREAM : 0);
		uint32_t pad = 0, extra = 0;

		if (!i && rng_pct(r, 8)) {
			flags |= H2_PADDED;
			pad = rng_below(r, 32);
			extra += 1 + pad;
		}
		if (!i && rng_pct(r, 8)) {
			flags |= H2_PRIO;
			extra += 5;
		}
		frame_header(out, (uint32_t)k + extra, i ? H2_CONTINUATION : H2_HEADERS, flags,
			     sid);
		if (flags & H2_PADDED)
			sb_addc(out, (char)pad);
		if (flags & H2_PRIO) {
			zeros(out, 4); /* depends on stream 0 */
			sb_addc(out, 15); /* weight 16 */
		}
		sb_add(out, blk->s + at, k);
		zeros(out, pad);
		at += k;
	}
}

static void data_frame(struct prop_rng *r, struct strbuf *out, uint32_t sid,
		       const struct strbuf *body, const struct step *st)
{
	uint8_t flags = st->end ? H2_END_STREAM : 0;
	uint32_t pad = 0, len = st->len;

	if (rng_pct(r, 8)) {
		flags |= H2_PADDED;
		pad = rng_below(r, 64);
		len += 1 + pad;
	}
	frame_header(out, len, H2_DATA, flags, sid);
	if (flags & H2_PADDED)
		sb_addc(out, (char)pad);
	if (st->len)
		sb_add(out, body->s + st->off, st->len);
	zeros(out, pad);
}

/* ---- a stream's steps as frames ---- */

/* A value of n bytes (at most LONG_MAX_LEN), as long header values make the
 * kernel walk blocks past its window and skip strings longer than it. */
#define LONG_MAX_LEN 3000
static const char *long_value(size_t n)
{
	static char v[LONG_MAX_LEN + 1];

	if (!v[0])
		for (size_t i = 0; i < LONG_MAX_LEN; i++)
			v[i] = (char)('a' + i * 7 % 26);
	return v + LONG_MAX_LEN - n;
}

static size_t request_fields(struct prop_rng *r, const struct stream *s, struct field *f,
			     char *id, int *path_at)
{
	struct field pseudo[] = {
		{ ":method", s->method }, { ":scheme", "https" }, { ":path", s->path },
		{ ":authority", rng_pct(r, 20) ? long_value(rng_range(r, 100, 1500)) : "svc.test:443" },
	};
	size_t n = 0;

	/* pseudo-header fields come first, in any order */
	if (rng_pct(r, 30))
		for (uint32_t i = 3; i > 0; i--) {
			uint32_t j = rng_below(r, i + 1);
			struct field t = pseudo[i];

			pseudo[i] = pseudo[j];
			pseudo[j] = t;
		}
	for (size_t i = 0; i < 4; i++) {
		if (!strcmp(pseudo[i].name, ":path"))
			*path_at = (int)i;
		f[n++] = pseudo[i];
	}
	if (s->grpc) {
		f[n++] = (struct field){ "content-type", "application/grpc" };
		f[n++] = (struct field){ "te", "trailers" };
		f[n++] = (struct field){ "user-agent", "grpc-kf_prop/1.0" };
	} else {
		f[n++] = (struct field){ "accept", "*/*" };
		f[n++] = (struct field){ "user-agent", "kf_prop" };
	}
	if (rng_pct(r, 60)) {
		snprintf(id, 16, "%08x", (uint32_t)rng_next(r));
		f[n++] = (struct field){ "x-request-id", id };
	}
	if (rng_pct(r, 35))
		f[n++] = (struct field){ "authorization", long_value(rng_range(r, 200, LONG_MAX_LEN)) };
	return n;
}

static size_t response_fields(const struct stream *s, struct field *f, char *status,
			      char *grpc_status)
{
	size_t n = 0;

	snprintf(status, 8, "%d", s->status);
	snprintf(grpc_status, 8, "%d", s->grpc_status);
	f[n++] = (struct field){ ":status", status };
	f[n++] = (struct field){ "content-type", s->grpc ? "application/grpc" : "text/plain" };
	if (!s->grpc)
		f[n++] = (struct field){ "server", "kf_prop" };
	if (s->trailers_only) {
		f[n++] = (struct field){ "grpc-status", grpc_status };
		f[n++] = (struct field){ "grpc-message", "no%20luck" };
	}
	return n;
}

static size_t trailer_fields(const struct stream *s, struct field *f, char *grpc_status)
{
	size_t n = 0;

	if (!s->grpc) {
		f[n++] = (struct field){ "x-checksum", "abcd" };
		return n;
	}
	snprintf(grpc_status, 8, "%d", s->grpc_status);
	f[n++] = (struct field){ "grpc-status", grpc_status };
	if (s->grpc_status)
		f[n++] = (struct field){ "grpc-message", "it%20failed" };
	return n;
}

/* The frames of stream s's next step on side i, into out. */
static void step_frames(struct prop_rng *r, struct h2gen *g, struct stream *s, int i,
			struct strbuf *out)
{
	const struct step *st = &s->side[i].steps[s->side[i].next];
	struct field f[FIELDS_MAX];
	char a[16], b[8];
	struct strbuf blk = { 0 };
	int path_at = -1;
	size_t n;

	if (st->kind == ST_DATA) {
		data_frame(r, out, s->id, &s->side[i].body, st);
		return;
	}
	if (st->kind == ST_TRAILERS)
		n = trailer_fields(s, f, b);
	else if (i == 0)
		n = request_fields(r, s, f, a, &path_at);
	else
		n = response_fields(s, f, a, b);
	encode_block(r, g, &g->enc[i], f, n, path_at, &blk);
	header_frames(r, out, &blk, s->id, st->end);
	out->oom |= blk.oom;
	sb_free(&blk);
}

/* ---- the timeline of a phase ---- */

/* What each direction owes: the rest of the frames it began to send. */
struct owed {
	struct strbuf tail[2];
};

/* Puts bytes of a frame (or frames) on direction dir; now and then only
 * a first part, the rest owed until the direction speaks again. */
static void put_frames(struct prop_rng *r, struct prop_gconn *c, struct owed *o, uint8_t dir,
		       struct strbuf *b)
{
	size_t k = b->len;

	if (b->len > 1 && rng_pct(r, 12))
		k = rng_range(r, 1, (uint32_t)b->len - 1);
	gconn_put(c, dir, b->s, k);
	sb_add(&o->tail[dir], b->s + k, b->len - k);
	c->oom |= b->oom;
	sb_truncate(b, 0);
}

static void conn_start(struct prop_rng *r, struct prop_gconn *c)
{
	uint8_t buf[H2_PREFACE_LEN + H2_HDR_LEN + 6];
	struct strbuf b = { 0 };

	gconn_put(c, gconn_req_dir(c), buf, synth_conn_start(buf));
	if (rng_pct(r, 50)) {
		/* SETTINGS_MAX_CONCURRENT_STREAMS 100 */
		frame_header(&b, 6, H2_SETTINGS, 0, 0);
		sb_add(&b, "\x00\x03\x00\x00\x00\x64", 6);
	} else {
		frame_header(&b, 0, H2_SETTINGS, 0, 0);
	}
	frame_header(&b, 0, H2_SETTINGS, H2_ACK, 0);
	gconn_put(c, gconn_resp_dir(c), b.s, b.len);
	sb_truncate(&b, 0);
	frame_header(&b, 0, H2_SETTINGS, H2_ACK, 0);
	gconn_put(c, gconn_req_dir(c), b.s, b.len);
	c->oom |= b.oom;
	sb_free(&b);
}

/* PING, WINDOW_UPDATE or PRIORITY between the streams' frames. */
static void noise(struct prop_rng *r, struct strbuf *b, uint32_t sid)
{
	switch (rng_below(r, 3)) {
	case 0:
		frame_header(b, 8, H2_PING, rng_pct(r, 50) ? H2_ACK : 0, 0);
		zeros(b, 8);
		break;
	case 1:
		frame_header(b, 4, H2_WINDOW_UPDATE, 0, rng_pct(r, 50) ? 0 : sid);
		be32(b, 65536);
		break;
	default:
		frame_header(b, 5, H2_PRIORITY, 0, sid);
		zeros(b, 4);
		sb_addc(b, 15);
		break;
	}
}

static void rst_frame(struct strbuf *b, uint32_t sid)
{
	frame_header(b, 4, H2_RST_STREAM, 0, sid);
	be32(b, 8); /* CANCEL */
}

static uint8_t side_dir(const struct prop_gconn *c, int i)
{
	return i == 0 ? gconn_req_dir(c) : gconn_resp_dir(c);
}

static bool stream_done(const struct stream *s)
{
	return s->side[0].next == s->side[0].n && s->side[1].next == s->side[1].n;
}

/* What can go on the wire next. */
enum action_kind { ACT_TAIL, ACT_STEP, ACT_RST };

struct action {
	uint8_t kind;
	uint8_t dir; /* ACT_TAIL */
	struct stream *s;
	int side; /* ACT_STEP */
};

static size_t actions(const struct prop_gconn *c, struct owed *o, struct stream *st,
		      size_t nstreams, size_t opened, uint32_t maxconc, struct action *a)
{
	size_t n = 0, active = 0;

	for (uint8_t d = 0; d < 2; d++)
		if (o->tail[d].len)
			a[n++] = (struct action){ .kind = ACT_TAIL, .dir = d };
	for (size_t i = 0; i < opened; i++) {
		struct stream *s = &st[i];

		if (stream_done(s))
			continue;
		active++;
		/* a reset once no frame is half sent: the peer's half frame
		 * would otherwise land on a closed stream */
		if (s->rst_after && s->done == s->rst_after) {
			if (!o->tail[0].len && !o->tail[1].len)
				a[n++] = (struct action){ .kind = ACT_RST, .s = s };
			continue;
		}
		for (int j = 0; j < 2; j++)
			if (s->side[j].next < s->side[j].n && !o->tail[side_dir(c, j)].len &&
			    (j == 0 || s->side[0].next))
				a[n++] = (struct action){ .kind = ACT_STEP, .s = s, .side = j };
	}
	/* streams open in the order of their ids */
	if (opened < nstreams && active < maxconc && !o->tail[gconn_req_dir(c)].len)
		a[n++] = (struct action){ .kind = ACT_STEP, .s = &st[opened], .side = 0 };
	return n;
}

static void act(struct prop_rng *r, struct prop_gconn *c, struct owed *o, const struct action *a,
		struct strbuf *b)
{
	struct stream *s = a->s;

	switch (a->kind) {
	case ACT_TAIL:
		gconn_put(c, a->dir, o->tail[a->dir].s, o->tail[a->dir].len);
		sb_truncate(&o->tail[a->dir], 0);
		return;
	case ACT_RST:
		rst_frame(b, s->id);
		put_frames(r, c, o, side_dir(c, s->rst_side), b);
		s->side[0].next = s->side[0].n;
		s->side[1].next = s->side[1].n;
		return;
	default:
		step_frames(r, c->h2gen, s, a->side, b);
		s->side[a->side].next++;
		s->done++;
		put_frames(r, c, o, side_dir(c, a->side), b);
		return;
	}
}

void h2gen_phase(struct prop_rng *r, struct prop_gconn *c, const struct gen_paths *paths,
		 bool last)
{
	struct h2gen *g = c->h2gen;
	struct stream st[STREAMS_MAX];
	struct action a[2 + 2 * STREAMS_MAX + 1];
	size_t nstreams = rng_range(r, 1, STREAMS_MAX), opened = 0, n;
	uint32_t maxconc = rng_range(r, 1, CONCURRENT_MAX);
	struct owed o = { { { 0 }, { 0 } } };
	struct strbuf b = { 0 };

	if (!g->started) {
		conn_start(r, c);
		g->started = true;
	}
	for (size_t i = 0; i < nstreams; i++)
		plan_stream(r, g, &st[i], paths);
	while ((n = actions(c, &o, st, nstreams, opened, maxconc, a))) {
		const struct action *pick = &a[rng_below(r, (uint32_t)n)];

		if (pick->kind == ACT_STEP && pick->s == &st[opened])
			opened++;
		act(r, c, &o, pick, &b);
		if (rng_pct(r, 3) && !o.tail[0].len && !o.tail[1].len) {
			uint8_t d = (uint8_t)rng_below(r, 2);

			noise(r, &b, st[opened - 1].id);
			gconn_put(c, d, b.s, b.len);
			sb_truncate(&b, 0);
		}
	}
	if (last && rng_pct(r, 20)) {
		frame_header(&b, 8, H2_GOAWAY, 0, 0);
		be32(&b, g->next_id - 2); /* the last stream */
		be32(&b, 0); /* NO_ERROR */
		gconn_put(c, gconn_resp_dir(c), b.s, b.len);
	}
	c->oom |= g->failed || b.oom || o.tail[0].oom || o.tail[1].oom;
	sb_free(&b);
	sb_free(&o.tail[0]);
	sb_free(&o.tail[1]);
	for (size_t i = 0; i < nstreams; i++)
		stream_free(&st[i]);
}
