/* test_conns.c - the connection table: TLS calls grouped per connection,
 * protocols detected, gaps passed on, connections ended by fd reuse, exit
 * and idleness. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conns.h"
#include "proto/hpack.h"
#include "proto/http2.h"
#include "unit.h"

#define MAX_MSGS 32

struct seen {
	int n;
	struct message *m[MAX_MSGS];
};

static void on_msg(struct message *m, void *arg)
{
	struct seen *s = arg;

	if (s->n < MAX_MSGS)
		s->m[s->n++] = m;
	else
		msg_free(m);
}

static void seen_clear(struct seen *s)
{
	for (int i = 0; i < s->n; i++)
		msg_free(s->m[i]);
	s->n = 0;
}

static const struct msg_limits lim = { .body_max = 1024, .grpc_max = 8,
				       .header_bytes_max = 8192 };

static struct conns *table(struct seen *s, struct proto_counters *cnt, uint64_t idle_ns)
{
	struct conns_config cfg = {
		.sink = { on_msg, s },
		.lim = &lim,
		.cnt = cnt,
		.idle_ns = idle_ns,
		.max_conns = 4,
	};

	return conns_new(&cfg);
}

/* One TLS call of pid 100: len bytes processed, the first captured of them
 * in data (captured < len: cut by snaplen). fd < 0: no socket seen. */
static void call(struct conns *t, uint64_t ssl, int fd, bool out, uint64_t ts, const void *data,
		 uint32_t captured, uint32_t len, bool lost)
{
	struct tlstop_data d = {
		.ts_ns = ts,
		.ssl = ssl,
		.pid = 100,
		.tid = 101,
		.fd = fd,
		.len = len,
		.captured_len = captured,
		.dir = out ? TLSTOP_DIR_OUT : TLSTOP_DIR_IN,
		.flags = (fd >= 0 ? TLSTOP_F_HAS_FD : 0) | (captured < len ? TLSTOP_F_TRUNCATED : 0),
	};
	struct tls_call c = { .hdr = &d, .data = data, .data_len = captured, .lost = lost };

	memcpy(d.comm, "client", 7);
	d.addr.role = TLSTOP_ROLE_CLIENT;
	conns_call(t, &c);
}

static void send_text(struct conns *t, uint64_t ssl, int fd, bool out, uint64_t ts, const char *s)
{
	call(t, ssl, fd, out, ts, s, strlen(s), strlen(s), false);
}

static const char req[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

static void test_two_connections(void)
{
	struct proto_counters cnt = { 0 };
	struct seen s = { 0 };
	struct conns *t = table(&s, &cnt, 0);

	send_text(t, 0x1000, 5, true, 10, req);
	send_text(t, 0x2000, 6, true, 11, "GET /b HTTP/1.1\r\nHost: y\r\n\r\n");
	send_text(t, 0x2000, 6, false, 20, resp);
	send_text(t, 0x1000, 5, false, 30, resp);
	CHECK_EQ_U64(conns_count(t), 2);
	CHECK_EQ_U64(s.n, 4);
	if (s.n == 4) {
		CHECK_STR(s.m[0]->path, "/a");
		CHECK_STR(s.m[1]->path, "/b");
		/* each response pairs with the request of its own connection */
		CHECK_EQ_U64(s.m[2]->pair_id, s.m[1]->id);
		CHECK_EQ_U64(s.m[2]->who.fd, 6);
		CHECK_EQ_U64(s.m[2]->conn_seq, s.m[1]->conn_seq);
		CHECK_EQ_U64(s.m[3]->pair_id, s.m[0]->id);
		CHECK_EQ_U64(s.m[3]->latency_ns, 20);
		CHECK(s.m[3]->conn_seq != s.m[2]->conn_seq);
		CHECK(s.m[0]->out && !s.m[3]->out);
	}
	seen_clear(&s);
	conns_free(t);
}

/* Lost records and snaplen cuts reach the decoder as gaps: a body of known
 * length is skipped exactly and the next message decodes. */
static void test_gaps(void)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
	struct proto_counters cnt = { 0 };
	struct seen s = { 0 };
	struct conns *t = table(&s, &cnt, 0);
	char big[sizeof(head) - 1 + 100];

	memcpy(big, head, sizeof(head) - 1);
	memset(big + sizeof(head) - 1, 'x', 100);
	send_text(t, 0x1000, 5, true, 10, req);
	/* 60 bytes of the call captured: 40 head bytes and 20 of the body */
	call(t, 0x1000, 5, false, 20, big, 60, sizeof(big), false);
	send_text(t, 0x1000, 5, true, 30, req);
	/* the whole call lost: 28 bytes gone, the decoder must resync */
	call(t, 0x1000, 5, false, 35, resp, 0, 28, true);
	send_text(t, 0x1000, 5, true, 40, req);
	send_text(t, 0x1000, 5, false, 50, resp);
	CHECK_EQ_U64(cnt.gaps, 2);
	CHECK_EQ_U64(cnt.gap_bytes, sizeof(big) - 60 + 28);
	CHECK(s.n >= 4);
	if (s.n >= 2) {
		CHECK_EQ_U64(s.m[1]->status, 200);
		CHECK_EQ_U64(s.m[1]->body_len, 100);
		CHECK_EQ_U64(s.m[1]->body_captured, 20);
		CHECK(s.m[1]->flags & MSG_F_GAP);
	}
	/* the last response decodes whole after the lost one */
	if (s.n >= 4) {
		struct message *last = s.m[s.n - 1];

		CHECK_EQ_U64(last->kind, MSG_RESPONSE);
		CHECK_EQ_U64(last->status, 200);
		CHECK_EQ_U64(last->body_captured, 5);
		CHECK(!(last->flags & MSG_F_GAP));
	}
	seen_clear(&s);
	conns_free(t);
}

