/* h2_load.c - gRPC-shaped unary calls over HTTP/2 and TLS in one process,
 * timed: the workload of the in-kernel prefilter's benchmark
 * (tests/bench/kfilter_bench.sh).
 *
 *   h2_load [--calls N] [--warmup N] [--size BYTES] [--match-every K]
 *           [--rate N] [--cpu N] [--wait-file FILE]
 *
 * A client and a server talk TLS 1.3 over a BIO pair in the main thread
 * (ssl_roundtrip --bio mem): no system calls on the path, so what a tracer
 * adds per call stands out. After the handshake the client writes the
 * preface, SETTINGS and WINDOW_UPDATE, the server its SETTINGS,
 * WINDOW_UPDATE and ACK, the client its ACK; windows are opened to 2^31-1,
 * so no later WINDOW_UPDATE is needed (these peers do not enforce them
 * anyway). Then each call, on the next client stream:
 *
 *   client  one SSL_write: HEADERS (:method POST, :scheme https, :path,
 *           :authority, te, content-type application/grpc, user-agent) and
 *           DATA: one gRPC message of BYTES (a protobuf, field 1 of letters)
 *           in frames of at most 16 KiB, END_STREAM on the last
 *   server  SSL_read until END_STREAM, then one SSL_write: HEADERS (:status
 *           200, content-type), DATA (the same message), trailers HEADERS
 *           (grpc-status 0) with END_STREAM
 *   client  SSL_read until END_STREAM
 *
 * Both sides parse frame headers only: lengths, types, END_STREAM, and the
 * DATA bytes of the stream, which must be the message's. One call in K
 * (--match-every, default 100; the first is one) goes to /pkg.A/Call, the
 * others to /pkg.B/Call. :path is HPACK-coded as gRPC C-core codes it: a
 * literal with incremental indexing and a literal name the first time
 * ("@\x05:path\x0b/pkg.A/Call"), the dynamic-table index afterwards
 * ("\xbf"); the other fields by the shared encoder, indexed once inserted.
 *
 * --wait-file: after printing "waiting FILE" (the process then maps libssl),
 * wait for FILE to exist before the handshake, so that a tracer started
 * meanwhile sees the connection from its first byte. --cpu pins the thread.
 * --rate N: at most N calls a second on average, warm-up included, so that a tracer that
 * cannot keep up with the unpaced loop still sees every call: the calls go
 * in bursts of PACE_BURST, with a sleep (left out of the wall time) before
 * a burst that would start early. In bursts, the caches stay as warm as
 * unpaced; a sleep before every call cost half as much again per call.
 *
 * Prints one line:
 *
 *   ns_per_call=F cpu_ns_per_call=F calls=N warmup=W size=S match_every=K
 *   a_calls=A ssl_calls_per_call=F rate=N cpu=N
 *
 * ns_per_call (wall time, --rate's sleeps left out), cpu_ns_per_call (the process's CPU time, user
 * and system: a uprobe's programs run in the traced thread, so they count,
 * and time other processes take from its CPU does not) and
 * ssl_calls_per_call (SSL_read and SSL_write calls of both sides) cover
 * the N timed calls after the warm-up; a_calls counts the
 * /pkg.A/Call calls of the whole run, warm-up included, which is what a
 * tracer sees. */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>

#include "proto/hpack.h"
#include "proto/http2.h"
#include "../progs/prog_util.h"

#define MAX_SIZE (4 * 1024 * 1024) /* gRPC's default receive limit */
#define MIN_SIZE 8
#define FRAME_MAX 16384 /* SETTINGS_MAX_FRAME_SIZE: neither side raises it */
#define GRPC_PREFIX 5 /* compressed flag and 32-bit length */
#define HEADERS_ROOM 1024 /* a header block, frame header included */
#define WINDOW_MAX 0x7fffffffU
#define WINDOW_INITIAL 65535U
#define S_ENABLE_PUSH 0x2
#define S_MAX_CONCURRENT_STREAMS 0x3
#define S_INITIAL_WINDOW_SIZE 0x4

static const char *const paths[] = { "/pkg.A/Call", "/pkg.B/Call" };

/* One side of the connection. */
struct end {
	SSL *ssl;
	struct hpack_encoder enc;
	bool want_preface; /* the server, until the client's preface is read */
	bool path_sent[2]; /* the client: paths[i] is in the peer's table */
	uint8_t *in, *out;
	size_t in_len, out_len, cap;
	uint32_t data_len; /* DATA payload of the stream being read */
	unsigned long calls; /* SSL_read and SSL_write */
};

/* The frame read_until() stops after: a type in the mask, those flags. */
struct want {
	uint32_t types;
	uint8_t flags;
	uint32_t stream;
};

#define PACE_BURST 32

