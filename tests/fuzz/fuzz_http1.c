/* fuzz_http1.c - libFuzzer target for the HTTP/1.x decoder. The input is a
 * list of steps, each a control byte and a length byte: bit 0 of the
 * control is the direction, bits 1-2 the step (0, 1: that many data bytes
 * follow; 2: a gap of length + 1 bytes, 255 meaning a huge one; 3: the
 * connection closes, and later steps go on on the same decoder). */
#include <stdint.h>
#include <stdlib.h>

#include "proto/http1.h"

static void check_and_free(struct message *m, void *arg)
{
	const struct msg_limits *lim = arg;

	if (m->proto != MSG_H1 || m->body_captured > m->body_len ||
	    m->body_captured > lim->body_max || m->nheaders > m->headers_cap ||
	    (m->kind == MSG_RESPONSE && m->pair_id >= m->id) || m->start_ns > m->end_ns ||
	    (m->kind == MSG_REQUEST) != (m->status == -1))
		abort();
	msg_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct msg_limits lim = {
		.body_max = 1024,
		.grpc_max = 4,
		.header_bytes_max = 2048,
	};
	struct proto_counters cnt = { 0 };
	uint64_t next_id = 0, ts = 1;
	struct proto_ctx ctx = {
		.sink = { check_and_free, (void *)&lim },
		.lim = &lim,
		.next_id = &next_id,
		.cnt = &cnt,
	};
	struct h1_conn *c = h1_new(&ctx);
	size_t i = 0;

	if (!c)
		return 0;
	while (i + 2 <= size) {
		bool out = data[i] & 1;
		unsigned int op = (data[i] >> 1) & 3;
		size_t len = data[i + 1];

		i += 2;
		ts += data[i - 2] >> 3;
		if (op == 2) {
			h1_gap(c, out, len == 255 ? (uint64_t)1 << 40 : len + 1, ts);
		} else if (op == 3) {
			h1_close(c, ts);
		} else {
			if (len > size - i)
				len = size - i;
			(void)h1_looks_like(data + i, len);
			h1_feed(c, out, data + i, len, ts);
			i += len;
		}
	}
	h1_close(c, ts);
	h1_free(c);
	if (cnt.messages > next_id)
		abort();
	return 0;
}
