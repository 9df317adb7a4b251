/* conns.h - the connection table: TLS calls grouped per connection and
 * direction into byte streams, the protocol of each connection detected,
 * and the bytes handed to its decoder; gaps (lost records, snaplen) are
 * passed on as gaps so decoders resynchronise instead of misparsing. */
#ifndef TLSTOP_CONNS_H
#define TLSTOP_CONNS_H

#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "message.h"
#include "proto/proto.h"

enum conn_proto {
	CONN_UNKNOWN, /* no payload yet, or not recognised yet */
	CONN_H1,
	CONN_H2,
	CONN_RAW, /* not HTTP (or upgraded away from it): bytes counted only */
};

struct conns_config {
	struct msg_sink sink; /* messages, with who and conn_seq filled in */
	/* a connection ended (after its last messages were emitted); may be NULL */
	void (*closed)(const struct tlstop_data *who, uint64_t seq, uint64_t ts, void *arg);
	const struct msg_limits *lim;
	struct proto_counters *cnt;
	uint64_t idle_ns; /* a connection without calls for this long is closed */
	uint32_t max_conns; /* past this, the least recently used is closed */
};

struct conns;

struct conns *conns_new(const struct conns_config *cfg);
/* Flushes every connection (open messages emitted incomplete) and frees. */
void conns_free(struct conns *t);
void conns_call(struct conns *t, const struct tls_call *call);
/* Ends every connection (open messages emitted incomplete). */
void conns_end_all(struct conns *t, uint64_t ts);
/* The process exited: its connections end. */
void conns_exit(struct conns *t, uint32_t pid, uint64_t ts);
/* Periodic work at CLOCK_MONOTONIC now: partial records of long gRPC
 * streams, idle connections closed. */
void conns_tick(struct conns *t, uint64_t now);
size_t conns_count(const struct conns *t);
/* Memory held by connection state and decoders, for benchmarks. */
size_t conns_mem(const struct conns *t);

const char *conn_proto_name(enum conn_proto p);

#endif
