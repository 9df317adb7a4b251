/* demo_h2.c - the --demo workload's HTTP/2 and gRPC client and server. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <openssl/ssl.h>
#include <zlib.h>

#include "demo_h2.h"
#include "proto/hpack.h"
#include "proto/http2.h"

#define H2_FRAME_MAX 16384 /* SETTINGS_MAX_FRAME_SIZE: neither side raises it */
#define H2_IO_TIMEOUT_S 5 /* a read or write blocked this long fails the connection */
#define H2_PING_MS 5000 /* the client's keep-alive */
#define H2_IDLE_MS 10000 /* silence from a peer that is pinged every H2_PING_MS */
#define H2_WINDOW (1 << 20) /* what either side may be sent, per stream and connection */
#define H2_WINDOW_STEP 4096 /* bytes consumed before the connection window is topped up */
#define H2_STREAMS 32 /* concurrent streams either side keeps */
#define H2_LIFE_MS 60000 /* then the client drains its streams and reconnects */
#define H2_DRAIN_MS 5000
#define H2_STUCK_MS 15000 /* a call unanswered this long means the server lost it */
#define H2_WATCH_EVENTS 4
#define H2_WATCH_GAP_MS 500

#define E_NO_ERROR 0x0
#define E_REFUSED_STREAM 0x7
#define E_CANCEL 0x8

#define S_HEADER_TABLE_SIZE 0x1
#define S_ENABLE_PUSH 0x2
#define S_MAX_CONCURRENT_STREAMS 0x3
#define S_INITIAL_WINDOW_SIZE 0x4

#define GRPC_OK 0
#define GRPC_INTERNAL 13
#define GRPC_UNIMPLEMENTED 12
#define GRPC_UNAVAILABLE 14

#define DEMO_TOKEN "Bearer demo-token-7c2f9a41"

struct frame {
	uint8_t type, flags;
	uint32_t id, len;
	const uint8_t *p;
};

/* One end of a connection. Errors are sticky in done, which each loop turn
 * checks, so that writers need not. */
struct h2c {
	SSL *ssl;
	int fd;
	bool ex; /* the SSL_read_ex family, so that both uprobe families see data */
	bool want_preface; /* the server, until the client's preface is read */
	bool done; /* failed, or the peer left */
	struct hpack_encoder enc;
	int64_t last_rx;
	uint32_t consumed; /* DATA bytes since the last connection WINDOW_UPDATE */
	size_t in_off, in_len, out_len;
	uint8_t in[2 * (9 + H2_FRAME_MAX)]; /* room for a whole frame behind a partial one */
	uint8_t out[9 + H2_FRAME_MAX];
};

struct hdr {
	const char *name, *value;
	enum hpack_how how;
};

/* a JSON or protobuf body; the demo's are far smaller, and one that did not
 * fit would be cut short rather than overrun */
