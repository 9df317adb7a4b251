/* http2.h - HTTP/2 decoder (RFC 9113) for one connection: frames of both
 * directions, HPACK state per direction, concurrent streams, requests and
 * responses with trailers, gRPC on top, RST_STREAM and GOAWAY. Joins
 * mid-connection and resynchronises after gaps. */
#ifndef TLSTOP_PROTO_HTTP2_H
#define TLSTOP_PROTO_HTTP2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24
#define H2_HDR_LEN 9 /* frame header: 24-bit length, type, flags, stream id */

/* frame types (RFC 9113 section 6) */
enum {
	H2_DATA,
	H2_HEADERS,
	H2_PRIORITY,
	H2_RST_STREAM,
	H2_SETTINGS,
	H2_PUSH_PROMISE,
	H2_PING,
	H2_GOAWAY,
	H2_WINDOW_UPDATE,
	H2_CONTINUATION,
	H2_NTYPES,
};

/* frame flags */
#define H2_END_STREAM 0x1
#define H2_ACK 0x1
#define H2_END_HEADERS 0x4
#define H2_PADDED 0x8
#define H2_PRIO 0x20

/* which direction carries requests */
enum h2_side {
	H2_SIDE_UNKNOWN, /* learnt from the preface or the first HEADERS */
	H2_SIDE_OUT_IS_CLIENT, /* the traced process is the client */
	H2_SIDE_IN_IS_CLIENT,
};

struct h2_conn;

/* joined_late: tlstop did not see the connection start, so HPACK tables
 * begin with unknown entries and the first bytes may be mid-frame. */
struct h2_conn *h2_new(const struct proto_ctx *ctx, enum h2_side side, bool joined_late);
/* Bytes of one direction in order; a call's bytes come in one feed, and
 * when framing was lost the decoder tries the start of each feed. */
void h2_feed(struct h2_conn *c, bool out, const uint8_t *p, size_t n, uint64_t ts);
/* n bytes lost: skipped exactly inside a frame payload; a lost header
 * block makes that direction's HPACK table partly unknown. */
void h2_gap(struct h2_conn *c, bool out, uint64_t n, uint64_t ts);
/* Emits, flagged MSG_F_PARTIAL, the gRPC messages of streams that have
 * held completed ones for a second or more (long-lived streams). */
void h2_tick(struct h2_conn *c, uint64_t now);
/* The connection ended: open messages are emitted MSG_F_INCOMPLETE. */
void h2_close(struct h2_conn *c, uint64_t ts);
void h2_free(struct h2_conn *c);
/* Memory held (stream table, HPACK tables, buffers), for benchmarks. */
size_t h2_mem(const struct h2_conn *c);

/* Writes a frame header (H2_HDR_LEN bytes) for a len-byte payload: the
 * one encoder of the wire format, for the demo, tests and benchmarks. */
void h2_frame_header(uint8_t *out, uint32_t len, uint8_t type, uint8_t flags, uint32_t stream);

/* True when p (n bytes, the start of a TLS call) parses as a run of
 * plausible frames: known type, flags valid for it, length within limits,
 * stream id rules. Used to detect HTTP/2 joined mid-connection. */
bool h2_frames_plausible(const uint8_t *p, size_t n);

#endif
