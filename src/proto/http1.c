/* http1.c - HTTP/1.x decoder: a state machine per direction over the TLS byte
 * streams of one connection, a FIFO pairing responses with requests, and
 * resynchronisation on start lines after gaps or malformed input. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/http1.h"

#define H1_HEAD_MAX (64 * 1024) /* header (or trailer) section; longer is malformed */
#define H1_LINE_MAX 4096 /* chunk-size line with its extensions */
#define H1_BUF_KEEP 4096 /* line buffer kept between messages; larger ones are freed */
#define H1_QUEUE_MAX 64 /* requests awaiting their response */
#define H1_METHOD_MAX 20 /* longest method token taken from a client already decoded */

enum h1_role {
	ROLE_UNKNOWN,
	ROLE_CLIENT, /* the direction carries requests */
	ROLE_SERVER, /* ... responses */
};

enum h1_state {
	ST_START, /* between messages */
	ST_HEAD, /* start line and header section */
	ST_BODY, /* rem bytes of a Content-Length body */
	ST_BODY_CLOSE, /* response body read until the connection closes */
	ST_CHUNK_SIZE,
	ST_CHUNK_DATA, /* rem bytes of chunk data */
	ST_CHUNK_END, /* the CRLF after chunk data */
	ST_TRAILERS,
	ST_RESYNC, /* dropping bytes until a start line */
};

/* A request whose response has not begun; id 0 stands for a request lost
 * to a gap or to malformed input, whose response must not take the next one. */
struct h1_pending {
	uint64_t id;
	uint64_t start_ns;
	char *method, *path, *authority, *scheme;
};

struct h1_dir {
	enum h1_state st;
	enum h1_role role;
	bool out;
	bool synced; /* a start line of this direction was decoded outside resync */
	bool tentative; /* the start line in ST_HEAD was found by resync, not yet confirmed */
	bool line_start; /* ST_RESYNC: the next byte begins a line or a feed */
	bool boundary; /* the bytes being handled begin a feed */
	bool cr; /* ST_CHUNK_END: the CR was seen */
	/* framing of the current message, from its headers and its request */
	bool paired, req_head, req_connect;
	bool has_cl, has_te, chunked, bad;
	uint64_t cl, rem, pair_start, start_ts;
	struct message *m; /* created once the start line is parsed */
	uint32_t sect; /* bytes of the header or trailer section so far */
	/* the line being read; in header sections preceded by the field it may
	 * continue (obs-fold), which starts at 0 and ends at line_off */
	uint8_t *buf;
	size_t len, cap, line_off;
};

struct h1_conn {
	const struct proto_ctx *ctx;
	struct h1_dir dir[2]; /* indexed by out */
	struct h1_pending q[H1_QUEUE_MAX];
	unsigned int qhead, qlen;
	bool upgraded;
};

enum start_kind { SK_NO, SK_MORE, SK_REQ, SK_RESP };

/* What a start line may be in a direction. */
struct start_rules {
	bool req, resp;
	bool any_method; /* any method token, not only the well-known ones */
};

enum line_res { LINE_MORE, LINE_DONE, LINE_LONG };

static const char *const h1_methods[] = {
	"GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE ",
};

static const char h1_version[] = "HTTP/1.";

/* ---- the request queue ---- */

static void q_pop(struct h1_conn *c)
{
	struct h1_pending *e = &c->q[c->qhead];

	free(e->method);
	free(e->path);
	free(e->authority);
	free(e->scheme);
	c->qhead = (c->qhead + 1) % H1_QUEUE_MAX;
	c->qlen--;
}