struct body {
	uint8_t p[256];
	size_t len;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void h2c_init(struct h2c *c, SSL *ssl, bool server)
{
	struct timeval tv = { .tv_sec = H2_IO_TIMEOUT_S };

	c->ssl = ssl;
	c->fd = SSL_get_fd(ssl);
	c->ex = server;
	c->want_preface = server;
	c->last_rx = now_ms();
	/* the client Huffman-codes its literals and the server does not, so
	 * that decoders see both */
	hpack_encoder_init(&c->enc, !server);
	/* reads follow poll(): without auto-retry a record that carries no
	 * data (a session ticket) returns WANT_READ rather than blocking */
	SSL_clear_mode(ssl, SSL_MODE_AUTO_RETRY);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void h2c_flush(struct h2c *c)
{
	size_t done = 0;
	int r;

	if (c->out_len && !c->done) {
		/* blocking and without partial writes: all or nothing, and a
		 * timeout (WANT_WRITE) is as fatal as any error */
		r = c->ex ? SSL_write_ex(c->ssl, c->out, c->out_len, &done)
			  : SSL_write(c->ssl, c->out, (int)c->out_len);
		c->done = r <= 0;
	}
	c->out_len = 0;
}

/* Appends a frame header; returns where its len (<= H2_FRAME_MAX) payload
 * bytes go. Frames gather until the loop's next flush, as real stacks
 * coalesce them into TLS records. */
static uint8_t *h2c_put(struct h2c *c, uint8_t type, uint8_t flags, uint32_t id, size_t len)
{
	uint8_t *p;

	if (c->out_len + 9 + len > sizeof(c->out))
		h2c_flush(c);
	p = c->out + c->out_len;
	h2_frame_header(p, len, type, flags, id);
	c->out_len += H2_HDR_LEN + len;
	return p + H2_HDR_LEN;
}

static void h2c_u32(struct h2c *c, uint8_t type, uint32_t id, uint32_t v)
{
	put32(h2c_put(c, type, 0, id, 4), v);
}

static void h2c_data(struct h2c *c, uint32_t id, uint8_t flags, const struct body *b)
{
	memcpy(h2c_put(c, H2_DATA, flags, id, b->len), b->p, b->len);
}

static void h2c_headers(struct h2c *c, uint32_t id, uint8_t flags, const struct hdr *h, size_t n)
{
	uint8_t block[1024];
	size_t len = 0, k, i;

	for (i = 0; i < n; i++) {
		k = hpack_encode_field(&c->enc, h[i].name, h[i].value, h[i].how, block + len,
				       sizeof(block) - len);
		if (!k) {
			c->done = true; /* the encoder's table went ahead of what is sent */
			return;
		}
		len += k;
	}
	memcpy(h2c_put(c, H2_HEADERS, flags | H2_END_HEADERS, id, len), block, len);
}

/* The preface (client), SETTINGS, and the connection window raised to
 * H2_WINDOW like the streams' (its initial size is not a setting). */
static void h2c_open(struct h2c *c, bool client)
{
	const uint32_t settings[2][2] = {
		{ client ? S_ENABLE_PUSH : S_MAX_CONCURRENT_STREAMS, client ? 0 : H2_STREAMS },
		{ S_INITIAL_WINDOW_SIZE, H2_WINDOW },
	};
	uint8_t *p;
	size_t i;

	if (client) {
		memcpy(c->out, H2_PREFACE, H2_PREFACE_LEN);
		c->out_len = H2_PREFACE_LEN;
	}
	p = h2c_put(c, H2_SETTINGS, 0, 0, sizeof(settings) / sizeof(settings[0]) * 6);
	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++, p += 6) {
		p[0] = settings[i][0] >> 8;
		p[1] = settings[i][0];
		put32(p + 2, settings[i][1]);
	}
	h2c_u32(c, H2_WINDOW_UPDATE, 0, H2_WINDOW - 65535);
}

/* Waits up to ms for input and reads what there is. */
static void h2c_read(struct h2c *c, int64_t ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	size_t n = 0;
	int r;

	if (c->done || (!SSL_has_pending(c->ssl) && poll(&pfd, 1, (int)ms) <= 0))
		return;
	if (c->in_off) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (c->ex) {
		r = SSL_read_ex(c->ssl, c->in + c->in_len, sizeof(c->in) - c->in_len, &n);
	} else {
		r = SSL_read(c->ssl, c->in + c->in_len, (int)(sizeof(c->in) - c->in_len));
		n = r > 0 ? (size_t)r : 0;
	}
	if (r > 0) {
		c->in_len += n;
		c->last_rx = now_ms();
		return;
	}
	r = SSL_get_error(c->ssl, r);
	c->done = r != SSL_ERROR_WANT_READ && r != SSL_ERROR_WANT_WRITE;
}

/* One loop turn's I/O: what was written goes out, then up to wait_ms for
 * what comes in. */
static void h2c_turn(struct h2c *c, int64_t wait_ms)
{
	h2c_flush(c);
	h2c_read(c, wait_ms < 0 ? 0 : wait_ms);
	if (now_ms() - c->last_rx > H2_IDLE_MS)
		c->done = true;
}

/* The next whole frame in the input, if there is one. */
static bool h2c_frame(struct h2c *c, struct frame *f)
{
	const uint8_t *p = c->in + c->in_off;
	size_t have = c->in_len - c->in_off;

	if (c->want_preface) {
		if (have < H2_PREFACE_LEN)
			return false;
		c->done = memcmp(p, H2_PREFACE, H2_PREFACE_LEN) != 0;
		c->want_preface = false;
		c->in_off += H2_PREFACE_LEN;
		p += H2_PREFACE_LEN;
		have -= H2_PREFACE_LEN;
	}
	if (c->done || have < 9)
		return false;
	f->len = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
	if (f->len > H2_FRAME_MAX) {
		c->done = true;
		return false;
	}
	if (have < 9 + f->len)
		return false;
	f->type = p[3];
	f->flags = p[4];
	f->id = get32(p + 5) & 0x7fffffff;
	f->p = p + 9;
	c->in_off += 9 + f->len;
	return true;
}

static void h2c_settings(struct h2c *c, const struct frame *f)
{
	uint32_t i, v;

	if (f->flags & H2_ACK)
		return;
	if (f->len % 6) {
		c->done = true;
		return;
	}
	for (i = 0; i < f->len; i += 6) {
		v = get32(f->p + i + 2);
		if (((unsigned int)f->p[i] << 8 | f->p[i + 1]) == S_HEADER_TABLE_SIZE &&
		    v < HPACK_DEFAULT_TABLE)
			hpack_encoder_set_max(&c->enc, v);
	}
	h2c_put(c, H2_SETTINGS, H2_ACK, 0, 0);
}

/* Stream windows start at H2_WINDOW, more than any demo stream carries, so
 * only the connection's needs topping up. */
static void h2c_consume(struct h2c *c, uint32_t n)
{
	c->consumed += n;
	if (c->consumed >= H2_WINDOW_STEP) {
		h2c_u32(c, H2_WINDOW_UPDATE, 0, c->consumed);
		c->consumed = 0;
	}
}

/* Strips the padding and priority fields of a HEADERS frame. */
static bool headers_block(struct frame *f)
{
	uint32_t pad = 0;

	if (f->flags & H2_PADDED) {
		if (!f->len)
			return false;
		pad = f->p[0];
		f->p++;
		f->len--;
	}
	if (f->flags & H2_PRIO) {
		if (f->len < 5)
			return false;
		f->p += 5;
		f->len -= 5;
	}
	if (pad > f->len)
		return false;
	f->len -= pad;
	return true;
}

/* The next DATA, HEADERS, RST_STREAM or GOAWAY frame; the connection's own
 * frames are answered on the way. */
static bool h2c_next(struct h2c *c, struct frame *f)
{
	while (h2c_frame(c, f)) {
		switch (f->type) {
		case H2_SETTINGS:
			h2c_settings(c, f);
			break;
		case H2_PING:
			if (f->len != 8)
				c->done = true;
			else if (!(f->flags & H2_ACK))
				memcpy(h2c_put(c, H2_PING, H2_ACK, 0, 8), f->p, 8);
			break;
		case H2_DATA:
			h2c_consume(c, f->len);
			/* fall through */
		case H2_HEADERS:
		case H2_RST_STREAM:
			/* header blocks of this demo fit one frame: no CONTINUATION */
			if (f->id && (f->type != H2_HEADERS ||
				      ((f->flags & H2_END_HEADERS) && headers_block(f))))
				return true;
			c->done = true;
			break;
		case H2_GOAWAY:
			return true;
		case H2_PUSH_PROMISE: /* disabled by the client */
		case H2_CONTINUATION:
			c->done = true;
			break;
		default: /* PRIORITY, WINDOW_UPDATE (windows never run low), extensions */
			break;
		}
	}
	return false;
}

static void h2c_free(struct h2c *c)
{
	hpack_encoder_free(&c->enc);
}

/* bodies: JSON, and protobuf encoded by hand */

static void body_raw(struct body *b, const void *p, size_t n)
{
	if (n > sizeof(b->p) - b->len)
		n = sizeof(b->p) - b->len;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* b becomes the formatted text */
static void body_printf(struct body *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void body_printf(struct body *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf((char *)b->p, sizeof(b->p), fmt, ap);
	va_end(ap);
	/* cut short, it ends before the NUL that vsnprintf() wrote */
	b->len = n < 0 ? 0 : (size_t)n < sizeof(b->p) ? (size_t)n : sizeof(b->p) - 1;
}

static void pb_varint(struct body *b, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;

	do {
		t[n++] = (uint8_t)(v & 0x7f) | (v > 0x7f ? 0x80 : 0);
		v >>= 7;
	} while (v);
	body_raw(b, t, n);
}

static void pb_uint(struct body *b, unsigned int field, uint64_t v)
{
	pb_varint(b, field << 3);
	pb_varint(b, v);
}

static void pb_bytes(struct body *b, unsigned int field, const void *p, size_t n)
{
	pb_varint(b, field << 3 | 2);
	pb_varint(b, n);
	body_raw(b, p, n);
}

static void pb_str(struct body *b, unsigned int field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}

static void pb_double(struct body *b, unsigned int field, double d)
{
	uint8_t le[8];
	uint64_t u;
	int i;

	memcpy(&u, &d, sizeof(u));
	for (i = 0; i < 8; i++)
		le[i] = (uint8_t)(u >> (8 * i));
	pb_varint(b, field << 3 | 1);
	body_raw(b, le, sizeof(le));
}

/* Money { 1: currency, 2: cents } as a nested message */
static void pb_money(struct body *b, unsigned int field, uint64_t cents)
{
	struct body m = { .len = 0 };

	pb_str(&m, 1, "EUR");
	pb_uint(&m, 2, cents);
	pb_bytes(b, field, m.p, m.len);
}

static void order_id(char *out, size_t size, unsigned int seq)
{
	snprintf(out, size, "ord-%u", 77 + seq % 5);
}

static uint64_t order_cents(unsigned int seq)
{
	return 1999 + seq % 5 * 250;
}

static void json_new_order(struct body *b, unsigned int seq)
{
	body_printf(b, "{\"items\":[{\"sku\":\"coffee-beans-1kg\",\"quantity\":%u}],"
		       "\"currency\":\"EUR\"}",
		    1 + seq % 3);
}

static void pb_get_order(struct body *b, unsigned int seq)
{
	char id[16];

	order_id(id, sizeof(id), seq);
	pb_str(b, 1, id);
}

static void pb_order(struct body *b, unsigned int seq)
{
	char id[16];

	order_id(id, sizeof(id), seq);
	pb_str(b, 1, id);
	pb_uint(b, 2, order_cents(seq));
	pb_money(b, 3, order_cents(seq));
	pb_str(b, 4, "coffee-beans-1kg");
	pb_str(b, 4, "paper-filters-100");
	pb_uint(b, 5, 2); /* SHIPPED */
	pb_double(b, 6, 1.25); /* weight in kg */
}

static void pb_charge(struct body *b, unsigned int seq)
{
	char id[16], key[24];

	order_id(id, sizeof(id), seq);
	snprintf(key, sizeof(key), "idem-%08x", seq * 2654435761u);
	pb_str(b, 1, id);
	pb_money(b, 2, order_cents(seq));
	pb_str(b, 3, "tok_visa_4242");
	pb_str(b, 4, key);
}

static void pb_charged(struct body *b, unsigned int seq)
{
	char id[16];

	snprintf(id, sizeof(id), "ch_%06u", seq);
	pb_str(b, 1, id);
	pb_uint(b, 2, 1); /* CAPTURED */
	pb_money(b, 3, order_cents(seq));
}

static void pb_watch(struct body *b, unsigned int seq)
{
	pb_str(b, 1, "customer-42");
	pb_uint(b, 2, H2_WATCH_EVENTS);
}

/* OrderEvent { 1: order, 2: seq, 3: state, 4: google.protobuf.Timestamp } */
static void pb_order_event(struct body *b, unsigned int step)
{
	static const char *const states[H2_WATCH_EVENTS] = { "paid", "packed", "shipped",
							     "delivered" };
	struct body ts = { .len = 0 };
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	pb_uint(&ts, 1, (uint64_t)now.tv_sec);
	pb_uint(&ts, 2, (uint64_t)now.tv_nsec);
	pb_str(b, 1, "ord-77");
	pb_uint(b, 2, step + 1);
	pb_str(b, 3, states[step % H2_WATCH_EVENTS]);
	pb_bytes(b, 4, ts.p, ts.len);
}

static void pb_refund(struct body *b, unsigned int seq)
{
	char id[16];

	order_id(id, sizeof(id), seq);
	pb_str(b, 1, id);
	pb_str(b, 2, "damaged in transit");
}

static void pb_report(struct body *b, unsigned int seq)
{
	pb_str(b, 1, "monthly-sales");
	pb_uint(b, 2, 2024);
	pb_uint(b, 3, 1 + seq % 12);
}

static void pb_report_ready(struct body *b, unsigned int seq)
{
	pb_str(b, 1, "reports/monthly-sales.csv");
	pb_uint(b, 2, 1234);
}

/* gzip, as grpc-encoding names it; 0 when zlib fails or out is too small. */
static size_t gzip(const struct body *in, uint8_t *out, size_t cap)
{
	z_stream z = { .next_in = (Bytef *)in->p, .avail_in = (uInt)in->len };
	size_t n = 0;

	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return 0;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) == Z_STREAM_END)
		n = z.total_out;
	deflateEnd(&z);
	return n;
}

/* One length-prefixed gRPC message in a DATA frame. */
static void grpc_send(struct h2c *c, uint32_t id, uint8_t flags, const struct body *m, bool gz)
{
	uint8_t z[sizeof(m->p) + 64], *d;
	const uint8_t *p = m->p;
	size_t n = m->len;

	/* the message flag may say uncompressed under any grpc-encoding */
	if (gz && (n = gzip(m, z, sizeof(z)))) {
		p = z;
	} else {
		gz = false;
		n = m->len;
	}
	d = h2c_put(c, H2_DATA, flags, id, 5 + n);
	d[0] = gz;
	put32(d + 1, (uint32_t)n);
	memcpy(d + 5, p, n);
}

/* server */

enum route { R_USER, R_ORDERS, R_MISSING, G_GET_ORDER, G_CHARGE, G_WATCH, G_REPORT, G_UNKNOWN };

struct route_def {
	const char *path;
	bool grpc;
	enum route route;
	int delay_ms; /* from the request's end to the answer */
};

static const struct route_def route_defs[] = {
	{ "/api/v1/users/42", false, R_USER, 0 },
	{ "/api/v1/orders", false, R_ORDERS, 0 },
	{ "/demo.Shop/GetOrder", true, G_GET_ORDER, 0 },
	{ "/demo.Shop/Charge", true, G_CHARGE, 60 },
	{ "/demo.Shop/WatchOrders", true, G_WATCH, 0 },
	{ "/demo.Shop/Report", true, G_REPORT, 3000 },
};

static const struct route_def route_missing = { NULL, false, R_MISSING, 0 };
static const struct route_def route_unknown = { NULL, true, G_UNKNOWN, 0 };

/* what the server takes from a request's header block */
struct req_head {
	char path[64];
	char rid[40]; /* x-request-id, echoed */
	bool grpc, gzip;
};

struct sstream {
	uint32_t id; /* 0: a free slot */
	const struct route_def *def;
	struct req_head head;
	bool ready; /* the request ended: answer at due */
	unsigned int step; /* messages a streaming answer has sent */
	int64_t due;
	uint32_t got; /* request body bytes */
};

struct server {
	struct h2c c;
	struct hpack_decoder dec;
	struct sstream s[H2_STREAMS];
	unsigned int orders, charges, gets;
};

static void on_field(void *arg, const char *name, size_t nlen, const char *value, size_t vlen,
		     unsigned int flags)
{
	struct req_head *h = arg;

	if (!name || !value)
		return;
	if (!strcmp(name, ":path") && vlen < sizeof(h->path))
		memcpy(h->path, value, vlen + 1);
	else if (!strcmp(name, "x-request-id") && vlen < sizeof(h->rid))
		memcpy(h->rid, value, vlen + 1);
	else if (!strcmp(name, "content-type"))
		h->grpc = !strncmp(value, "application/grpc", 16);
	else if (!strcmp(name, "grpc-encoding"))
		h->gzip = !strcmp(value, "gzip");
}

static const struct route_def *route_of(const struct req_head *h)
{
	size_t i;

	for (i = 0; i < sizeof(route_defs) / sizeof(route_defs[0]); i++)
		if (route_defs[i].grpc == h->grpc && !strcmp(route_defs[i].path, h->path))
			return &route_defs[i];
	return h->grpc ? &route_unknown : &route_missing;
}

/* id 0 finds a free slot */
static struct sstream *server_stream(struct server *sv, uint32_t id)
{
	size_t i;

