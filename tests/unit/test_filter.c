/* test_filter.c - the filter language: parsing, precedence, quoting, every
 * field on built messages, units, errors and their offsets. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "filter_int.h"
#include "unit.h"

static const struct msg_limits lim = { 1 << 20, 16, 1 << 16 };

static const char *const op_text[] = { "", "~", "!~", "==", "!=", "<", "<=", ">", ">=" };

/* The tree as an s-expression: (and path~a (not status)). */
static void show(char *buf, size_t len, const struct filter_node *n)
{
	static const char *const kinds[] = { "and", "or", "not" };
	size_t at = strlen(buf);
	const struct filter_term *t = &n->term;

	if (n->kind != FN_TERM) {
		snprintf(buf + at, len - at, "(%s", kinds[n->kind]);
		for (const struct filter_node *k = n->kid; k; k = k->next) {
			at = strlen(buf);
			snprintf(buf + at, len - at, " ");
			show(buf, len, k);
		}
		at = strlen(buf);
		snprintf(buf + at, len - at, ")");
		return;
	}
	snprintf(buf + at, len - at, "%s%s%s%s%s%s", filter_field_names[t->field],
		 t->name ? "[" : "", t->name ? t->name : "", t->name ? "]" : "", op_text[t->op],
		 t->str ? t->str : "");
}

/* Whether expr compiles to the tree want. */
static bool tree(const char *expr, const char *want)
{
	struct filter_error err;
	struct filter *f;
	char buf[512] = "";

	if (filter_compile(&f, expr, &err)) {
		fprintf(stderr, "  '%s': error at %zu: %s\n", expr, err.offset, err.msg);
		return false;
	}
	show(buf, sizeof(buf), f->root);
	filter_free(f);
	if (strcmp(buf, want))
		fprintf(stderr, "  '%s' parsed as %s\n", expr, buf);
	return !strcmp(buf, want);
}

/* Whether expr fails at offset with a message starting with msg. */
static bool error_at(const char *expr, size_t offset, const char *msg)
{
	struct filter_error err;
	struct filter *f = (struct filter *)1;

	if (!filter_compile(&f, expr, &err)) {
		fprintf(stderr, "  '%s' compiled\n", expr);
		filter_free(f);
		return false;
	}
	if (f || err.offset != offset || strncmp(err.msg, msg, strlen(msg))) {
		fprintf(stderr, "  '%s': error at %zu: %s\n", expr, err.offset, err.msg);
		return false;
	}
	return true;
}

static bool match_env(const char *expr, const struct message *m, const struct filter_env *env)
{
	struct filter_error err;
	struct filter *f;
	bool r;

	if (filter_compile(&f, expr, &err)) {
		fprintf(stderr, "  '%s': error at %zu: %s\n", expr, err.offset, err.msg);
		return false;
	}
	r = filter_match(f, m, env);
	filter_free(f);
	return r;
}

static bool match(const char *expr, const struct message *m)
{
	return match_env(expr, m, NULL);
}

/* Compiles, and does not match (a compile error is not a non-match). */
static bool no_match(const char *expr, const struct message *m)
{
	struct filter *f;
	bool r;

	if (filter_compile(&f, expr, NULL)) {
		fprintf(stderr, "  '%s' does not compile\n", expr);
		return false;
	}
	r = !filter_match(f, m, NULL);
	filter_free(f);
	return r;
}

static void set_inet(struct message *m, const char *local, uint16_t lport, const char *remote,
		     uint16_t rport, uint16_t role)
{
	struct tlstop_addr *a = &m->who.addr;
	int family = strchr(local, ':') ? AF_INET6 : AF_INET;

	m->who.flags |= TLSTOP_F_HAS_FD;
	a->family = (uint16_t)family;
	a->role = role;
	a->lport = lport;
	a->rport = rport;
	inet_pton(family, local, a->laddr);
	inet_pton(family, remote, a->raddr);
}

