/* gen_trace.c - writes a synthetic recording of unary gRPC traffic at a
 * given message rate, for replaying into the UI under load (bench-ui).
 *
 * The records are what the kernel side would have written: one REC_LIB
 * per fake TLS library, ring-buffer records (struct tlstop_data, a call
 * longer than TLSTOP_CHUNK_MAX split by offset/chunk_len) and a REC_STATS
 * snapshot every recorded second. Calls start every 2/rate seconds, round
 * robin over the connections, so a replay at --speed 1 receives rate
 * messages a second (a unary call is a request and a response); each
 * response comes its method's latency later. No process notices: a replay
 * has no use for them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "libs.h"
#include "proto/http2.h"
#include "record.h"
#include "stats.h"
#include "synth.h"

#define BASE_NS 5000000000000ULL /* the recording's clock starts at "uptime" 5000 s */
#define NS 1000000000ULL
#define BODY_MAX (1u << 20)
#define BODY_SLACK 128 /* a body's fields besides the padding, and its prefix */

struct lib {
	enum lib_kind kind;
	bool is_static;
	const char *path;
};

static const struct lib libs[] = {
	{ LIB_OPENSSL, false, "/usr/lib/x86_64-linux-gnu/libssl.so.3" },
	{ LIB_BORINGSSL, true, "/usr/local/bin/envoy" },
};

struct proc {
	uint32_t pid;
	const char *comm;
	uint32_t lib_id;
	bool server; /* the traced end accepted the connections */
};

static const struct proc procs[] = {
	{ 4312, "api-server", 0, false },
	{ 4388, "checkout", 0, false },
	{ 5120, "envoy", 1, false },
	{ 6001, "orders-svc", 0, true },
};
#define NPROCS (sizeof(procs) / sizeof(procs[0]))

struct method {
	const char *path;
	const char *id_prefix; /* of the protobuf's field 1 */
	unsigned int weight; /* share of the calls, out of 100 */
	uint32_t lat_us, jitter_us; /* latency: lat + uniform [0, jitter) */
	unsigned int fail_permille; /* answered grpc-status 14 */
};

static const struct method methods[] = {
	{ "/shop.Orders/Get", "ord-", 50, 300, 500, 0 },
	{ "/shop.Payments/Charge", "txn-", 30, 2000, 4000, 100 },
	{ "/shop.Inventory/Reserve", "sku-", 20, 800, 1200, 0 },
};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

struct params {
	double rate; /* messages per second */
	double seconds;
	unsigned int conns;
	uint32_t body; /* extra protobuf bytes per message */
	uint64_t seed;
	const char *path;
};

struct conn {
	const struct proc *proc;
	uint64_t ssl;
	int32_t fd;
	uint32_t tid;
	struct tlstop_addr addr;
	struct hpack_encoder ce, se; /* the client's and the server's */
	uint32_t next_stream;
};

/* A response due at ts. */
struct due {
	uint64_t ts;
	uint64_t call;
	uint32_t conn;
	uint32_t stream;
	uint8_t method;
	bool fail;
};

struct heap {
	struct due *v;
	size_t n, cap;
};

struct gen {
	const struct params *p;
	struct rec_writer *w;
	struct conn *conns;
	struct heap due;
	struct stats stats;
	uint64_t next_stats_ns;
	uint64_t rng;
	uint8_t *payload, *rec, *body; /* scratch: call bytes, one record, a gRPC message */
	uint64_t messages;
	char *cause;
};

static uint64_t rnd(struct gen *g)
{
	/* xorshift64*: reproducible traces for a given seed */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 2685821657736338717ULL;
}

static bool due_before(const struct due *a, const struct due *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->call < b->call);
}

static void due_swap(struct due *a, struct due *b)
{
	struct due t = *a;

	*a = *b;
	*b = t;
}

static int heap_push(struct heap *h, const struct due *d)
{
	size_t i;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		struct due *v = realloc(h->v, cap * sizeof(*v));

		if (!v)
			return -1;
		h->v = v;
		h->cap = cap;
	}
	i = h->n++;
	h->v[i] = *d;
	for (; i && due_before(&h->v[i], &h->v[(i - 1) / 2]); i = (i - 1) / 2)
		due_swap(&h->v[i], &h->v[(i - 1) / 2]);
	return 0;
}

static struct due heap_pop(struct heap *h)
{
	struct due top = h->v[0];
	size_t i = 0;

