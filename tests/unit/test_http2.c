/* test_http2.c - the HTTP/2 decoder: frames of every type, concurrent streams, gRPC, resets,
 * goaways, side learning, late joins, gaps, partial records, each input also fed split at every
 * byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "proto/hpack.h"
#include "proto/http2.h"
#include "strbuf.h"
#include "unit.h"

#define MS 1000000ull
#define SEC 1000000000ull

/* ---- byte buffers and frames ---- */

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (!n)
		return;
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 256;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void put_be32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { v >> 24, v >> 16, v >> 8, v };

	put(b, x, 4);
}

static void frame(struct buf *b, uint8_t type, uint8_t flags, uint32_t sid, const void *p,
		  size_t n)
{
	uint8_t h[H2_HDR_LEN];

	h2_frame_header(h, n, type, flags, sid);
	put(b, h, sizeof(h));
	put(b, p, n);
}

/* A header block of name, value pairs ending with NULL; names starting
 * with '!' are sent never-indexed, with '~' without indexing. */
static size_t block(struct hpack_encoder *e, uint8_t *out, size_t cap, const char *const *f)
{
	size_t n = 0;

	for (; *f; f += 2) {
		enum hpack_how how = HPACK_INCREMENTAL;
		const char *name = f[0];
		size_t k;

		if (*name == '!' || *name == '~') {
			how = *name == '!' ? HPACK_NEVER : HPACK_WITHOUT;
			name++;
		}
		k = hpack_encode_field(e, name, f[1], how, out + n, cap - n);
		CHECK(k > 0);
		n += k;
	}
	return n;
}

static void headers(struct buf *b, struct hpack_encoder *e, uint32_t sid, uint8_t flags,
		    const char *const *f)
{
	uint8_t blk[4096];
	size_t n = block(e, blk, sizeof(blk), f);

	frame(b, H2_HEADERS, flags | H2_END_HEADERS, sid, blk, n);
}

static void settings(struct buf *b, uint16_t id, uint32_t v)
{
	uint8_t s[6] = { id >> 8, id, v >> 24, v >> 16, v >> 8, v };

	frame(b, H2_SETTINGS, 0, 0, s, sizeof(s));
}

/* a gRPC length-prefixed message */
static void grpc_msg(struct buf *b, bool compressed, const void *p, size_t n)
{
	uint8_t c = compressed;

	put(b, &c, 1);
	put_be32(b, (uint32_t)n);
	put(b, p, n);
}

static void data_buf(struct buf *b, uint32_t sid, uint8_t flags, struct buf *payload)
{
	frame(b, H2_DATA, flags, sid, payload->p, payload->n);
	payload->n = 0;
}

/* ---- scripts: the calls of a connection ---- */

#define MAX_EVENTS 128

struct event {
	bool out;
	bool gap;
	bool tick;
	uint64_t ts;
	uint8_t *p;
	size_t n;
};

/* A connection's calls, and what builds them: one encoder per side, the
 * frames of the next call (b) and a gRPC payload being built (g). */
struct script {
	struct event ev[MAX_EVENTS];
	int n;
	struct hpack_encoder ce, se;
	struct buf b, g;
};

static void sc_init(struct script *sc)
{
	memset(sc, 0, sizeof(*sc));
	hpack_encoder_init(&sc->ce, true);
	hpack_encoder_init(&sc->se, true);
}

static void sc_call(struct script *sc, bool out, uint64_t ts, const void *p, size_t n)
{
	struct event *e = &sc->ev[sc->n++];

	*e = (struct event){ .out = out, .ts = ts, .p = malloc(n ? n : 1), .n = n };
	memcpy(e->p, p, n);
}

/* the buffer as one call, then emptied */
static void sc_buf(struct script *sc, bool out, uint64_t ts, struct buf *b)
{
	sc_call(sc, out, ts, b->p, b->n);
	b->n = 0;
}

static void sc_gap(struct script *sc, bool out, uint64_t ts, size_t n)
{
	sc->ev[sc->n++] = (struct event){ .out = out, .gap = true, .ts = ts, .n = n };
}

static void sc_tick(struct script *sc, uint64_t ts)
{
	sc->ev[sc->n++] = (struct event){ .tick = true, .ts = ts };
}

static void sc_free(struct script *sc)
{
	for (int i = 0; i < sc->n; i++)
		free(sc->ev[i].p);
	hpack_encoder_free(&sc->ce);
	hpack_encoder_free(&sc->se);
	free(sc->b.p);
	free(sc->g.p);
	memset(sc, 0, sizeof(*sc));
}

/* ---- running and dumping ---- */

struct seen {
	struct message **m;
	int n, cap;
};

static void on_msg(struct message *m, void *arg)
{
	struct seen *s = arg;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->m = realloc(s->m, s->cap * sizeof(*s->m));
	}
	s->m[s->n++] = m;
}

static void seen_free(struct seen *s)
{
	for (int i = 0; i < s->n; i++)
		msg_free(s->m[i]);
	free(s->m);
	*s = (struct seen){ 0 };
}

static const struct msg_limits lim = { .body_max = 4096, .grpc_max = 16,
				       .header_bytes_max = 8192 };

struct run {
	struct seen seen;
	struct proto_counters cnt;
	uint64_t next_id;
	struct proto_ctx ctx;
	struct h2_conn *c;
};

static void run_start(struct run *r, enum h2_side side, bool late)
{
	memset(r, 0, sizeof(*r));
	r->ctx = (struct proto_ctx){ { on_msg, &r->seen }, &lim, &r->next_id, &r->cnt };
	r->c = h2_new(&r->ctx, side, late);
}

static void feed(struct run *r, const struct event *e, size_t from, size_t to)
{
	if (to > from)
		h2_feed(r->c, e->out, e->p + from, to - from, e->ts);
}

/* split == 0: calls as scripted; SIZE_MAX: byte by byte; else the call
 * holding byte offset split (over all calls' bytes) is cut there. The
 * first skip calls are always fed whole. */
static void run_script(struct run *r, const struct script *sc, size_t split, int skip, bool close)
{
	size_t off = 0;

	for (int i = 0; i < sc->n; i++) {
		const struct event *e = &sc->ev[i];

		if (e->tick) {
			h2_tick(r->c, e->ts);
		} else if (e->gap) {
			h2_gap(r->c, e->out, e->n, e->ts);
		} else if (i < skip) {
			feed(r, e, 0, e->n);
		} else if (split == SIZE_MAX) {
			for (size_t k = 0; k < e->n; k++)
				feed(r, e, k, k + 1);
		} else if (split > off && split < off + e->n) {
			feed(r, e, 0, split - off);
			feed(r, e, split - off, e->n);
		} else {
			feed(r, e, 0, e->n);
		}
		off += e->gap || e->tick ? 0 : e->n;
	}
	if (close)
		h2_close(r->c, sc->n ? sc->ev[sc->n - 1].ts + MS : 0);
}

static void run_end(struct run *r)
{
	h2_free(r->c);
	seen_free(&r->seen);
}

static void dump_str(struct strbuf *b, const char *k, const char *s)
{
	sb_printf(b, " %s=%s", k, s ? s : "(null)");
}

static void dump_bytes(struct strbuf *b, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sb_printf(b, p[i] >= 0x20 && p[i] < 0x7f ? "%c" : "\\x%02x", p[i]);
}

static void dump_msg(struct strbuf *b, const struct message *m)
{
	sb_printf(b, "#%llu %s %s %s stream=%u part=%u flags=%#x pair=%llu status=%d",
		  (unsigned long long)m->id, msg_kind_name(m->kind), msg_proto_name(m->proto),
		  m->out ? "out" : "in", m->stream, m->part, m->flags,
		  (unsigned long long)m->pair_id, m->status);
	dump_str(b, "method", m->method);
	dump_str(b, "path", m->path);
	dump_str(b, "authority", m->authority);
	dump_str(b, "scheme", m->scheme);
	sb_printf(b, " grpc=%d", m->grpc_status);
	dump_str(b, "grpc_message", m->grpc_message);
	sb_printf(b, " err=%u last=%u ts=%llu-%llu lat=%llu\n", m->error_code, m->last_stream,
		  (unsigned long long)m->start_ns, (unsigned long long)m->end_ns,
		  (unsigned long long)m->latency_ns);
	for (uint32_t i = 0; i < m->nheaders; i++) {
		const struct msg_header *h = &m->headers[i];

		sb_printf(b, "  h %s: %s %#x\n", h->name ? h->name : "(null)",
			  h->value ? h->value : "(null)", h->flags);
	}
	sb_printf(b, "  body %llu %u ", (unsigned long long)m->body_len, m->body_captured);
	dump_bytes(b, m->body, m->body_captured);
	sb_printf(b, "\n  grpc_total %u\n", m->grpc_total);
	for (uint32_t i = 0; i < m->ngrpc; i++) {
		const struct grpc_msg *g = &m->grpc[i];

		sb_printf(b, "  g %u %d%d%d %llu ", g->len, g->compressed, g->inflated,
			  g->incomplete, (unsigned long long)g->full_len);
		dump_bytes(b, g->data, g->data_len);
		sb_addc(b, '\n');
	}
}