	for (i = 0; i < H2_STREAMS; i++)
		if (sv->s[i].id == id)
			return &sv->s[i];
	return NULL;
}

static void request_end(struct sstream *s, int64_t now)
{
	s->ready = true;
	s->due = now + s->def->delay_ms;
}

static void server_headers(struct server *sv, const struct frame *f, int64_t now)
{
	struct req_head h = { .grpc = false };
	struct sstream *s;

	/* every block is decoded, refused streams' too: the table depends on it */
	if (hpack_decode_block(&sv->dec, f->p, f->len, on_field, &h)) {
		sv->c.done = true;
		return;
	}
	s = server_stream(sv, f->id);
	if (!s) {
		s = server_stream(sv, 0);
		if (!s) {
			h2c_u32(&sv->c, H2_RST_STREAM, f->id, E_REFUSED_STREAM);
			return;
		}
		memset(s, 0, sizeof(*s));
		s->id = f->id;
		s->head = h;
		s->def = route_of(&h);
	}
	if (f->flags & H2_END_STREAM)
		request_end(s, now);
}

static void server_frame(struct server *sv, const struct frame *f, int64_t now)
{
	struct sstream *s = f->type == H2_HEADERS ? NULL : server_stream(sv, f->id);

	switch (f->type) {
	case H2_HEADERS:
		server_headers(sv, f, now);
		break;
	case H2_DATA:
		if (s && !s->ready) {
			s->got += f->len;
			if (f->flags & H2_END_STREAM)
				request_end(s, now);
		}
		break;
	case H2_RST_STREAM:
		if (s)
			s->id = 0;
		break;
	case H2_GOAWAY:
		sv->c.done = true;
		break;
	}
}

static void reply_json(struct server *sv, struct sstream *s, const char *status,
		       const char *location, const struct body *b)
{
	char len[16];
	struct hdr h[6] = {
		{ ":status", status, HPACK_INCREMENTAL },
		{ "content-type", "application/json", HPACK_INCREMENTAL },
		{ "content-length", len, HPACK_WITHOUT },
		{ "server", "tlstop-demo", HPACK_INCREMENTAL },
	};
	size_t n = 4;

	snprintf(len, sizeof(len), "%zu", b->len);
	if (s->head.rid[0])
		h[n++] = (struct hdr){ "x-request-id", s->head.rid, HPACK_INCREMENTAL };
	if (location)
		h[n++] = (struct hdr){ "location", location, HPACK_WITHOUT };
	h2c_headers(&sv->c, s->id, 0, h, n);
	h2c_data(&sv->c, s->id, H2_END_STREAM, b);
	s->id = 0;
}

static void grpc_head(struct server *sv, const struct sstream *s)
{
	struct hdr h[3] = {
		{ ":status", "200", HPACK_INCREMENTAL },
		{ "content-type", "application/grpc", HPACK_INCREMENTAL },
		{ "grpc-encoding", "gzip", HPACK_INCREMENTAL },
	};

	h2c_headers(&sv->c, s->id, 0, h, s->head.gzip ? 3 : 2);
}

/* Trailers, or a trailers-only answer: the status without any message. */
static void grpc_end(struct server *sv, struct sstream *s, int code, const char *why,
		     bool trailers_only)
{
	char status[12];
	struct hdr h[4];
	size_t n = 0;

	if (trailers_only) {
		h[n++] = (struct hdr){ ":status", "200", HPACK_INCREMENTAL };
		h[n++] = (struct hdr){ "content-type", "application/grpc", HPACK_INCREMENTAL };
	}
	snprintf(status, sizeof(status), "%d", code);
	h[n++] = (struct hdr){ "grpc-status", status, HPACK_INCREMENTAL };
	if (why)
		h[n++] = (struct hdr){ "grpc-message", why, HPACK_INCREMENTAL };
	h2c_headers(&sv->c, s->id, H2_END_STREAM, h, n);
	s->id = 0;
}

static void grpc_unary(struct server *sv, struct sstream *s,
		       void (*build)(struct body *b, unsigned int seq), unsigned int seq)
{
	struct body b = { .len = 0 };

	build(&b, seq);
	grpc_head(sv, s);
	grpc_send(&sv->c, s->id, 0, &b, s->head.gzip);
	grpc_end(sv, s, GRPC_OK, NULL, false);
}

/* Every sixth charge is refused and every sixth fails, at fixed places, so
 * that a short run sees both. */
static void serve_charge(struct server *sv, struct sstream *s)
{
	unsigned int n = sv->charges++;

	if (n % 6 == 2) {
		grpc_head(sv, s);
		grpc_end(sv, s, GRPC_UNAVAILABLE, "payment backend unavailable: connection refused",
			 false);
	} else if (n % 6 == 5) {
		grpc_head(sv, s);
		grpc_end(sv, s, GRPC_INTERNAL, "card processor returned an unexpected response",
			 false);
	} else {
		grpc_unary(sv, s, pb_charged, n);
	}
}

static void serve_watch(struct server *sv, struct sstream *s)
{
	struct body b = { .len = 0 };

	if (s->step == H2_WATCH_EVENTS) {
		grpc_end(sv, s, GRPC_OK, NULL, false);
		return;
	}
	if (!s->step)
		grpc_head(sv, s);
	pb_order_event(&b, s->step++);
	grpc_send(&sv->c, s->id, 0, &b, s->head.gzip);
	s->due += H2_WATCH_GAP_MS;
}

static void serve(struct server *sv, struct sstream *s)
{
	char text[96]; /* a location or a grpc-message */
	struct body b = { .len = 0 };
	unsigned int id;

	switch (s->def->route) {
	case R_USER:
		body_printf(&b, "{\"id\":42,\"name\":\"Ada Lovelace\","
				"\"email\":\"ada@example.com\",\"plan\":\"pro\","
				"\"protocol\":\"h2\"}");
		reply_json(sv, s, "200", NULL, &b);
		break;
	case R_ORDERS:
		id = 5001 + sv->orders++;
		snprintf(text, sizeof(text), "/api/v1/orders/%u", id);
		body_printf(&b, "{\"id\":%u,\"status\":\"created\",\"received_bytes\":%" PRIu32 "}",
			    id, s->got);
		reply_json(sv, s, "201", text, &b);
		break;
	case R_MISSING:
		body_printf(&b, "{\"error\":\"not found\"}");
		reply_json(sv, s, "404", NULL, &b);
		break;
	case G_GET_ORDER:
		grpc_unary(sv, s, pb_order, sv->gets++);
		break;
	case G_CHARGE:
		serve_charge(sv, s);
		break;
	case G_WATCH:
		serve_watch(sv, s);
		break;
	case G_REPORT:
		grpc_unary(sv, s, pb_report_ready, 0);
		break;
	case G_UNKNOWN:
		snprintf(text, sizeof(text), "unknown method %s", s->head.path);
		grpc_end(sv, s, GRPC_UNIMPLEMENTED, text, true);
		break;
	}
}

/* Answers what is due; returns ms until the next answer is. */
static int64_t server_tick(struct server *sv, int64_t now)
{
	int64_t wait = H2_PING_MS;
	size_t i;

	for (i = 0; i < H2_STREAMS; i++) {
		struct sstream *s = &sv->s[i];

		if (!s->id || !s->ready)
			continue;
		if (now >= s->due)
			serve(sv, s);
		if (s->id && s->due - now < wait)
			wait = s->due - now;
	}
	return wait;
}

void demo_h2_serve(SSL *ssl)
{
	struct server *sv = calloc(1, sizeof(*sv));
	struct frame f;
	int64_t wait = 0, now;

	if (!sv)
		return;
	h2c_init(&sv->c, ssl, true);
	hpack_decoder_init(&sv->dec, false);
	h2c_open(&sv->c, false);
	while (!sv->c.done) {
		h2c_turn(&sv->c, wait);
		now = now_ms();
		while (h2c_next(&sv->c, &f))
			server_frame(sv, &f, now);
		wait = server_tick(sv, now);
	}
	hpack_decoder_free(&sv->dec);
	h2c_free(&sv->c);
	free(sv);
}

/* client */

struct h2_call {
	const char *method, *path;
	int period_ms, phase_ms;
	int cancel_ms; /* the client gives up (RST_STREAM CANCEL) after this; 0: never */
	bool grpc;
	bool gzip_alt; /* every other call gzip-compressed */
	void (*body)(struct body *b, unsigned int seq); /* NULL: none */
};

static const struct h2_call calls[] = {
	{ "GET", "/api/v1/users/42", 500, 0, 0, false, false, NULL },
	{ "GET", "/api/v1/missing", 1000, 250, 0, false, false, NULL },
	{ "POST", "/api/v1/orders", 1000, 750, 0, false, false, json_new_order },
	{ "POST", "/demo.Shop/GetOrder", 500, 0, 0, true, true, pb_get_order },
	{ "POST", "/demo.Shop/Charge", 500, 250, 0, true, false, pb_charge },
	{ "POST", "/demo.Shop/WatchOrders", 3000, 100, 0, true, false, pb_watch },
	{ "POST", "/demo.Shop/Refund", 2000, 600, 0, true, false, pb_refund },
	{ "POST", "/demo.Shop/Report", 5000, 1500, 1000, true, false, pb_report },
};

#define NCALLS (sizeof(calls) / sizeof(calls[0]))

struct cstream {
	uint32_t id; /* 0: a free slot */
	int64_t start, cancel_at;
};

struct client {
	struct h2c c;
	struct cstream s[H2_STREAMS];
	int64_t next[NCALLS];
	unsigned int seq[NCALLS];
	uint32_t next_id;
	uint64_t requests, pings;
	int64_t born, next_ping;
	char authority[32];
};

static struct cstream *client_stream(struct client *cl, uint32_t id)
{
	size_t i;