static void add_header(struct message *m, const char *name, const char *value, uint32_t flags)
{
	msg_add_header(m, name, strlen(name), value, value ? strlen(value) : 0, flags, &lim);
}

static void add_grpc(struct message *m, const char *data)
{
	struct grpc_msg g = { .len = (uint32_t)strlen(data) };

	g.data = (uint8_t *)strdup(data);
	g.data_len = g.len;
	g.full_len = g.len;
	msg_add_grpc(m, &g, &lim);
}

/* A client's gRPC call to payments.Ledger/Charge. */
static struct message *grpc_request(void)
{
	struct message *m = msg_new(MSG_GRPC, MSG_REQUEST, true);

	m->id = 1;
	m->stream = 1;
	msg_set_str(&m->method, "POST", 4);
	msg_set_str(&m->path, "/payments.Ledger/Charge", 23);
	msg_set_str(&m->authority, "ledger:443", 10);
	add_header(m, "content-type", "application/grpc", 0);
	add_header(m, "x-request-id", "abc123", 0);
	add_header(m, "x-request-id", "def456", 0);
	add_header(m, "x-unknown", NULL, 0);
	add_grpc(m, "amount: 100 EUR");
	m->body_len = 20;
	m->who.pid = 4312;
	m->who.tid = 4313;
	m->who.lib_id = 2;
	memcpy(m->who.comm, "ledger-client-xx", TLSTOP_COMM_LEN); /* no NUL */
	set_inet(m, "10.0.0.1", 51000, "10.0.0.2", 443, TLSTOP_ROLE_CLIENT);
	return m;
}

/* Its response: UNAVAILABLE after 1.5 s, in the trailers. */
static struct message *grpc_response(void)
{
	struct message *m = grpc_request();

	m->id = 2;
	m->kind = MSG_RESPONSE;
	m->out = false;
	m->status = 200;
	m->grpc_status = 14;
	msg_set_str(&m->grpc_message, "upstream down", 13);
	m->latency_ns = 1500000000;
	add_header(m, "grpc-status", "14", MSG_HDR_TRAILER);
	return m;
}

/* An HTTP/1.1 503 for GET /api/users?id=1, server side, over IPv6. */
static struct message *h1_response(void)
{
	struct message *m = msg_new(MSG_H1, MSG_RESPONSE, true);
	static const uint8_t body[] = "{\"error\":\"oops\"}\0tail";

	m->id = 3;
	m->status = 503;
	msg_set_str(&m->method, "GET", 3);
	msg_set_str(&m->path, "/api/users?id=1", 15);
	add_header(m, "Host", "example.com", 0);
	add_header(m, "Content-Type", "application/json", 0);
	msg_add_body(m, body, sizeof(body) - 1, &lim);
	m->flags |= MSG_F_BODY_CUT;
	m->latency_ns = 250000000;
	m->who.pid = 77;
	memcpy(m->who.comm, "nginx", 6);
	set_inet(m, "::1", 443, "::2", 40000, TLSTOP_ROLE_SERVER);
	return m;
}