static char *dump_run(const struct run *r)
{
	struct strbuf b = { 0 };

	for (int i = 0; i < r->seen.n; i++)
		dump_msg(&b, r->seen.m[i]);
	sb_printf(&b, "cnt msgs=%llu unknown_paths=%llu unknown_headers=%llu errors=%llu",
		  (unsigned long long)r->cnt.messages, (unsigned long long)r->cnt.unknown_paths,
		  (unsigned long long)r->cnt.unknown_headers,
		  (unsigned long long)r->cnt.decode_errors);
	sb_printf(&b, " resyncs=%llu\n", (unsigned long long)r->cnt.resyncs);
	return sb_steal(&b);
}

static char *dump_script(const struct script *sc, enum h2_side side, bool late, size_t split,
			 int skip)
{
	struct run r;
	char *s;

	run_start(&r, side, late);
	run_script(&r, sc, split, skip, true);
	s = dump_run(&r);
	run_end(&r);
	return s;
}

/* Fed split in two at every byte, and byte by byte, the script gives the
 * same records as fed call by call. Joined late, the calls where framing
 * is looked for (the first skip) are not split: their starts matter. */
static void check_splits(const struct script *sc, enum h2_side side, bool late, int skip)
{
	char *base = dump_script(sc, side, late, 0, skip), *s;
	size_t total = 0;
	int bad = 0;

	for (int i = 0; i < sc->n; i++)
		total += sc->ev[i].gap || sc->ev[i].tick ? 0 : sc->ev[i].n;
	for (size_t pos = 1; pos <= total; pos++) {
		s = dump_script(sc, side, late, pos == total ? SIZE_MAX : pos, skip);
		if (strcmp(s, base) && !bad++)
			fprintf(stderr, "split at %zu differs:\n%s\n---- expected:\n%s\n", pos, s,
				base);
		free(s);
	}
	CHECK(!bad);
	free(base);
}

static const struct message *find(const struct run *r, enum msg_kind k, uint32_t stream, int nth)
{
	for (int i = 0; i < r->seen.n; i++)
		if (r->seen.m[i]->kind == k && r->seen.m[i]->stream == stream && !nth--)
			return r->seen.m[i];
	return NULL;
}

static bool body_is(const struct message *m, const char *s)
{
	return m && m->body_captured == strlen(s) && !memcmp(m->body, s, strlen(s));
}

static bool grpc_is(const struct message *m, uint32_t i, const char *s)
{
	return m && i < m->ngrpc && m->grpc[i].data_len == strlen(s) &&
	       !memcmp(m->grpc[i].data, s, strlen(s));
}

/* ---- a full connection ---- */

static void build_full(struct script *sc)
{
	struct buf *b = &sc->b;
	uint8_t blk[512], p[600];
	size_t n;

	put(b, H2_PREFACE, H2_PREFACE_LEN);
	settings(b, 1, 4096);
	frame(b, H2_WINDOW_UPDATE, 0, 0, "\x00\x00\xff\xff", 4);
	headers(b, &sc->ce, 1, H2_END_STREAM,
		(const char *[]){ ":method", "GET", ":scheme", "https", ":path", "/a",
				  ":authority", "example.com", "user-agent", "t/1", NULL });
	/* padded, with priority, no H2_END_STREAM */
	n = block(&sc->ce, blk, sizeof(blk),
		  (const char *[]){ ":method", "POST", ":scheme", "https", ":path", "/upload",
				    ":authority", "example.com", "content-type", "text/plain",
				    "!authorization", "secret", NULL });
	p[0] = 3;
	memcpy(p + 1, "\x80\x00\x00\x01\x10", 5);
	memcpy(p + 6, blk, n);
	memset(p + 6 + n, 0, 3);
	frame(b, H2_HEADERS, H2_END_HEADERS | H2_PADDED | H2_PRIO, 3, p, n + 9);
	sc_buf(sc, true, 1000, b);

	settings(b, 5, 16384);
	frame(b, H2_SETTINGS, H2_ACK, 0, NULL, 0);
	frame(b, H2_PING, 0, 0, "12345678", 8);
	sc_buf(sc, false, 2000, b);

	frame(b, H2_SETTINGS, H2_ACK, 0, NULL, 0);
	frame(b, H2_PING, H2_ACK, 0, "12345678", 8);
	memcpy(p, "\x02hello \0\0", 9);
	frame(b, H2_DATA, H2_PADDED, 3, p, 9);
	frame(b, H2_PRIORITY, 0, 5, "\x00\x00\x00\x00\x20", 5);
	/* a block over HEADERS and two CONTINUATIONs */
	n = block(&sc->ce, blk, sizeof(blk),
		  (const char *[]){ ":method", "GET", ":scheme", "https", ":path", "/c",
				    ":authority", "example.com", "accept", "text/html", NULL });
	frame(b, H2_HEADERS, H2_END_STREAM, 5, blk, 3);
	frame(b, H2_CONTINUATION, 0, 5, blk + 3, 2);
	frame(b, H2_CONTINUATION, H2_END_HEADERS, 5, blk + 5, n - 5);
	frame(b, 0xfa, 0x5, 0, "ignored", 7);
	frame(b, H2_DATA, H2_END_STREAM, 3, "world", 5);
	sc_buf(sc, true, 3000, b);

	/* responses out of order, and a push */
	headers(b, &sc->se, 5, 0,
		(const char *[]){ ":status", "200", "content-type", "text/html", NULL });
	headers(b, &sc->se, 3, 0, (const char *[]){ ":status", "201", NULL });
	frame(b, H2_DATA, H2_END_STREAM, 3, "ok", 2);
	n = block(&sc->se, blk, sizeof(blk),
		  (const char *[]){ ":method", "GET", ":scheme", "https", ":path", "/style.css",
				    ":authority", "example.com", NULL });
	memcpy(p, "\x00\x00\x00\x02", 4);
	memcpy(p + 4, blk, n);
	frame(b, H2_PUSH_PROMISE, H2_END_HEADERS, 1, p, n + 4);
	headers(b, &sc->se, 1, 0, (const char *[]){ ":status", "200", NULL });
	memcpy(p, "\x01<html>\0", 8);
	frame(b, H2_DATA, H2_PADDED, 5, p, 8);
	frame(b, H2_DATA, H2_END_STREAM, 1, "A body", 6);
	sc_buf(sc, false, 4000, b);

	headers(b, &sc->se, 2, 0,
		(const char *[]){ ":status", "200", "content-type", "text/css", NULL });
	frame(b, H2_DATA, H2_END_STREAM, 2, "body{}", 6);
	frame(b, H2_DATA, H2_END_STREAM, 5, "</html>", 7);
	frame(b, H2_WINDOW_UPDATE, 0, 3, "\x00\x00\x00\x64", 4);
	sc_buf(sc, false, 5000, b);
}

