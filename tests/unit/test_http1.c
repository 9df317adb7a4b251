/* test_http1.c - unit tests for the HTTP/1.x decoder; every script is also
 * replayed with each TLS call split in two at every byte, and byte by byte,
 * and must decode the same. */
#include <stdbool.h>
#include <stdint.h>

#include "proto/http1.h"
#include "unit.h"

#define MAX_MSGS 64

enum ev_type { EV_DATA, EV_GAP, EV_CLOSE };

/* One step of a connection: a TLS call's bytes, a gap, or the close. */
struct ev {
	enum ev_type type;
	bool out;
	const char *data;
	size_t len;
	uint64_t gap;
	uint64_t ts;
};

#define OUT(s, t) { EV_DATA, true, s, sizeof(s) - 1, 0, t }
#define IN(s, t) { EV_DATA, false, s, sizeof(s) - 1, 0, t }
#define GAP(o, n, t) { EV_GAP, o, NULL, 0, n, t }
#define CLOSE(t) { EV_CLOSE, false, NULL, 0, 0, t }
#define NEV(a) (sizeof(a) / sizeof((a)[0]))

struct run {
	struct message *m[MAX_MSGS];
	size_t n;
	bool overflow;
	bool upgraded;
	struct proto_counters cnt;
	char *text; /* everything decoded, for comparing the replays */
};

static const struct msg_limits big_lim = {
	.body_max = 1 << 20,
	.grpc_max = 16,
	.header_bytes_max = 1 << 20,
};

static void sink(struct message *m, void *arg)
{
	struct run *r = arg;

	if (r->n < MAX_MSGS) {
		r->m[r->n++] = m;
		return;
	}
	r->overflow = true;
	msg_free(m);
}

static const char *s_or(const char *s)
{
	return s ? s : "-";
}

static void describe(struct run *r)
{
	size_t len;
	FILE *f = open_memstream(&r->text, &len);

	if (!f)
		exit(99);
	for (size_t i = 0; i < r->n; i++) {
		const struct message *m = r->m[i];

		fprintf(f,
			"#%llu pair=%llu %s out=%d flags=%#x %llu..%llu lat=%llu %s %s %s %s %d\n",
			(unsigned long long)m->id, (unsigned long long)m->pair_id,
			msg_kind_name(m->kind), m->out, m->flags, (unsigned long long)m->start_ns,
			(unsigned long long)m->end_ns, (unsigned long long)m->latency_ns,
			s_or(m->method), s_or(m->path), s_or(m->authority), s_or(m->scheme),
			m->status);
		for (uint32_t h = 0; h < m->nheaders; h++)
			fprintf(f, "  %s: %s [%u]\n", s_or(m->headers[h].name),
				s_or(m->headers[h].value), m->headers[h].flags);
		fprintf(f, "  body %llu/%u: ", (unsigned long long)m->body_len, m->body_captured);
		if (m->body_captured)
			fwrite(m->body, 1, m->body_captured, f);
		fputc('\n', f);
	}
	fprintf(f, "msgs=%llu errs=%llu resyncs=%llu up=%d over=%d\n",
		(unsigned long long)r->cnt.messages, (unsigned long long)r->cnt.decode_errors,
		(unsigned long long)r->cnt.resyncs, r->upgraded, r->overflow);
	fclose(f);
}