	h->v[0] = h->v[--h->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < h->n && due_before(&h->v[l], &h->v[m]))
			m = l;
		if (r < h->n && due_before(&h->v[r], &h->v[m]))
			m = r;
		if (m == i)
			return top;
		due_swap(&h->v[i], &h->v[m]);
		i = m;
	}
}

/* ---- protobuf bodies ---- */

struct pb {
	uint8_t *p;
	size_t n, cap;
};

static void pb_varint(struct pb *b, uint64_t v)
{
	do {
		if (b->n < b->cap)
			b->p[b->n++] = (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
		v >>= 7;
	} while (v);
}

/* A length-delimited field; data NULL: len bytes of padding. */
static void pb_bytes(struct pb *b, uint32_t field, const void *data, size_t len)
{
	pb_varint(b, (uint64_t)field << 3 | 2);
	pb_varint(b, len);
	if (len > b->cap - b->n)
		len = b->cap - b->n;
	if (data)
		memcpy(b->p + b->n, data, len);
	else
		memset(b->p + b->n, 'x', len);
	b->n += len;
}

/* A gRPC message in g->body: {1: "<prefix><call>", 2: <number>, [3: {1: "EUR"}],
 * [15: padding]}; returns its length, prefix included. */
static size_t body(struct gen *g, const struct method *m, uint64_t call, bool request)
{
	static const uint8_t eur[] = { 0x0a, 3, 'E', 'U', 'R' };
	struct pb b = { g->body + 5, 0, g->p->body + BODY_SLACK - 5 };
	char id[48];
	int n = snprintf(id, sizeof(id), "%s%llu", m->id_prefix, (unsigned long long)call);

	pb_bytes(&b, 1, id, (size_t)n);
	pb_varint(&b, 2 << 3);
	pb_varint(&b, request ? call % 10000 : 200 + call % 7);
	if (request && m->fail_permille)
		pb_bytes(&b, 3, eur, sizeof(eur));
	if (g->p->body)
		pb_bytes(&b, 15, NULL, g->p->body);
	synth_grpc_prefix(g->body, b.n);
	return b.n + 5;
}

/* ---- records ---- */

static int write_stats(struct gen *g)
{
	uint8_t *buf = malloc(stats_encoded_max());
	int err = -1;

	if (buf)
		err = rec_write(g->w, REC_STATS, buf, stats_encode(&g->stats, buf), &g->cause);
	free(buf);
	return err;
}

/* Ring-buffer records of one TLS call of c, as the kernel splits them. */
static int write_call(struct gen *g, const struct conn *c, bool out, uint64_t ts,
		      const uint8_t *data, uint32_t len)
{
	struct tlstop_data *d = (struct tlstop_data *)g->rec;
	uint32_t captured = len < TLSTOP_SNAPLEN_DEFAULT ? len : TLSTOP_SNAPLEN_DEFAULT;
	uint32_t off = 0;

	*d = (struct tlstop_data){
		.hdr.type = TLSTOP_EV_DATA, .ts_ns = ts, .start_ns = ts - 4000 - len % 3000,
		.ssl = c->ssl, .pid = c->proc->pid, .tid = c->tid, .lib_id = c->proc->lib_id,
		.fd = c->fd, .len = len, .captured_len = captured,
		.flags = TLSTOP_F_HAS_FD | (captured < len ? TLSTOP_F_TRUNCATED : 0),
		.func = out ? TLSTOP_FN_SSL_WRITE : TLSTOP_FN_SSL_READ,
		.dir = out ? TLSTOP_DIR_OUT : TLSTOP_DIR_IN, .addr = c->addr,
	};
	strncpy(d->comm, c->proc->comm, sizeof(d->comm) - 1);
	do {
		uint32_t n = captured - off < TLSTOP_CHUNK_MAX ? captured - off : TLSTOP_CHUNK_MAX;

		d->offset = off;
		d->chunk_len = n;
		d->hdr.size = sizeof(*d) + n;
		if (off + n >= captured)
			d->flags |= TLSTOP_F_LAST;
		memcpy(d->data, data + off, n);
		if (rec_write(g->w, REC_EVENT, d, d->hdr.size, &g->cause))
			return -1;
		off += n;
	} while (off < captured);
	g->stats.kernel.truncated += captured < len;
	g->stats.lib[c->proc->lib_id].calls++;
	g->stats.lib[c->proc->lib_id].bytes += len;
	g->stats.lib[c->proc->lib_id].fd_seen++;
	return 0;
}

/* Writes the counters of every recorded second that ended before ts. */
static int advance(struct gen *g, uint64_t ts)
{
	for (; g->next_stats_ns <= ts; g->next_stats_ns += NS)
		if (write_stats(g))
			return -1;
	return 0;
}

/* The request or the response of a call, from the traced end's side: a
 * client writes requests and reads responses, a server the reverse. */
static int write_msg(struct gen *g, const struct due *d, bool request)
{
	struct conn *c = &g->conns[d->conn];
	const struct method *m = &methods[d->method];
	struct synth_msg sm = { .stream = d->stream, .msg = g->body, .path = m->path,
				.status = d->fail ? "14" : "0",
				.why = d->fail ? "upstream connect error" : NULL };
	size_t n;

	if (advance(g, d->ts))
		return -1;
	sm.len = request || !d->fail ? body(g, m, d->call, request) : 0;
	n = request ? synth_request(&c->ce, g->payload, &sm) :
		      synth_response(&c->se, g->payload, &sm);
	g->messages++;
	return write_call(g, c, request != c->proc->server, d->ts, g->payload, n);
}

/* ---- connections ---- */

static void conn_init(struct conn *c, unsigned int i)
{
	unsigned int pi = i % NPROCS, k = i / NPROCS;
	uint8_t self[4] = { 10, 0, 3, 7 + pi }, peer[4] = { 10, 0, 9, 2 + i % NMETHODS };

	*c = (struct conn){ .proc = &procs[pi], .ssl = 0x7f3a00001000ULL + i * 0x2000ULL,
			    .fd = 8 + k, .tid = procs[pi].pid + 1 + k % 4, .next_stream = 1 };
	c->addr.family = AF_INET;
	if (c->proc->server) {
		c->addr.role = TLSTOP_ROLE_SERVER;
		memcpy(c->addr.laddr, peer, 4);
		memcpy(c->addr.raddr, self, 4);
		c->addr.lport = 443;
		c->addr.rport = 40000 + k;
	} else {
		c->addr.role = TLSTOP_ROLE_CLIENT;
		memcpy(c->addr.laddr, self, 4);
		memcpy(c->addr.raddr, peer, 4);
		c->addr.lport = 40000 + k;
		c->addr.rport = 443;
	}
	hpack_encoder_init(&c->ce, true);
	hpack_encoder_init(&c->se, true);
}

/* The preface and both SETTINGS, just before the first call. */
static int conn_start(struct gen *g, const struct conn *c, uint64_t ts)
{
	size_t n = synth_conn_start(g->payload);
	bool client = !c->proc->server;

	if (write_call(g, c, client, ts, g->payload, n))
		return -1;
	return write_call(g, c, !client, ts + 1000, g->payload + H2_PREFACE_LEN, H2_HDR_LEN);
}

static int write_libs(struct gen *g)
{
	for (uint32_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		size_t plen = strlen(libs[i].path);
		struct rec_lib *r = (struct rec_lib *)g->rec;

		*r = (struct rec_lib){ .id = i, .kind = libs[i].kind,
				       .is_static = libs[i].is_static, .path_len = plen };
		memcpy(r + 1, libs[i].path, plen);
		if (rec_write(g->w, REC_LIB, r, sizeof(*r) + plen, &g->cause))
			return -1;
	}
	g->stats.nlibs = sizeof(libs) / sizeof(libs[0]);
	return 0;
}

/* ---- the schedule ---- */

static const struct method *pick_method(struct gen *g, uint8_t *idx)
{
	unsigned int r = rnd(g) % 100;

	for (*idx = 0; *idx < NMETHODS - 1 && r >= methods[*idx].weight; (*idx)++)
		r -= methods[*idx].weight;
	return &methods[*idx];
}

/* Call k: its request now, its response queued for later. */
static int start_call(struct gen *g, uint64_t k, uint64_t ts)
{
	struct due d = { .ts = ts, .call = k, .conn = k % g->p->conns };
	struct conn *c = &g->conns[d.conn];
	const struct method *m = pick_method(g, &d.method);

	d.stream = c->next_stream;
	c->next_stream = c->next_stream < (1u << 30) ? c->next_stream + 2 : 1;
	d.fail = rnd(g) % 1000 < m->fail_permille;
	if (write_msg(g, &d, true))
		return -1;
	d.ts += (m->lat_us + rnd(g) % m->jitter_us) * 1000ULL;
	return heap_push(&g->due, &d);
}

static int drain_due(struct gen *g, uint64_t until)
{
	while (g->due.n && g->due.v[0].ts <= until) {
		struct due d = heap_pop(&g->due);

		if (write_msg(g, &d, false))
			return -1;
	}
	return 0;
}

static int generate(struct gen *g)
{
	uint64_t calls = (uint64_t)(g->p->rate * g->p->seconds / 2);
	double period = 2e9 / g->p->rate;

	g->next_stats_ns = BASE_NS + NS;
	if (write_libs(g))
		return -1;
	for (unsigned int i = 0; i < g->p->conns; i++)
		if (conn_start(g, &g->conns[i], BASE_NS + i * 2000ULL))
			return -1;
	for (uint64_t k = 0; k < calls; k++) {
		uint64_t ts = BASE_NS + NS / 10 + (uint64_t)(k * period);

		if (drain_due(g, ts) || start_call(g, k, ts))
			return -1;
	}
	if (drain_due(g, UINT64_MAX) || advance(g, g->next_stats_ns))
		return -1;
	return 0;
}

/* ---- the program ---- */

static int64_t realtime_offset(void)
{
	struct timespec rt;

	clock_gettime(CLOCK_REALTIME, &rt);
	return (int64_t)rt.tv_sec * (int64_t)NS + rt.tv_nsec - (int64_t)BASE_NS;
}

static void gen_free(struct gen *g)
{
	for (unsigned int i = 0; g->conns && i < g->p->conns; i++) {
		hpack_encoder_free(&g->conns[i].ce);
		hpack_encoder_free(&g->conns[i].se);
	}
	free(g->conns);
	free(g->due.v);
	free(g->payload);
	free(g->rec);
	free(g->body);
}

static int run(const struct params *p)
{
	struct gen g = { .p = p, .rng = p->seed | 1 };
	int err = -1;

	g.payload = malloc(p->body + BODY_SLACK + SYNTH_OVERHEAD);
	g.body = malloc(p->body + BODY_SLACK);
	g.rec = malloc(sizeof(struct tlstop_data) + TLSTOP_CHUNK_MAX + 4096);
	g.conns = calloc(p->conns, sizeof(*g.conns));
	if (!g.payload || !g.body || !g.rec || !g.conns) {
		fprintf(stderr, "gen_trace: out of memory\n");
		gen_free(&g);
		return 1;
	}
	for (unsigned int i = 0; i < p->conns; i++)
		conn_init(&g.conns[i], i);
	if (rec_writer_open(&g.w, p->path, realtime_offset(), &g.cause) == 0) {
		char *close_cause = NULL;

		err = generate(&g);
		if (rec_writer_close(g.w, &close_cause) && !err) {
			err = -1;
			g.cause = close_cause;
			close_cause = NULL;
		}
		free(close_cause);
	}
	if (err)
		fprintf(stderr, "gen_trace: %s\n", g.cause ? g.cause : "out of memory");
	else
		printf("%s: %llu messages (%llu calls) in %.1f s at %.0f msg/s, %u connections\n",
		       p->path, (unsigned long long)g.messages,
		       (unsigned long long)g.messages / 2, p->seconds, p->rate, p->conns);
	free(g.cause);
	gen_free(&g);
	return err ? 1 : 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: gen_trace [--rate MSG_PER_S] [--seconds S] [--conns N] [--body BYTES] "
		"[--seed N] FILE\n"
		"  defaults: 50000 msg/s, 10 s, 32 connections, 0 extra body bytes\n");
	return 2;
}

static int parse(int argc, char **argv, struct params *p)
{
	static const struct option opts[] = {
		{ "rate", required_argument, NULL, 'r' }, { "seconds", required_argument, NULL, 's' },
		{ "conns", required_argument, NULL, 'c' }, { "body", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 'S' }, { NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "r:s:c:b:S:", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			p->rate = strtod(optarg, NULL);
			break;
		case 's':
			p->seconds = strtod(optarg, NULL);
			break;
		case 'c':
			p->conns = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			p->body = strtoul(optarg, NULL, 10);
			break;
		case 'S':
			p->seed = strtoull(optarg, NULL, 10);
			break;
		default:
			return -1;
		}
	}
	if (optind != argc - 1 || !(p->rate >= 0.01 && p->rate <= 1e7) ||
	    !(p->seconds > 0 && p->seconds <= 3600) || p->conns < 1 || p->conns > 4096 ||
	    p->body > BODY_MAX)
		return -1;
	p->path = argv[optind];
	return 0;
}

int main(int argc, char **argv)
{
	struct params p = { .rate = 50000, .seconds = 10, .conns = 32, .seed = 42 };

	if (parse(argc, argv, &p))
		return usage();
	return run(&p);
}
