/* eval.c - runs a compiled filter on a message without allocating; frees
 * filters; the field names and the language reference. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "filter_int.h"
#include "methods.h"
#include "output.h"

const char *const filter_field_names[] = {
	[FF_PATH] = "path",
	[FF_SERVICE] = "service",
	[FF_RPC] = "rpc",
	[FF_METHOD] = "method",
	[FF_HOST] = "host",
	[FF_STATUS] = "status",
	[FF_GRPC_STATUS] = "grpc_status",
	[FF_GRPC_MESSAGE] = "grpc_message",
	[FF_HEADER] = "header",
	[FF_BODY] = "body",
	[FF_CONTENT_TYPE] = "content_type",
	[FF_PROTO] = "proto",
	[FF_DIR] = "dir",
	[FF_PID] = "pid",
	[FF_TID] = "tid",
	[FF_COMM] = "comm",
	[FF_EXE] = "exe",
	[FF_CONTAINER] = "container",
	[FF_LIB] = "lib",
	[FF_ROLE] = "role",
	[FF_SRC] = "src",
	[FF_DST] = "dst",
	[FF_LPORT] = "lport",
	[FF_RPORT] = "rport",
	[FF_LATENCY] = "latency",
	[FF_LEN] = "len",
	[FF_TRUNCATED] = "truncated",
	[FF_STREAM] = "stream",
	[FF_MARKED] = "marked",
	[FF_ERROR] = "error",
	[FF_COUNT] = NULL,
};

_Static_assert(sizeof(filter_field_names) / sizeof(filter_field_names[0]) == FF_COUNT + 1,
	       "a name for every field");

const char *const filter_reference[] = {
	"FIELD OP VALUE  compare: status >= 500   comm ~ '^nginx'",
	"FIELD           is present: header[\"x-request-id\"]   grpc_message   error",
	"VALUE           alone means path ~ VALUE: Ledger/Charge   '(Get|List)Users'",
	"a and b  a b    both (also && &): adjacent terms are and-ed",
	"a or b          either (also || |): Charge|Refund = path ~ Charge or ~ Refund",
	"not a           negation (also !): !health = not path ~ health",
	"( )             grouping; not binds tighter than and, and than or",
	"Operators  ~ !~ PCRE2 regex, case-sensitive, (?i) ignores case; == != < <= > >=",
	"Quoting    '...' or \"...\" when a value holds blanks ( ) ' \" ~ ! = < > & |;",
	"           \\' \\\" \\\\ are escapes, other backslashes are the regex's",
	"Absent     a field without a value fails every comparison: != and !~ too",
	"Unknown    path == unknown: the path could not be decoded",
	"path         HTTP or gRPC :path          service rpc  gRPC /service/rpc parts",
	"method       HTTP request method         host         :authority or Host",
	"status       HTTP response status        grpc_status  code or name (UNAVAILABLE)",
	"grpc_message gRPC error message          header[\"n\"]  any header or trailer n",
	"body         body, gRPC messages kept    content_type content-type header",
	"proto        h1 h2 grpc                  dir          req resp",
	"pid tid      process, thread id          comm         process name",
	"exe          executable path             container    the process's container",
	"lib          TLS library                 role         client server",
	"src dst      sender, receiver ip:port    lport rport  local, remote port",
	"latency      800us 250ms 1.5s (bare: ms) len          body bytes: 512 4K 1M",
	"stream       HTTP/2 stream id",
	"marked       marked with m               truncated    bytes lost or cut",
	"error        status >= 500, grpc_status != 0, RST_STREAM or a decoder error",
	"Examples   /payments\\.Ledger/   service == payments.Ledger and error",
	"           grpc_status == UNAVAILABLE or latency > 1s",
	"           comm ~ '^nginx' and status >= 500   header[\"x-request-id\"] ~ '^abc'",
	"           not proto == h1",
	NULL,
};

/* One term's look at a message: fields with several values (headers,
 * bodies) report each one. */
struct probe {
	const struct filter *f;
	const struct filter_term *t;
	bool present; /* the field has a value */
	bool hit; /* a value satisfies the op (for != and !~: == and ~) */
};

static bool regex_hit(const struct filter *f, const struct filter_term *t, const char *s, size_t n)
{
	int rc;

	if (t->jit)
		rc = pcre2_jit_match(t->re, (PCRE2_SPTR)s, n, 0, 0, f->md, f->mctx);
	else
		rc = pcre2_match(t->re, (PCRE2_SPTR)s, n, 0, 0, f->md, f->mctx);
	/* 0: a match with more groups than the match data holds */
	return rc >= 0;
}