static void free_run(struct run *r)
{
	for (size_t i = 0; i < r->n; i++)
		msg_free(r->m[i]);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

enum split_mode { WHOLE, SPLIT, BYTES };

/* Replays the script; SPLIT cuts event split_ev at split_at into two feeds. */
static void play(const struct ev *ev, size_t nev, const struct msg_limits *lim,
		 enum split_mode mode, size_t split_ev, size_t split_at, struct run *r)
{
	uint64_t next_id = 0;
	struct proto_ctx ctx = {
		.sink = { sink, r },
		.lim = lim,
		.next_id = &next_id,
		.cnt = &r->cnt,
	};
	struct h1_conn *c;

	memset(r, 0, sizeof(*r));
	c = h1_new(&ctx);
	if (!c)
		exit(99);
	for (size_t e = 0; e < nev; e++) {
		const uint8_t *p = (const uint8_t *)ev[e].data;

		if (ev[e].type == EV_GAP) {
			h1_gap(c, ev[e].out, ev[e].gap, ev[e].ts);
		} else if (ev[e].type == EV_CLOSE) {
			h1_close(c, ev[e].ts);
		} else if (mode == BYTES) {
			for (size_t i = 0; i < ev[e].len; i++)
				h1_feed(c, ev[e].out, p + i, 1, ev[e].ts);
		} else if (mode == SPLIT && e == split_ev) {
			h1_feed(c, ev[e].out, p, split_at, ev[e].ts);
			h1_feed(c, ev[e].out, p + split_at, ev[e].len - split_at, ev[e].ts);
		} else {
			h1_feed(c, ev[e].out, p, ev[e].len, ev[e].ts);
		}
	}
	r->upgraded = h1_upgraded(c);
	h1_free(c);
	describe(r);
}

static bool same_as(const struct run *want, struct run *got, const char *how, size_t e, size_t at)
{
	bool same = !strcmp(want->text, got->text);

	if (!same) {
		fprintf(stderr, "%s (event %zu at %zu) differs:\n--- whole\n%s--- %s\n%s", how, e,
			at, want->text, how, got->text);
		unit_failures++;
	}
	free_run(got);
	return same;
}

/* Plays the script whole into r, then split at every byte of every call and
 * byte by byte, which must give the same messages and counters. */
static void play_all(const struct ev *ev, size_t nev, const struct msg_limits *lim,
		     struct run *r)
{
	struct run alt;

	play(ev, nev, lim, WHOLE, 0, 0, r);
	CHECK(!r->overflow);
	for (size_t e = 0; e < nev; e++)
		for (size_t at = 1; at < ev[e].len; at++) {
			play(ev, nev, lim, SPLIT, e, at, &alt);
			if (!same_as(r, &alt, "split", e, at))
				return;
		}
	play(ev, nev, lim, BYTES, 0, 0, &alt);
	same_as(r, &alt, "byte by byte", 0, 0);
}

static const char *hdr(const struct message *m, const char *name)
{
	const struct msg_header *h = msg_header(m, name);

	return h ? h->value : NULL;
}

static bool body_is(const struct message *m, const char *s)
{
	size_t n = strlen(s);

	return m->body_captured == n && m->body_len == n && (!n || !memcmp(m->body, s, n));
}

static void check_pair(const struct message *req, const struct message *resp)
{
	CHECK(req->kind == MSG_REQUEST);
	CHECK(resp->kind == MSG_RESPONSE);
	CHECK_EQ_U64(resp->pair_id, req->id);
	CHECK_EQ_U64(resp->latency_ns, resp->end_ns - req->start_ns);
	CHECK_STR(resp->method, req->method);
	CHECK_STR(resp->path, req->path);
	if (req->authority)
		CHECK_STR(resp->authority, req->authority);
}

static void test_keep_alive(void)
{
	static const struct ev ev[] = {
		OUT("GET /a HTTP/1.1\r\nHost: example.com\r\nUser-Agent:  curl/8 \r\n\r\n", 100),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
		   150),
		OUT("GET /b HTTP/1.1\r\nHost: example.com\r\n\r\n", 200),
		IN("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 260),
		OUT("DELETE /c?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n", 300),
		IN("HTTP/1.1 204 No Content\r\n\r\n", 390),
		CLOSE(400),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 6);
	if (r.n != 6)
		goto out;
	for (size_t i = 0; i < 6; i++) {
		CHECK_EQ_U64(r.m[i]->id, i + 1);
		CHECK(r.m[i]->proto == MSG_H1);
		CHECK_EQ_U64(r.m[i]->flags, 0);
		CHECK(r.m[i]->out == !(i & 1));
	}
	for (size_t i = 0; i < 6; i += 2)
		check_pair(r.m[i], r.m[i + 1]);
	CHECK_STR(r.m[0]->method, "GET");
	CHECK_STR(r.m[0]->path, "/a");
	CHECK_STR(r.m[0]->authority, "example.com");
	CHECK(!r.m[0]->scheme);
	CHECK_EQ_U64(r.m[0]->status, (uint64_t)-1);
	CHECK_EQ_U64(r.m[0]->nheaders, 2);
	CHECK_STR(hdr(r.m[0], "user-agent"), "curl/8");
	CHECK_EQ_U64(r.m[1]->status, 200);
	CHECK_EQ_U64(r.m[1]->latency_ns, 50);
	CHECK(body_is(r.m[1], "hello"));
	CHECK_STR(hdr(r.m[1], "Content-Type"), "text/plain");
	CHECK_EQ_U64(r.m[3]->status, 404);
	CHECK_EQ_U64(r.m[3]->latency_ns, 60);
	CHECK_STR(r.m[4]->method, "DELETE");
	CHECK_STR(r.m[4]->path, "/c?x=1");
	CHECK_EQ_U64(r.m[5]->status, 204);
	CHECK_EQ_U64(r.m[5]->start_ns, 390);
	CHECK_EQ_U64(r.m[5]->latency_ns, 90);
	CHECK_EQ_U64(r.cnt.messages, 6);
	CHECK_EQ_U64(r.cnt.decode_errors + r.cnt.resyncs, 0);
out:
	free_run(&r);
}

static void test_pipelining(void)
{
	static const struct ev ev[] = {
		OUT("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
		    "HEAD /3 HTTP/1.1\r\nHost: h\r\n\r\n",
		    100),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 200 OK\r\n"
		   "Content-Length: 2\r\n\r\nBBHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n",
		   200),
		CLOSE(300),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 6);
	if (r.n != 6)
		goto out;
	for (size_t i = 0; i < 3; i++) {
		check_pair(r.m[i], r.m[i + 3]);
		CHECK_EQ_U64(r.m[i + 3]->latency_ns, 100);
		CHECK_EQ_U64(r.m[i + 3]->flags, 0);
	}
	CHECK_STR(r.m[2]->method, "HEAD");
	CHECK(body_is(r.m[3], "A"));
	CHECK(body_is(r.m[4], "BB"));
	CHECK(body_is(r.m[5], ""));
	CHECK_STR(hdr(r.m[5], "content-length"), "3");
out:
	free_run(&r);
}