static void test_full_connection(void)
{
	struct script sc;
	const struct message *m;
	struct run r;

	sc_init(&sc);
	build_full(&sc);
	run_start(&r, H2_SIDE_UNKNOWN, false);
	run_script(&r, &sc, 0, 0, false);
	CHECK_EQ_U64(r.seen.n, 7);
	CHECK_EQ_U64(r.cnt.decode_errors, 0);
	CHECK_EQ_U64(r.cnt.unknown_headers, 0);
	if (r.seen.n == 7) {
		/* emitted as each direction ends */
		CHECK(r.seen.m[0]->kind == MSG_REQUEST && r.seen.m[0]->stream == 1);
		CHECK(r.seen.m[1]->kind == MSG_REQUEST && r.seen.m[1]->stream == 5);
		CHECK(r.seen.m[2]->kind == MSG_REQUEST && r.seen.m[2]->stream == 3);
		CHECK(r.seen.m[3]->kind == MSG_RESPONSE && r.seen.m[3]->stream == 3);
		CHECK(r.seen.m[4]->kind == MSG_RESPONSE && r.seen.m[4]->stream == 1);
		CHECK(r.seen.m[5]->kind == MSG_RESPONSE && r.seen.m[5]->stream == 2);
		CHECK(r.seen.m[6]->kind == MSG_RESPONSE && r.seen.m[6]->stream == 5);
	}
	m = find(&r, MSG_REQUEST, 1, 0);
	CHECK(m && m->out && m->proto == MSG_H2 && m->flags == 0);
	CHECK_STR(m ? m->method : NULL, "GET");
	CHECK_STR(m ? m->path : NULL, "/a");
	CHECK_STR(m ? m->authority : NULL, "example.com");
	CHECK_STR(m ? m->scheme : NULL, "https");
	CHECK(m && m->nheaders == 1 && !strcmp(m->headers[0].name, "user-agent"));
	CHECK(m && m->start_ns == 1000 && m->end_ns == 1000);
	m = find(&r, MSG_REQUEST, 3, 0);
	CHECK_STR(m ? m->path : NULL, "/upload");
	CHECK(body_is(m, "hello world"));
	CHECK(m && m->body_len == 11 && m->start_ns == 1000 && m->end_ns == 3000);
	CHECK(m && m->nheaders == 2);
	CHECK_STR(m && m->nheaders == 2 ? m->headers[1].value : NULL, "secret");
	m = find(&r, MSG_REQUEST, 5, 0);
	CHECK_STR(m ? m->path : NULL, "/c");
	CHECK(m && m->body_len == 0 && m->nheaders == 1);
	m = find(&r, MSG_RESPONSE, 3, 0);
	CHECK(m && !m->out && m->status == 201 && body_is(m, "ok"));
	CHECK(m && m->pair_id == find(&r, MSG_REQUEST, 3, 0)->id);
	CHECK_STR(m ? m->path : NULL, "/upload");
	CHECK_STR(m ? m->method : NULL, "POST");
	CHECK(m && m->latency_ns == 3000);
	m = find(&r, MSG_RESPONSE, 1, 0);
	CHECK(m && m->status == 200 && body_is(m, "A body") && m->pair_id == 1);
	m = find(&r, MSG_RESPONSE, 2, 0);
	CHECK(m && m->status == 200 && body_is(m, "body{}") && m->pair_id == 0 &&
	      m->latency_ns == 0);
	CHECK_STR(m ? m->path : NULL, "/style.css");
	m = find(&r, MSG_RESPONSE, 5, 0);
	CHECK(m && body_is(m, "<html></html>") && m->start_ns == 4000 && m->end_ns == 5000);
	CHECK_STR(m ? m->path : NULL, "/c");
	CHECK(h2_mem(r.c) > 0);
	run_end(&r);
	check_splits(&sc, H2_SIDE_UNKNOWN, false, 0);
	check_splits(&sc, H2_SIDE_OUT_IS_CLIENT, false, 0);
	sc_free(&sc);
}

/* ---- gRPC ---- */

static const char *const grpc_req[] = {
	":method", "POST", ":scheme", "https", ":path", "/shop.Orders/Get", ":authority",
	"orders:443", "te", "trailers", "content-type", "application/grpc", NULL,
};

static const char *const grpc_resp[] = {
	":status", "200", "content-type", "application/grpc+proto", NULL,
};

static const char *const grpc_ok[] = { "grpc-status", "0", NULL };

/* the client is out when client_out, else in */
static void build_grpc_unary(struct script *sc, bool client_out, bool preface)
{
	struct buf *b = &sc->b, *g = &sc->g;

	if (preface)
		put(b, H2_PREFACE, H2_PREFACE_LEN);
	settings(b, 4, 65535);
	headers(b, &sc->ce, 1, 0, grpc_req);
	grpc_msg(g, false, "ord-77", 6);
	data_buf(b, 1, H2_END_STREAM, g);
	sc_buf(sc, client_out, 10 * MS, b);

	settings(b, 4, 65535);
	headers(b, &sc->se, 1, 0, grpc_resp);
	grpc_msg(g, false, "total=1999", 10);
	data_buf(b, 1, 0, g);
	headers(b, &sc->se, 1, H2_END_STREAM, grpc_ok);
	sc_buf(sc, !client_out, 15 * MS, b);
}

static void check_grpc_unary(const struct run *r, bool client_out)
{
	const struct message *q = find(r, MSG_REQUEST, 1, 0), *s = find(r, MSG_RESPONSE, 1, 0);

	CHECK_EQ_U64(r->seen.n, 2);
	CHECK(q && q->proto == MSG_GRPC && q->out == client_out && q->ngrpc == 1);
	CHECK(grpc_is(q, 0, "ord-77") && q->body_len == 11);
	CHECK_STR(q ? q->path : NULL, "/shop.Orders/Get");
	CHECK(s && s->proto == MSG_GRPC && s->out == !client_out && s->status == 200);
	CHECK(s && s->grpc_status == 0 && grpc_is(s, 0, "total=1999") && s->grpc_total == 1);
	CHECK(s && q && s->pair_id == q->id && s->latency_ns == 5 * MS);
	CHECK_STR(s ? s->path : NULL, "/shop.Orders/Get");
	CHECK(s && s->nheaders == 2 && (s->headers[1].flags & MSG_HDR_TRAILER));
	CHECK_EQ_U64(r->cnt.decode_errors, 0);
}

/* The traced process as client or server, told or not, with or without
 * the preface (joined late): the requests are found either way. */
static void test_grpc_unary_sides(void)
{
	static const struct {
		bool client_out, preface, late;
		enum h2_side side;
	} cases[] = {
		{ true, true, false, H2_SIDE_UNKNOWN },
		{ false, true, false, H2_SIDE_UNKNOWN },
		{ true, true, false, H2_SIDE_OUT_IS_CLIENT },
		{ false, true, false, H2_SIDE_IN_IS_CLIENT },
		{ true, false, true, H2_SIDE_UNKNOWN },
		{ false, false, true, H2_SIDE_UNKNOWN },
		{ true, false, true, H2_SIDE_OUT_IS_CLIENT },
		{ false, false, true, H2_SIDE_IN_IS_CLIENT },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct script sc;
		struct run r;

		sc_init(&sc);
		build_grpc_unary(&sc, cases[i].client_out, cases[i].preface);
		run_start(&r, cases[i].side, cases[i].late);
		run_script(&r, &sc, 0, 0, true);
		check_grpc_unary(&r, cases[i].client_out);
		CHECK_EQ_U64(r.cnt.resyncs, cases[i].late ? 2 : 0);
		run_end(&r);
		if (!cases[i].late)
			check_splits(&sc, cases[i].side, false, 0);
		sc_free(&sc);
	}
}

static void build_grpc_streaming(struct script *sc)
{
	struct buf *b = &sc->b, *g = &sc->g;

	headers(b, &sc->ce, 1, 0, grpc_req);
	grpc_msg(g, false, "watch", 5);
	data_buf(b, 1, H2_END_STREAM, g);
	sc_buf(sc, true, 100, b);
	headers(b, &sc->se, 1, 0, grpc_resp);
	/* two messages in one DATA frame, the third split over two */
	grpc_msg(g, false, "tick-1", 6);
	grpc_msg(g, false, "tick-2", 6);
	grpc_msg(g, false, "tick-3", 6);
	frame(b, H2_DATA, 0, 1, g->p, 22);
	frame(b, H2_DATA, 0, 1, g->p + 22, g->n - 22);
	g->n = 0;
	headers(b, &sc->se, 1, H2_END_STREAM,
		(const char *[]){ "grpc-status", "0", "grpc-message", "", NULL });
	sc_buf(sc, false, 200, b);
}