static void see_text(struct probe *pr, const char *s, size_t n)
{
	const struct filter_term *t = pr->t;

	pr->present = true;
	if (pr->hit || t->op == FOP_PRESENT)
		return;
	if (t->re)
		pr->hit = regex_hit(pr->f, t, s, n);
	else
		pr->hit = n == t->len && !memcmp(s, t->str, n);
}

static void see_str(struct probe *pr, const char *s)
{
	if (s)
		see_text(pr, s, strlen(s));
}

/* Decimal digits of v at the end of buf[24]; returns where they start. */
static char *u64_text(char buf[24], uint64_t v)
{
	char *p = buf + 24;

	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	return p;
}

static void see_num(struct probe *pr, uint64_t v)
{
	const struct filter_term *t = pr->t;
	char buf[24], *s;

	if (t->re) {
		s = u64_text(buf, v);
		see_text(pr, s, (size_t)(buf + sizeof(buf) - s));
		return;
	}
	pr->present = true;
	switch (t->op) {
	case FOP_EQ:
	case FOP_NE:
		pr->hit = v == t->num;
		break;
	case FOP_LT:
		pr->hit = v < t->num;
		break;
	case FOP_LE:
		pr->hit = v <= t->num;
		break;
	case FOP_GT:
		pr->hit = v > t->num;
		break;
	case FOP_GE:
		pr->hit = v >= t->num;
		break;
	default:
		break;
	}
}

static void see_path(struct probe *pr, const struct message *m)
{
	bool unknown = m->flags & MSG_F_PATH_UNKNOWN;

	if (pr->t->unknown) {
		pr->present = unknown || m->path;
		pr->hit = unknown;
	} else if (!unknown) {
		see_str(pr, m->path);
	}
}

/* "/pkg.Service/Method" of a gRPC call: service, or rpc when rpc. */
static void see_grpc_name(struct probe *pr, const struct message *m, bool rpc)
{
	const char *path = m->path, *slash;

	if (m->proto != MSG_GRPC || !path || (m->flags & MSG_F_PATH_UNKNOWN) || path[0] != '/')
		return;
	slash = strrchr(path, '/');
	if (slash == path)
		return;
	if (rpc)
		see_str(pr, slash + 1);
	else
		see_text(pr, path + 1, (size_t)(slash - path - 1));
}

static const char *header_value(const struct message *m, const char *name)
{
	const struct msg_header *h = msg_header(m, name);

	return h ? h->value : NULL;
}

/* Every header and trailer with the term's name; one whose value is
 * unknown counts for presence only. */
static void see_headers(struct probe *pr, const struct message *m)
{
	for (uint32_t i = 0; i < m->nheaders; i++) {
		const struct msg_header *h = &m->headers[i];

		if (!h->name || strcasecmp(h->name, pr->t->name))
			continue;
		if (h->value)
			see_str(pr, h->value);
		else if (pr->t->op == FOP_PRESENT)
			pr->present = true;
	}
}

static void see_body(struct probe *pr, const struct message *m)
{
	if (m->body_captured)
		see_text(pr, (const char *)m->body, m->body_captured);
	for (uint32_t i = 0; i < m->ngrpc; i++)
		if (m->grpc[i].data_len)
			see_text(pr, (const char *)m->grpc[i].data, m->grpc[i].data_len);
	/* a body that was not kept is still a body */
	pr->present |= m->body_len || m->grpc_total;
}

static const char *dir_name(enum msg_kind kind)
{
	if (kind == MSG_REQUEST)
		return "req";
	return kind == MSG_RESPONSE || kind == MSG_RESET ? "resp" : NULL;
}

/* Fields of the HTTP message itself. */
static void see_message_field(struct probe *pr, const struct message *m)
{
	switch (pr->t->field) {
	case FF_PATH:
		see_path(pr, m);
		break;
	case FF_SERVICE:
	case FF_RPC:
		see_grpc_name(pr, m, pr->t->field == FF_RPC);
		break;
	case FF_METHOD:
		see_str(pr, m->method);
		break;
	case FF_HOST:
		see_str(pr, m->authority ? m->authority : header_value(m, "host"));
		break;
	case FF_STATUS:
		if (m->status >= 0)
			see_num(pr, (uint64_t)m->status);
		break;
	case FF_GRPC_STATUS:
		if (m->grpc_status >= 0)
			see_num(pr, (uint64_t)m->grpc_status);
		break;
	case FF_GRPC_MESSAGE:
		see_str(pr, m->grpc_message);
		break;
	case FF_HEADER:
		see_headers(pr, m);
		break;
	case FF_BODY:
		see_body(pr, m);
		break;
	case FF_CONTENT_TYPE:
		see_str(pr, header_value(m, "content-type"));
		break;
	case FF_PROTO:
		see_str(pr, msg_proto_name(m->proto));
		break;
	case FF_DIR:
		see_str(pr, dir_name(m->kind));
		break;
	case FF_LATENCY:
		if (m->latency_ns)
			see_num(pr, m->latency_ns);
		break;
	case FF_LEN:
		see_num(pr, m->body_len);
		break;
	case FF_TRUNCATED:
		pr->present = m->flags & (MSG_F_GAP | MSG_F_BODY_CUT | MSG_F_HEADERS_CUT);
		break;
	case FF_STREAM:
		if (m->proto != MSG_H1)
			see_num(pr, m->stream);
		break;
	case FF_ERROR:
		pr->present = methods_is_error(m) || (m->flags & MSG_F_DECODE_ERROR);
		break;
	default:
		break;
	}
}