static void test_content_length(void)
{
	static const struct ev ev[] = {
		OUT("POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\na=1&b=2", 100),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n{\"x\"}", 110),
		/* an empty line before a request line is tolerated */
		OUT("\r\nPUT /p HTTP/1.0\nHost: h\nContent-Length: 0\n\n", 120),
		IN("HTTP/1.0 201 Created\nContent-Length: 1\n\nZ", 130),
		CLOSE(140),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 4);
	if (r.n != 4)
		goto out;
	CHECK(body_is(r.m[0], "a=1&b=2"));
	CHECK(body_is(r.m[1], "{\"x\"}"));
	check_pair(r.m[0], r.m[1]);
	CHECK_STR(r.m[2]->method, "PUT");
	CHECK(body_is(r.m[2], ""));
	CHECK_EQ_U64(r.m[2]->nheaders, 2);
	CHECK(body_is(r.m[3], "Z"));
	check_pair(r.m[2], r.m[3]);
	CHECK_EQ_U64(r.cnt.decode_errors, 0);
out:
	free_run(&r);
}

static void test_chunked(void)
{
	static const struct ev ev[] = {
		OUT("POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "4;name=val\r\nWiki\r\n5 ; a=\"b;c\"\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
		    "0\r\nX-Checksum: abc\r\nX-Other:  two \r\n\r\n",
		    100),
		IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n"
		   "00\r\n\r\n",
		   110),
		CLOSE(120),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 2);
	if (r.n != 2)
		goto out;
	CHECK(body_is(r.m[0], "Wikipedia in\r\n\r\nchunks."));
	CHECK_EQ_U64(r.m[0]->nheaders, 4);
	if (r.m[0]->nheaders == 4) {
		CHECK_EQ_U64(r.m[0]->headers[1].flags, 0);
		CHECK_STR(r.m[0]->headers[2].name, "X-Checksum");
		CHECK_STR(r.m[0]->headers[2].value, "abc");
		CHECK_EQ_U64(r.m[0]->headers[2].flags, MSG_HDR_TRAILER);
		CHECK_STR(r.m[0]->headers[3].value, "two");
		CHECK_EQ_U64(r.m[0]->headers[3].flags, MSG_HDR_TRAILER);
	}
	CHECK(body_is(r.m[1], "abc"));
	CHECK_EQ_U64(r.m[1]->flags, 0);
	check_pair(r.m[0], r.m[1]);
out:
	free_run(&r);
}