static void q_clear(struct h1_conn *c)
{
	while (c->qlen)
		q_pop(c);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Queues request m, or a lost request when m is NULL. */
static void q_push(struct h1_conn *c, const struct message *m)
{
	struct h1_pending *e;

	/* a response that never came: its slot goes to the newest request */
	if (c->qlen == H1_QUEUE_MAX)
		q_pop(c);
	e = &c->q[(c->qhead + c->qlen++) % H1_QUEUE_MAX];
	*e = (struct h1_pending){ 0 };
	if (!m)
		return;
	e->id = m->id;
	e->start_ns = m->start_ns;
	e->method = dup_or_null(m->method);
	e->path = dup_or_null(m->path);
	e->authority = dup_or_null(m->authority);
	e->scheme = dup_or_null(m->scheme);
}

static void copy_str(char **field, const char *s)
{
	if (s)
		msg_set_str(field, s, strlen(s));
}

/* Pairs response m with the oldest pending request; only a final response
 * (101 included) takes it off the queue. */
static void pair_response(struct h1_conn *c, struct h1_dir *d, struct message *m)
{
	const struct h1_pending *e = &c->q[c->qhead];

	/* a request begun after the response cannot be what it answers */
	if (!c->qlen || e->id > m->id)
		return;
	if (e->id) {
		m->pair_id = e->id;
		copy_str(&m->method, e->method);
		copy_str(&m->path, e->path);
		copy_str(&m->authority, e->authority);
		copy_str(&m->scheme, e->scheme);
		d->paired = true;
		d->pair_start = e->start_ns;
		d->req_head = e->method && !strcmp(e->method, "HEAD");
		d->req_connect = e->method && !strcmp(e->method, "CONNECT");
	}
	if (m->status >= 200 || m->status == 101)
		q_pop(c);
}

/* ---- start lines ---- */

static enum start_kind prefix(const uint8_t *p, size_t n, const char *tok, enum start_kind yes)
{
	size_t l = strlen(tok);

	if (n < l)
		return memcmp(p, tok, n) ? SK_NO : SK_MORE;
	return memcmp(p, tok, l) ? SK_NO : yes;
}

static bool method_char(uint8_t ch)
{
	return (ch >= 'A' && ch <= 'Z') || ch == '-' || ch == '_';
}

static enum start_kind any_method(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && i <= H1_METHOD_MAX; i++) {
		if (p[i] == ' ')
			return i ? SK_REQ : SK_NO;
		if (!method_char(p[i]))
			return SK_NO;
	}
	return n <= H1_METHOD_MAX ? SK_MORE : SK_NO;
}

/* How p (the first n bytes of a line, maybe not all of it) starts. */
static enum start_kind start_kind(const uint8_t *p, size_t n, struct start_rules r)
{
	enum start_kind k = SK_NO;

	if (r.resp)
		k = prefix(p, n, h1_version, SK_RESP);
	if (k != SK_NO || !r.req)
		return k;
	if (r.any_method)
		return any_method(p, n);
	for (size_t i = 0; i < sizeof(h1_methods) / sizeof(h1_methods[0]); i++) {
		k = prefix(p, n, h1_methods[i], SK_REQ);
		if (k != SK_NO)
			return k;
	}
	return SK_NO;
}

bool h1_looks_like(const uint8_t *p, size_t n)
{
	struct start_rules r = { .req = true, .resp = true };
	enum start_kind k = start_kind(p, n, r);

	return k == SK_REQ || k == SK_RESP || (k == SK_MORE && n >= 4);
}

static struct start_rules rules_of(const struct h1_dir *d, bool tentative)
{
	return (struct start_rules){
		.req = d->role != ROLE_SERVER,
		.resp = d->role != ROLE_CLIENT,
		.any_method = d->role == ROLE_CLIENT && d->synced && !tentative,
	};
}

static bool version_ok(const uint8_t *p, size_t n)
{
	return n == 8 && !memcmp(p, h1_version, 7) && p[7] >= '0' && p[7] <= '9';
}

static bool is_alpha(uint8_t ch)
{
	return (ch | 0x20) >= 'a' && (ch | 0x20) <= 'z';
}

static bool is_digit(uint8_t ch)
{
	return ch >= '0' && ch <= '9';
}