static void test_grpc_streaming(void)
{
	struct script sc;
	const struct message *m;
	struct run r;

	sc_init(&sc);
	build_grpc_streaming(&sc);
	run_start(&r, H2_SIDE_OUT_IS_CLIENT, false);
	run_script(&r, &sc, 0, 0, true);
	m = find(&r, MSG_RESPONSE, 1, 0);
	CHECK(m && m->ngrpc == 3 && m->grpc_total == 3 && m->body_len == 33);
	CHECK(grpc_is(m, 0, "tick-1") && grpc_is(m, 1, "tick-2") && grpc_is(m, 2, "tick-3"));
	CHECK(m && m->grpc_status == 0 && m->flags == 0);
	CHECK_STR(m ? m->grpc_message : NULL, "");
	run_end(&r);
	check_splits(&sc, H2_SIDE_OUT_IS_CLIENT, false, 0);
	sc_free(&sc);
}

static void build_grpc_trailers_only(struct script *sc)
{
	struct buf *b = &sc->b, *g = &sc->g;

	headers(b, &sc->ce, 1, 0, grpc_req);
	grpc_msg(g, false, "ord-404", 7);
	data_buf(b, 1, H2_END_STREAM, g);
	headers(b, &sc->ce, 3, H2_END_STREAM, grpc_req);
	sc_buf(sc, true, 100, b);
	headers(b, &sc->se, 1, H2_END_STREAM,
		(const char *[]){ ":status", "200", "content-type", "application/grpc",
				  "grpc-status", "5", "grpc-message",
				  "order%20ord-404%20not%20found", NULL });
	/* without content-type: gRPC as its request */
	headers(b, &sc->se, 3, H2_END_STREAM,
		(const char *[]){ ":status", "200", "grpc-status", "14", NULL });
	sc_buf(sc, false, 300, b);
}

static void test_grpc_trailers_only(void)
{
	struct script sc;
	const struct message *m;
	struct run r;

	sc_init(&sc);
	build_grpc_trailers_only(&sc);
	run_start(&r, H2_SIDE_UNKNOWN, false);
	run_script(&r, &sc, 0, 0, true);
	m = find(&r, MSG_RESPONSE, 1, 0);
	CHECK(m && m->proto == MSG_GRPC && m->grpc_status == 5 && m->ngrpc == 0);
	CHECK_STR(m ? m->grpc_message : NULL, "order ord-404 not found");
	CHECK(m && m->latency_ns == 200 && m->pair_id == 1);
	m = find(&r, MSG_RESPONSE, 3, 0);
	CHECK(m && m->proto == MSG_GRPC && m->grpc_status == 14 && !m->grpc_message);
	run_end(&r);
	check_splits(&sc, H2_SIDE_UNKNOWN, false, 0);
	sc_free(&sc);
}

static const char gz_text[] = "a compressed message, a compressed message, a compressed one";