static void test_parse(void)
{
	CHECK(tree("Charge", "path~Charge"));
	CHECK(tree("path", "path"));
	CHECK(tree("a b", "(and path~a path~b)"));
	CHECK(tree("a and b", "(and path~a path~b)"));
	CHECK(tree("a && b", "(and path~a path~b)"));
	CHECK(tree("a & b", "(and path~a path~b)"));
	CHECK(tree("a&b", "(and path~a path~b)"));
	CHECK(tree("a or b", "(or path~a path~b)"));
	CHECK(tree("a || b", "(or path~a path~b)"));
	CHECK(tree("Charge|Refund", "(or path~Charge path~Refund)"));
	CHECK(tree("not a", "(not path~a)"));
	CHECK(tree("!health", "(not path~health)"));
	CHECK(tree("! ! a", "(not (not path~a))"));
	CHECK(tree("a b c", "(and path~a path~b path~c)"));
	CHECK(tree("a or b or c", "(or path~a path~b path~c)"));
	/* not > and > or */
	CHECK(tree("a or b and c", "(or path~a (and path~b path~c))"));
	CHECK(tree("a and b or c", "(or (and path~a path~b) path~c)"));
	CHECK(tree("not a and b", "(and (not path~a) path~b)"));
	CHECK(tree("a b | c", "(or (and path~a path~b) path~c)"));
	CHECK(tree("(a or b) c", "(and (or path~a path~b) path~c)"));
	CHECK(tree("not (a or b)", "(not (or path~a path~b))"));
	CHECK(tree("((a))", "path~a"));
	CHECK(tree("not proto == h1", "(not proto==h1)"));
	/* operators, with and without blanks */
	CHECK(tree("status>=500", "status>=500"));
	CHECK(tree("status!=500 pid<3", "(and status!=500 pid<3)"));
	CHECK(tree("path !~ x", "path!~x"));
	CHECK(tree("pid <= 1 pid > 2", "(and pid<=1 pid>2)"));
	CHECK(tree("comm~^nginx", "comm~^nginx"));
	/* fields alone, header names */
	CHECK(tree("header[\"x-request-id\"]", "header[x-request-id]"));
	CHECK(tree("header['X-Id'] ~ '^abc'", "header[X-Id]~^abc"));
	CHECK(tree("header[te] == trailers", "header[te]==trailers"));
	CHECK(tree("grpc_message error", "(and grpc_message error)"));
	/* bare values: regexes on the path, the leading / included */
	CHECK(tree("/payments\\.Ledger/", "path~/payments\\.Ledger/"));
	CHECK(tree("'(Get|List)Users'", "path~(Get|List)Users"));
	CHECK(tree("\"a b\" c", "(and path~a b path~c)"));
	CHECK(tree("Ledger/Charge", "path~Ledger/Charge"));
	/* quoting and escapes */
	CHECK(tree("path ~ 'a b'", "path~a b"));
	CHECK(tree("path == \"x\\\"y\"", "path==x\"y"));
	CHECK(tree("path == 'it\\'s'", "path==it's"));
	CHECK(tree("path == 'a\\\\b'", "path==a\\b"));
	CHECK(tree("path ~ 'a\\.b\\d'", "path~a\\.b\\d"));
	CHECK(tree("path ~ \"(a|b) && c\"", "path~(a|b) && c"));
	CHECK(tree("path == ''", "path=="));
	/* keywords only in lower case, only as whole words */
	CHECK(tree("AND android", "(and path~AND path~android)"));
	CHECK(tree("path ~ 'and'", "path~and"));
}

static void test_tree_details(void)
{
	struct filter *f;
	const struct filter_term *t;
	uint32_t jit = 0;

	CHECK(filter_compile(&f, "  status >= 500", NULL) == 0);
	t = &f->root->term;
	CHECK_EQ_U64(t->field_off, 2);
	CHECK_EQ_U64(t->field_end, 8);
	CHECK_EQ_U64(t->op_off, 9);
	CHECK_EQ_U64(t->op_end, 11);
	CHECK_EQ_U64(t->value_off, 12);
	CHECK_EQ_U64(t->value_end, 15);
	CHECK_EQ_U64(t->num, 500);
	CHECK(!t->bare && !t->re);
	CHECK_STR(filter_text(f), "  status >= 500");
	filter_free(f);

	CHECK(filter_compile(&f, "x 'Get|List'", NULL) == 0);
	CHECK(f->root->kind == FN_AND);
	CHECK_EQ_U64(f->root->off, 0);
	CHECK_EQ_U64(f->root->end, 12);
	t = &f->root->kid->next->term;
	CHECK(t->bare && t->re && t->field == FF_PATH && t->op == FOP_MATCH);
	pcre2_config(PCRE2_CONFIG_JIT, &jit);
	CHECK(t->jit == (jit != 0));
	CHECK_EQ_U64(t->value_off, 2);
	CHECK_EQ_U64(t->value_end, 12);
	CHECK_EQ_U64(t->len, 8);
	filter_free(f);

	CHECK(filter_compile(&f, "path == unknown", NULL) == 0);
	CHECK(f->root->term.unknown);
	filter_free(f);
	CHECK(filter_compile(&f, "path == 'unknown'", NULL) == 0);
	CHECK(!f->root->term.unknown);
	filter_free(f);
}