/* Length of the scheme when t is in absolute-form ("scheme://..."), else 0. */
static size_t scheme_len(const uint8_t *t, size_t n)
{
	size_t i = 0;

	if (!n || !is_alpha(t[0]))
		return 0;
	while (i < n && i < 16 &&
	       (is_alpha(t[i]) || is_digit(t[i]) || (t[i] && strchr("+-.", t[i]))))
		i++;
	return n - i >= 3 && !memcmp(t + i, "://", 3) ? i : 0;
}

static void set_path(struct message *m, const uint8_t *p, size_t n)
{
	char *s;

	if (n && p[0] == '/') {
		msg_set_str(&m->path, (const char *)p, n);
		return;
	}
	/* "http://host" and "http://host?q" name the root */
	s = malloc(n + 2);
	if (!s)
		return;
	s[0] = '/';
	memcpy(s + 1, p, n);
	s[n + 1] = '\0';
	free(m->path);
	m->path = s;
}

static void set_target(struct message *m, const uint8_t *t, size_t n, bool connect)
{
	size_t s = scheme_len(t, n), al = 0;
	const uint8_t *a = t + s + 3;

	if (!s) {
		msg_set_str(&m->path, (const char *)t, n);
		if (connect)
			msg_set_str(&m->authority, (const char *)t, n);
		return;
	}
	while (a + al < t + n && a[al] != '/' && a[al] != '?' && a[al] != '#')
		al++;
	msg_set_str(&m->scheme, (const char *)t, s);
	msg_set_str(&m->authority, (const char *)a, al);
	set_path(m, a + al, (size_t)(t + n - a - al));
}

/* method SP request-target SP HTTP-version, the method already matched. */
static struct message *parse_request(struct h1_conn *c, struct h1_dir *d, const uint8_t *l,
				     size_t n)
{
	const uint8_t *sp1 = memchr(l, ' ', n), *t = sp1 + 1, *sp2;
	size_t ml = (size_t)(sp1 - l), tl;
	struct message *m;

	sp2 = memchr(t, ' ', n - ml - 1);
	if (!sp2 || sp2 == t || !version_ok(sp2 + 1, (size_t)(l + n - sp2 - 1)))
		return NULL;
	tl = (size_t)(sp2 - t);
	for (size_t i = 0; i < tl; i++)
		if (t[i] <= ' ' || t[i] == 0x7f)
			return NULL;
	m = proto_msg_new(c->ctx, MSG_H1, MSG_REQUEST, d->out, d->start_ts);
	if (!m)
		return NULL;
	msg_set_str(&m->method, (const char *)l, ml);
	set_target(m, t, tl, ml == 7 && !memcmp(l, "CONNECT", 7));
	return m;
}

/* HTTP-version SP 3DIGIT [SP reason-phrase] */
static struct message *parse_status(struct h1_conn *c, struct h1_dir *d, const uint8_t *l, size_t n)
{
	struct message *m;

	if (n < 12 || !version_ok(l, 8) || l[8] != ' ' || l[9] < '1' || l[9] > '5' ||
	    !is_digit(l[10]) || !is_digit(l[11]) || (n > 12 && l[12] != ' '))
		return NULL;
	m = proto_msg_new(c->ctx, MSG_H1, MSG_RESPONSE, d->out, d->start_ts);
	if (!m)
		return NULL;
	m->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	return m;
}

static bool start_line(struct h1_conn *c, struct h1_dir *d, const uint8_t *l, size_t n, uint64_t ts)
{
	enum start_kind k = start_kind(l, n, rules_of(d, d->tentative));

	if (k == SK_REQ)
		d->m = parse_request(c, d, l, n);
	else if (k == SK_RESP)
		d->m = parse_status(c, d, l, n);
	if (!d->m)
		return false;
	d->m->end_ns = ts;
	if (!d->tentative) {
		d->synced = true;
		if (k == SK_RESP)
			pair_response(c, d, d->m);
	}
	return true;
}

/* ---- header fields ---- */