	for (i = 0; i < H2_STREAMS; i++)
		if (cl->s[i].id == id)
			return &cl->s[i];
	return NULL;
}

/* an x-request-id that looks random: it churns the HPACK tables, evicting */
static void request_id(struct client *cl, char *out, size_t size)
{
	uint64_t z = (uint64_t)cl->born * 1000003u + ++cl->requests;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL; /* splitmix64's finaliser */
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	snprintf(out, size, "%016" PRIx64, z ^ (z >> 31));
}

static void request_headers(struct client *cl, const struct h2_call *call, uint32_t id,
			    bool end, bool gz)
{
	char rid[24], timeout[16];
	struct hdr h[12] = {
		{ ":method", call->method, HPACK_INCREMENTAL },
		{ ":scheme", "https", HPACK_INCREMENTAL },
		{ ":path", call->path, HPACK_INCREMENTAL },
		{ ":authority", cl->authority, HPACK_INCREMENTAL },
	};
	size_t n = 4;

	if (!call->grpc) {
		request_id(cl, rid, sizeof(rid));
		h[n++] = (struct hdr){ "user-agent", "tlstop-demo/1.0", HPACK_INCREMENTAL };
		h[n++] = (struct hdr){ "accept", "application/json", HPACK_INCREMENTAL };
		if (call->body)
			h[n++] = (struct hdr){ "content-type", "application/json",
					       HPACK_INCREMENTAL };
		h[n++] = (struct hdr){ "x-request-id", rid, HPACK_INCREMENTAL };
		/* indexed here and never-indexed on gRPC calls: masking must catch both */
		h[n++] = (struct hdr){ "authorization", DEMO_TOKEN, HPACK_INCREMENTAL };
		h2c_headers(&cl->c, id, end ? H2_END_STREAM : 0, h, n);
		return;
	}
	h[n++] = (struct hdr){ "content-type", "application/grpc", HPACK_INCREMENTAL };
	h[n++] = (struct hdr){ "te", "trailers", HPACK_INCREMENTAL };
	h[n++] = (struct hdr){ "user-agent", "grpc-c/1.0 (tlstop-demo)", HPACK_INCREMENTAL };
	h[n++] = (struct hdr){ "grpc-accept-encoding", "identity,gzip", HPACK_INCREMENTAL };
	if (gz)
		h[n++] = (struct hdr){ "grpc-encoding", "gzip", HPACK_INCREMENTAL };
	if (call->cancel_ms) {
		snprintf(timeout, sizeof(timeout), "%dm", call->cancel_ms);
		h[n++] = (struct hdr){ "grpc-timeout", timeout, HPACK_WITHOUT };
	}
	h[n++] = (struct hdr){ "authorization", DEMO_TOKEN, HPACK_NEVER };
	h2c_headers(&cl->c, id, end ? H2_END_STREAM : 0, h, n);
}

static void client_authority(struct client *cl)
{
	struct sockaddr_in sa = { .sin_family = AF_UNSPEC };
	socklen_t len = sizeof(sa);
	char ip[INET_ADDRSTRLEN] = "";

	if (getpeername(cl->c.fd, (struct sockaddr *)&sa, &len) || sa.sin_family != AF_INET ||
	    !inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip)))
		snprintf(cl->authority, sizeof(cl->authority), "localhost");
	else
		snprintf(cl->authority, sizeof(cl->authority), "%s:%u", ip,
			 (unsigned int)ntohs(sa.sin_port));
}