static void test_empty(void)
{
	struct message *m = grpc_request();
	struct filter *f = (struct filter *)1;

	CHECK(filter_compile(&f, "", NULL) == 0 && !f);
	CHECK(filter_compile(&f, " \t\n", NULL) == 0 && !f);
	CHECK(filter_compile(&f, NULL, NULL) == 0 && !f);
	CHECK(filter_match(NULL, m, NULL));
	CHECK_STR(filter_text(NULL), "");
	filter_free(NULL);
	msg_free(m);
}

static void test_fields_grpc(void)
{
	struct message *q = grpc_request(), *r = grpc_response();

	CHECK(match("path == /payments.Ledger/Charge", q));
	CHECK(match("/payments\\.Ledger/", q));
	CHECK(match("Ledger/Charge", r));
	CHECK(match("Charge|Refund", q));
	CHECK(no_match("Refund|Capture", q));
	CHECK(no_match("!Ledger", q));
	CHECK(match("!health", q));
	CHECK(no_match("path ~ ledger", q));
	CHECK(match("path ~ '(?i)ledger'", q));
	CHECK(match("service == payments.Ledger and rpc == Charge", q));
	CHECK(match("service ~ '^payments\\.' rpc ~ ^Ch", r));
	CHECK(no_match("service == payments", q));
	msg_set_str(&q->path, "/Charge", 7);
	CHECK(no_match("service or rpc", q));
	msg_set_str(&q->path, "/payments.Ledger/Charge", 23);
	CHECK(match("method == POST", q));
	CHECK(match("host == ledger:443", q));
	CHECK(match("proto == grpc and dir == req and role == client", q));
	CHECK(match("dir == resp", r));
	CHECK(match("content_type ~ ^application/grpc", q));
	CHECK(match("header[\"x-request-id\"] ~ '^abc'", q));
	CHECK(match("header[\"X-Request-ID\"] == def456", q));
	CHECK(no_match("header[\"x-request-id\"] == zzz", q));
	/* != and !~: present, and no value equal or matching */
	CHECK(no_match("header[\"x-request-id\"] != abc123", q));
	CHECK(match("header[\"x-request-id\"] !~ zzz", q));
	CHECK(no_match("header[nope] != x", q));
	CHECK(match("not header[nope] == x", q));
	/* a header whose value is unknown is present, and nothing more */
	CHECK(match("header[x-unknown]", q));
	CHECK(no_match("header[x-unknown] != x", q));
	CHECK(match("header[\"grpc-status\"] == 14", r));
	CHECK(no_match("header[\"grpc-status\"]", q));
	CHECK(match("body ~ 'amount: \\d+ EUR'", q));
	CHECK(no_match("body ~ USD", q));
	CHECK(match("body", q));
	CHECK(match("pid == 4312 and tid == 4313", q));
	CHECK(match("pid ~ ^43", q));
	/* comm fills all 16 bytes, without a NUL */
	CHECK(match("comm == ledger-client-xx", q));
	CHECK(match("comm ~ 'xx$'", q));
	CHECK(match("src == 10.0.0.1:51000 and dst == 10.0.0.2:443", q));
	CHECK(match("src == 10.0.0.2:443 and dst == 10.0.0.1:51000", r));
	CHECK(match("lport == 51000 rport == 443", r));
	CHECK(match("stream == 1 and stream < 2", q));
	CHECK(match("len == 20 and len < 1K", q));
	CHECK(match("grpc_status == UNAVAILABLE", r));
	CHECK(match("grpc_status == unavailable", r));
	CHECK(match("grpc_status == 14 and grpc_status != OK", r));
	CHECK(match("grpc_status > DEADLINE_EXCEEDED", r));
	CHECK(no_match("grpc_status", q));
	CHECK(match("grpc_message ~ upstream", r));
	CHECK(match("status == 200", r));
	CHECK(match("status and stream and pid and len and proto and dir", r));
	CHECK(no_match("status", q));
	CHECK(match("error", r));
	CHECK(no_match("error", q));
	CHECK(no_match("truncated", q));
	CHECK(match("grpc_status == UNAVAILABLE or latency > 1s", r));
	CHECK(match("service == payments.Ledger and error", r));
	msg_free(q);
	msg_free(r);
}

