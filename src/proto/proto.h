/* proto.h - what every protocol decoder is given: where finished messages
 * go, the per-message budget, the id counter and the decoder counters. */
#ifndef TLSTOP_PROTO_H
#define TLSTOP_PROTO_H

#include <stdint.h>

#include "message.h"

/* Integrity counters of the decoders, summed over all connections. */
struct proto_counters {
	uint64_t messages; /* messages emitted */
	uint64_t unknown_paths; /* requests whose :path could not be decoded */
	uint64_t unknown_headers; /* header fields indexed from unseen dynamic entries */
	uint64_t decode_errors; /* malformed input the decoder skipped */
	uint64_t gaps; /* lost or uncaptured stretches fed to decoders */
	uint64_t gap_bytes;
	uint64_t resyncs; /* times framing was found again after a gap or a late join */
	uint64_t inflate_errors; /* compressed gRPC messages that did not inflate */
};

struct proto_ctx {
	struct msg_sink sink;
	const struct msg_limits *lim;
	uint64_t *next_id; /* messages take ++*next_id when they are created */
	struct proto_counters *cnt;
};

/* A message begun at ts: id assigned, start_ns and end_ns set. */
static inline struct message *proto_msg_new(const struct proto_ctx *ctx, enum msg_proto p,
					    enum msg_kind k, bool out, uint64_t ts)
{
	struct message *m = msg_new(p, k, out);

	if (m) {
		m->id = ++*ctx->next_id;
		m->start_ns = m->end_ns = ts;
	}
	return m;
}

static inline void proto_emit(const struct proto_ctx *ctx, struct message *m)
{
	ctx->cnt->messages++;
	if (m->kind == MSG_REQUEST && (m->flags & MSG_F_PATH_UNKNOWN))
		ctx->cnt->unknown_paths++;
	ctx->sink.emit(m, ctx->sink.arg);
}

#endif
