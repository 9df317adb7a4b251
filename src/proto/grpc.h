/* grpc.h - gRPC length-prefixed messages (5-byte prefix: compressed flag,
 * 32-bit big-endian length) reassembled from one direction of one HTTP/2
 * stream's DATA, inflated when grpc-encoding is gzip or deflate. */
#ifndef TLSTOP_PROTO_GRPC_H
#define TLSTOP_PROTO_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "message.h"
#include "proto/proto.h"

enum grpc_encoding {
	GRPC_IDENTITY,
	GRPC_GZIP,
	GRPC_DEFLATE,
	GRPC_UNSUPPORTED, /* snappy, zstd...: kept compressed */
};

struct grpc_parser {
	enum grpc_encoding enc;
	uint8_t prefix[5];
	uint8_t prefix_have;
	bool in_msg; /* prefix complete, reading the message */
	bool lost_sync; /* a gap hit a prefix: message boundaries are unknown */
	uint64_t need; /* message bytes still to come */
	struct grpc_msg cur; /* the message being read (data grows to lim) */
	uint32_t data_alloc;
};

/* from the grpc-encoding header value (NULL: identity) */
enum grpc_encoding grpc_encoding_parse(const char *v);
void grpc_parser_init(struct grpc_parser *g, enum grpc_encoding enc);
/* Feeds DATA payload bytes; every message completed is added to m
 * (msg_add_grpc) and, when ctx is given, decompression failures counted. */
void grpc_feed(struct grpc_parser *g, struct message *m, const uint8_t *p, size_t n,
	       const struct proto_ctx *ctx);
/* n DATA bytes were lost: skipped exactly inside a message (flagged
 * incomplete); when the gap reaches a prefix the boundaries are lost until
 * the stream ends. */
void grpc_gap(struct grpc_parser *g, struct message *m, uint64_t n);
/* End of the stream direction: an unfinished message is added, incomplete. */
void grpc_finish(struct grpc_parser *g, struct message *m, const struct proto_ctx *ctx);
void grpc_parser_free(struct grpc_parser *g);

/* grpc-status names: "OK", "CANCELLED"... ; NULL past 16 */
const char *grpc_status_name(int code);
/* -1 when s is neither a number nor a status name (case-insensitive) */
int grpc_status_parse(const char *s);
/* A grpc-message value decoded from its percent-encoding (invalid escapes
 * and %00 kept as they are); malloc'd, NULL when memory ran out. */
char *grpc_percent_decode(const char *s, size_t n);

#endif