/* The same SSL* on another socket is a new connection; exit and idleness
 * end connections, and a response read to close is complete then. */
static void test_endings(void)
{
	static const char to_close[] = "HTTP/1.0 200 OK\r\n\r\nbody until close";
	struct proto_counters cnt = { 0 };
	struct seen s = { 0 };
	struct conns *t = table(&s, &cnt, 1000);

	send_text(t, 0x1000, 5, true, 10, req);
	send_text(t, 0x1000, 5, false, 20, to_close);
	CHECK_EQ_U64(s.n, 1);
	send_text(t, 0x1000, 7, true, 30, req); /* fd 7: the old connection ends */
	CHECK_EQ_U64(s.n, 3);
	if (s.n == 3) {
		CHECK_EQ_U64(s.m[1]->kind, MSG_RESPONSE);
		CHECK_EQ_U64(s.m[1]->body_len, strlen("body until close"));
		CHECK(s.m[2]->conn_seq != s.m[0]->conn_seq);
	}
	send_text(t, 0x1000, 7, false, 40, to_close);
	conns_exit(t, 100, 50);
	CHECK_EQ_U64(conns_count(t), 0);
	CHECK_EQ_U64(s.n, 4);

	send_text(t, 0x3000, 8, true, 2000, req);
	send_text(t, 0x3000, 8, false, 2010, to_close);
	conns_tick(t, 2500);
	CHECK_EQ_U64(conns_count(t), 1);
	conns_tick(t, 4000); /* idle for more than 1000 ns */
	CHECK_EQ_U64(conns_count(t), 0);
	CHECK_EQ_U64(s.n, 6);

	/* past max_conns (4) the least recently used connection ends */
	for (uint64_t i = 0; i < 6; i++)
		send_text(t, 0x4000 + i, 10 + (int)i, true, 5000 + i, req);
	CHECK_EQ_U64(conns_count(t), 4);
	CHECK_EQ_U64(s.n, 12); /* requests are complete at their header's end */
	seen_clear(&s);
	conns_free(t);
	CHECK_EQ_U64(s.n, 0); /* nothing was left open */
}

/* Not HTTP: left raw after a few calls, nothing emitted. No socket: the
 * SSL* alone keys the connection. */
static void test_raw_and_no_fd(void)
{
	struct proto_counters cnt = { 0 };
	struct seen s = { 0 };
	struct conns *t = table(&s, &cnt, 0);

	for (int i = 0; i < 10; i++)
		send_text(t, 0x5000, -1, i & 1, 10 + i, "\x01\x02 binary protocol");
	send_text(t, 0x5000, -1, true, 30, req);
	CHECK_EQ_U64(s.n, 0);
	send_text(t, 0x6000, -1, true, 40, req);
	send_text(t, 0x6000, -1, false, 50, resp);
	CHECK_EQ_U64(s.n, 2);
	CHECK_EQ_U64(conns_count(t), 2);
	seen_clear(&s);
	conns_free(t);
}

/* HTTP/2 is told apart by its preface, or by plausible frames when tlstop
 * joined late; the socket's role says which side is the client. */
static void test_h2_detection(void)
{
	struct proto_counters cnt = { 0 };
	struct seen s = { 0 };
	struct conns *t = table(&s, &cnt, 0);
	struct hpack_encoder enc;
	uint8_t buf[512], *blk;
	size_t n = 0, hb;

	hpack_encoder_init(&enc, true);
	memcpy(buf, H2_PREFACE, H2_PREFACE_LEN);
	n = H2_PREFACE_LEN;
	h2_frame_header(buf + n, 0, H2_SETTINGS, 0, 0);
	n += H2_HDR_LEN;
	blk = buf + n + H2_HDR_LEN;
	hb = hpack_encode_field(&enc, ":method", "GET", HPACK_INCREMENTAL, blk, 200);
	hb += hpack_encode_field(&enc, ":path", "/h2", HPACK_INCREMENTAL, blk + hb, 200);
	hb += hpack_encode_field(&enc, ":scheme", "https", HPACK_INCREMENTAL, blk + hb, 200);
	h2_frame_header(buf + n, hb, H2_HEADERS, H2_END_STREAM | H2_END_HEADERS, 1);
	n += H2_HDR_LEN + hb;
	call(t, 0x7000, 9, true, 10, buf, n, n, false);
	CHECK_EQ_U64(s.n, 1);
	if (s.n == 1) {
		CHECK_EQ_U64(s.m[0]->proto, MSG_H2);
		CHECK_STR(s.m[0]->path, "/h2");
		CHECK(s.m[0]->out);
	}

	/* joined late: the same kind of request, without the preface */
	call(t, 0x8000, 10, true, 20, buf + H2_PREFACE_LEN, n - H2_PREFACE_LEN,
	     n - H2_PREFACE_LEN, false);
	CHECK_EQ_U64(s.n, 2);
	if (s.n == 2)
		CHECK_EQ_U64(s.m[1]->kind, MSG_REQUEST);
	hpack_encoder_free(&enc);
	seen_clear(&s);
	conns_free(t);
}

int main(void)
{
	test_two_connections();
	test_gaps();
	test_endings();
	test_raw_and_no_fd();
	test_h2_detection();
	return unit_result("test_conns");
}
