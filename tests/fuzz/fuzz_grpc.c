/* fuzz_grpc.c - libFuzzer target for gRPC message reassembly: the first byte
 * picks the encoding and budget, then control bytes split the rest into
 * feeds, gaps, stream ends and record changes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto/grpc.h"

static const uint32_t body_maxes[] = { 0, 7, 300, 64 * 1024 };

/* What every kept message must satisfy whatever the input. */
static void check_msg(const struct message *m, const struct msg_limits *lim)
{
	if (m->ngrpc > lim->grpc_max || m->ngrpc > m->grpc_total)
		__builtin_trap();
	for (uint32_t i = 0; i < m->ngrpc; i++) {
		const struct grpc_msg *g = &m->grpc[i];

		if (g->data_len > lim->body_max || g->data_len > g->full_len ||
		    (!g->inflated && g->full_len != g->len) || (g->inflated && !g->compressed) ||
		    (g->data_len && !g->data))
			__builtin_trap();
	}
}

static void next_record(struct message **m, const struct msg_limits *lim)
{
	check_msg(*m, lim);
	msg_free(*m);
	*m = msg_new(MSG_GRPC, MSG_RESPONSE, false);
	if (!*m)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_limits lim = { .grpc_max = 8 };
	struct proto_counters cnt = { 0 };
	uint64_t next_id = 0;
	struct proto_ctx pc = { .lim = &lim, .next_id = &next_id, .cnt = &cnt }, *ctx = &pc;
	struct grpc_parser g;
	struct message *m = msg_new(MSG_GRPC, MSG_RESPONSE, false);
	const uint8_t *end = data + size;
	uint8_t mode;

	if (!size || !m) {
		msg_free(m);
		return 0;
	}
	mode = *data++;
	lim.body_max = body_maxes[(mode >> 2) & 3];
	if (mode & 0x10) {
		/* the ctx-less defaults */
		ctx = NULL;
		lim = (struct msg_limits){ .body_max = 64 * 1024, .grpc_max = 64 };
	}
	if (mode & 0x20)
		free(grpc_percent_decode((const char *)data, size - 1));
	grpc_parser_init(&g, (enum grpc_encoding)(mode & 3));
	while (data < end) {
		uint8_t c = *data++;
		size_t n = c & 0x3f;

		if (c == 0xff) {
			grpc_gap(&g, m, 0xfffffff0u);
		} else if (c >= 0xc0) {
			grpc_gap(&g, m, n);
		} else if (c >= 0x80) {
			grpc_finish(&g, m, ctx);
			if (c & 1)
				next_record(&m, &lim);
		} else {
			/* 0x40..0x7f feed more at once */
			n = c & 0x40 ? n * 64 + 1 : n;
			if (n > (size_t)(end - data))
				n = (size_t)(end - data);
			grpc_feed(&g, m, data, n, ctx);
			data += n;
		}
	}
	grpc_finish(&g, m, ctx);
	check_msg(m, &lim);
	grpc_parser_free(&g);
	msg_free(m);
	return 0;
}