static void build_grpc_gzip(struct script *sc)
{
	struct buf *b = &sc->b, *g = &sc->g;
	z_stream z = { 0 };
	uint8_t out[256];

	CHECK(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	z.next_in = (uint8_t *)gz_text;
	z.avail_in = strlen(gz_text);
	z.next_out = out;
	z.avail_out = sizeof(out);
	CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
	deflateEnd(&z);
	headers(b, &sc->ce, 1, 0,
		(const char *[]){ ":method", "POST", ":scheme", "https", ":path", "/z.Z/Put",
				  "content-type", "application/grpc", "grpc-encoding", "gzip",
				  NULL });
	grpc_msg(g, true, out, z.total_out);
	data_buf(b, 1, H2_END_STREAM, g);
	sc_buf(sc, true, 100, b);
	headers(b, &sc->se, 1, 0, grpc_resp);
	grpc_msg(g, false, "", 0);
	data_buf(b, 1, 0, g);
	headers(b, &sc->se, 1, H2_END_STREAM, grpc_ok);
	sc_buf(sc, false, 300, b);
}

static void test_grpc_gzip(void)
{
	struct script sc;
	const struct message *m;
	struct run r;

	sc_init(&sc);
	build_grpc_gzip(&sc);
	run_start(&r, H2_SIDE_UNKNOWN, false);
	run_script(&r, &sc, 0, 0, true);
	m = find(&r, MSG_REQUEST, 1, 0);
	CHECK(m && m->ngrpc == 1 && m->grpc[0].compressed && m->grpc[0].inflated);
	CHECK(grpc_is(m, 0, gz_text));
	m = find(&r, MSG_RESPONSE, 1, 0);
	CHECK(m && m->ngrpc == 1 && m->grpc[0].len == 0 && m->grpc_status == 0);
	CHECK_EQ_U64(r.cnt.inflate_errors, 0);
	run_end(&r);
	check_splits(&sc, H2_SIDE_UNKNOWN, false, 0);
	sc_free(&sc);
}

/* ---- resets and goaways ---- */

static void build_rst_goaway(struct script *sc)
{
	struct buf *b = &sc->b, *g = &sc->g;

	headers(b, &sc->ce, 1, 0, grpc_req);
	grpc_msg(g, false, "list", 4);
	data_buf(b, 1, H2_END_STREAM, g);
	headers(b, &sc->ce, 3, H2_END_STREAM,
		(const char *[]){ ":method", "GET", ":scheme", "https", ":path", "/x", NULL });
	sc_buf(sc, true, 1 * MS, b);
	headers(b, &sc->se, 1, 0, grpc_resp);
	grpc_msg(g, false, "item-1", 6);
	grpc_msg(g, false, "item-2", 6);
	frame(b, H2_DATA, 0, 1, g->p, g->n - 2);
	g->n = 0;
	sc_buf(sc, false, 2 * MS, b);
	frame(b, H2_RST_STREAM, 0, 1, "\x00\x00\x00\x08", 4);
	sc_buf(sc, true, 3 * MS, b);
	frame(b, H2_GOAWAY, 0, 0, "\x00\x00\x00\x03\x00\x00\x00\x00" "bye", 11);
	frame(b, H2_RST_STREAM, 0, 7, "\x00\x00\x00\x02", 4);
	sc_buf(sc, false, 4 * MS, b);
}

static void test_rst_goaway(void)
{
	struct script sc;
	const struct message *m, *q;
	struct run r;

	sc_init(&sc);
	build_rst_goaway(&sc);
	run_start(&r, H2_SIDE_OUT_IS_CLIENT, false);
	run_script(&r, &sc, 0, 0, false);
	CHECK_EQ_U64(r.seen.n, 6);
	q = find(&r, MSG_REQUEST, 1, 0);
	m = find(&r, MSG_RESPONSE, 1, 0);
	/* the message the reset cut short is kept, incomplete (and so flagged gap) */
	CHECK(m && (m->flags & (MSG_F_RESET | MSG_F_INCOMPLETE)) ==
			   (MSG_F_RESET | MSG_F_INCOMPLETE) && m->error_code == 8);
	CHECK(m && m->ngrpc == 2 && grpc_is(m, 0, "item-1") && m->grpc[1].incomplete);
	m = find(&r, MSG_RESET, 1, 0);
	CHECK(m && m->out && m->error_code == 8 && m->proto == MSG_GRPC && q &&
	      m->pair_id == q->id && m->latency_ns == 2 * MS);
	CHECK_STR(m ? m->path : NULL, "/shop.Orders/Get");
	CHECK(r.seen.n == 6 && r.seen.m[2] == find(&r, MSG_RESPONSE, 1, 0) && r.seen.m[3] == m);
	m = find(&r, MSG_GOAWAY, 0, 0);
	CHECK(m && !m->out && m->last_stream == 3 && m->error_code == 0 && body_is(m, "bye"));
	/* a reset of a stream never seen */
	m = find(&r, MSG_RESET, 7, 0);
	CHECK(m && m->pair_id == 0 && m->error_code == 2 && !m->path);
	/* stream 3 still waits for its response; closing emits nothing more for it */
	h2_close(r.c, 5 * MS);
	CHECK_EQ_U64(r.seen.n, 6);
	run_end(&r);
	check_splits(&sc, H2_SIDE_OUT_IS_CLIENT, false, 0);
	sc_free(&sc);
}

/* h2_close: open messages emitted incomplete, the stream's gRPC message
 * cut short included. */
static void test_close_incomplete(void)
{
	struct script sc;
	const struct message *m;
	struct run r;

	sc_init(&sc);
	headers(&sc.b, &sc.ce, 1, 0, grpc_req);
	grpc_msg(&sc.g, false, "upload-part", 11);
	frame(&sc.b, H2_DATA, 0, 1, sc.g.p, 10);
	sc_buf(&sc, true, 100, &sc.b);
	run_start(&r, H2_SIDE_UNKNOWN, false);
	run_script(&r, &sc, 0, 0, true);
	m = find(&r, MSG_REQUEST, 1, 0);
	CHECK(r.seen.n == 1 && m && m->flags == (MSG_F_INCOMPLETE | MSG_F_GAP));
	CHECK(m && m->ngrpc == 1 && m->grpc[0].incomplete && m->end_ns == 100);
	run_end(&r);
	sc_free(&sc);
}

/* SETTINGS_HEADER_TABLE_SIZE sent by one side bounds the other side's
 * encoder: the size update in the server's block is accepted only when the
 * client announced it. */
static void test_settings_table_size(void)
{
	for (int who = 0; who < 2; who++) {
		struct script sc;
		const struct message *m;
		struct run r;

		sc_init(&sc);
		put(&sc.b, H2_PREFACE, H2_PREFACE_LEN);
		if (!who)
			settings(&sc.b, 1, 8192);
		headers(&sc.b, &sc.ce, 1, H2_END_STREAM,
			(const char *[]){ ":method", "GET", ":scheme", "https", ":path", "/",
					  NULL });
		sc_buf(&sc, true, 100, &sc.b);
		if (who)
			settings(&sc.b, 1, 8192);
		hpack_encoder_set_max(&sc.se, 8192);
		headers(&sc.b, &sc.se, 1, H2_END_STREAM,
			(const char *[]){ ":status", "204", "x-big", "1", NULL });
		sc_buf(&sc, false, 200, &sc.b);
		run_start(&r, H2_SIDE_UNKNOWN, false);
		run_script(&r, &sc, 0, 0, true);
		m = find(&r, MSG_RESPONSE, 1, 0);
		CHECK(m && m->status == (who ? -1 : 204));
		CHECK_EQ_U64(r.cnt.decode_errors, who ? 1 : 0);
		CHECK(m && (m->flags & MSG_F_DECODE_ERROR) == (who ? MSG_F_DECODE_ERROR : 0));
		run_end(&r);
		sc_free(&sc);
	}
}

/* ---- late joins ---- */

static const char late_garbage[] = "\xff\xfe\xfd garbage from the middle of a DATA frame";

static void build_joined_late(struct script *sc)
{
	static const char *const earlier[] = { ":method", "GET", ":path", "/a", ":authority",
					       "api.example", NULL };
	struct buf *b = &sc->b;
	uint8_t blk[256];

	/* blocks sent before tlstop started: the entries are unknown to it */
	block(&sc->ce, blk, sizeof(blk), earlier);
	block(&sc->se, blk, sizeof(blk), (const char *[]){ ":status", "200", "server", "s", NULL });

	/* mid-frame first: dropped until a call starts with frames */
	put(b, late_garbage, strlen(late_garbage));
	frame(b, H2_DATA, 0, 99, "xx", 2);
	sc_buf(sc, true, 100, b);
	headers(b, &sc->ce, 101, H2_END_STREAM, earlier);
	sc_buf(sc, true, 200, b);
	headers(b, &sc->se, 101, H2_END_STREAM,
		(const char *[]){ ":status", "200", "server", "s", NULL });
	sc_buf(sc, false, 300, b);
	headers(b, &sc->ce, 103, H2_END_STREAM,
		(const char *[]){ ":method", "GET", ":path", "/b", ":authority", "api.example",
				  NULL });
	headers(b, &sc->ce, 105, H2_END_STREAM,
		(const char *[]){ ":method", "GET", ":path", "/b", NULL });
	frame(b, H2_DATA, 0, 99, "late", 4);
	sc_buf(sc, true, 400, b);
}

static void test_joined_late(void)
{
	struct script sc;
	const struct message *m;
	struct run r;

	sc_init(&sc);
	build_joined_late(&sc);
	run_start(&r, H2_SIDE_UNKNOWN, true);
	run_script(&r, &sc, 0, 0, true);
	m = find(&r, MSG_REQUEST, 101, 0);
	CHECK(m && !m->path && (m->flags & MSG_F_PATH_UNKNOWN) && m->method && m->out);
	CHECK_STR(m ? m->method : NULL, "GET");
	m = find(&r, MSG_RESPONSE, 101, 0);
	CHECK(m && m->pair_id == find(&r, MSG_REQUEST, 101, 0)->id && m->latency_ns == 100);
	CHECK(m && (m->flags & MSG_F_PATH_UNKNOWN) && m->status == 200);
	CHECK(m && m->nheaders == 1 && !m->headers[0].name && !m->headers[0].value &&
	      m->headers[0].flags == (MSG_HDR_NAME_UNKNOWN | MSG_HDR_VALUE_UNKNOWN));
	m = find(&r, MSG_REQUEST, 103, 0);
	CHECK_STR(m ? m->path : NULL, "/b");
	CHECK(m && !(m->flags & MSG_F_PATH_UNKNOWN) && !m->authority);
	m = find(&r, MSG_REQUEST, 105, 0);
	CHECK_STR(m ? m->path : NULL, "/b");
	CHECK_EQ_U64(r.seen.n, 4);
	CHECK_EQ_U64(r.cnt.unknown_paths, 1);
	/* request 101: :path and :authority; response: server; request 103: :authority */
	CHECK_EQ_U64(r.cnt.unknown_headers, 4);
	CHECK_EQ_U64(r.cnt.resyncs, 2);
	CHECK_EQ_U64(r.cnt.gap_bytes, strlen(late_garbage) + 11);
	CHECK_EQ_U64(r.cnt.decode_errors, 0);
	run_end(&r);
	check_splits(&sc, H2_SIDE_UNKNOWN, true, 3);
	sc_free(&sc);
}

/* ---- gaps ---- */

static void build_gap_in_data(struct script *sc)
{
	struct buf *b = &sc->b, *g = &sc->g;
	char big[100];

	memset(big, 'x', sizeof(big));
	headers(b, &sc->ce, 1, 0,
		(const char *[]){ ":method", "PUT", ":path", "/f", ":scheme", "https", NULL });
	frame(b, H2_DATA, 0, 1, big, sizeof(big));
	sc_call(sc, true, 100, b->p, b->n - 70);
	sc_gap(sc, true, 110, 40);
	sc_call(sc, true, 120, b->p + b->n - 30, 30);
	b->n = 0;
	frame(b, H2_DATA, H2_END_STREAM, 1, "end", 3);
	/* a gRPC message cut by a gap */
	headers(b, &sc->ce, 3, 0, grpc_req);
	grpc_msg(g, false, big, sizeof(big));
	grpc_msg(g, false, "after", 5);
	data_buf(b, 3, H2_END_STREAM, g);
	sc_call(sc, true, 130, b->p, b->n - 80);
	sc_gap(sc, true, 140, 50);
	sc_call(sc, true, 150, b->p + b->n - 30, 30);
	b->n = 0;
}

static void test_gap_in_data(void)
{
	struct script sc;
	const struct message *m;
	struct run r;

	sc_init(&sc);
	build_gap_in_data(&sc);
	run_start(&r, H2_SIDE_UNKNOWN, false);
	run_script(&r, &sc, 0, 0, true);
	m = find(&r, MSG_REQUEST, 1, 0);
	CHECK(m && m->body_len == 103 && m->body_captured == 63 && (m->flags & MSG_F_GAP));
	CHECK(m && !(m->flags & MSG_F_INCOMPLETE) && m->end_ns == 130);
	m = find(&r, MSG_REQUEST, 3, 0);
	CHECK(m && m->body_len == 115 && (m->flags & MSG_F_GAP) && m->ngrpc == 2);
	CHECK(m && m->ngrpc == 2 && m->grpc[0].incomplete && m->grpc[0].data_len == 30);
	CHECK(grpc_is(m, 1, "after") && !m->grpc[1 % m->ngrpc].incomplete);
	CHECK_EQ_U64(r.cnt.decode_errors, 0);
	CHECK_EQ_U64(r.cnt.resyncs, 0);
	run_end(&r);
	check_splits(&sc, H2_SIDE_UNKNOWN, false, 0);
	sc_free(&sc);
}

static void build_gap_in_block(struct script *sc)
{
	static const char *const fields[] = { ":method", "GET", ":path", "/p", ":scheme", "https",
					      "x-token", "abc", NULL };
	struct buf *b = &sc->b;

	headers(b, &sc->ce, 1, H2_END_STREAM, fields);
	sc_call(sc, true, 100, b->p, 11);
	sc_gap(sc, true, 110, b->n - 11);
	b->n = 0;
	headers(b, &sc->ce, 3, H2_END_STREAM, fields);
	sc_buf(sc, true, 120, b);
}

static void test_gap_in_block(void)
{
	struct script sc;
	const struct message *m;
	struct run r;

	sc_init(&sc);
	build_gap_in_block(&sc);
	run_start(&r, H2_SIDE_UNKNOWN, false);
	run_script(&r, &sc, 0, 0, true);
	m = find(&r, MSG_REQUEST, 1, 0);
	CHECK(m && (m->flags & MSG_F_GAP) && (m->flags & MSG_F_PATH_UNKNOWN) && !m->path);
	CHECK(m && !(m->flags & MSG_F_INCOMPLETE));
	m = find(&r, MSG_REQUEST, 3, 0);
	CHECK(m && (m->flags & MSG_F_PATH_UNKNOWN) && !m->path && m->nheaders == 2);
	CHECK(m && m->nheaders == 2 && !m->headers[1].name);
	CHECK_STR(m ? m->method : NULL, "GET");
	CHECK_EQ_U64(r.seen.n, 2);
	CHECK_EQ_U64(r.cnt.unknown_headers, 2);
	run_end(&r);
	check_splits(&sc, H2_SIDE_UNKNOWN, false, 0);
	sc_free(&sc);
}

static void build_gap_on_header(struct script *sc)
{
	struct buf *b = &sc->b;

	headers(b, &sc->ce, 1, 0, (const char *[]){ ":method", "POST", ":path", "/u", NULL });
	frame(b, H2_DATA, 0, 1, "part", 4);
	sc_buf(sc, true, 100, b);
	sc_gap(sc, true, 110, 20);
	/* the next call starts inside the frame the gap began: dropped */
	put(b, "zzzzzz", 6);
	frame(b, H2_DATA, 0, 1, "lost", 4);
	sc_buf(sc, true, 120, b);
	frame(b, H2_DATA, H2_END_STREAM, 1, "!", 1);
	headers(b, &sc->ce, 3, H2_END_STREAM,
		(const char *[]){ ":method", "GET", ":path", "/u", "x-new", "1", NULL });
	sc_buf(sc, true, 130, b);
}

static void test_gap_on_header(void)
{
	struct script sc;
	const struct message *m;
	struct run r;

	sc_init(&sc);
	build_gap_on_header(&sc);
	run_start(&r, H2_SIDE_UNKNOWN, false);
	run_script(&r, &sc, 0, 0, true);
	m = find(&r, MSG_REQUEST, 1, 0);
	CHECK(m && (m->flags & MSG_F_GAP) && body_is(m, "part!") && m->end_ns == 130);
	m = find(&r, MSG_REQUEST, 3, 0);
	/* :path indexes an entry inserted before the loss; x-new is new */
	CHECK(m && (m->flags & MSG_F_PATH_UNKNOWN) && !m->path && m->nheaders == 2);
	CHECK_STR(m && m->nheaders == 2 ? m->headers[1].name : NULL, "x-new");
	CHECK_EQ_U64(r.cnt.resyncs, 1);
	CHECK_EQ_U64(r.cnt.gap_bytes, 6 + 13);
	run_end(&r);
	sc_free(&sc);
}

/* ---- long-lived streams ---- */

static void build_partial(struct script *sc)
{
	struct buf *b = &sc->b, *g = &sc->g;

	headers(b, &sc->ce, 1, 0, grpc_req);
	grpc_msg(g, false, "sub", 3);
	data_buf(b, 1, H2_END_STREAM, g);
	sc_buf(sc, true, 1 * SEC, b);
	headers(b, &sc->se, 1, 0, grpc_resp);
	sc_buf(sc, false, 1 * SEC, b);
	grpc_msg(g, false, "ev-1", 4);
	data_buf(b, 1, 0, g);
	sc_buf(sc, false, 1100 * MS, b);
	sc_tick(sc, 1900 * MS); /* not yet a second */
	sc_tick(sc, 2200 * MS);
	sc_tick(sc, 3500 * MS); /* nothing new: nothing emitted */
	grpc_msg(g, false, "ev-2", 4);
	data_buf(b, 1, 0, g);
	sc_buf(sc, false, 3600 * MS, b);
	grpc_msg(g, false, "ev-3", 4);
	data_buf(b, 1, 0, g);
	sc_buf(sc, false, 4700 * MS, b); /* emitted by the feed */
	headers(b, &sc->se, 1, H2_END_STREAM, grpc_ok);
	sc_buf(sc, false, 4800 * MS, b);
}

static void test_partial(void)
{
	struct script sc;
	const struct message *m;
	struct run r;

	sc_init(&sc);
	build_partial(&sc);
	run_start(&r, H2_SIDE_UNKNOWN, false);
	run_script(&r, &sc, 0, 0, true);
	CHECK_EQ_U64(r.seen.n, 4);
	m = find(&r, MSG_RESPONSE, 1, 0);
	CHECK(m && m->part == 0 && m->flags == MSG_F_PARTIAL && grpc_is(m, 0, "ev-1"));
	CHECK(m && m->start_ns == 1 * SEC && m->end_ns == 1100 * MS && m->pair_id == 1);
	CHECK(m && m->latency_ns == 100 * MS && m->status == 200 && m->nheaders == 1);
	m = find(&r, MSG_RESPONSE, 1, 1);
	CHECK(m && m->part == 1 && m->flags == MSG_F_PARTIAL && m->ngrpc == 2);
	CHECK(grpc_is(m, 0, "ev-2") && grpc_is(m, 1, "ev-3"));
	CHECK(m && m->start_ns == 3600 * MS && m->end_ns == 4700 * MS && m->pair_id == 1);
	CHECK_STR(m ? m->path : NULL, "/shop.Orders/Get");
	CHECK(m && m->status == 200 && m->proto == MSG_GRPC);
	m = find(&r, MSG_RESPONSE, 1, 2);
	CHECK(m && m->part == 2 && m->flags == 0 && m->ngrpc == 0 && m->grpc_status == 0);
	CHECK(m && m->start_ns == 4800 * MS && m->latency_ns == 3800 * MS);
	run_end(&r);
	check_splits(&sc, H2_SIDE_UNKNOWN, false, 0);
	sc_free(&sc);
}

/* Streams past the cap: the oldest are dropped (emitted incomplete), and
 * memory stays bounded. */
static void test_stream_cap(void)
{
	struct script sc;
	struct run r;
	size_t mem;

	sc_init(&sc);
	run_start(&r, H2_SIDE_UNKNOWN, false);
	put(&sc.b, H2_PREFACE, H2_PREFACE_LEN);
	for (uint32_t i = 0; i < 5000; i++)
		headers(&sc.b, &sc.ce, 2 * i + 1, 0,
			(const char *[]){ ":method", "POST", ":path", "/s", NULL });
	h2_feed(r.c, true, sc.b.p, sc.b.n, 100);
	mem = h2_mem(r.c);
	CHECK_EQ_U64(r.seen.n, 5000 - 4096);
	CHECK(r.seen.n && r.seen.m[0]->stream == 1 && r.seen.m[0]->flags == MSG_F_INCOMPLETE);
	CHECK_EQ_U64(r.cnt.decode_errors, 5000 - 4096);
	CHECK(mem > 4096 * 100 && mem < 16 << 20);
	h2_close(r.c, 200);
	CHECK_EQ_U64(r.seen.n, 5000);
	CHECK(h2_mem(r.c) < 128 << 10);
	run_end(&r);
	sc_free(&sc);
}

/* 1xx responses are not records; a header block after H2_END_STREAM is an error. */
static void test_informational(void)
{
	struct script sc;
	struct buf *b = &sc.b;
	const struct message *m;
	struct run r;

	sc_init(&sc);
	headers(b, &sc.ce, 1, 0,
		(const char *[]){ ":method", "POST", ":path", "/up", "expect", "100-continue",
				  NULL });
	headers(b, &sc.ce, 5, 0, (const char *[]){ ":method", "POST", ":path", "/s", NULL });
	sc_buf(&sc, true, 100, b);
	headers(b, &sc.se, 1, 0, (const char *[]){ ":status", "100", NULL });
	sc_buf(&sc, false, 200, b);
	frame(b, H2_DATA, H2_END_STREAM, 1, "x", 1);
	sc_buf(&sc, true, 300, b);
	headers(b, &sc.se, 1, 0, (const char *[]){ ":status", "200", NULL });
	frame(b, H2_DATA, 0, 1, "ok", 2);
	headers(b, &sc.se, 1, H2_END_STREAM, (const char *[]){ "x-t", "1", NULL });
	headers(b, &sc.se, 5, H2_END_STREAM, (const char *[]){ ":status", "403", NULL });
	headers(b, &sc.se, 5, 0, (const char *[]){ ":status", "500", NULL });
	sc_buf(&sc, false, 400, b);
	frame(b, H2_DATA, H2_END_STREAM, 5, "late", 4);
	sc_buf(&sc, true, 500, b);
	run_start(&r, H2_SIDE_UNKNOWN, false);
	run_script(&r, &sc, 0, 0, false);
	m = find(&r, MSG_RESPONSE, 1, 0);
	CHECK(m && m->status == 200 && body_is(m, "ok") && m->start_ns == 400 && m->pair_id == 1);
	CHECK(m && m->nheaders == 1 && m->headers[0].flags == MSG_HDR_TRAILER);
	CHECK(!find(&r, MSG_RESPONSE, 1, 1));
	m = find(&r, MSG_RESPONSE, 5, 0);
	CHECK(m && m->status == 403 && !find(&r, MSG_RESPONSE, 5, 1));
	m = find(&r, MSG_REQUEST, 5, 0);
	CHECK(m && body_is(m, "late") && m->flags == 0);
	CHECK_EQ_U64(r.seen.n, 4);
	CHECK_EQ_U64(r.cnt.decode_errors, 1);
	/* both streams ended: nothing is left */
	h2_close(r.c, 600);
	CHECK_EQ_U64(r.seen.n, 4);
	run_end(&r);
	check_splits(&sc, H2_SIDE_UNKNOWN, false, 0);
	sc_free(&sc);
}

/* A header block of n bytes (HEADERS + CONTINUATIONs) with a value of
 * vlen bytes, sent without indexing. */
static void big_block(struct script *sc, uint32_t sid, size_t vlen)
{
	size_t cap = vlen + 256, n, off = 0;
	uint8_t *blk = malloc(cap);
	char *v = malloc(vlen + 1);

	memset(v, 'v', vlen);
	v[vlen] = '\0';
	n = block(&sc->ce, blk, cap, (const char *[]){ ":method", "GET", ":path", "/big", NULL });
	n += hpack_encode_field(&sc->ce, "x-big", v, HPACK_WITHOUT, blk + n, cap - n);
	do {
		size_t k = n - off > 16384 ? 16384 : n - off;
		uint8_t flags = (off + k == n ? H2_END_HEADERS : 0) | (off ? 0 : H2_END_STREAM);

		frame(&sc->b, off ? H2_CONTINUATION : H2_HEADERS, flags, sid, blk + off, k);
		off += k;
	} while (off < n);
	free(blk);
	free(v);
}

/* Blocks past the frame size are joined; past the block limit they are
 * lost, and the buffer does not stay large. */
static void test_big_blocks(void)
{
	struct script sc;
	const struct message *m;
	struct run r;

	sc_init(&sc);
	headers(&sc.b, &sc.ce, 1, H2_END_STREAM,
		(const char *[]){ ":method", "GET", ":path", "/p", NULL });
	big_block(&sc, 3, 40000);
	big_block(&sc, 5, 600000);
	headers(&sc.b, &sc.ce, 7, H2_END_STREAM,
		(const char *[]){ ":method", "GET", ":path", "/p", NULL });
	run_start(&r, H2_SIDE_OUT_IS_CLIENT, false);
	h2_feed(r.c, true, sc.b.p, sc.b.n, 100);
	m = find(&r, MSG_REQUEST, 3, 0);
	CHECK_STR(m ? m->path : NULL, "/big");
	CHECK(m && m->flags == MSG_F_HEADERS_CUT && m->nheaders == 0);
	m = find(&r, MSG_REQUEST, 5, 0);
	CHECK(m && m->flags == (MSG_F_GAP | MSG_F_PATH_UNKNOWN) && !m->method);
	m = find(&r, MSG_REQUEST, 7, 0);
	CHECK(m && (m->flags & MSG_F_PATH_UNKNOWN));
	CHECK_EQ_U64(r.cnt.decode_errors, 1);
	CHECK(h2_mem(r.c) < 64 << 10);
	run_end(&r);
	sc_free(&sc);
}

/* Many streams with scattered ids, closed out of order: the table keeps
 * finding them (collisions, deletions that shift entries). */
static void test_stream_table(void)
{
	enum { N = 1500 };
	static uint32_t ids[N];
	uint32_t x = 12345;
	struct script sc;
	struct run r;
	int bad = 0;

	sc_init(&sc);
	run_start(&r, H2_SIDE_OUT_IS_CLIENT, true);
	for (int i = 0; i < N; i++) {
		x = x * 1103515245 + 12345;
		ids[i] = (x >> 1 | 1) & 0x7fffffff;
		headers(&sc.b, &sc.ce, ids[i], H2_END_STREAM,
			(const char *[]){ ":method", "GET", ":path", "/t", NULL });
	}
	h2_feed(r.c, true, sc.b.p, sc.b.n, 100);
	sc.b.n = 0;
	for (int i = 0; i < N; i++) {
		x = x * 1103515245 + 12345;
		uint32_t j = x % N, t = ids[i];

		ids[i] = ids[j];
		ids[j] = t;
	}
	for (int i = 0; i < N; i++)
		headers(&sc.b, &sc.se, ids[i], H2_END_STREAM, (const char *[]){ ":status", "204", NULL });
	h2_feed(r.c, false, sc.b.p, sc.b.n, 200);
	CHECK_EQ_U64(r.seen.n, 2 * N);
	for (int i = N; i < r.seen.n; i++) {
		const struct message *q = find(&r, MSG_REQUEST, r.seen.m[i]->stream, 0);

		bad += !q || r.seen.m[i]->pair_id != q->id;
	}
	CHECK(!bad);
	CHECK(h2_mem(r.c) < 64 << 10);
	run_end(&r);
	sc_free(&sc);
}

/* Gaps in the fixed fields, settings, debug data; framing lost inside a
 * header block and with a gRPC message open; an orphan CONTINUATION. */
static void test_gap_edges(void)
{
	struct script sc;
	struct buf *b = &sc.b, *g = &sc.g;
	const struct message *m;
	struct run r;

	sc_init(&sc);
	put(b, H2_PREFACE, H2_PREFACE_LEN);
	headers(b, &sc.ce, 1, 0, (const char *[]){ ":method", "PUT", ":path", "/a", NULL });
	frame(b, H2_DATA, H2_PADDED | H2_END_STREAM, 1, "\x02" "abc\0\0", 6);
	sc_call(&sc, true, 100, b->p, b->n - 6); /* the pad length is lost */
	sc_gap(&sc, true, 100, 1);
	sc_call(&sc, true, 100, b->p + b->n - 5, 5);
	b->n = 0;
	frame(b, H2_SETTINGS, 0, 0, "\x00\x01\x00\x00\x20\x00" "\x00\x04\x00\x01\x00\x00", 12);
	sc_call(&sc, true, 110, b->p, 12);
	sc_gap(&sc, true, 110, 4);
	sc_call(&sc, true, 110, b->p + 16, 5);
	b->n = 0;
	frame(b, H2_GOAWAY, 0, 0, "\x00\x00\x00\x01\x00\x00\x00\x00" "0123456789", 18);
	sc_call(&sc, true, 120, b->p, 19);
	sc_gap(&sc, true, 120, 5);
	sc_call(&sc, true, 120, b->p + 24, 3);
	b->n = 0;
	/* a short HEADERS with PRIORITY: lost, framing kept */
	frame(b, H2_HEADERS, H2_END_HEADERS | H2_PRIO | H2_END_STREAM, 9, "\x00\x00\x00", 3);
	headers(b, &sc.ce, 11, 0, grpc_req);
	grpc_msg(g, false, "0123456789", 10);
	frame(b, H2_DATA, 0, 11, g->p, 8);
	frame(b, H2_HEADERS, 0, 13, "\x82", 1);
	sc_buf(&sc, true, 130, b);
	sc_gap(&sc, true, 140, 30); /* on a frame header: framing lost */
	sc_gap(&sc, true, 140, 30);
	frame(b, H2_CONTINUATION, H2_END_HEADERS, 13, "\x84", 1);
	frame(b, H2_DATA, H2_END_STREAM, 11, g->p + 8, g->n - 8);
	sc_buf(&sc, true, 150, b);

	run_start(&r, H2_SIDE_UNKNOWN, false);
	run_script(&r, &sc, 0, 0, false);
	m = find(&r, MSG_REQUEST, 1, 0);
	CHECK(m && m->flags == MSG_F_GAP && m->body_len == 0 && m->end_ns == 100);
	m = find(&r, MSG_GOAWAY, 0, 0);
	CHECK(m && m->flags == MSG_F_GAP && m->body_len == 10 && body_is(m, "01789"));
	m = find(&r, MSG_REQUEST, 9, 0);
	CHECK(m && m->flags == (MSG_F_GAP | MSG_F_PATH_UNKNOWN));
	m = find(&r, MSG_REQUEST, 11, 0);
	CHECK(m && (m->flags & MSG_F_GAP) && m->ngrpc == 1 && m->grpc[0].incomplete);
	CHECK(m && m->body_len == 15 && m->end_ns == 150);
	CHECK(!find(&r, MSG_REQUEST, 13, 0));
	CHECK_EQ_U64(r.cnt.decode_errors, 1);
	CHECK_EQ_U64(r.cnt.resyncs, 1);
	CHECK_EQ_U64(r.seen.n, 4);
	/* freed with stream 13 open, without h2_close */
	run_end(&r);
	sc_free(&sc);
}

/* A preface cut short by other bytes: framing lost until a call starts
 * with frames. */
static void test_bad_preface(void)
{
	struct script sc;
	struct run r;

	sc_init(&sc);
	run_start(&r, H2_SIDE_UNKNOWN, false);
	h2_feed(r.c, true, (const uint8_t *)H2_PREFACE, 10, 100);
	h2_feed(r.c, true, (const uint8_t *)"GET / HTTP/1.1\r\n", 16, 100);
	headers(&sc.b, &sc.ce, 1, H2_END_STREAM,
		(const char *[]){ ":method", "GET", ":path", "/", NULL });
	h2_feed(r.c, true, sc.b.p, sc.b.n, 200);
	CHECK_EQ_U64(r.cnt.decode_errors, 1);
	CHECK_EQ_U64(r.cnt.resyncs, 1);
	CHECK_EQ_U64(r.cnt.gap_bytes, 16);
	CHECK(r.seen.n == 1 && r.seen.m[0]->path && r.seen.m[0]->out);
	run_end(&r);
	sc_free(&sc);
}

/* ---- framing checks ---- */

static void test_malformed(void)
{
	struct script sc;
	struct buf *b = &sc.b;
	struct run r;

	sc_init(&sc);
	run_start(&r, H2_SIDE_OUT_IS_CLIENT, false);
	put(b, H2_PREFACE, H2_PREFACE_LEN);
	/* padding longer than the payload: the block is lost, framing kept */
	frame(b, H2_HEADERS, H2_END_HEADERS | H2_END_STREAM | H2_PADDED, 1, "\x09\x82\x84", 3);
	/* HEADERS interrupted by DATA */
	frame(b, H2_HEADERS, 0, 3, "\x82", 1);
	frame(b, H2_DATA, 0, 3, "x", 1);
	headers(b, &sc.ce, 5, H2_END_STREAM,
		(const char *[]){ ":method", "GET", ":path", "/ok", NULL });
	/* PING of the wrong length: framing lost */
	frame(b, H2_PING, 0, 0, "1234", 4);
	headers(b, &sc.ce, 7, H2_END_STREAM, (const char *[]){ ":method", "GET", NULL });
	h2_feed(r.c, true, b->p, b->n, 100);
	CHECK_EQ_U64(r.cnt.decode_errors, 3);
	CHECK_EQ_U64(r.seen.n, 2);
	CHECK(r.seen.n == 2 && r.seen.m[0]->stream == 1 && (r.seen.m[0]->flags & MSG_F_GAP));
	CHECK(r.seen.n == 2 && r.seen.m[1]->stream == 5 && r.seen.m[1]->path &&
	      !(r.seen.m[1]->flags & MSG_F_PATH_UNKNOWN));
	h2_close(r.c, 200);
	CHECK_EQ_U64(r.seen.n, 3);
	run_end(&r);
	sc_free(&sc);
}

static bool plausible(const char *hex)
{
	uint8_t p[256];
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		if (hex[0] == ' ')
			hex--;
		else
			p[n++] = (uint8_t)strtoul((char[]){ hex[0], hex[1], 0 }, NULL, 16);
	}
	return h2_frames_plausible(p, n);
}

