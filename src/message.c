/* message.c - building and freeing decoded messages. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "message.h"

/* first string chunk; each next one doubles, up to CHUNK_MAX */
#define CHUNK_MIN 256
#define CHUNK_MAX 4096

struct msg_chunk {
	struct msg_chunk *next;
	size_t used, cap;
	char data[];
};

struct message *msg_new(enum msg_proto proto, enum msg_kind kind, bool out)
{
	struct message *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->proto = proto;
	m->kind = kind;
	m->out = out;
	m->status = -1;
	m->grpc_status = -1;
	return m;
}

void msg_free(struct message *m)
{
	if (!m)
		return;
	free(m->method);
	free(m->path);
	free(m->authority);
	free(m->scheme);
	free(m->grpc_message);
	for (struct msg_chunk *c = m->strings, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	free(m->headers);
	free(m->body);
	for (uint32_t i = 0; i < m->ngrpc; i++)
		free(m->grpc[i].data);
	free(m->grpc);
	free(m);
}

static size_t str_mem(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

size_t msg_mem(const struct message *m)
{
	size_t n = sizeof(*m) + m->headers_cap * sizeof(*m->headers) + m->body_cap_alloc +
		   m->grpc_cap * sizeof(*m->grpc) + m->strings_mem;

	n += str_mem(m->method) + str_mem(m->path) + str_mem(m->authority) + str_mem(m->scheme) +
	     str_mem(m->grpc_message);
	for (uint32_t i = 0; i < m->ngrpc; i++)
		n += m->grpc[i].data_len;
	return n;
}

/* A NUL-terminated copy, cut at the first NUL byte, in the message's
 * string chunks; NULL for NULL. */
static char *dup_cut(struct message *m, const char *s, size_t n, bool *failed)
{
	struct msg_chunk *c = m->strings;
	char *d;

	if (!s)
		return NULL;
	n = strnlen(s, n);
	if (!c || c->cap - c->used < n + 1) {
		size_t cap = !c ? CHUNK_MIN : c->cap < CHUNK_MAX ? c->cap * 2 : CHUNK_MAX;

		if (cap < n + 1)
			cap = n + 1;

		c = malloc(sizeof(*c) + cap);
		if (!c) {
			*failed = true;
			return NULL;
		}
		c->next = m->strings;
		c->used = 0;
		c->cap = cap;
		m->strings = c;
		m->strings_mem += sizeof(*c) + cap;
	}
	d = c->data + c->used;
	memcpy(d, s, n);
	d[n] = '\0';
	c->used += n + 1;
	m->strings_used += n + 1;
	return d;
}

int msg_add_header(struct message *m, const char *name, size_t nlen, const char *value,
		   size_t vlen, uint32_t flags, const struct msg_limits *lim)
{
	struct msg_header *h;
	bool failed = false;

	if (lim && m->strings_used + nlen + vlen + 2 > lim->header_bytes_max)
		goto cut;
	if (m->nheaders == m->headers_cap) {
		uint32_t cap = m->headers_cap ? m->headers_cap * 2 : 8;
		struct msg_header *n = realloc(m->headers, cap * sizeof(*n));

		if (!n)
			goto cut;
		m->headers = n;
		m->headers_cap = cap;
	}
	h = &m->headers[m->nheaders];
	h->name = dup_cut(m, name, nlen, &failed);
	h->value = dup_cut(m, value, vlen, &failed);
	h->flags = flags | (name ? 0 : MSG_HDR_NAME_UNKNOWN) | (value ? 0 : MSG_HDR_VALUE_UNKNOWN);
	if (failed)
		goto cut;
	m->nheaders++;
	return 0;
cut:
	m->flags |= MSG_F_HEADERS_CUT;
	return -1;
}

int msg_header_set_value(struct message *m, struct msg_header *h, const char *v)
{
	bool failed = false;
	char *d = dup_cut(m, v, strlen(v), &failed);

	if (failed)
		return -1;
	h->value = d;
	return 0;
}

const struct msg_header *msg_header(const struct message *m, const char *name)
{
	for (uint32_t i = 0; i < m->nheaders; i++)
		if (m->headers[i].name && !strcasecmp(m->headers[i].name, name))
			return &m->headers[i];
	return NULL;
}

void msg_add_body(struct message *m, const uint8_t *p, size_t n, const struct msg_limits *lim)
{
	size_t keep = 0;

	m->body_len += n;
	if (m->body_captured < lim->body_max)
		keep = lim->body_max - m->body_captured;
	if (keep > n)
		keep = n;
	if (keep < n)
		m->flags |= MSG_F_BODY_CUT;
	if (!keep)
		return;
	if (m->body_captured + keep > m->body_cap_alloc) {
		size_t cap = m->body_cap_alloc ? m->body_cap_alloc : 256;
		uint8_t *b;

		while (cap < m->body_captured + keep)
			cap *= 2;
		if (cap > lim->body_max)
			cap = lim->body_max;
		b = realloc(m->body, cap);
		if (!b) {
			m->flags |= MSG_F_BODY_CUT;
			return;
		}
		m->body = b;
		m->body_cap_alloc = cap;
	}
	memcpy(m->body + m->body_captured, p, keep);
	m->body_captured += keep;
}

void msg_body_gap(struct message *m, uint64_t n)
{
	m->body_len += n;
	m->flags |= MSG_F_GAP;
}

void msg_add_grpc(struct message *m, struct grpc_msg *g, const struct msg_limits *lim)
{
	m->grpc_total++;
	if (g->incomplete)
		m->flags |= MSG_F_GAP;
	if (m->ngrpc >= lim->grpc_max)
		goto drop;
	if (m->ngrpc == m->grpc_cap) {
		uint32_t cap = m->grpc_cap ? m->grpc_cap * 2 : 4;
		struct grpc_msg *n;

		if (cap > lim->grpc_max)
			cap = lim->grpc_max;
		n = realloc(m->grpc, cap * sizeof(*n));
		if (!n)
			goto drop;
		m->grpc = n;
		m->grpc_cap = cap;
	}
	m->grpc[m->ngrpc++] = *g;
	g->data = NULL;
	return;
drop:
	m->flags |= MSG_F_BODY_CUT;
	free(g->data);
	g->data = NULL;
}

void msg_set_str(char **field, const char *s, size_t n)
{
	free(*field);
	*field = s ? strndup(s, n) : NULL;
}

const char *msg_proto_name(enum msg_proto p)
{
	switch (p) {
	case MSG_H1:
		return "h1";
	case MSG_H2:
		return "h2";
	case MSG_GRPC:
		return "grpc";
	}
	return "?";
}

const char *msg_kind_name(enum msg_kind k)
{
	switch (k) {
	case MSG_REQUEST:
		return "request";
	case MSG_RESPONSE:
		return "response";
	case MSG_RESET:
		return "reset";
	case MSG_GOAWAY:
		return "goaway";
	}
	return "?";
}

const char *msg_h2_error_name(uint32_t code)
{
	static const char *const names[] = {
		"NO_ERROR",	    "PROTOCOL_ERROR",	  "INTERNAL_ERROR",
		"FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",	  "STREAM_CLOSED",
		"FRAME_SIZE_ERROR",   "REFUSED_STREAM",	  "CANCEL",
		"COMPRESSION_ERROR",  "CONNECT_ERROR",	  "ENHANCE_YOUR_CALM",
		"INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
	};

	return code < sizeof(names) / sizeof(names[0]) ? names[code] : NULL;
}
