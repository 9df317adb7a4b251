/* conns.c - the connection table. A connection is keyed by (pid, SSL*):
 * the TLS session is what orders the plaintext, whether or not a socket
 * was seen; a reused SSL* on another socket is a new connection. */
#include <stdlib.h>
#include <string.h>

#include "conns.h"
#include "htab.h"
#include "proto/http1.h"
#include "proto/http2.h"

/* Calls looked at before a connection that is neither HTTP/1 nor HTTP/2 is
 * left as raw: a late join can start mid-body, and a later call may begin
 * a message. */
#define DETECT_CALLS 8

struct conn {
	struct htab_node hnode; /* keyed by (pid, ssl) */
	uint32_t pid;
	uint64_t ssl;
	int32_t fd; /* -1 until a call with a socket is seen */
	uint64_t seq;
	enum conn_proto proto;
	uint32_t detect_calls;
	bool seen_payload; /* payload seen: a preface after it means the start was missed */
	union {
		struct h1_conn *h1;
		struct h2_conn *h2;
	};
	struct proto_ctx ctx; /* sink.arg is this connection */
	struct conns *table;
	struct tlstop_data who; /* header of the latest call; data[] unused */
	uint64_t last_ns;
	struct conn *older, *newer; /* activity order */
};

struct conns {
	struct conns_config cfg;
	struct htab by_key;
	uint64_t next_id;
	uint64_t next_seq;
	struct conn *oldest, *newest;
};

const char *conn_proto_name(enum conn_proto p)
{
	switch (p) {
	case CONN_H1:
		return "h1";
	case CONN_H2:
		return "h2";
	case CONN_RAW:
		return "raw";
	case CONN_UNKNOWN:
		break;
	}
	return "?";
}

static uint64_t key_hash(uint32_t pid, uint64_t ssl)
{
	return htab_hash_u64(ssl ^ ((uint64_t)pid << 32 | pid));
}

struct conns *conns_new(const struct conns_config *cfg)
{
	struct conns *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cfg = *cfg;
	if (htab_init(&t->by_key)) {
		free(t);
		return NULL;
	}
	return t;
}

static void conn_emit(struct message *m, void *arg)
{
	struct conn *c = arg;

	m->who = c->who;
	m->conn_seq = c->seq;
	c->table->cfg.sink.emit(m, c->table->cfg.sink.arg);
}

static void unlink_activity(struct conns *t, struct conn *c)
{
	if (c->older)
		c->older->newer = c->newer;
	else
		t->oldest = c->newer;
	if (c->newer)
		c->newer->older = c->older;
	else
		t->newest = c->older;
	c->older = c->newer = NULL;
}

static void link_newest(struct conns *t, struct conn *c)
{
	c->older = t->newest;
	c->newer = NULL;
	if (t->newest)
		t->newest->newer = c;
	else
		t->oldest = c;
	t->newest = c;
}

static void decoder_free(struct conn *c, uint64_t ts)
{
	switch (c->proto) {
	case CONN_H1:
		h1_close(c->h1, ts);
		h1_free(c->h1);
		break;
	case CONN_H2:
		h2_close(c->h2, ts);
		h2_free(c->h2);
		break;
	default:
		break;
	}
	c->h1 = NULL;
}

static void conn_close(struct conns *t, struct conn *c, uint64_t ts)
{
	decoder_free(c, ts);
	if (t->cfg.closed && c->seen_payload)
		t->cfg.closed(&c->who, c->seq, ts, t->cfg.sink.arg);
	htab_del(&t->by_key, &c->hnode);
	unlink_activity(t, c);
	free(c);
}

void conns_end_all(struct conns *t, uint64_t ts)
{
	while (t->oldest)
		conn_close(t, t->oldest, ts);
}

void conns_free(struct conns *t)
{
	if (!t)
		return;
	conns_end_all(t, t->newest ? t->newest->last_ns : 0);
	htab_fini(&t->by_key);
	free(t);
}

static struct conn *conn_get(struct conns *t, const struct tlstop_data *d)
{
	bool has_fd = d->flags & TLSTOP_F_HAS_FD;
	uint64_t hash = key_hash(d->pid, d->ssl);
	struct htab_node *n;
	struct conn *c = NULL;

	for (n = htab_first(&t->by_key, hash); n; n = htab_next(n)) {
		struct conn *k = (struct conn *)n;

		if (k->pid == d->pid && k->ssl == d->ssl) {
			c = k;
			break;
		}
	}
	if (c && has_fd && c->fd >= 0 && c->fd != d->fd) {
		/* the SSL object was freed and its memory reused for another socket */
		conn_close(t, c, d->ts_ns);
		c = NULL;
	}
	if (c)
		return c;
	if (t->cfg.max_conns && t->by_key.count >= t->cfg.max_conns)
		conn_close(t, t->oldest, d->ts_ns);
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->pid = d->pid;
	c->ssl = d->ssl;
	c->fd = -1;
	c->seq = ++t->next_seq;
	c->table = t;
	c->ctx = (struct proto_ctx){
		.sink = { conn_emit, c },
		.lim = t->cfg.lim,
		.next_id = &t->next_id,
		.cnt = t->cfg.cnt,
	};
	htab_add(&t->by_key, &c->hnode, hash);
	link_newest(t, c);
	return c;
}

static enum h2_side side_from_role(const struct tlstop_data *d)
{
	if (!(d->flags & TLSTOP_F_HAS_FD))
		return H2_SIDE_UNKNOWN;
	if (d->addr.role == TLSTOP_ROLE_CLIENT)
		return H2_SIDE_OUT_IS_CLIENT;
	if (d->addr.role == TLSTOP_ROLE_SERVER)
		return H2_SIDE_IN_IS_CLIENT;
	return H2_SIDE_UNKNOWN;
}

