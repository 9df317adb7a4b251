/* fuzz_http2.c - libFuzzer target for the HTTP/2 decoder: the input scripts a connection (feeds
 * and gaps in both directions, ticks), with the side and late join chosen by its first byte.
 *
 * Input: config byte (bits 0-1 side, bit 2 joined late, bit 3 freed without h2_close), then
 * operations: op byte, bit 0 the direction (out), bits 1-2 the kind: 0-1 feed (2-byte length,
 * then the bytes), 2 gap (2-byte length shifted left by bits 3-5 of op), 3 tick (bits 3-7 in
 * tenths of a second). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink_state {
	uint64_t emitted;
};

static void on_msg(struct message *m, void *arg)
{
	struct sink_state *s = arg;

	if (m->kind == MSG_REQUEST && m->pair_id)
		abort(); /* requests pair with nothing */
	if (m->body_captured > m->body_len || m->ngrpc > m->grpc_total)
		abort();
	s->emitted += msg_mem(m) > 0;
	msg_free(m);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct msg_limits lim = { .body_max = 2048, .grpc_max = 8,
					       .header_bytes_max = 4096 };
	static const enum h2_side sides[] = { H2_SIDE_UNKNOWN, H2_SIDE_OUT_IS_CLIENT,
					      H2_SIDE_IN_IS_CLIENT, H2_SIDE_UNKNOWN };
	struct sink_state st = { 0 };
	struct proto_counters cnt = { 0 };
	uint64_t next_id = 0, ts = 1000000000;
	struct proto_ctx ctx = { { on_msg, &st }, &lim, &next_id, &cnt };
	const uint8_t *p = data, *end = data + size;
	struct h2_conn *c;
	uint8_t cfg;

	if (!size)
		return 0;
	cfg = *p++;
	c = h2_new(&ctx, sides[cfg & 3], cfg & 4);
	if (!c)
		return 0;
	while (p < end) {
		uint8_t op = *p++;
		bool out = op & 1;
		size_t n;

		ts += 1000000;
		switch ((op >> 1) & 3) {
		case 0:
		case 1:
			if (end - p < 2)
				goto done;
			n = be16(p);
			p += 2;
			if (n > (size_t)(end - p))
				n = (size_t)(end - p);
			h2_feed(c, out, p, n, ts);
			p += n;
			break;
		case 2:
			if (end - p < 2)
				goto done;
			h2_gap(c, out, (uint64_t)be16(p) << ((op >> 3) & 7), ts);
			p += 2;
			break;
		default:
			ts += (uint64_t)(op >> 3) * 100000000;
			h2_tick(c, ts);
			break;
		}
	}
done:
	if (h2_mem(c) < sizeof(void *))
		abort();
	if (!(cfg & 8))
		h2_close(c, ts);
	h2_free(c);
	return 0;
}