static bool has_inet_addr(const struct tlstop_data *d)
{
	return (d->flags & TLSTOP_F_HAS_FD) &&
	       (d->addr.family == AF_INET || d->addr.family == AF_INET6);
}

static void see_endpoint(struct probe *pr, const struct message *m, bool local)
{
	char buf[64];

	if (output_endpoint(buf, sizeof(buf), &m->who, local))
		see_str(pr, buf);
}

static const char *env_str(const char *(*fn)(uint32_t, void *), uint32_t key, void *arg)
{
	return fn ? fn(key, arg) : NULL;
}

/* Fields of the process and connection that carried the message here,
 * the others in see_message_field(). */
static void see_field(struct probe *pr, const struct message *m, const struct filter_env *env)
{
	const struct tlstop_data *d = &m->who;

	switch (pr->t->field) {
	case FF_PID:
		see_num(pr, d->pid);
		break;
	case FF_TID:
		see_num(pr, d->tid);
		break;
	case FF_COMM:
		see_text(pr, d->comm, strnlen(d->comm, TLSTOP_COMM_LEN));
		break;
	case FF_EXE:
		see_str(pr, env_str(env->exe, d->pid, env->arg));
		break;
	case FF_CONTAINER:
		see_str(pr, env_str(env->container, d->pid, env->arg));
		break;
	case FF_LIB:
		see_str(pr, env_str(env->lib, d->lib_id, env->arg));
		break;
	case FF_ROLE:
		see_str(pr, d->flags & TLSTOP_F_HAS_FD ? output_role_name(d->addr.role) : NULL);
		break;
	case FF_SRC:
	case FF_DST:
		/* the traced process sent it: the sender is the local end */
		see_endpoint(pr, m, m->out == (pr->t->field == FF_SRC));
		break;
	case FF_LPORT:
	case FF_RPORT:
		if (has_inet_addr(d))
			see_num(pr, pr->t->field == FF_LPORT ? d->addr.lport : d->addr.rport);
		break;
	case FF_MARKED:
		pr->present = env->marked && env->marked(m->id, env->arg);
		break;
	default:
		see_message_field(pr, m);
		break;
	}
}

static bool term_match(const struct filter *f, const struct filter_term *t,
		       const struct message *m, const struct filter_env *env)
{
	struct probe pr = { f, t, false, false };

	see_field(&pr, m, env);
	switch (t->op) {
	case FOP_PRESENT:
		return pr.present;
	case FOP_NOMATCH:
	case FOP_NE:
		return pr.present && !pr.hit;
	default:
		return pr.hit;
	}
}

static bool node_match(const struct filter *f, const struct filter_node *n,
		       const struct message *m, const struct filter_env *env)
{
	bool any = n->kind == FN_OR;

	switch (n->kind) {
	case FN_AND:
	case FN_OR:
		/* and stops at the first false, or at the first true */
		for (const struct filter_node *k = n->kid; k; k = k->next)
			if (node_match(f, k, m, env) == any)
				return any;
		return !any;
	case FN_NOT:
		return !node_match(f, n->kid, m, env);
	case FN_TERM:
		break;
	}
	return term_match(f, &n->term, m, env);
}

bool filter_match(const struct filter *f, const struct message *m, const struct filter_env *env)
{
	static const struct filter_env none;

	return !f || node_match(f, f->root, m, env ? env : &none);
}

const char *filter_text(const struct filter *f)
{
	return f ? f->text : "";
}

void filter_node_free(struct filter_node *n)
{
	while (n) {
		struct filter_node *next = n->next;

		filter_node_free(n->kid);
		free(n->term.name);
		free(n->term.str);
		pcre2_code_free(n->term.re);
		free(n);
		n = next;
	}
}

void filter_free(struct filter *f)
{
	if (!f)
		return;
	filter_node_free(f->root);
	pcre2_match_data_free(f->md);
	pcre2_match_context_free(f->mctx);
	free(f->text);
	free(f);
}
