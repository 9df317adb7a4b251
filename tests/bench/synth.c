/* synth.c - synthetic HTTP/2 gRPC calls: frames, header blocks, TLS calls. */
#include <stdlib.h>
#include <string.h>

#include "proto/http2.h"
#include "synth.h"

/* Header block budget: a block never takes more, whatever the fields. */
#define BLOCK_MAX 512
#define TRAILERS_MAX 256

size_t synth_frame(uint8_t *p, size_t len, uint8_t type, uint8_t flags, uint32_t stream)
{
	h2_frame_header(p, len, type, flags, stream);
	return H2_HDR_LEN;
}

size_t synth_conn_start(uint8_t *p)
{
	memcpy(p, H2_PREFACE, H2_PREFACE_LEN);
	return H2_PREFACE_LEN + synth_frame(p + H2_PREFACE_LEN, 0, H2_SETTINGS, 0, 0);
}

void synth_grpc_prefix(uint8_t *p, uint32_t size)
{
	p[0] = 0;
	p[1] = size >> 24;
	p[2] = size >> 16;
	p[3] = size >> 8;
	p[4] = size;
}

uint8_t *synth_grpc_message(uint32_t size)
{
	uint8_t *msg = calloc(1, size + 5);

	if (!msg)
		return NULL;
	synth_grpc_prefix(msg, size);
	for (uint32_t i = 0; i < size; i++)
		msg[5 + i] = i % 3 ? 'a' + i % 26 : 0x0a;
	return msg;
}

/* Encodes count fields at p, within cap bytes; returns the block's length. */
static size_t header_block(struct hpack_encoder *e, const char *const (*f)[2], size_t count,
			   uint8_t *p, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < count; i++)
		n += hpack_encode_field(e, f[i][0], f[i][1], HPACK_INCREMENTAL, p + n, cap - n);
	return n;
}

size_t synth_request(struct hpack_encoder *ce, uint8_t *p, const struct synth_msg *m)
{
	const char *const f[][2] = {
		{ ":method", "POST" }, { ":scheme", "https" }, { ":path", m->path },
		{ ":authority", "orders.internal:443" }, { "content-type", "application/grpc" },
		{ "te", "trailers" }, { "grpc-accept-encoding", "identity,gzip" },
		{ "user-agent", "grpc-c/29.0.0 (linux; chttp2)" },
	};
	size_t hb = header_block(ce, f, 8, p + H2_HDR_LEN, BLOCK_MAX);
	size_t n = synth_frame(p, hb, H2_HEADERS, H2_END_HEADERS, m->stream) + hb;

	n += synth_frame(p + n, m->len, H2_DATA, H2_END_STREAM, m->stream);
	memcpy(p + n, m->msg, m->len);
	return n + m->len;
}

size_t synth_response(struct hpack_encoder *se, uint8_t *p, const struct synth_msg *m)
{
	static const char *const f[][2] = {
		{ ":status", "200" }, { "content-type", "application/grpc" },
		{ "grpc-encoding", "identity" },
	};
	const char *const t[][2] = { { "grpc-status", m->status }, { "grpc-message", m->why } };
	size_t hb = header_block(se, f, 3, p + H2_HDR_LEN, BLOCK_MAX);
	size_t n = synth_frame(p, hb, H2_HEADERS, H2_END_HEADERS, m->stream) + hb;

	if (m->len) {
		n += synth_frame(p + n, m->len, H2_DATA, 0, m->stream);
		memcpy(p + n, m->msg, m->len);
		n += m->len;
	}
	hb = header_block(se, t, m->why ? 2 : 1, p + n + H2_HDR_LEN, TRAILERS_MAX);
	return n + synth_frame(p + n, hb, H2_HEADERS, H2_END_STREAM | H2_END_HEADERS, m->stream) +
	       hb;
}

struct tls_call synth_tls_call(struct tlstop_data *d, uint64_t ssl, bool out, const uint8_t *p,
			       size_t n)
{
	*d = (struct tlstop_data){ .ssl = ssl, .pid = 1, .fd = (int32_t)ssl, .len = n,
				   .captured_len = n, .dir = out ? TLSTOP_DIR_OUT : TLSTOP_DIR_IN,
				   .flags = TLSTOP_F_HAS_FD };
	d->addr.role = TLSTOP_ROLE_CLIENT;
	return (struct tls_call){ .hdr = d, .data = p, .data_len = n };
}

void synth_connection(unsigned int ncalls, uint32_t size,
		      void (*sink)(const struct tls_call *call, void *arg), void *arg)
{
	struct hpack_encoder ce, se;
	uint8_t *buf = malloc(size + 5 + SYNTH_OVERHEAD), *msg = synth_grpc_message(size);
	struct synth_msg m = { .msg = msg, .len = size + 5, .path = "/shop.Orders/Get",
			       .status = "0" };
	struct tlstop_data d;
	struct tls_call call;

	if (!buf || !msg)
		goto out;
	hpack_encoder_init(&ce, true);
	hpack_encoder_init(&se, true);
	call = synth_tls_call(&d, 0x1000, true, buf, synth_conn_start(buf));
	sink(&call, arg);
	call = synth_tls_call(&d, 0x1000, false, buf + H2_PREFACE_LEN, H2_HDR_LEN);
	sink(&call, arg);
	for (unsigned int i = 0; i < ncalls; i++) {
		m.stream = 2 * (i % (1u << 29)) + 1;
		call = synth_tls_call(&d, 0x1000, true, buf, synth_request(&ce, buf, &m));
		sink(&call, arg);
		call = synth_tls_call(&d, 0x1000, false, buf, synth_response(&se, buf, &m));
		sink(&call, arg);
	}
	hpack_encoder_free(&ce);
	hpack_encoder_free(&se);
out:
	free(buf);
	free(msg);
}