static bool is_tchar(uint8_t ch)
{
	return is_alpha(ch) || is_digit(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static bool is_ows(uint8_t ch)
{
	return ch == ' ' || ch == '\t';
}

/* A field line starts with a token and a colon. */
static bool field_line_ok(const uint8_t *l, size_t n)
{
	const uint8_t *colon = memchr(l, ':', n);

	if (!colon || colon == l)
		return false;
	for (const uint8_t *p = l; p < colon; p++)
		if (!is_tchar(*p))
			return false;
	return true;
}

/* Length of the line without its LF or CRLF. */
static size_t line_len(const uint8_t *l, size_t n)
{
	if (n && l[n - 1] == '\n')
		n--;
	if (n && l[n - 1] == '\r')
		n--;
	return n;
}

/* Joins obs-folded lines with single spaces, in place; returns the length. */
static size_t unfold(uint8_t *b, size_t n)
{
	const uint8_t *lf = memchr(b, '\n', n);
	size_t o = 0;

	if (!lf || lf == b + n - 1)
		return line_len(b, n);
	for (size_t i = 0; i < n; i++) {
		if (b[i] != '\n') {
			b[o++] = b[i];
			continue;
		}
		if (o && b[o - 1] == '\r')
			o--;
		while (i + 1 < n && is_ows(b[i + 1]))
			i++;
		if (i + 1 < n)
			b[o++] = ' ';
	}
	return o;
}

static void trim_ows(const uint8_t **p, size_t *n)
{
	while (*n && is_ows((*p)[0])) {
		(*p)++;
		(*n)--;
	}
	while (*n && is_ows((*p)[*n - 1]))
		(*n)--;
}

static bool name_is(const uint8_t *name, size_t n, const char *s)
{
	return n == strlen(s) && !strncasecmp((const char *)name, s, n);
}

/* Content-Length, possibly a list of equal values ("5, 5"). */
static bool parse_cl(const uint8_t *v, size_t n, uint64_t *out)
{
	bool have = false;

	while (n) {
		const uint8_t *comma = memchr(v, ',', n), *e = v;
		size_t seg = comma ? (size_t)(comma - v) : n, len = seg;
		uint64_t x = 0;

		trim_ows(&e, &len);
		if (!len || len > 18)
			return false;
		for (size_t i = 0; i < len; i++) {
			if (!is_digit(e[i]))
				return false;
			x = x * 10 + (uint64_t)(e[i] - '0');
		}
		if (have && x != *out)
			return false;
		*out = x;
		have = true;
		if (!comma)
			break;
		n -= seg + 1;
		v = comma + 1;
	}
	return have;
}

/* The last transfer coding decides: only a final "chunked" frames the body. */
static bool last_coding_chunked(const uint8_t *v, size_t n)
{
	const uint8_t *comma = v + n;

	while (comma > v && comma[-1] != ',')
		comma--;
	n -= (size_t)(comma - v);
	trim_ows(&comma, &n);
	return name_is(comma, n, "chunked");
}

static void framing_field(struct h1_dir *d, const uint8_t *name, size_t nl, const uint8_t *v,
			  size_t vl)
{
	uint64_t cl = 0;

	if (name_is(name, nl, "content-length")) {
		if (!parse_cl(v, vl, &cl) || (d->has_cl && cl != d->cl))
			d->bad = true;
		d->has_cl = true;
		d->cl = cl;
	} else if (name_is(name, nl, "transfer-encoding")) {
		d->has_te = true;
		d->chunked = last_coding_chunked(v, vl);
	} else if (name_is(name, nl, "host") && vl && !d->m->authority) {
		msg_set_str(&d->m->authority, (const char *)v, vl);
	}
}

/* Adds the field held before line_off (its lines complete) to the message. */
static void flush_field(struct h1_conn *c, struct h1_dir *d)
{
	size_t n, nl, vl;
	const uint8_t *colon, *v;

	if (!d->line_off)
		return;
	n = unfold(d->buf, d->line_off);
	colon = memchr(d->buf, ':', n);
	nl = (size_t)(colon - d->buf);
	v = colon + 1;
	vl = n - nl - 1;
	trim_ows(&v, &vl);
	msg_add_header(d->m, (const char *)d->buf, nl, (const char *)v, vl,
		       d->st == ST_TRAILERS ? MSG_HDR_TRAILER : 0, c->ctx->lim);
	if (d->st == ST_HEAD)
		framing_field(d, d->buf, nl, v, vl);
}

/* ---- message life ---- */

static void reset_msg(struct h1_dir *d)
{
	d->paired = d->req_head = d->req_connect = false;
	d->has_cl = d->has_te = d->chunked = d->bad = false;
	d->cl = d->rem = d->pair_start = 0;
	d->sect = 0;
	d->len = d->line_off = 0;
	d->cr = false;
	if (d->cap > H1_BUF_KEEP) {
		free(d->buf);
		d->buf = NULL;
		d->cap = 0;
	}
}

/* Emits the current message and waits for the next one. */
static void finish(struct h1_conn *c, struct h1_dir *d, uint32_t flags)
{
	struct message *m = d->m;

	m->flags |= flags;
	if (d->paired && m->end_ns >= d->pair_start)
		m->latency_ns = m->end_ns - d->pair_start;
	d->m = NULL;
	proto_emit(c->ctx, m);
	reset_msg(d);
	d->st = ST_START;
}

static void learn_role(struct h1_conn *c, struct h1_dir *d, enum h1_role role)
{
	struct h1_dir *o = &c->dir[!d->out];

	d->role = role;
	d->synced = true;
	if (o->role == ROLE_UNKNOWN)
		o->role = role == ROLE_CLIENT ? ROLE_SERVER : ROLE_CLIENT;
}

static void begin_body(struct h1_conn *c, struct h1_dir *d)
{
	const struct message *m = d->m;
	bool resp = m->kind == MSG_RESPONSE;
	int s = m->status;

	if (resp && (s == 101 || (d->req_connect && s / 100 == 2))) {
		finish(c, d, 0);
		c->upgraded = true;
	} else if (resp && (s / 100 == 1 || s == 204 || s == 304 || d->req_head)) {
		finish(c, d, 0);
	} else if (d->has_te) {
		/* a response with another coding last runs to the close */
		d->st = d->chunked ? ST_CHUNK_SIZE : ST_BODY_CLOSE;
	} else if (d->has_cl && d->cl) {
		d->st = ST_BODY;
		d->rem = d->cl;
	} else if (resp && !d->has_cl) {
		d->st = ST_BODY_CLOSE;
	} else {
		finish(c, d, 0);
	}
}

/* The header section is complete: the start line it followed is trusted. */
static bool accept_head(struct h1_conn *c, struct h1_dir *d)
{
	struct message *m = d->m;
	enum h1_role role = m->kind == MSG_REQUEST ? ROLE_CLIENT : ROLE_SERVER;

	/* a request whose length cannot be known is rejected by servers too */
	if (d->bad || (d->role != ROLE_UNKNOWN && d->role != role) ||
	    (role == ROLE_CLIENT && d->has_te && !d->chunked))
		return false;
	if (d->tentative) {
		c->ctx->cnt->resyncs++;
		d->tentative = false;
		/* After a late join the first response found answers the first
		 * request queued; after losing sync whole responses may have
		 * been lost, and which request this one answers is unknown. */
		if (role == ROLE_SERVER && d->synced)
			q_clear(c);
		else if (role == ROLE_SERVER)
			pair_response(c, d, m);
	}
	learn_role(c, d, role);
	d->len = d->line_off = 0;
	if (role == ROLE_CLIENT)
		q_push(c, m);
	begin_body(c, d);
	return true;
}

/* Gives up on the framing of d after a gap or malformed input, then looks
 * for the next start line. A message whose header section was read (or, on
 * a gap, whose start line was) is emitted flagged; others are dropped. */
static void lose_sync(struct h1_conn *c, struct h1_dir *d, bool gap)
{
	struct message *m = d->m;

	if (d->st == ST_RESYNC)
		return;
	if (d->tentative) {
		msg_free(m);
	} else if (m && (gap || d->st != ST_HEAD)) {
		if (d->st == ST_HEAD || d->st == ST_TRAILERS)
			flush_field(c, d);
		if (d->st == ST_HEAD && m->kind == MSG_REQUEST)
			q_push(c, m);
		if (!gap)
			c->ctx->cnt->decode_errors++;
		finish(c, d, MSG_F_INCOMPLETE | (gap ? MSG_F_GAP : MSG_F_DECODE_ERROR));
	} else {
		if (!gap && (m || d->synced))
			c->ctx->cnt->decode_errors++;
		/* a request went missing: its response must not take the next one */
		if (m ? m->kind == MSG_REQUEST : d->role == ROLE_CLIENT)
			q_push(c, NULL);
		msg_free(m);
	}
	d->m = NULL;
	reset_msg(d);
	d->st = ST_RESYNC;
	d->tentative = false;
}

/* Malformed input among the k bytes just taken: resync after them, except
 * the last back of them, which are looked at again as a possible start. */
static size_t fail(struct h1_conn *c, struct h1_dir *d, size_t k, size_t back, bool eol)
{
	lose_sync(c, d, false);
	d->line_start = back ? true : eol;
	return k - back;
}

/* Of the k bytes just taken, which end a bad line of line bytes, how
 * many to look at again: the line itself when it may still be a start line
 * (retry) and lies in this feed, else its part in this feed when the feed
 * boundary makes that a candidate. */
static size_t give_back(const struct h1_dir *d, size_t line, size_t k, bool retry)
{
	if (line <= k)
		return retry ? line : 0;
	return d->boundary ? k : 0;
}

/* ---- byte handlers: each returns how many of the n bytes it took ---- */

static size_t take_line(struct h1_dir *d, const uint8_t *p, size_t n, size_t room,
			enum line_res *res)
{
	const uint8_t *lf = memchr(p, '\n', n);
	size_t k = lf ? (size_t)(lf - p) + 1 : n;

	*res = lf ? LINE_DONE : LINE_MORE;
	if (k > room) {
		*res = LINE_LONG;
		return k;
	}
	if (d->len + k > d->cap) {
		size_t cap = d->cap ? d->cap : 256;
		uint8_t *b;

		while (cap < d->len + k)
			cap *= 2;
		b = realloc(d->buf, cap);
		if (!b) {
			*res = LINE_LONG;
			return k;
		}
		d->buf = b;
		d->cap = cap;
	}
	memcpy(d->buf + d->len, p, k);
	d->len += k;
	return k;
}

static size_t on_start(struct h1_dir *d, const uint8_t *p, size_t n, uint64_t ts)
{
	size_t i = 0;

	/* RFC 9112 2.2: empty lines before a start line are ignored */
	while (i < n && (p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i < n) {
		d->st = ST_HEAD;
		d->start_ts = ts;
	}
	return i;
}

static size_t on_resync(struct h1_dir *d, const uint8_t *p, size_t n, uint64_t ts)
{
	struct start_rules r = rules_of(d, true);
	size_t i = 0;

	for (;;) {
		const uint8_t *lf;

		if (d->line_start && start_kind(p + i, n - i, r) != SK_NO) {
			d->st = ST_HEAD;
			d->tentative = true;
			d->start_ts = ts;
			return i;
		}
		lf = memchr(p + i, '\n', n - i);
		d->line_start = lf != NULL;
		if (!lf)
			return n;
		i = (size_t)(lf - p) + 1;
		if (i == n)
			return n;
	}
}

/* The start line so far (k bytes just taken, eol: it is complete). */
static size_t start_progress(struct h1_conn *c, struct h1_dir *d, size_t k, bool eol, uint64_t ts)
{
	size_t line = d->len;

	if (!eol) {
		if (start_kind(d->buf, line, rules_of(d, d->tentative)) == SK_NO)
			return fail(c, d, k, give_back(d, line, k, false), false);
		return k;
	}
	if (!start_line(c, d, d->buf, line_len(d->buf, line), ts))
		return fail(c, d, k, give_back(d, line, k, false), true);
	d->len = 0;
	return k;
}

/* A complete line of a header or trailer section, the last of the k bytes. */
static size_t field_progress(struct h1_conn *c, struct h1_dir *d, size_t k)
{
	uint8_t *l = d->buf + d->line_off;
	size_t line = d->len - d->line_off, n = line_len(l, line);

	if (!n) {
		flush_field(c, d);
		if (d->st == ST_TRAILERS)
			finish(c, d, 0);
		else if (!accept_head(c, d))
			return fail(c, d, k, 0, true);
		return k;
	}
	if (is_ows(l[0])) {
		if (!d->line_off)
			return fail(c, d, k, give_back(d, line, k, true), true);
		d->line_off = d->len;
		return k;
	}
	if (!field_line_ok(l, n))
		return fail(c, d, k, give_back(d, line, k, true), true);
	flush_field(c, d);
	memmove(d->buf, l, line);
	d->len = d->line_off = line;
	return k;
}

/* ST_HEAD and ST_TRAILERS */
static size_t on_head(struct h1_conn *c, struct h1_dir *d, const uint8_t *p, size_t n, uint64_t ts)
{
	enum line_res res;
	size_t k = take_line(d, p, n, H1_HEAD_MAX - d->sect, &res);

	if (res == LINE_LONG)
		return fail(c, d, k, 0, p[k - 1] == '\n');
	d->sect += (uint32_t)k;
	if (d->m)
		d->m->end_ns = ts;
	if (d->st == ST_HEAD && !d->m)
		return start_progress(c, d, k, res == LINE_DONE, ts);
	return res == LINE_DONE ? field_progress(c, d, k) : k;
}

/* chunk-size [ chunk-ext ] */
static bool parse_chunk_size(const uint8_t *l, size_t n, uint64_t *size)
{
	size_t i = 0;

	*size = 0;
	for (; i < n && i < 15; i++) {
		uint8_t ch = l[i] | 0x20;

		if (is_digit(l[i]))
			*size = *size << 4 | (uint64_t)(l[i] - '0');
		else if (ch >= 'a' && ch <= 'f')
			*size = *size << 4 | (uint64_t)(ch - 'a' + 10);
		else
			break;
	}
	if (!i)
		return false;
	while (i < n && is_ows(l[i]))
		i++;
	return i == n || l[i] == ';';
}

static size_t on_chunk_size(struct h1_conn *c, struct h1_dir *d, const uint8_t *p, size_t n,
			    uint64_t ts)
{
	enum line_res res;
	size_t k = take_line(d, p, n, H1_LINE_MAX - d->len, &res);
	uint64_t size;

	d->m->end_ns = ts;
	if (res == LINE_LONG)
		return fail(c, d, k, 0, p[k - 1] == '\n');
	if (res == LINE_MORE)
		return k;
	if (!parse_chunk_size(d->buf, line_len(d->buf, d->len), &size))
		return fail(c, d, k, give_back(d, d->len, k, true), true);
	d->len = 0;
	if (size) {
		d->st = ST_CHUNK_DATA;
		d->rem = size;
	} else {
		d->st = ST_TRAILERS;
		d->sect = 0;
	}
	return k;
}

static void data_done(struct h1_conn *c, struct h1_dir *d)
{
	if (d->st == ST_BODY) {
		finish(c, d, 0);
	} else {
		d->st = ST_CHUNK_END;
		d->cr = false;
	}
}

/* ST_BODY and ST_CHUNK_DATA */
static size_t on_data(struct h1_conn *c, struct h1_dir *d, const uint8_t *p, size_t n, uint64_t ts)
{
	size_t k = n < d->rem ? n : (size_t)d->rem;

	msg_add_body(d->m, p, k, c->ctx->lim);
	d->m->end_ns = ts;
	d->rem -= k;
	if (!d->rem)
		data_done(c, d);
	return k;
}

static size_t on_chunk_end(struct h1_conn *c, struct h1_dir *d, const uint8_t *p, size_t n,
			   uint64_t ts)
{
	size_t i = 0;

	d->m->end_ns = ts;
	if (!d->cr && p[0] == '\r') {
		d->cr = true;
		if (n == 1)
			return 1;
		i = 1;
	}
	if (p[i] == '\n') {
		d->st = ST_CHUNK_SIZE;
		return i + 1;
	}
	lose_sync(c, d, false);
	d->line_start = !i && d->boundary;
	return i;
}

static size_t step(struct h1_conn *c, struct h1_dir *d, const uint8_t *p, size_t n, uint64_t ts)
{
	switch (d->st) {
	case ST_START:
		return on_start(d, p, n, ts);
	case ST_HEAD:
	case ST_TRAILERS:
		return on_head(c, d, p, n, ts);
	case ST_BODY:
	case ST_CHUNK_DATA:
		return on_data(c, d, p, n, ts);
	case ST_BODY_CLOSE:
		msg_add_body(d->m, p, n, c->ctx->lim);
		d->m->end_ns = ts;
		return n;
	case ST_CHUNK_SIZE:
		return on_chunk_size(c, d, p, n, ts);
	case ST_CHUNK_END:
		return on_chunk_end(c, d, p, n, ts);
	case ST_RESYNC:
		return on_resync(d, p, n, ts);
	}
	return n;
}

/* ---- interface ---- */

struct h1_conn *h1_new(const struct proto_ctx *ctx)
{
	struct h1_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ctx = ctx;
	c->dir[1].out = true;
	return c;
}

void h1_feed(struct h1_conn *c, bool out, const uint8_t *p, size_t n, uint64_t ts)
{
	struct h1_dir *d = &c->dir[out];
	size_t i = 0;

	d->line_start = true;
	while (i < n && !c->upgraded) {
		d->boundary = !i;
		i += step(c, d, p + i, n - i, ts);
	}
}

/* The caller counts gaps and their bytes (ctx->cnt->gaps, gap_bytes). */
void h1_gap(struct h1_conn *c, bool out, uint64_t n, uint64_t ts)
{
	struct h1_dir *d = &c->dir[out];

	if (c->upgraded || !n)
		return;
	if (d->st == ST_BODY_CLOSE) {
		/* nothing but body can follow: no framing to lose */
		msg_body_gap(d->m, n);
		d->m->end_ns = ts;
		return;
	}
	if (d->st == ST_BODY || d->st == ST_CHUNK_DATA) {
		uint64_t k = n < d->rem ? n : d->rem;

		msg_body_gap(d->m, k);
		d->m->end_ns = ts;
		n -= k;
		d->rem -= k;
		if (!d->rem)
			data_done(c, d);
		if (!n)
			return;
	}
	lose_sync(c, d, true);
}

void h1_skip(struct h1_conn *c, bool out, uint64_t n, uint64_t ts)
{
	/* between messages nothing is lost: the skip held whole ones */
	if (c->dir[out].st != ST_START || c->upgraded)
		h1_gap(c, out, n, ts);
}

static void close_dir(struct h1_conn *c, struct h1_dir *d)
{
	if (d->m && !d->tentative) {
		if (d->st == ST_HEAD || d->st == ST_TRAILERS)
			flush_field(c, d);
		finish(c, d, d->st == ST_BODY_CLOSE ? 0 : MSG_F_INCOMPLETE);
	}
	msg_free(d->m);
	d->m = NULL;
	reset_msg(d);
	d->st = ST_START;
	d->tentative = false;
}

void h1_close(struct h1_conn *c, uint64_t ts)
{
	bool out_first = c->dir[1].role == ROLE_CLIENT;

	/* requests before the responses they are answered by */
	close_dir(c, &c->dir[out_first]);
	close_dir(c, &c->dir[!out_first]);
}

bool h1_upgraded(const struct h1_conn *c)
{
	return c->upgraded;
}

void h1_free(struct h1_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < 2; i++) {
		msg_free(c->dir[i].m);
		free(c->dir[i].buf);
	}
	q_clear(c);
	free(c);
}