static void client_call(struct client *cl, const struct h2_call *call, unsigned int seq,
			int64_t now)
{
	struct cstream *s = client_stream(cl, 0);
	struct body b = { .len = 0 };
	bool gz = call->gzip_alt && seq % 2;

	if (!s)
		return; /* as many calls in flight as streams: skip this one */
	s->id = cl->next_id;
	cl->next_id += 2;
	s->start = now;
	s->cancel_at = call->cancel_ms ? now + call->cancel_ms : 0;
	request_headers(cl, call, s->id, !call->body, gz);
	if (!call->body)
		return;
	call->body(&b, seq);
	if (call->grpc)
		grpc_send(&cl->c, s->id, H2_END_STREAM, &b, gz);
	else
		h2c_data(&cl->c, s->id, H2_END_STREAM, &b);
}

static void client_frame(struct client *cl, const struct frame *f)
{
	struct cstream *s = client_stream(cl, f->id);

	if (f->type == H2_GOAWAY)
		cl->c.done = true;
	else if (s && (f->type == H2_RST_STREAM || (f->flags & H2_END_STREAM)))
		s->id = 0;
}

/* Cancels the calls past their deadline; returns how many are open. */
static unsigned int client_streams(struct client *cl, int64_t now, int64_t *wake)
{
	unsigned int open = 0;
	size_t i;

	for (i = 0; i < H2_STREAMS; i++) {
		struct cstream *s = &cl->s[i];

		if (!s->id)
			continue;
		if (now - s->start > H2_STUCK_MS)
			cl->c.done = true;
		if (s->cancel_at && now >= s->cancel_at) {
			h2c_u32(&cl->c, H2_RST_STREAM, s->id, E_CANCEL);
			s->id = 0;
			continue;
		}
		if (s->cancel_at && s->cancel_at < *wake)
			*wake = s->cancel_at;
		open++;
	}
	return open;
}