static void test_fields_h1(void)
{
	struct message *m = h1_response();

	CHECK(match("path ~ '^/api/users\\?id='", m));
	CHECK(no_match("service", m));
	CHECK(no_match("rpc", m));
	CHECK(match("host == example.com", m));
	CHECK(match("content_type == application/json", m));
	CHECK(match("proto == h1 and not proto == h2", m));
	CHECK(match("not proto == grpc", m));
	CHECK(match("comm ~ '^nginx' and status >= 500", m));
	CHECK(match("status ~ ^5", m));
	CHECK(match("error and truncated", m));
	CHECK(match("role == server", m));
	/* the server sent it: it comes from the local end */
	CHECK(match("src == '[::1]:443' and dst == '[::2]:40000'", m));
	CHECK(match("lport == 443 and rport == 40000", m));
	/* the body is bytes, with a NUL inside */
	CHECK(match("body ~ 'oops\"}\\x00tail$'", m));
	CHECK(match("len > 20 and len <= 21", m));
	CHECK(no_match("stream", m));
	CHECK(no_match("grpc_status or grpc_message", m));
	m->who.flags = 0;
	CHECK(no_match("src or dst or lport or rport or role", m));
	CHECK(match("not src", m));
	msg_free(m);
}

static void test_latency_units(void)
{
	struct message *m = h1_response();

	CHECK(match("latency == 250ms", m));
	CHECK(match("latency == 250", m));
	CHECK(match("latency == 250000us", m));
	CHECK(match("latency == 250000000ns", m));
	CHECK(match("latency == 0.25s", m));
	CHECK(error_at("latency == .25s", 11, "'latency' takes a duration"));
	CHECK(match("latency > 249.999ms and latency < 250.001MS", m));
	CHECK(no_match("latency > 250ms", m));
	CHECK(no_match("latency < 250ms", m));
	CHECK(match("latency <= 250ms and latency < 250001us", m));
	CHECK(match("latency >= 250ms", m));
	CHECK(match("len > 0.01K", m));
	CHECK(match("len < 1M and len < 1g", m));
	m->latency_ns = 0;
	CHECK(no_match("latency < 1s", m));
	CHECK(match("not latency", m));
	msg_free(m);
}

static void test_unknown_path(void)
{
	struct message *m = msg_new(MSG_H2, MSG_REQUEST, true);
	struct message *k = grpc_request();
	struct message *g = msg_new(MSG_H2, MSG_GOAWAY, false);

	m->flags |= MSG_F_PATH_UNKNOWN;
	CHECK(match("path == unknown", m));
	CHECK(no_match("path != unknown", m));
	CHECK(no_match("path ~ ''", m));
	CHECK(no_match("path", m));
	CHECK(no_match("path !~ x", m));
	CHECK(no_match("path == 'unknown'", m));
	CHECK(no_match("path == unknown", k));
	CHECK(match("path != unknown", k));
	CHECK(no_match("path == unknown or path != unknown", g));
	CHECK(no_match("dir == req or dir == resp or dir", g));
	CHECK(match("proto == h2", g));
	msg_free(m);
	msg_free(k);
	msg_free(g);
}