static void usage(void)
{
	fputs("usage: h2_load [--calls N] [--warmup N] [--size BYTES] [--match-every K]\n"
	      "               [--rate N] [--cpu N] [--wait-file FILE]\n",
	      stderr);
	exit(2);
}

static unsigned long count_arg(const char *s, unsigned long min, unsigned long max)
{
	long v = prog_parse_num(s, usage);

	if ((unsigned long)v < min || (unsigned long)v > max)
		usage();
	return (unsigned long)v;
}

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Sleeps until due_ns (CLOCK_MONOTONIC) if that is ahead; returns the
 * nanoseconds slept. */
static uint64_t pace(uint64_t due_ns)
{
	uint64_t now = now_ns(CLOCK_MONOTONIC);
	struct timespec ts = { (time_t)(due_ns / 1000000000ULL), (long)(due_ns % 1000000000ULL) };

	if (due_ns <= now)
		return 0;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
	return now_ns(CLOCK_MONOTONIC) - now;
}

static void pin(long cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET((int)cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		prog_die("cannot pin to the CPU");
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static size_t varint_len(size_t v)
{
	size_t n = 1;

	while (v >>= 7)
		n++;
	return n;
}

static size_t put_varint(uint8_t *p, size_t v)
{
	size_t n = 0;

	for (; v > 0x7f; v >>= 7)
		p[n++] = (uint8_t)(v | 0x80);
	p[n++] = (uint8_t)v;
	return n;
}

/* The length L of a field 1 of bytes that makes a protobuf of size bytes:
 * tag + varint(L) + L; 0 when the varint's growth skips size. */
static size_t bytes_field_len(size_t size)
{
	for (size_t v = 1; v <= 5 && v + 1 < size; v++) {
		if (varint_len(size - 1 - v) == v)
			return size - 1 - v;
	}
	return 0;
}

/* The gRPC message, prefix included: a protobuf of size bytes, field 1 of
 * letters, with a varint field 2 of 0 in front where no field 1 alone fits. */
static uint8_t *make_message(size_t size)
{
	uint8_t *m = malloc(GRPC_PREFIX + size), *p;
	size_t len = bytes_field_len(size);

	if (!m)
		prog_die("out of memory");
	m[0] = 0;
	put32(m + 1, (uint32_t)size);
	p = m + GRPC_PREFIX;
	if (!len) {
		*p++ = 0x10;
		*p++ = 0;
		len = bytes_field_len(size - 2);
	}
	*p++ = 0x0a;
	p += put_varint(p, len);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)('a' + i % 26);
	return m;
}

static void end_init(struct end *e, SSL *ssl, bool server, size_t cap)
{
	*e = (struct end){ .ssl = ssl, .want_preface = server, .cap = cap };
	hpack_encoder_init(&e->enc, false);
	e->in = malloc(cap);
	e->out = malloc(cap);
	if (!e->in || !e->out)
		prog_die("out of memory");
}

static void end_free(struct end *e)
{
	hpack_encoder_free(&e->enc);
	SSL_free(e->ssl);
	free(e->in);
	free(e->out);
}

static uint8_t *put_frame(struct end *e, uint8_t type, uint8_t flags, uint32_t stream,
			  size_t len)
{
	uint8_t *p = e->out + e->out_len;

	if (e->out_len + H2_HDR_LEN + len > e->cap)
		prog_die("a flight outgrew its buffer");
	h2_frame_header(p, (uint32_t)len, type, flags, stream);
	e->out_len += H2_HDR_LEN + len;
	return p + H2_HDR_LEN;
}

/* Without SSL_MODE_ENABLE_PARTIAL_WRITE, and into a BIO pair with room for
 * the flight, one SSL_write writes it all. */
static void flush(struct end *e)
{
	e->calls++;
	if (SSL_write(e->ssl, e->out, (int)e->out_len) != (int)e->out_len)
		prog_die("SSL_write failed");
	e->out_len = 0;
}

static void ignore_field(void *arg, const char *name, size_t nlen, const char *value,
			 size_t vlen, unsigned int flags)
{
}

/* C-core's :path: a new path as a literal with incremental indexing and a
 * literal name, which the shared encoder never writes (it indexes the
 * static name); its table is then told of the insertion by decoding the
 * bytes, so that the next use finds the entry and writes its index. */
static size_t put_path(struct end *e, int which, uint8_t *out, size_t cap)
{
	const char *path = paths[which];
	size_t n = strlen(path);

	if (e->path_sent[which])
		return hpack_encode_field(&e->enc, ":path", path, HPACK_INCREMENTAL, out, cap);
	if (8 + n > cap)
		return 0;
	out[0] = 0x40;
	out[1] = 5;
	memcpy(out + 2, ":path", 5);
	out[7] = (uint8_t)n;
	memcpy(out + 8, path, n);
	if (hpack_decode_block(&e->enc.table, out, 8 + n, ignore_field, NULL))
		return 0;
	e->path_sent[which] = true;
	return 8 + n;
}

/* fields: name, value pairs; a ":path" name takes paths[which]. */
static void put_headers(struct end *e, uint32_t stream, uint8_t flags,
			const char *const *fields, size_t n, int which)
{
	uint8_t block[HEADERS_ROOM - H2_HDR_LEN];
	size_t len = 0, k;

	for (size_t i = 0; i < n; i += 2) {
		if (!strcmp(fields[i], ":path"))
			k = put_path(e, which, block + len, sizeof(block) - len);
		else
			k = hpack_encode_field(&e->enc, fields[i], fields[i + 1],
					       HPACK_INCREMENTAL, block + len, sizeof(block) - len);
		if (!k)
			prog_die("a header block outgrew its buffer");
		len += k;
	}
	memcpy(put_frame(e, H2_HEADERS, flags | H2_END_HEADERS, stream, len), block, len);
}

static void put_data(struct end *e, uint32_t stream, const uint8_t *m, size_t len, bool end)
{
	while (len) {
		size_t n = len < FRAME_MAX ? len : FRAME_MAX;

		len -= n;
		memcpy(put_frame(e, H2_DATA, end && !len ? H2_END_STREAM : 0, stream, n), m, n);
		m += n;
	}
}

/* SETTINGS (id = v, and the stream window at its largest), then the
 * connection window raised as far (its initial size is not a setting). */
static void put_settings(struct end *e, uint16_t id, uint32_t v)
{
	uint8_t *p = put_frame(e, H2_SETTINGS, 0, 0, 12);

	p[0] = id >> 8;
	p[1] = (uint8_t)id;
	put32(p + 2, v);
	p[6] = 0;
	p[7] = S_INITIAL_WINDOW_SIZE;
	put32(p + 8, WINDOW_MAX);
	put32(put_frame(e, H2_WINDOW_UPDATE, 0, 0, 4), WINDOW_MAX - WINDOW_INITIAL);
}

/* Consumes the frames buffered; true once the wanted one went by. */
static bool take_frames(struct end *e, const struct want *w)
{
	size_t off = 0;
	bool done = false;

	if (e->want_preface) {
		if (e->in_len < H2_PREFACE_LEN)
			return false;
		if (memcmp(e->in, H2_PREFACE, H2_PREFACE_LEN))
			prog_die("the client's preface is wrong");
		off = H2_PREFACE_LEN;
		e->want_preface = false;
	}
	while (!done && e->in_len - off >= H2_HDR_LEN) {
		const uint8_t *p = e->in + off;
		uint32_t len = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
		uint32_t stream = ((uint32_t)p[5] << 24 | (uint32_t)p[6] << 16 |
				   (uint32_t)p[7] << 8 | p[8]) & 0x7fffffff;

		if (e->in_len - off < H2_HDR_LEN + len)
			break;
		if (p[3] == H2_DATA && stream == w->stream)
			e->data_len += len;
		done = p[3] < 32 && (w->types >> p[3] & 1) && (p[4] & w->flags) == w->flags &&
		       stream == w->stream;
		off += H2_HDR_LEN + len;
	}
	memmove(e->in, e->in + off, e->in_len - off);
	e->in_len -= off;
	return done;
}

/* SSL_read until the wanted frame arrived. Over the BIO pair the peer has
 * written its whole flight before this runs: running out of data is an
 * error. */
static void read_until(struct end *e, const struct want *w)
{
	while (!take_frames(e, w)) {
		int r;

		if (e->in_len == e->cap)
			prog_die("a flight outgrew its buffer");
		e->calls++;
		r = SSL_read(e->ssl, e->in + e->in_len, (int)(e->cap - e->in_len));
		if (r <= 0)
			prog_die("SSL_read failed");
		e->in_len += (size_t)r;
	}
}

/* The preface and SETTINGS exchange, both ACKs included. */
static void h2_open(struct end *c, struct end *s)
{
	const struct want win = { 1U << H2_WINDOW_UPDATE, 0, 0 };
	const struct want ack = { 1U << H2_SETTINGS, H2_ACK, 0 };

	memcpy(c->out, H2_PREFACE, H2_PREFACE_LEN);
	c->out_len = H2_PREFACE_LEN;
	put_settings(c, S_ENABLE_PUSH, 0);
	flush(c);
	read_until(s, &win);
	put_settings(s, S_MAX_CONCURRENT_STREAMS, 100);
	put_frame(s, H2_SETTINGS, H2_ACK, 0, 0);
	flush(s);
	read_until(c, &ack);
	put_frame(c, H2_SETTINGS, H2_ACK, 0, 0);
	flush(c);
	read_until(s, &ack);
}

static void check_message(struct end *e, size_t len, const char *who)
{
	if (e->data_len != len) {
		fprintf(stderr, "h2_load: the %s got %u DATA bytes, expected %zu\n", who,
			e->data_len, len);
		exit(1);
	}
	e->data_len = 0;
}

static void call(struct end *c, struct end *s, uint32_t stream, int which, const uint8_t *m,
		 size_t len)
{
	static const char *const req[] = {
		":method", "POST", ":scheme", "https", ":path", NULL,
		":authority", "localhost", "te", "trailers",
		"content-type", "application/grpc", "user-agent", "grpc-c/h2_load",
	};
	static const char *const resp[] = { ":status", "200", "content-type", "application/grpc" };
	static const char *const trailers[] = { "grpc-status", "0" };
	const struct want end = { 1U << H2_HEADERS | 1U << H2_DATA, H2_END_STREAM, stream };

	put_headers(c, stream, 0, req, sizeof(req) / sizeof(req[0]), which);
	put_data(c, stream, m, len, true);
	flush(c);
	read_until(s, &end);
	check_message(s, len, "server");
	put_headers(s, stream, 0, resp, sizeof(resp) / sizeof(resp[0]), which);
	put_data(s, stream, m, len, false);
	put_headers(s, stream, H2_END_STREAM, trailers, sizeof(trailers) / sizeof(trailers[0]),
		    which);
	flush(s);
	read_until(c, &end);
	check_message(c, len, "client");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "calls", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "size", required_argument, NULL, 's' },
		{ "match-every", required_argument, NULL, 'k' },
		{ "rate", required_argument, NULL, 'r' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "wait-file", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long calls = 20000, warmup = 1000, every = 100, rate = 0, a_calls = 0, i;
	size_t size = 16384, len, cap;
	const char *wait_file = NULL;
	struct end c, s;
	SSL *cssl, *sssl;
	uint64_t t0 = 0, cpu0 = 0, p0, slept = 0;
	uint8_t *m;
	long cpu = -1;
	int o;

	while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (o) {
		case 'n':
			calls = count_arg(optarg, 1, 1UL << 29);
			break;
		case 'w':
			warmup = count_arg(optarg, 0, 1UL << 29);
			break;
		case 's':
			size = count_arg(optarg, MIN_SIZE, MAX_SIZE);
			break;
		case 'k':
			every = count_arg(optarg, 1, 1UL << 30);
			break;
		case 'r':
			rate = count_arg(optarg, 1, 1000000);
			break;
		case 'c':
			cpu = (long)count_arg(optarg, 0, CPU_SETSIZE - 1);
			break;
		case 'f':
			wait_file = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind < argc)
		usage();
	if (cpu >= 0)
		pin(cpu);
	if (wait_file) {
		printf("waiting %s\n", wait_file);
		fflush(stdout);
		prog_wait_go_file(wait_file);
	}

	len = GRPC_PREFIX + size;
	m = make_message(size);
	/* the largest flight: the server's, DATA frames of the message and
	 * two header blocks */
	cap = len + (len / FRAME_MAX + 1) * H2_HDR_LEN + 2 * HEADERS_ROOM;
	/* each half of the BIO pair holds a whole flight: cap bytes of frames
	 * and their records' overhead */
	prog_tls_pair(cap + cap / 8 + 65536, &cssl, &sssl);
	end_init(&c, cssl, false, cap);
	end_init(&s, sssl, true, cap);
	h2_open(&c, &s);
	p0 = now_ns(CLOCK_MONOTONIC);
	for (i = 0; i < warmup + calls; i++) {
		int which = i % every ? 1 : 0;

		if (i == warmup) {
			c.calls = s.calls = 0;
			t0 = now_ns(CLOCK_MONOTONIC);
			cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
			slept = 0;
		}
		if (rate && i % PACE_BURST == 0)
			slept += pace(p0 + i * 1000000000ULL / rate);
		call(&c, &s, (uint32_t)(2 * i + 1), which, m, len);
		a_calls += !which;
	}
	printf("ns_per_call=%.1f cpu_ns_per_call=%.1f calls=%lu warmup=%lu size=%zu "
	       "match_every=%lu a_calls=%lu ssl_calls_per_call=%.3f rate=%lu cpu=%ld\n",
	       (double)(now_ns(CLOCK_MONOTONIC) - t0 - slept) / (double)calls,
	       (double)(now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / (double)calls, calls, warmup,
	       size, every, a_calls, (double)(c.calls + s.calls) / (double)calls, rate, cpu);
	end_free(&c);
	end_free(&s);
	free(m);
	return 0;
}
