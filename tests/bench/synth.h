/* synth.h - synthetic HTTP/2 gRPC traffic as a traced client's TLS calls
 * carry it, for the decoder benchmark and the trace generator. */
#ifndef TLSTOP_BENCH_SYNTH_H
#define TLSTOP_BENCH_SYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "proto/hpack.h"

/* Room a request or a response needs beyond its gRPC message's bytes. */
#define SYNTH_OVERHEAD 1024

/* One side of a unary call. */
struct synth_msg {
	uint32_t stream;
	const uint8_t *msg; /* a whole gRPC message, prefix included */
	size_t len; /* 0: a response without DATA (an error) */
	const char *path; /* request: the method */
	const char *status; /* response: grpc-status */
	const char *why; /* response: grpc-message, or NULL */
};

/* Writes a frame header at p for a len-byte payload; returns its length. */
size_t synth_frame(uint8_t *p, size_t len, uint8_t type, uint8_t flags, uint32_t stream);
/* The client's preface and SETTINGS at p, returning their length; the
 * server's SETTINGS is the H2_HDR_LEN bytes at p + H2_PREFACE_LEN. */
size_t synth_conn_start(uint8_t *p);
/* The 5-byte gRPC message prefix (uncompressed) of a size-byte message. */
void synth_grpc_prefix(uint8_t *p, uint32_t size);
/* A gRPC message of size bytes of protobuf-like filler (the caller frees). */
uint8_t *synth_grpc_message(uint32_t size);
/* The client's side of a unary call at p: HEADERS, DATA with END_STREAM. */
size_t synth_request(struct hpack_encoder *ce, uint8_t *p, const struct synth_msg *m);
/* The server's answer at p: HEADERS, DATA when there is a message, then
 * trailers with END_STREAM. */
size_t synth_response(struct hpack_encoder *se, uint8_t *p, const struct synth_msg *m);
/* A call of connection ssl (pid 1, fd = ssl), the traced process the client. */
struct tls_call synth_tls_call(struct tlstop_data *d, uint64_t ssl, bool out, const uint8_t *p,
			       size_t n);
/* One connection of ncalls unary calls of /shop.Orders/Get with size-byte
 * messages each way: a request (HEADERS, DATA) per SSL_write, a response
 * (HEADERS, DATA, trailers) per SSL_read, each handed to sink. */
void synth_connection(unsigned int ncalls, uint32_t size,
		      void (*sink)(const struct tls_call *call, void *arg), void *arg);

#endif
