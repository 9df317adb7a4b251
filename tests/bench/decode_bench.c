/* decode_bench.c - decoder throughput on a recorded trace, and memory per
 * open HTTP/2 connection (make bench-decode; no root needed).
 *
 * Throughput: every TLS call of the recording is fed through the
 * connection table and the decoders (HTTP/1, HTTP/2 + HPACK, gRPC), the
 * messages built and freed, on one core; the baseline is one pass over the
 * same bytes (a checksum), so the ratio says how many times the decoders
 * cost a bare read of the data. Memory: N connections are opened with a
 * preface, SETTINGS and one gRPC call each way (so both HPACK tables hold
 * entries), then the table's own accounting and the heap growth are
 * divided by N. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "conns.h"
#include "proto/hpack.h"
#include "proto/http2.h"
#include "record.h"
#include "synth.h"

struct trace {
	struct tlstop_data *hdrs;
	uint8_t **data;
	uint32_t *len;
	bool *lost;
	size_t n, cap;
	uint64_t bytes;
};

static void on_call(const struct tls_call *call, void *arg)
{
	struct trace *t = arg;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->hdrs = realloc(t->hdrs, t->cap * sizeof(*t->hdrs));
		t->data = realloc(t->data, t->cap * sizeof(*t->data));
		t->len = realloc(t->len, t->cap * sizeof(*t->len));
		t->lost = realloc(t->lost, t->cap * sizeof(*t->lost));
		if (!t->hdrs || !t->data || !t->len || !t->lost) {
			perror("decode_bench");
			exit(1);
		}
	}
	t->hdrs[t->n] = *call->hdr;
	t->data[t->n] = malloc(call->data_len + 1);
	memcpy(t->data[t->n], call->data, call->data_len);
	t->len[t->n] = call->data_len;
	t->lost[t->n] = call->lost;
	t->bytes += call->data_len;
	t->n++;
}

static void on_proc(const struct tlstop_proc *p, void *arg)
{
}

static int load(const char *path, struct trace *t)
{
	static const struct capture_ops ops = { on_call, on_proc };
	struct stats stats = { 0 };
	struct capture *c = capture_new(&ops, t, &stats);
	struct rec_reader *r;
	char *cause = NULL;
	const void *buf;
	uint32_t type, len;
	int n;

	if (!c || rec_reader_open(&r, path, &cause)) {
		fprintf(stderr, "decode_bench: %s\n", cause ? cause : "out of memory");
		return -1;
	}
	while ((n = rec_read(r, &type, &buf, &len, &cause)) > 0)
		if (type == REC_EVENT)
			capture_feed(c, buf, len);
	capture_flush(c, UINT64_MAX);
	capture_free(c);
	rec_reader_close(r);
	if (n < 0)
		fprintf(stderr, "decode_bench: %s\n", cause);
	return n;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void free_msg(struct message *m, void *arg)
{
	(*(uint64_t *)arg)++;
	msg_free(m);
}

static const struct msg_limits lim = { .body_max = 65536, .grpc_max = 64,
				       .header_bytes_max = 65536 };

static double decode_pass(const struct trace *t, uint64_t *msgs)
{
	struct proto_counters cnt = { 0 };
	struct conns_config cfg = { .sink = { free_msg, msgs }, .lim = &lim, .cnt = &cnt };
	struct conns *c = conns_new(&cfg);
	double t0 = now_s();

	for (size_t i = 0; i < t->n; i++) {
		struct tls_call call = { &t->hdrs[i], t->data[i], t->len[i], t->lost[i] };

		conns_call(c, &call);
	}
	conns_free(c);
	return now_s() - t0;
}

static double baseline_pass(const struct trace *t, uint64_t *sum)
{
	double t0 = now_s();

	for (size_t i = 0; i < t->n; i++)
		for (uint32_t j = 0; j < t->len[i]; j++)
			*sum += t->data[i][j];
	return now_s() - t0;
}

static void memory_per_conn(unsigned int nconns)
{
	struct proto_counters cnt = { 0 };
	uint64_t msgs = 0;
	struct conns_config cfg = { .sink = { free_msg, &msgs }, .lim = &lim, .cnt = &cnt };
	struct mallinfo2 before = mallinfo2(), after;
	struct conns *c = conns_new(&cfg);
	uint8_t buf[2048], *msg = synth_grpc_message(4);
	struct synth_msg m = { .stream = 1, .msg = msg, .len = 9, .path = "/shop.Orders/Get",
			       .status = "0" };

	for (unsigned int i = 0; i < nconns; i++) {
		struct hpack_encoder ce, se;
		struct tlstop_data d;
		struct tls_call call;
		size_t n;

		hpack_encoder_init(&ce, true);
		hpack_encoder_init(&se, true);
		n = synth_conn_start(buf);
		n += synth_request(&ce, buf + n, &m);
		call = synth_tls_call(&d, 0x1000 + i, true, buf, n);
		conns_call(c, &call);
		n = synth_frame(buf, 0, H2_SETTINGS, 0, 0);
		n += synth_response(&se, buf + n, &m);
		call = synth_tls_call(&d, 0x1000 + i, false, buf, n);
		conns_call(c, &call);
		hpack_encoder_free(&ce);
		hpack_encoder_free(&se);
	}
	after = mallinfo2();
	printf("memory: %u open HTTP/2 connections (one gRPC call each way done): "
	       "table accounting %.0f B/conn, heap growth %.0f B/conn, %llu messages\n",
	       nconns, (double)conns_mem(c) / nconns,
	       (double)(after.uordblks - before.uordblks) / nconns, (unsigned long long)msgs);
	conns_free(c);
	free(msg);
}

static void trace_free(struct trace *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->data[i]);
	free(t->hdrs);
	free(t->data);
	free(t->len);
	free(t->lost);
	*t = (struct trace){ 0 };
}

static void measure(const char *name, const struct trace *t, int rounds)
{
	double best_dec = 1e9, best_base = 1e9;
	uint64_t msgs = 0, sum = 0;

	for (int i = 0; i < rounds; i++) {
		double d, b;

		msgs = 0;
		d = decode_pass(t, &msgs);
		b = baseline_pass(t, &sum);
		best_dec = d < best_dec ? d : best_dec;
		best_base = b < best_base ? b : best_base;
	}
	printf("%s: %zu TLS calls, %.2f MB, %llu messages (checksum %llu)\n"
	       "  baseline (one read of every byte) %8.1f MB/s; decoders %8.1f MB/s = %.1fx the baseline's time;"
	       " %.0f ns per TLS call, %.0f ns per message\n",
	       name, t->n, t->bytes / 1e6, (unsigned long long)msgs, (unsigned long long)sum & 0xff,
	       t->bytes / best_base / 1e6, t->bytes / best_dec / 1e6, best_dec / best_base,
	       best_dec / t->n * 1e9, best_dec / msgs * 1e9);
}

int main(int argc, char **argv)
{
	static const uint32_t sizes[] = { 100, 1024, 16384 };
	struct trace t = { 0 };
	int rounds = argc > 2 ? atoi(argv[2]) : 20;
	char name[64];

	if (argc < 2) {
		fprintf(stderr, "usage: decode_bench RECORDING [ROUNDS]\n");
		return 2;
	}
	printf("decoders: connections, HTTP/1, HTTP/2 + HPACK, gRPC; messages built and freed; "
	       "best of %d passes, one core\n", rounds);
	if (load(argv[1], &t) < 0)
		return 1;
	measure(argv[1], &t, rounds);
	trace_free(&t);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		synth_connection(2000, sizes[i], on_call, &t);
		snprintf(name, sizeof(name), "unary gRPC, %u B messages", sizes[i]);
		measure(name, &t, rounds);
		trace_free(&t);
	}
	memory_per_conn(10000);
	return 0;
}
