/* http1.h - HTTP/1.x decoder for one connection: requests and responses in
 * both directions, keep-alive and pipelining, Content-Length, chunked,
 * bodies to close, HEAD/1xx/204/304, Upgrade; responses are paired with
 * their requests in order. */
#ifndef TLSTOP_PROTO_HTTP1_H
#define TLSTOP_PROTO_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

struct h1_conn;

struct h1_conn *h1_new(const struct proto_ctx *ctx);
/* Bytes of one direction (out: sent by the traced process), in order; ts is
 * the TLS call's CLOCK_MONOTONIC time. */
void h1_feed(struct h1_conn *c, bool out, const uint8_t *p, size_t n, uint64_t ts);
/* n bytes of that direction were lost or not captured. Inside a body of
 * known length they are skipped exactly; elsewhere the decoder looks for
 * the next request or status line. */
void h1_gap(struct h1_conn *c, bool out, uint64_t n, uint64_t ts);
/* n bytes the in-kernel prefilter kept back: whole requests, and the
 * responses to them, so between messages the framing holds. */
void h1_skip(struct h1_conn *c, bool out, uint64_t n, uint64_t ts);
/* The connection ended: a body read to close is complete, anything else
 * open is emitted flagged MSG_F_INCOMPLETE. */
void h1_close(struct h1_conn *c, uint64_t ts);
/* After a 101 or a 2xx to CONNECT the bytes are no longer HTTP/1. */
bool h1_upgraded(const struct h1_conn *c);
void h1_free(struct h1_conn *c);

/* True when p starts like a request line or a status line (enough of it to
 * tell, n may be short). */
bool h1_looks_like(const uint8_t *p, size_t n);

#endif
