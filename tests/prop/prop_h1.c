/* prop_h1.c - HTTP/1.1 keep-alive traffic for the property test: requests
 * with or without bodies (Content-Length or chunked), each answered before
 * the next is sent. Not pipelined: the prefilter decides at a request line
 * that starts a call, and a call holding two requests is outside what it
 * promises (see FILTERS in tlstop.8). */
#include <stdio.h>

#include "prop_gen_int.h"
#include "tlstop.h"

#define H1_BODY_MAX 40000

static const int statuses[] = { 200, 200, 200, 201, 204, 304, 404, 500, 503 };

/* body bytes, as they go on the wire: Content-Length or chunked (chunk
 * extensions and trailers now and then) */
static void body(struct prop_rng *r, struct strbuf *b, uint32_t n, bool chunked)
{
	struct strbuf payload = { 0 };
	size_t off = 0;

	rng_fill(r, &payload, n);
	if (!chunked) {
		sb_printf(b, "Content-Length: %u\r\n\r\n", n);
		if (n)
			sb_add(b, payload.s, n);
		sb_free(&payload);
		return;
	}
	sb_adds(b, "Transfer-Encoding: chunked\r\n\r\n");
	while (off < n) {
		uint32_t k = rng_range(r, 1, (uint32_t)(n - off));

		sb_printf(b, rng_pct(r, 50) ? "%x" : "%X", k);
		sb_adds(b, rng_pct(r, 5) ? ";ext=1\r\n" : "\r\n");
		sb_add(b, payload.s + off, k);
		sb_adds(b, "\r\n");
		off += k;
	}
	sb_adds(b, "0\r\n");
	if (rng_pct(r, 15))
		sb_adds(b, "X-Checksum: 1234\r\n");
	sb_adds(b, "\r\n");
	sb_free(&payload);
}

static void request(struct prop_rng *r, struct strbuf *b, const char *path)
{
	static const char *const methods[] = { "GET", "GET", "POST", "POST", "PUT", "DELETE" };
	const char *m = methods[rng_below(r, 6)];

	/* absolute-form, as sent to proxies: the path is what follows the host */
	sb_printf(b, "%s %s%s HTTP/1.1\r\nHost: api.test\r\n", m,
		  rng_pct(r, 3) ? "https://api.test" : "", path);
	sb_printf(b, "User-Agent: kf_prop\r\nX-Request-Id: %08x\r\n", (uint32_t)rng_next(r));
	if (m[0] == 'P')
		body(r, b, rng_size(r, H1_BODY_MAX), rng_pct(r, 30));
	else
		sb_adds(b, "\r\n");
}

static void response(struct prop_rng *r, struct strbuf *b)
{
	int status = statuses[rng_below(r, sizeof(statuses) / sizeof(statuses[0]))];

	sb_printf(b, "HTTP/1.1 %d X\r\nServer: kf_prop\r\nContent-Type: text/plain\r\n", status);
	if (status == 204 || status == 304)
		sb_adds(b, "\r\n");
	else
		body(r, b, rng_size(r, H1_BODY_MAX), rng_pct(r, 30));
}

static void put(struct prop_gconn *c, uint8_t dir, struct strbuf *b)
{
	gconn_put(c, dir, b->s, b->len);
	c->oom |= b->oom;
	sb_truncate(b, 0);
}

void h1gen_phase(struct prop_rng *r, struct prop_gconn *c, const struct gen_paths *paths)
{
	struct strbuf b = { 0 };

	for (uint32_t n = rng_range(r, 1, 6); n; n--) {
		request(r, &b, gen_path(r, paths));
		put(c, gconn_req_dir(c), &b);
		response(r, &b);
		put(c, gconn_resp_dir(c), &b);
	}
	sb_free(&b);
}