/* Starts the calls that are due, pings, and after H2_LIFE_MS lets the open
 * calls finish and leaves; returns ms until there is more to do. */
static int64_t client_tick(struct client *cl, int64_t now)
{
	bool draining = now - cl->born >= H2_LIFE_MS;
	int64_t wake = now + H2_PING_MS;
	uint8_t *p;
	size_t i;

	for (i = 0; i < NCALLS && !draining; i++) {
		if (now >= cl->next[i]) {
			client_call(cl, &calls[i], cl->seq[i]++, now);
			cl->next[i] += calls[i].period_ms;
			if (cl->next[i] <= now) /* fell behind: skip rather than burst */
				cl->next[i] = now + calls[i].period_ms;
		}
		if (cl->next[i] < wake)
			wake = cl->next[i];
	}
	if (now >= cl->next_ping) {
		p = h2c_put(&cl->c, H2_PING, 0, 0, 8);
		put32(p, (uint32_t)(++cl->pings >> 32));
		put32(p + 4, (uint32_t)cl->pings);
		cl->next_ping = now + H2_PING_MS;
	}
	if (cl->next_ping < wake)
		wake = cl->next_ping;
	if (!client_streams(cl, now, &wake) && draining) {
		/* no server-initiated stream was processed: last stream id 0 */
		p = h2c_put(&cl->c, H2_GOAWAY, 0, 0, 8);
		put32(p, 0);
		put32(p + 4, E_NO_ERROR);
		h2c_flush(&cl->c);
		cl->c.done = true;
	} else if (draining && now - cl->born >= H2_LIFE_MS + H2_DRAIN_MS) {
		cl->c.done = true;
	}
	return wake - now;
}

void demo_h2_client(SSL *ssl)
{
	const unsigned char *alpn = NULL;
	struct client *cl;
	struct frame f;
	int64_t wait = 0, now = now_ms();
	unsigned int alen = 0;
	size_t i;

	SSL_get0_alpn_selected(ssl, &alpn, &alen);
	if (alen != 2 || memcmp(alpn, "h2", 2))
		return;
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return;
	h2c_init(&cl->c, ssl, false);
	cl->next_id = 1;
	cl->born = now;
	cl->next_ping = now + H2_PING_MS;
	for (i = 0; i < NCALLS; i++)
		cl->next[i] = now + calls[i].phase_ms;
	client_authority(cl);
	h2c_open(&cl->c, true);
	while (!cl->c.done) {
		h2c_turn(&cl->c, wait);
		while (h2c_next(&cl->c, &f))
			client_frame(cl, &f);
		wait = client_tick(cl, now_ms());
	}
	h2c_free(&cl->c);
	free(cl);
}