static void test_many_feeds(void)
{
	static const struct ev ev[] = {
		OUT("POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\n", 100),
		OUT("01234", 110),
		OUT("56789", 120),
		OUT("abcde", 130),
		OUT("fghij", 140),
		IN("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 150),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 2);
	if (r.n != 2)
		goto out;
	CHECK(body_is(r.m[0], "0123456789abcdefghij"));
	CHECK_EQ_U64(r.m[0]->start_ns, 100);
	CHECK_EQ_U64(r.m[0]->end_ns, 140);
	check_pair(r.m[0], r.m[1]);
	CHECK_EQ_U64(r.m[1]->latency_ns, 50);
out:
	free_run(&r);
}

static void test_head(void)
{
	static const struct ev ev[] = {
		OUT("HEAD /file HTTP/1.1\r\nHost: h\r\n\r\n", 100),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", 120),
		OUT("GET /file HTTP/1.1\r\nHost: h\r\n\r\n", 130),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", 150),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 4);
	if (r.n != 4)
		goto out;
	check_pair(r.m[0], r.m[1]);
	CHECK(body_is(r.m[1], ""));
	CHECK_EQ_U64(r.m[1]->flags, 0);
	check_pair(r.m[2], r.m[3]);
	CHECK(body_is(r.m[3], "hi"));
out:
	free_run(&r);
}

static void test_continue(void)
{
	static const struct ev ev[] = {
		OUT("PUT /obj HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
		    "Content-Length: 4\r\n\r\n",
		    100),
		IN("HTTP/1.1 100 Continue\r\n\r\n", 110),
		OUT("data", 120),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 130),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 3);
	if (r.n != 3)
		goto out;
	/* the 100 is emitted before the request it answers is complete */
	CHECK_EQ_U64(r.m[0]->status, 100);
	CHECK_EQ_U64(r.m[0]->pair_id, 1);
	CHECK_EQ_U64(r.m[0]->latency_ns, 10);
	CHECK_STR(r.m[0]->path, "/obj");
	CHECK_EQ_U64(r.m[1]->id, 1);
	CHECK(body_is(r.m[1], "data"));
	CHECK_EQ_U64(r.m[1]->end_ns, 120);
	check_pair(r.m[1], r.m[2]);
	CHECK_EQ_U64(r.m[2]->status, 200);
	CHECK_EQ_U64(r.m[2]->latency_ns, 30);
out:
	free_run(&r);
}

static void test_no_body_statuses(void)
{
	static const struct ev ev[] = {
		OUT("GET /a HTTP/1.1\r\nHost: h\r\n\r\n", 100),
		IN("HTTP/1.1 204 No Content\r\n\r\n", 110),
		OUT("GET /b HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\"\r\n\r\n", 120),
		IN("HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\nETag: \"x\"\r\n\r\n", 130),
		OUT("GET /c HTTP/1.1\r\nHost: h\r\n\r\n", 140),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 150),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 6);
	if (r.n != 6)
		goto out;
	for (size_t i = 0; i < 6; i += 2)
		check_pair(r.m[i], r.m[i + 1]);
	CHECK_EQ_U64(r.m[1]->status, 204);
	CHECK_EQ_U64(r.m[3]->status, 304);
	CHECK(body_is(r.m[3], ""));
	CHECK(body_is(r.m[5], "ok"));
out:
	free_run(&r);
}

static void test_read_to_close(void)
{
	static const struct ev ev[] = {
		OUT("GET /stream HTTP/1.0\r\nHost: h\r\n\r\n", 100),
		IN("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst ", 110),
		IN("second ", 120),
		IN("third", 130),
		CLOSE(140),
	};
	static const struct ev gapped[] = {
		OUT("GET /stream HTTP/1.0\r\nHost: h\r\n\r\n", 100),
		IN("HTTP/1.0 200 OK\r\n\r\nfirst ", 110),
		GAP(false, 5, 120),
		IN("HTTP/", 130),
		CLOSE(140),
	};
	struct run r;

	/* not complete before the close */
	play_all(ev, NEV(ev) - 1, &big_lim, &r);
	CHECK_EQ_U64(r.n, 1);
	free_run(&r);

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 2);
	if (r.n != 2)
		goto out;
	check_pair(r.m[0], r.m[1]);
	CHECK(body_is(r.m[1], "first second third"));
	CHECK_EQ_U64(r.m[1]->flags, 0);
	CHECK_EQ_U64(r.m[1]->end_ns, 130);
	free_run(&r);

	/* nothing but body follows: a gap in it is counted, not resynced on */
	play_all(gapped, NEV(gapped), &big_lim, &r);
	CHECK_EQ_U64(r.n, 2);
	if (r.n != 2)
		goto out;
	CHECK_EQ_U64(r.m[1]->flags, MSG_F_GAP);
	CHECK_EQ_U64(r.m[1]->body_len, 16);
	CHECK_EQ_U64(r.m[1]->body_captured, 11);
	CHECK_EQ_U64(r.m[1]->end_ns, 130);
	CHECK_EQ_U64(r.cnt.resyncs + r.cnt.decode_errors, 0);
out:
	free_run(&r);
}