static void test_error_field(void)
{
	struct message *m = msg_new(MSG_H2, MSG_RESET, false);

	m->error_code = 8;
	CHECK(match("error and dir == resp", m));
	m->error_code = 0;
	CHECK(no_match("error", m));
	m->flags |= MSG_F_DECODE_ERROR;
	CHECK(match("error", m));
	m->flags = MSG_F_GAP;
	CHECK(match("truncated", m));
	m->flags = MSG_F_HEADERS_CUT;
	CHECK(match("truncated", m));
	/* a body that was not kept is still there */
	CHECK(no_match("body", m));
	m->body_len = 10;
	CHECK(match("body and not body ~ ''", m));
	msg_free(m);
}

static const char *env_exe(uint32_t pid, void *arg)
{
	return pid == 4312 ? "/usr/bin/ledger" : NULL;
}

static const char *env_container(uint32_t pid, void *arg)
{
	return pid == 4312 ? "payments-7f9c" : NULL;
}

static const char *env_lib(uint32_t lib_id, void *arg)
{
	return lib_id == 2 ? "boringssl" : "openssl";
}

static bool env_marked(uint64_t msg_id, void *arg)
{
	return msg_id == *(uint64_t *)arg;
}

static void test_env(void)
{
	uint64_t marked = 1;
	struct filter_env env = { env_lib, env_exe, env_container, env_marked, &marked };
	struct message *m = grpc_request();

	CHECK(match_env("exe == /usr/bin/ledger and container ~ ^payments", m, &env));
	CHECK(match_env("lib == boringssl and marked", m, &env));
	marked = 2;
	CHECK(!match_env("marked", m, &env));
	CHECK(!match_env("exe or container or lib or marked", m, NULL));
	CHECK(match_env("not exe", m, NULL));
	msg_free(m);
}

