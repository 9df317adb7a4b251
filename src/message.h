/* message.h - one decoded HTTP/1.x, HTTP/2 or gRPC request or response (or
 * an HTTP/2 RST_STREAM / GOAWAY), as the decoders build it and the store,
 * the printers, the statistics and the filters read it. */
#ifndef TLSTOP_MESSAGE_H
#define TLSTOP_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlstop.h"

enum msg_proto {
	MSG_H1 = 1,
	MSG_H2,
	MSG_GRPC, /* HTTP/2 with content-type application/grpc* */
};

enum msg_kind {
	MSG_REQUEST = 1,
	MSG_RESPONSE,
	MSG_RESET, /* RST_STREAM */
	MSG_GOAWAY,
};

/* header flags */
#define MSG_HDR_TRAILER 0x1 /* sent after the body (HTTP/2 trailers, chunked trailers) */
#define MSG_HDR_NAME_UNKNOWN 0x2 /* HPACK index into a dynamic-table entry tlstop never saw */
#define MSG_HDR_VALUE_UNKNOWN 0x4
#define MSG_HDR_MASKED 0x8 /* value replaced by the masker */

struct msg_header {
	char *name; /* NUL-terminated; NULL when unknown */
	char *value; /* NUL-terminated (values with NUL bytes are cut there); NULL when unknown */
	uint32_t flags;
};

/* One length-prefixed gRPC message (5-byte prefix: flag, 32-bit length). */
struct grpc_msg {
	uint32_t len; /* length in the prefix (compressed length when compressed) */
	bool compressed; /* the prefix's flag */
	bool inflated; /* data holds the decompressed bytes */
	bool incomplete; /* some of its bytes were lost or not captured */
	uint8_t *data; /* the bytes kept: decompressed when inflated */
	uint32_t data_len;
	uint64_t full_len; /* length of the (decompressed) message; data_len < full_len when cut */
};

/* message flags */
#define MSG_F_PATH_UNKNOWN 0x1 /* :path was in the block but indexed from an unseen entry */
#define MSG_F_GAP 0x2 /* bytes of this message were lost or not captured */
#define MSG_F_PARTIAL 0x4 /* a long-lived stream: more of this message follows in another record */
#define MSG_F_INCOMPLETE 0x8 /* the connection or stream ended before the message did */
#define MSG_F_BODY_CUT 0x10 /* body longer than the per-message body budget */
#define MSG_F_DECODE_ERROR 0x20 /* the decoder gave up on part of it (malformed) */
#define MSG_F_RESET 0x40 /* the stream was reset while this message was open */
#define MSG_F_MASK_OFF 0x80 /* masking disabled (--no-mask) */
#define MSG_F_HEADERS_CUT 0x100 /* headers past the header budget were dropped */

struct message {
	uint64_t id; /* unique and increasing within one run */
	uint64_t pair_id; /* response, reset: id of the request; 0 when unknown */
	enum msg_proto proto;
	enum msg_kind kind;
	bool out; /* the traced process sent it */
	uint32_t flags; /* MSG_F_* */
	uint32_t stream; /* HTTP/2 stream id; HTTP/1: 0 */
	uint32_t part; /* MSG_F_PARTIAL records of one message: 0, 1, 2... */
	uint64_t start_ns; /* CLOCK_MONOTONIC of the TLS call with its first byte */
	uint64_t end_ns; /* ... and of the one with its last byte */
	uint64_t latency_ns; /* response/reset: end_ns - request start_ns; 0 when unknown */

	/* request: method, path, authority, scheme; NULL when absent */
	char *method;
	char *path;
	char *authority;
	char *scheme;
	int status; /* response :status or status line; -1 none */
	int grpc_status; /* -1 none */
	char *grpc_message; /* percent-decoded */
	uint32_t error_code; /* RESET, GOAWAY, or the reset that ended this message */
	uint32_t last_stream; /* GOAWAY */

	struct msg_header *headers; /* in wire order, trailers last */
	uint32_t nheaders;
	uint32_t headers_cap;
	/* Header names and values live in these chunks, not one allocation
	 * each: allocations were most of the cost of decoding small calls. */
	struct msg_chunk *strings;
	size_t strings_mem; /* bytes allocated for them */
	size_t strings_used; /* bytes of names and values, NULs included */

	/* body as sent (still compressed when content-encoding says so) */
	uint8_t *body;
	uint32_t body_captured; /* bytes in body[] */
	uint32_t body_cap_alloc;
	uint64_t body_len; /* bytes of body seen on the wire, gaps included */

	struct grpc_msg *grpc; /* gRPC messages kept, in order */
	uint32_t ngrpc;
	uint32_t grpc_cap;
	uint32_t grpc_total; /* gRPC messages seen, kept or not */

	uint64_t conn_seq; /* the connection's number in this run: tells a reused fd apart */
	/* who: the TLS call that completed the message (pid, tid, comm, lib,
	 * fd/ssl, addresses, role); its data[] is never used */
	struct tlstop_data who;
};

/* Budget for what one message may hold; the rest is counted, not kept. */
struct msg_limits {
	uint32_t body_max; /* body bytes kept per message */
	uint32_t grpc_max; /* gRPC messages kept per message */
	uint32_t header_bytes_max; /* name + value bytes kept per message */
};

struct message *msg_new(enum msg_proto proto, enum msg_kind kind, bool out);
void msg_free(struct message *m);
/* Bytes of memory the message holds: what the store's budgets count. */
size_t msg_mem(const struct message *m);

/* Copies name/value (either may be NULL: unknown). Returns 0, or -1 when
 * the header budget or memory ran out: the header is dropped and the
 * message flagged MSG_F_HEADERS_CUT. */
int msg_add_header(struct message *m, const char *name, size_t nlen, const char *value,
		   size_t vlen, uint32_t flags, const struct msg_limits *lim);
/* Replaces a header's value with a copy of v (the masker's rewrite). */
int msg_header_set_value(struct message *m, struct msg_header *h, const char *v);
/* First header with that name (ASCII case-insensitive), trailers included. */
const struct msg_header *msg_header(const struct message *m, const char *name);
/* Appends body bytes, keeping at most lim->body_max; body_len counts all. */
void msg_add_body(struct message *m, const uint8_t *p, size_t n, const struct msg_limits *lim);
/* Counts n body bytes that were lost (gap) and flags the message. */
void msg_body_gap(struct message *m, uint64_t n);
/* Appends a gRPC message, taking ownership of g->data; kept only while
 * fewer than lim->grpc_max are held (grpc_total counts all). */
void msg_add_grpc(struct message *m, struct grpc_msg *g, const struct msg_limits *lim);
/* Sets *field (method, path, ...) to a copy of s; a previous value is freed. */
void msg_set_str(char **field, const char *s, size_t n);

const char *msg_proto_name(enum msg_proto p); /* "h1", "h2", "grpc" */
const char *msg_kind_name(enum msg_kind k); /* "request", "response", "reset", "goaway" */
/* HTTP/2 error code name (RFC 9113 section 7): "CANCEL"...; NULL when unknown */
const char *msg_h2_error_name(uint32_t code);

/* Where decoders send finished messages; emit() takes ownership. */
struct msg_sink {
	void (*emit)(struct message *m, void *arg);
	void *arg;
};

#endif