static void test_websocket(void)
{
	static const struct ev ev[] = {
		OUT("GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		    "Sec-WebSocket-Version: 13\r\n\r\n",
		    100),
		IN("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		   "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
		   "\r\n\x81\x05hello",
		   110),
		OUT("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 120),
		IN("\x88\x00", 130),
		CLOSE(140),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK(r.upgraded);
	CHECK_EQ_U64(r.n, 2);
	if (r.n != 2)
		goto out;
	check_pair(r.m[0], r.m[1]);
	CHECK_EQ_U64(r.m[1]->status, 101);
	CHECK_EQ_U64(r.m[1]->flags, 0);
	CHECK(body_is(r.m[1], ""));
	CHECK_EQ_U64(r.cnt.decode_errors, 0);
out:
	free_run(&r);
}

static void test_connect(void)
{
	static const struct ev ev[] = {
		OUT("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 100),
		IN("HTTP/1.1 200 Connection established\r\n\r\n", 110),
		OUT("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 120),
		IN("\x16\x03\x03\x00\x7a\x02", 130),
	};
	static const struct ev refused[] = {
		OUT("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 100),
		IN("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n", 110),
		OUT("GET / HTTP/1.1\r\nHost: a\r\n\r\n", 120),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK(r.upgraded);
	CHECK_EQ_U64(r.n, 2);
	if (r.n == 2) {
		CHECK_STR(r.m[0]->method, "CONNECT");
		CHECK_STR(r.m[0]->authority, "example.com:443");
		check_pair(r.m[0], r.m[1]);
		CHECK_EQ_U64(r.m[1]->status, 200);
		CHECK_EQ_U64(r.m[1]->flags, 0);
		CHECK_EQ_U64(r.m[1]->end_ns, 110);
	}
	free_run(&r);

	play_all(refused, NEV(refused), &big_lim, &r);
	CHECK(!r.upgraded);
	CHECK_EQ_U64(r.n, 3);
	free_run(&r);
}

static void test_absolute_form(void)
{
	static const struct ev ev[] = {
		OUT("GET http://example.com:8080/a/b?x=1 HTTP/1.1\r\nHost: other\r\n\r\n", 100),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 110),
		OUT("OPTIONS http://example.org HTTP/1.1\r\n\r\n", 120),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 130),
		OUT("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 140),
		OUT("GET https://q.example?a=b HTTP/1.1\r\n\r\n", 150),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 6);
	if (r.n != 6)
		goto out;
	CHECK_STR(r.m[0]->path, "/a/b?x=1");
	CHECK_STR(r.m[0]->authority, "example.com:8080");
	CHECK_STR(r.m[0]->scheme, "http");
	check_pair(r.m[0], r.m[1]);
	CHECK_STR(r.m[1]->scheme, "http");
	CHECK_STR(r.m[2]->path, "/");
	CHECK_STR(r.m[2]->authority, "example.org");
	CHECK_STR(r.m[4]->path, "*");
	CHECK_STR(r.m[4]->authority, "x");
	CHECK_STR(r.m[5]->path, "/?a=b");
	CHECK_STR(r.m[5]->authority, "q.example");
	CHECK_STR(r.m[5]->scheme, "https");
out:
	free_run(&r);
}

static void test_gap_in_body(void)
{
	static const struct ev ev[] = {
		OUT("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc", 100),
		GAP(true, 4, 110),
		OUT("hij", 120),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 130),
		OUT("GET /next HTTP/1.1\r\nHost: h\r\n\r\n", 140),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nyes", 150),
		GAP(false, 3, 160),
		OUT("GET /last HTTP/1.1\r\nHost: h\r\n\r\n", 170),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 5);
	if (r.n != 5)
		goto out;
	CHECK_EQ_U64(r.m[0]->flags, MSG_F_GAP);
	CHECK_EQ_U64(r.m[0]->body_len, 10);
	CHECK_EQ_U64(r.m[0]->body_captured, 6);
	CHECK(!memcmp(r.m[0]->body, "abchij", 6));
	CHECK_EQ_U64(r.m[0]->end_ns, 120);
	check_pair(r.m[0], r.m[1]);
	CHECK_EQ_U64(r.m[1]->flags, 0);
	check_pair(r.m[2], r.m[3]);
	/* a gap that ends the body completes the message */
	CHECK_EQ_U64(r.m[3]->flags, MSG_F_GAP);
	CHECK_EQ_U64(r.m[3]->body_len, 6);
	CHECK_EQ_U64(r.m[3]->end_ns, 160);
	CHECK_STR(r.m[4]->path, "/last");
	CHECK_EQ_U64(r.cnt.resyncs + r.cnt.decode_errors, 0);
out:
	free_run(&r);
}

static void test_gap_in_headers(void)
{
	static const struct ev ev[] = {
		OUT("GET /a HTTP/1.1\r\nHost: h\r\nAcc", 100),
		GAP(true, 20, 110),
		OUT("ept: */*\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n", 120),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA", 130),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nB", 140),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 4);
	if (r.n != 4)
		goto out;
	CHECK_STR(r.m[0]->path, "/a");
	CHECK_EQ_U64(r.m[0]->flags, MSG_F_GAP | MSG_F_INCOMPLETE);
	CHECK_EQ_U64(r.m[0]->nheaders, 1);
	CHECK_EQ_U64(r.m[0]->end_ns, 100);
	CHECK_STR(r.m[1]->path, "/b");
	CHECK_EQ_U64(r.m[1]->flags, 0);
	CHECK_EQ_U64(r.m[1]->start_ns, 120);
	/* the request cut by the gap still gets its response */
	check_pair(r.m[0], r.m[2]);
	check_pair(r.m[1], r.m[3]);
	CHECK(body_is(r.m[3], "B"));
	CHECK_EQ_U64(r.cnt.resyncs, 1);
	CHECK_EQ_U64(r.cnt.decode_errors, 0);
out:
	free_run(&r);
}

static void test_gap_between_messages(void)
{
	static const struct ev ev[] = {
		OUT("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n", 100),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA", 110),
		GAP(true, 50, 120), /* a whole request lost */
		IN("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nB", 130),
		OUT("GET /3 HTTP/1.1\r\nHost: h\r\n\r\n", 140),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nC", 150),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 5);
	if (r.n != 5)
		goto out;
	check_pair(r.m[0], r.m[1]);
	/* the response to the lost request is not paired with the next one */
	CHECK_EQ_U64(r.m[2]->pair_id, 0);
	CHECK_EQ_U64(r.m[2]->latency_ns, 0);
	CHECK(!r.m[2]->method);
	check_pair(r.m[3], r.m[4]);
	CHECK_EQ_U64(r.cnt.resyncs, 1);
out:
	free_run(&r);
}

static void test_response_resync(void)
{
	static const struct ev ev[] = {
		OUT("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n", 100),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA", 110),
		OUT("GET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n", 120),
		IN("HTTP/1.1 200 OK\r\nConte", 130),
		GAP(false, 30, 140),
		IN("xt\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nC", 150),
		OUT("GET /4 HTTP/1.1\r\nHost: h\r\n\r\n", 160),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nD", 170),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 8);
	if (r.n != 8)
		goto out;
	check_pair(r.m[2], r.m[4]);
	CHECK_EQ_U64(r.m[4]->flags, MSG_F_GAP | MSG_F_INCOMPLETE);
	CHECK_EQ_U64(r.m[4]->end_ns, 130);
	/* after a response resync the queue is not trusted */
	CHECK(body_is(r.m[5], "C"));
	CHECK_EQ_U64(r.m[5]->pair_id, 0);
	check_pair(r.m[6], r.m[7]);
	CHECK_EQ_U64(r.cnt.resyncs, 1);
	CHECK_EQ_U64(r.cnt.decode_errors, 0);
out:
	free_run(&r);
}

static void test_garbage(void)
{
	static const struct ev ev[] = {
		OUT("GET /a HTTP/1.1\r\nHost: h\r\n\r\n", 100),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 110),
		OUT("\x01\x02 garbage bytes\r\nmore junk\r\n"
		    "GET /c HTTP/1.1\r\nHost: h\r\n\r\n",
		    120),
		IN("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", 130),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 140),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 5);
	if (r.n != 5)
		goto out;
	check_pair(r.m[0], r.m[1]);
	CHECK_STR(r.m[2]->path, "/c");
	/* the garbage stood for a request: the 400 answers it */
	CHECK_EQ_U64(r.m[3]->status, 400);
	CHECK_EQ_U64(r.m[3]->pair_id, 0);
	check_pair(r.m[2], r.m[4]);
	CHECK_EQ_U64(r.cnt.decode_errors, 1);
	CHECK_EQ_U64(r.cnt.resyncs, 1);
out:
	free_run(&r);
}

static void test_bad_chunk(void)
{
	static const struct ev ev[] = {
		OUT("GET /a HTTP/1.1\r\nHost: h\r\n\r\n", 100),
		IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		   "5\r\nhello\r\nzz\r\n",
		   110),
		IN("more\r\n", 115),
		OUT("GET /b HTTP/1.1\r\nHost: h\r\n\r\n", 120),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nB", 130),
		OUT("GET /c HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n", 140),
		OUT("GET /e HTTP/1.1\r\nHost: h\r\n\r\n", 150),
		OUT("GET /d HTTP/1.1\r\nHost: h\r\nbad header\r\n\r\n", 160),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 5);
	if (r.n != 5)
		goto out;
	check_pair(r.m[0], r.m[1]);
	CHECK_EQ_U64(r.m[1]->flags, MSG_F_DECODE_ERROR | MSG_F_INCOMPLETE);
	CHECK(body_is(r.m[1], "hello"));
	CHECK_EQ_U64(r.m[1]->end_ns, 110);
	CHECK_STR(r.m[2]->path, "/b");
	CHECK_EQ_U64(r.m[3]->pair_id, 0);
	/* found again after the bad Content-Length */
	CHECK_STR(r.m[4]->path, "/e");
	/* bad chunk size, bad Content-Length, line without a colon */
	CHECK_EQ_U64(r.cnt.decode_errors, 3);
	CHECK_EQ_U64(r.cnt.resyncs, 2);
out:
	free_run(&r);
}

static void test_chunk_end(void)
{
	static const struct ev ev[] = {
		OUT("GET /a HTTP/1.1\r\nHost: h\r\n\r\n", 100),
		IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", 110),
		OUT("GET /b HTTP/1.1\r\nHost: h\r\n\r\n", 120),
		IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r", 130),
		GAP(false, 7, 140),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 4);
	if (r.n != 4)
		goto out;
	/* chunk data must be followed by CRLF */
	CHECK_EQ_U64(r.m[1]->flags, MSG_F_DECODE_ERROR | MSG_F_INCOMPLETE);
	CHECK(body_is(r.m[1], "abc"));
	CHECK_EQ_U64(r.m[3]->flags, MSG_F_GAP | MSG_F_INCOMPLETE);
	CHECK_EQ_U64(r.m[3]->end_ns, 130);
	CHECK_EQ_U64(r.cnt.decode_errors, 1);
	CHECK_EQ_U64(r.cnt.resyncs, 1);
out:
	free_run(&r);
}

static void test_incomplete_at_close(void)
{
	static const struct ev ev[] = {
		OUT("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n0123456789", 100),
		IN("HTTP/1.1 500 Internal Server Error\r\nX-A: 1\r\nContent-Le", 110),
		CLOSE(120),
	};
	static const struct ev no_start[] = {
		OUT("GET /x HT", 100),
		CLOSE(120),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 2);
	if (r.n == 2) {
		CHECK_EQ_U64(r.m[0]->flags, MSG_F_INCOMPLETE);
		CHECK_EQ_U64(r.m[0]->body_len, 10);
		CHECK_EQ_U64(r.m[1]->flags, MSG_F_INCOMPLETE);
		CHECK_EQ_U64(r.m[1]->status, 500);
		CHECK_EQ_U64(r.m[1]->nheaders, 1);
		check_pair(r.m[0], r.m[1]);
	}
	free_run(&r);

	play_all(no_start, NEV(no_start), &big_lim, &r);
	CHECK_EQ_U64(r.n, 0);
	free_run(&r);
}

static void test_server_role(void)
{
	static const struct ev ev[] = {
		IN("POST /api HTTP/1.1\r\nHost: svc\r\nContent-Length: 3\r\n\r\nabc", 100),
		OUT("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 150),
		IN("M-SEARCH /health HTTP/1.1\r\nHost: svc\r\n\r\n", 200),
		OUT("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 210),
		/* the client side does not send status lines */
		IN("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 220),
		CLOSE(230),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 4);
	if (r.n != 4)
		goto out;
	CHECK(r.m[0]->kind == MSG_REQUEST && !r.m[0]->out);
	CHECK(r.m[1]->kind == MSG_RESPONSE && r.m[1]->out);
	CHECK(body_is(r.m[0], "abc"));
	check_pair(r.m[0], r.m[1]);
	CHECK_EQ_U64(r.m[1]->latency_ns, 50);
	/* once the client side is known, any method token is taken */
	CHECK_STR(r.m[2]->method, "M-SEARCH");
	check_pair(r.m[2], r.m[3]);
	CHECK_EQ_U64(r.cnt.decode_errors, 1);
out:
	free_run(&r);
}

static void test_late_join(void)
{
	static const struct ev ev[] = {
		IN("dy of an earlier response\r\nthat was under way\r\n", 50),
		OUT("GET /n HTTP/1.1\r\nHost: h\r\n\r\n", 100),
		IN("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 120),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 2);
	if (r.n == 2)
		check_pair(r.m[0], r.m[1]);
	CHECK_EQ_U64(r.cnt.resyncs, 1);
	CHECK_EQ_U64(r.cnt.decode_errors, 0);
	free_run(&r);
}

static void test_header_forms(void)
{
	static const struct ev ev[] = {
		OUT("GET /f HTTP/1.1\r\nHost:   h  \r\nX-Folded: one\r\n  two\r\n\tthree\r\n"
		    "X-Empty:\r\nX-Tab:\tv\t\r\n\r\n",
		    100),
	};
	struct run r;

	play_all(ev, NEV(ev), &big_lim, &r);
	CHECK_EQ_U64(r.n, 1);
	if (r.n != 1)
		goto out;
	CHECK_EQ_U64(r.m[0]->nheaders, 4);
	CHECK_STR(r.m[0]->authority, "h");
	CHECK_STR(hdr(r.m[0], "x-folded"), "one two three");
	CHECK_STR(hdr(r.m[0], "x-empty"), "");
	CHECK_STR(hdr(r.m[0], "x-tab"), "v");
out:
	free_run(&r);
}

static void test_limits(void)
{
	static const struct msg_limits small = {
		.body_max = 4,
		.grpc_max = 1,
		.header_bytes_max = 24,
	};
	static const struct ev ev[] = {
		OUT("POST /u HTTP/1.1\r\nHost: h\r\nX-Long: 0123456789abcdef\r\n"
		    "Content-Length: 10\r\n\r\n0123456789",
		    100),
	};
	struct ev big[3] = {
		{ EV_DATA, true, NULL, 0, 0, 100 },
		OUT("GET /ok HTTP/1.1\r\nHost: h\r\n\r\n", 110),
		CLOSE(120),
	};
	static const char head[] = "GET /big HTTP/1.1\r\nX-Big: ";
	size_t n = 70000;
	char *p = malloc(n);
	struct run r;

	play_all(ev, NEV(ev), &small, &r);
	CHECK_EQ_U64(r.n, 1);
	if (r.n == 1) {
		/* the Content-Length field was dropped from the message, not from framing */
		CHECK_EQ_U64(r.m[0]->flags, MSG_F_BODY_CUT | MSG_F_HEADERS_CUT);
		CHECK_EQ_U64(r.m[0]->body_len, 10);
		CHECK_EQ_U64(r.m[0]->body_captured, 4);
		CHECK_EQ_U64(r.m[0]->nheaders, 1);
	}
	free_run(&r);

	/* a header section past 64 KiB is malformed */
	if (!p)
		exit(99);
	memset(p, 'a', n);
	memcpy(p, head, sizeof(head) - 1);
	memcpy(p + n - 4, "\r\n\r\n", 4);
	big[0].data = p;
	big[0].len = n;
	play(big, NEV(big), &big_lim, WHOLE, 0, 0, &r);
	CHECK_EQ_U64(r.n, 1);
	if (r.n == 1)
		CHECK_STR(r.m[0]->path, "/ok");
	CHECK_EQ_U64(r.cnt.decode_errors, 1);
	CHECK_EQ_U64(r.cnt.resyncs, 1);
	free_run(&r);

	/* a long header section is fine below 64 KiB */
	n = 20000;
	memcpy(p + n - 4, "\r\n\r\n", 4);
	big[0].len = n;
	play(big, NEV(big), &big_lim, WHOLE, 0, 0, &r);
	CHECK_EQ_U64(r.n, 2);
	if (r.n == 2)
		CHECK_EQ_U64(strlen(hdr(r.m[0], "x-big")), n - sizeof(head) + 1 - 4);
	CHECK_EQ_U64(r.cnt.decode_errors, 0);
	free_run(&r);
	free(p);
}

static void test_looks_like(void)
{
	static const struct {
		const char *s;
		bool want;
	} cases[] = {
		{ "GET / HTTP/1.1\r\n", true },
		{ "GET ", true },
		{ "GET", false },
		{ "POST", true },
		{ "OPTI", true },
		{ "CONNECT x:1 HTTP/1.1", true },
		{ "TRACE ", true },
		{ "PATCH /", true },
		{ "HTTP/1.1 200 OK", true },
		{ "HTTP", true },
		{ "HTT", false },
		{ "HTTP/2 200", false },
		{ "PRI * HTTP/2.0\r\n", false },
		{ "GETX / HTTP/1.1", false },
		{ "get / HTTP/1.1", false },
		{ "\x16\x03\x01", false },
		{ "", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = h1_looks_like((const uint8_t *)cases[i].s, strlen(cases[i].s));

		if (got != cases[i].want)
			fprintf(stderr, "h1_looks_like(\"%s\")\n", cases[i].s);
		CHECK(got == cases[i].want);
	}
}

int main(void)
{
	test_looks_like();
	test_keep_alive();
	test_pipelining();
	test_content_length();
	test_chunked();
	test_many_feeds();
	test_head();
	test_continue();
	test_no_body_statuses();
	test_read_to_close();
	test_websocket();
	test_connect();
	test_absolute_form();
	test_gap_in_body();
	test_gap_in_headers();
	test_gap_between_messages();
	test_response_resync();
	test_garbage();
	test_bad_chunk();
	test_chunk_end();
	test_incomplete_at_close();
	test_server_role();
	test_late_join();
	test_header_forms();
	test_limits();
	return unit_result("test_http1");
}