static bool is_preface(const uint8_t *p, size_t n)
{
	size_t k = n < H2_PREFACE_LEN ? n : H2_PREFACE_LEN;

	return k >= 4 && !memcmp(p, H2_PREFACE, k);
}

/* Chooses the decoder from the first bytes of a call. HTTP/2 without its
 * preface means tlstop joined after the connection began (or sees the
 * server's SETTINGS before the client's preface, where starting "late" is
 * harmless: no table entry can predate the first header block). */
static void detect(struct conn *c, bool out, const uint8_t *p, size_t n)
{
	if (is_preface(p, n)) {
		c->h2 = h2_new(&c->ctx, out ? H2_SIDE_OUT_IS_CLIENT : H2_SIDE_IN_IS_CLIENT,
			       c->seen_payload);
		c->proto = c->h2 ? CONN_H2 : CONN_RAW;
	} else if (h1_looks_like(p, n)) {
		c->h1 = h1_new(&c->ctx);
		c->proto = c->h1 ? CONN_H1 : CONN_RAW;
	} else if (h2_frames_plausible(p, n)) {
		c->h2 = h2_new(&c->ctx, side_from_role(&c->who), true);
		c->proto = c->h2 ? CONN_H2 : CONN_RAW;
	} else if (++c->detect_calls >= DETECT_CALLS) {
		c->proto = CONN_RAW;
	}
	c->seen_payload = true;
}

static void feed(struct conn *c, bool out, const uint8_t *p, size_t n, uint64_t ts)
{
	if (c->proto == CONN_UNKNOWN && n)
		detect(c, out, p, n);
	if (c->proto == CONN_H1) {
		h1_feed(c->h1, out, p, n, ts);
		if (h1_upgraded(c->h1)) {
			decoder_free(c, ts);
			c->proto = CONN_RAW;
		}
	} else if (c->proto == CONN_H2) {
		h2_feed(c->h2, out, p, n, ts);
	}
}

static void gap(struct conns *t, struct conn *c, bool out, uint64_t n, uint64_t ts)
{
	t->cfg.cnt->gaps++;
	t->cfg.cnt->gap_bytes += n;
	if (c->proto == CONN_H1)
		h1_gap(c->h1, out, n, ts);
	else if (c->proto == CONN_H2)
		h2_gap(c->h2, out, n, ts);
	else
		c->seen_payload = true;
}

/* Bytes the in-kernel prefilter kept back: the decoders skip them as they
 * skip a gap, but they are not a loss. */
static void skipped(struct conn *c, bool out, uint64_t n, uint64_t ts)
{
	/* The kernel drops HTTP/2 bytes only after a preface it passed on, so
	 * a skip before any payload is whole HTTP/1 requests: the connection is
	 * HTTP/1 even if what comes next is too short to tell. */
	if (c->proto == CONN_UNKNOWN && !c->seen_payload) {
		c->h1 = h1_new(&c->ctx);
		c->proto = c->h1 ? CONN_H1 : CONN_RAW;
	}
	if (c->proto == CONN_H1)
		h1_skip(c->h1, out, n, ts);
	else if (c->proto == CONN_H2)
		h2_gap(c->h2, out, n, ts);
}

void conns_call(struct conns *t, const struct tls_call *call)
{
	const struct tlstop_data *d = call->hdr;
	bool out = d->dir == TLSTOP_DIR_OUT;
	struct conn *c;

	if (!d->len)
		return;
	c = conn_get(t, d);
	if (!c)
		return;
	memcpy(&c->who, d, sizeof(c->who));
	if (d->flags & TLSTOP_F_HAS_FD)
		c->fd = d->fd;
	c->last_ns = d->ts_ns;
	unlink_activity(t, c);
	link_newest(t, c);
	/* where inside the call records were lost is unknown: all of it is a gap */
	if (call->lost) {
		gap(t, c, out, d->len, d->ts_ns);
		return;
	}
	if (!call->pieces && call->data_len)
		feed(c, out, call->data, call->data_len, d->ts_ns);
	for (uint32_t i = 0; i < call->npieces; i++) {
		const struct call_piece *k = &call->pieces[i];

		if (k->data)
			feed(c, out, k->data, k->len, d->ts_ns);
		else
			skipped(c, out, k->len, d->ts_ns);
	}
	if (d->len > call->data_len)
		gap(t, c, out, d->len - call->data_len, d->ts_ns);
}

void conns_exit(struct conns *t, uint32_t pid, uint64_t ts)
{
	for (struct conn *c = t->oldest, *next; c; c = next) {
		next = c->newer;
		if (c->pid == pid)
			conn_close(t, c, ts);
	}
}

void conns_tick(struct conns *t, uint64_t now)
{
	while (t->oldest && t->cfg.idle_ns && now - t->oldest->last_ns > t->cfg.idle_ns)
		conn_close(t, t->oldest, now);
	for (struct conn *c = t->oldest; c; c = c->newer)
		if (c->proto == CONN_H2)
			h2_tick(c->h2, now);
}

size_t conns_count(const struct conns *t)
{
	return t->by_key.count;
}

size_t conns_mem(const struct conns *t)
{
	size_t n = sizeof(*t) + htab_mem(&t->by_key);

	for (const struct conn *c = t->oldest; c; c = c->newer) {
		n += sizeof(*c);
		if (c->proto == CONN_H2)
			n += h2_mem(c->h2);
	}
	return n;
}
