/* fuzz_filter.c - libFuzzer target for the filter language: the input is
 * an expression; an invalid one must give an offset inside it, a valid one
 * a well-formed tree that evaluates on a few fixed messages. */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "filter_int.h"

static const struct msg_limits lim = { 1 << 16, 8, 1 << 16 };

static const char *env_text(uint32_t key, void *arg)
{
	return key & 1 ? "/usr/sbin/nginx" : NULL;
}

static bool env_marked(uint64_t id, void *arg)
{
	return id & 1;
}

static const struct filter_env env = { env_text, env_text, env_text, env_marked, NULL };

static void header(struct message *m, const char *name, const char *value, uint32_t flags)
{
	msg_add_header(m, name, name ? strlen(name) : 0, value, value ? strlen(value) : 0, flags,
		       &lim);
}

static struct message *grpc_response(void)
{
	struct message *m = msg_new(MSG_GRPC, MSG_RESPONSE, false);
	struct grpc_msg g = { .len = 4, .data_len = 4, .full_len = 4 };

	m->id = 1;
	m->stream = 3;
	m->status = 200;
	m->grpc_status = 14;
	m->latency_ns = 1500000000;
	msg_set_str(&m->path, "/payments.Ledger/Charge", 23);
	msg_set_str(&m->grpc_message, "upstream down", 13);
	header(m, "content-type", "application/grpc", 0);
	header(m, "x-request-id", "abc", 0);
	header(m, NULL, "v", MSG_HDR_NAME_UNKNOWN);
	header(m, "grpc-status", NULL, MSG_HDR_TRAILER);
	g.data = malloc(4);
	if (g.data)
		memcpy(g.data, "a\0\xff\n", 4);
	msg_add_grpc(m, &g, &lim);
	m->who.pid = 4312;
	m->who.flags = TLSTOP_F_HAS_FD;
	m->who.addr.family = AF_INET6;
	m->who.addr.role = TLSTOP_ROLE_CLIENT;
	m->who.addr.lport = 51000;
	m->who.addr.rport = 443;
	inet_pton(AF_INET6, "fe80::1", m->who.addr.raddr);
	memcpy(m->who.comm, "0123456789abcdef", TLSTOP_COMM_LEN);
	return m;
}

static struct message *h1_request(void)
{
	struct message *m = msg_new(MSG_H1, MSG_REQUEST, true);

	msg_set_str(&m->method, "GET", 3);
	msg_set_str(&m->path, "/", 1);
	header(m, "Host", "example.com", 0);
	msg_add_body(m, (const uint8_t *)"x=1\0y", 5, &lim);
	m->flags = MSG_F_BODY_CUT | MSG_F_DECODE_ERROR;
	return m;
}

static struct message *unknown_path(void)
{
	struct message *m = msg_new(MSG_H2, MSG_REQUEST, true);

	m->flags = MSG_F_PATH_UNKNOWN;
	return m;
}

static void check_node(const struct filter_node *n, size_t len, int depth)
{
	const struct filter_term *t = &n->term;
	size_t kids = 0;

	if (n->off > n->end || n->end > len || depth > 3 * FILTER_DEPTH_MAX + 3)
		__builtin_trap();
	for (const struct filter_node *k = n->kid; k; k = k->next, kids++) {
		if (k->off < n->off || k->end > n->end)
			__builtin_trap();
		check_node(k, len, depth + 1);
	}
	if ((n->kind == FN_NOT && kids != 1) || (n->kind == FN_TERM && kids) ||
	    ((n->kind == FN_AND || n->kind == FN_OR) && kids < 2))
		__builtin_trap();
	if (n->kind != FN_TERM)
		return;
	if (t->field >= FF_COUNT || (t->field == FF_HEADER) != !!t->name ||
	    (t->op == FOP_PRESENT) != !t->str || (t->str && strlen(t->str) != t->len) ||
	    ((t->op == FOP_MATCH || t->op == FOP_NOMATCH) && !t->re) ||
	    t->value_end > len || t->field_end > len)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct message *msgs[3] = { grpc_response(), h1_request(), unknown_path() };
	char *expr = malloc(size + 1);
	struct filter_error err;
	struct filter *f;

	if (!expr)
		abort();
	memcpy(expr, data, size);
	expr[size] = '\0';
	if (filter_compile(&f, expr, &err)) {
		if (f || err.offset > strlen(expr) || !memchr(err.msg, '\0', sizeof(err.msg)) ||
		    !err.msg[0])
			__builtin_trap();
	} else if (f) {
		if (strcmp(filter_text(f), expr))
			__builtin_trap();
		check_node(f->root, strlen(expr), 0);
		for (int i = 0; i < 3; i++) {
			bool a = filter_match(f, msgs[i], &env);

			/* evaluation has no hidden state */
			if (a != filter_match(f, msgs[i], &env))
				__builtin_trap();
			filter_match(f, msgs[i], NULL);
		}
	}
	filter_free(f);
	for (int i = 0; i < 3; i++)
		msg_free(msgs[i]);
	free(expr);
	return 0;
}