static void test_plausible(void)
{
	uint8_t big[9 + 20000] = { 0x00, 0x4e, 0x20, 0x00, 0x00, 0, 0, 0, 1 };

	CHECK(h2_frames_plausible((const uint8_t *)H2_PREFACE, H2_PREFACE_LEN));
	CHECK(h2_frames_plausible((const uint8_t *)"PRI ", 4));
	CHECK(!h2_frames_plausible((const uint8_t *)"PRI", 3));
	CHECK(!h2_frames_plausible((const uint8_t *)"GET / HTTP/1.1\r\n", 16));
	CHECK(!h2_frames_plausible((const uint8_t *)"HTTP/1.1 200 OK\r\n", 17));
	CHECK(plausible("000006 04 00 00000000 000100001000"));
	CHECK(plausible("000000 04 01 00000000"));
	CHECK(!plausible("000006 04 01 00000000 000100001000")); /* H2_ACK with a payload */
	CHECK(!plausible("000007 04 00 00000000 00010000100000"));
	CHECK(!plausible("000006 04 00 00000001 000100001000")); /* SETTINGS on a stream */
	CHECK(!plausible("000002 00 00 00000000 6869")); /* DATA on stream 0 */
	CHECK(plausible("000002 00 01 00000001 6869"));
	CHECK(!plausible("000002 00 02 00000001 6869")); /* undefined flag */
	CHECK(!plausible("000002 00 00 80000001 6869")); /* reserved bit */
	CHECK(!plausible("000002 0a 00 00000001 6869")); /* unknown type */
	CHECK(plausible("000008 06 00 00000000 0102030405060708"));
	CHECK(!plausible("000004 06 00 00000000 01020304"));
	CHECK(plausible("000004 03 00 00000001 00000008"));
	CHECK(!plausible("000004 03 00 00000000 00000008"));
	CHECK(plausible("000005 02 00 00000003 0000000010"));
	CHECK(plausible("000004 08 00 00000000 00001000 000004 08 00 00000003 00001000"));
	CHECK(plausible("000008 07 00 00000000 0000000300000000"));
	CHECK(!plausible("000007 07 00 00000000 00000003000000"));
	/* the second header is checked, and a last frame may run past the end */
	CHECK(!plausible("000002 00 00 00000001 6869 000002 00 00 00000000 6869"));
	CHECK(plausible("000002 00 00 00000001 6869 000010 01 04 00000003 8286"));
	CHECK(plausible("000002 00 00 00000001 6869 0000"));
	CHECK(!plausible("000002 00 00 0000"));
	/* longer than 16384: only when the call holds it all */
	CHECK(!h2_frames_plausible(big, 100));
	CHECK(h2_frames_plausible(big, sizeof(big)));
}

int main(void)
{
	test_full_connection();
	test_grpc_unary_sides();
	test_grpc_streaming();
	test_grpc_trailers_only();
	test_grpc_gzip();
	test_rst_goaway();
	test_close_incomplete();
	test_settings_table_size();
	test_joined_late();
	test_gap_in_data();
	test_gap_in_block();
	test_gap_on_header();
	test_partial();
	test_stream_cap();
	test_informational();
	test_big_blocks();
	test_stream_table();
	test_gap_edges();
	test_bad_preface();
	test_malformed();
	test_plausible();
	return unit_result("test_http2");
}