static void test_errors(void)
{
	CHECK(error_at("pth ~ x", 0, "unknown field 'pth' (fields: path, service, rpc,"));
	/* a long token is quoted cut, but not inside a UTF-8 character */
#define E6 "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
	CHECK(error_at("a" E6 E6 " ~ x", 0,
		       "unknown field 'a" E6 "\u00e9\u00e9\u00e9\u00e9\u00e9' ("));
#undef E6
	CHECK(error_at("path ==", 7, "expected a value after '=='"));
	CHECK(error_at("path == and", 8, "expected a value after '=='"));
	CHECK(error_at("(path ~ a", 0, "unbalanced '('"));
	CHECK(error_at("a (b (c)", 2, "unbalanced '('"));
	CHECK(error_at("path ~ a)", 8, "unbalanced ')'"));
	CHECK(error_at("path ~ a ~ b", 9, "unexpected '~'"));
	CHECK(error_at("(path ~ a ~ b)", 10, "unexpected '~'"));
	CHECK(error_at("path < 3", 5, "'<' does not apply to 'path'"));
	CHECK(error_at("latency ~ 1", 8, "'~' does not apply to 'latency'"));
	CHECK(error_at("error == 1", 6, "'error' takes no value"));
	CHECK(error_at("status > abc", 9, "'status' takes a number, not 'abc'"));
	CHECK(error_at("status > 1.5", 9, "'status' takes a number"));
	CHECK(error_at("status > 99999999999999999999", 9, "'status' takes a number"));
	CHECK(error_at("latency > 1h", 10, "'latency' takes a duration"));
	CHECK(error_at("latency > 1.s", 10, "'latency' takes a duration"));
	CHECK(error_at("latency > 18446744073709551615s", 10, "'latency' takes a duration"));
	CHECK(error_at("len > 4KB", 6, "'len' takes a size"));
	CHECK(error_at("grpc_status == NOPE", 15, "'grpc_status' takes a gRPC status"));
	CHECK(error_at("proto == http2", 9, "'proto' is one of: h1 h2 grpc"));
	CHECK(error_at("dir != request", 7, "'dir' is one of: req resp"));
	CHECK(error_at("path ~ 'abc", 7, "unterminated quote"));
	CHECK(error_at("path = x", 5, "'=' is not an operator"));
	CHECK(error_at("header ~ x", 0, "expected a header name"));
	CHECK(error_at("header[] ~ x", 7, "expected a header name"));
	CHECK(error_at("header[\"x\" ~ 1", 10, "expected ']'"));
	CHECK(error_at("header[x", 8, "expected ']'"));
	CHECK(error_at("header['x", 7, "unterminated quote"));
	CHECK(error_at("and x", 0, "expected a term, not 'and'"));
	CHECK(error_at("x and", 5, "expected a term after 'and'"));
	CHECK(error_at("x or )", 5, "expected a term after 'or'"));
	CHECK(error_at("()", 1, "expected a term after '('"));
	CHECK(error_at("== 5", 0, "expected a term, not '=='"));
	CHECK(error_at("!", 1, "expected a term after '!'"));
	/* PCRE2's message, its offset mapped into the expression */
	CHECK(error_at("path ~ (", 7, "expected a value after '~'"));
	CHECK(error_at("path ~ a{2,1}", 12, "numbers out of order in {} quantifier"));
	CHECK(error_at("'[z-a]'", 4, "range out of order in character class"));
	CHECK(error_at("path ~ '\\'a**'", 12, "quantifier does not follow a repeatable item"));
	CHECK(error_at("body ~ \"\\\"x)y\"", 11, "unmatched closing parenthesis"));
	CHECK(error_at("body ~ 'it\\'s (x'", 16, "missing closing parenthesis"));
	CHECK(error_at("status ~ '\\\\'", 12, "\\ at end of pattern"));
	/* the first error wins over a later one */
	CHECK(error_at("path ~ '(' 'abc", 9, "missing closing parenthesis"));
}

static void test_depth(void)
{
	char expr[2 * FILTER_DEPTH_MAX + 8];
	size_t n = FILTER_DEPTH_MAX;

	memset(expr, '(', n);
	expr[n] = 'a';
	memset(expr + n + 1, ')', n);
	expr[2 * n + 1] = '\0';
	CHECK(tree(expr, "path~a"));
	memset(expr, '!', n + 1);
	strcpy(expr + n + 1, "a");
	CHECK(error_at(expr, n, "expression nested too deeply"));
	memset(expr, '(', n + 1);
	strcpy(expr + n + 1, "a");
	CHECK(error_at(expr, n, "expression nested too deeply"));
}

/* The names and the reference agree with the language. */
static void test_names(void)
{
	size_t n = 0;

	for (; filter_field_names[n]; n++) {
		bool found = false;

		for (size_t i = 0; filter_reference[i]; i++)
			found |= strstr(filter_reference[i], filter_field_names[n]) != NULL;
		CHECK(found);
	}
	CHECK_EQ_U64(n, FF_COUNT);
	for (size_t i = 0; filter_reference[i]; i++)
		CHECK(strlen(filter_reference[i]) <= 80);
	/* the examples of UX.md B.5 */
	CHECK(tree("service == payments.Ledger and error",
		   "(and service==payments.Ledger error)"));
	CHECK(tree("grpc_status == UNAVAILABLE or latency > 1s",
		   "(or grpc_status==UNAVAILABLE latency>1s)"));
}

int main(void)
{
	test_parse();
	test_tree_details();
	test_empty();
	test_fields_grpc();
	test_fields_h1();
	test_latency_units();
	test_unknown_path();
	test_error_field();
	test_env();
	test_errors();
	test_depth();
	test_names();
	return unit_result("test_filter");
}
