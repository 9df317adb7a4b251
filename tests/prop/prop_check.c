/* prop_check.c - the oracle of the property test. Both runs go through
 * capture and the connection table; the filter of the phase a message
 * started in judges it; every message the reference run accepts must have
 * an identical, no less complete twin in the test run. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conns.h"
#include "filter.h"
#include "prop_check.h"

static const struct msg_limits lim = {
	.body_max = 1 << 20, /* every body whole: a cut one would hide differences */
	.grpc_max = 64,
	.header_bytes_max = 1 << 16,
};

/* flags that say a message is less than it was in the reference */
#define WORSE_FLAGS (MSG_F_GAP | MSG_F_INCOMPLETE | MSG_F_DECODE_ERROR | MSG_F_PATH_UNKNOWN)

/* ---- one run of a trial's calls ---- */

struct run {
	struct stats *stats;
	struct capture *cap;
	struct conns *conns;
	struct filter *const *f; /* [phase] */
	uint8_t phase; /* of the calls being fed */
	uint64_t phase_ts; /* ts of the first call of phase 1 that came out */
	struct message **msgs; /* accepted, in the order they came */
	size_t n, cap_msgs;
	uint64_t decoded;
	uint64_t unclean; /* decoded with any of WORSE_FLAGS, not reset */
	uint64_t bytes;
	bool oom;
};

static void on_call(const struct tls_call *call, void *arg)
{
	struct run *r = arg;

	if (r->phase && call->hdr->ts_ns < r->phase_ts)
		r->phase_ts = call->hdr->ts_ns;
	conns_call(r->conns, call);
}

static void on_proc(const struct tlstop_proc *notice, void *arg)
{
}

static const struct capture_ops ops = { on_call, on_proc };

static void on_msg(struct message *m, void *arg)
{
	struct run *r = arg;
	struct message **msgs;

	r->decoded++;
	r->unclean += (m->flags & WORSE_FLAGS) && !(m->flags & MSG_F_RESET);
	if (!filter_match(r->f[m->start_ns >= r->phase_ts], m, NULL)) {
		msg_free(m);
		return;
	}
	if (r->n == r->cap_msgs) {
		r->cap_msgs = r->cap_msgs ? 2 * r->cap_msgs : 64;
		msgs = realloc(r->msgs, r->cap_msgs * sizeof(*msgs));
		if (!msgs) {
			r->oom = true;
			msg_free(m);
			return;
		}
		r->msgs = msgs;
	}
	r->msgs[r->n++] = m;
}

static int run_open(struct run *r, struct filter *const *f)
{
	struct conns_config cfg = { .sink = { on_msg, r }, .lim = &lim };

	r->f = f;
	r->phase_ts = UINT64_MAX;
	r->stats = calloc(1, sizeof(*r->stats));
	if (!r->stats)
		return -1;
	cfg.cnt = &r->stats->proto;
	r->cap = capture_new(&ops, r, r->stats);
	r->conns = conns_new(&cfg);
	return r->cap && r->conns ? 0 : -1;
}

/* Flushes what capture and the decoders still hold into the sink. */
static void run_end(struct run *r)
{
	if (r->cap)
		capture_flush(r->cap, UINT64_MAX);
	conns_free(r->conns);
	r->conns = NULL;
	capture_free(r->cap);
	r->cap = NULL;
}

static void run_free(struct run *r)
{
	run_end(r);
	for (size_t i = 0; i < r->n; i++)
		msg_free(r->msgs[i]);
	free(r->msgs);
	free(r->stats);
}

/* The trial's calls through transport t; rules[phase] given first and at
 * the change, or none (the reference). */
static int run_calls(struct prop_check *pc, struct run *r, const struct prop_transport *tr,
		     void *t, const struct prop_trial *trial, const struct kf_rules *rules)
{
	int err = 0;

	if (rules && tr->set_rules(t, &rules[0], ++pc->gen))
		err = -1;
	for (size_t i = 0; i < trial->ncalls && !err; i++) {
		if (i == trial->change_at) {
			r->phase = 1;
			if (rules && tr->set_rules(t, &rules[1], ++pc->gen))
				err = -1;
		}
		if (!err && tr->call(t, &trial->calls[i], r->cap))
			err = -1;
	}
	/* what the capture received: record headers and data, skips included */
	r->bytes = r->stats->delivered_bytes;
	run_end(r);
	if (err)
		fprintf(stderr, "kf_prop: transport %s failed (seed %" PRIu64 ")\n", tr->name,
			trial->seed);
	else if (r->oom)
		fprintf(stderr, "kf_prop: out of memory\n");
	return err || r->oom ? -1 : 0;
}

/* ---- comparison ---- */

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Offset of the first differing byte, or -1. */
static long bytes_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return (long)i;
	return -1;
}

#define DIFF(cond, ...)                                       \
	do {                                                  \
		if (cond) {                                   \
			snprintf(buf, len, __VA_ARGS__);      \
			return buf;                           \
		}                                             \
	} while (0)

static const char *str_or_null(const char *s)
{
	return s ? s : "(null)";
}

static const char *headers_diff(const struct message *a, const struct message *b, char *buf,
				size_t len)
{
	DIFF(a->nheaders != b->nheaders, "%u headers, the reference %u", b->nheaders, a->nheaders);
	for (uint32_t i = 0; i < a->nheaders; i++) {
		const struct msg_header *x = &a->headers[i], *y = &b->headers[i];

		DIFF(!str_eq(x->name, y->name) || !str_eq(x->value, y->value) ||
			     x->flags != y->flags,
		     "header %u: %s: %s (flags 0x%x), the reference %s: %s (flags 0x%x)", i,
		     str_or_null(y->name), str_or_null(y->value), y->flags, str_or_null(x->name),
		     str_or_null(x->value), x->flags);
	}
	return NULL;
}

static const char *grpc_diff(const struct message *a, const struct message *b, char *buf,
			     size_t len)
{
	DIFF(a->grpc_total != b->grpc_total || a->ngrpc != b->ngrpc,
	     "%u gRPC messages (%u kept), the reference %u (%u)", b->grpc_total, b->ngrpc,
	     a->grpc_total, a->ngrpc);
	for (uint32_t i = 0; i < a->ngrpc; i++) {
		const struct grpc_msg *x = &a->grpc[i], *y = &b->grpc[i];
		long at;

		DIFF(x->len != y->len || x->compressed != y->compressed ||
			     x->inflated != y->inflated || x->incomplete != y->incomplete ||
			     x->data_len != y->data_len || x->full_len != y->full_len,
		     "gRPC message %u: len %u kept %u incomplete %d, the reference %u %u %d", i,
		     y->len, y->data_len, y->incomplete, x->len, x->data_len, x->incomplete);
		at = bytes_diff(x->data, y->data, x->data_len);
		DIFF(at >= 0, "gRPC message %u, byte %ld: 0x%02x, the reference 0x%02x", i, at,
		     y->data[at], x->data[at]);
	}
	return NULL;
}

/* What makes b (the test run's) differ from a (the reference's), or NULL. */
static const char *msg_diff(const struct message *a, const struct message *b, char *buf,
			    size_t len)
{
	uint32_t worse = b->flags & WORSE_FLAGS & ~a->flags;
	long at;

	DIFF(a->proto != b->proto, "proto %s", msg_proto_name(b->proto));
	DIFF(a->who.pid != b->who.pid, "pid %u", b->who.pid);
	DIFF(!str_eq(a->method, b->method), "method %s", str_or_null(b->method));
	DIFF(!str_eq(a->path, b->path), "path %s", str_or_null(b->path));
	DIFF(!str_eq(a->authority, b->authority), "authority %s", str_or_null(b->authority));
	DIFF(!str_eq(a->scheme, b->scheme), "scheme %s", str_or_null(b->scheme));
	DIFF(a->status != b->status, "status %d", b->status);
	DIFF(a->grpc_status != b->grpc_status, "grpc_status %d", b->grpc_status);
	DIFF(!str_eq(a->grpc_message, b->grpc_message), "grpc_message %s",
	     str_or_null(b->grpc_message));
	DIFF(a->error_code != b->error_code || a->last_stream != b->last_stream,
	     "error code %u, last stream %u", b->error_code, b->last_stream);
	DIFF(worse, "flags 0x%x, the reference 0x%x: less complete", b->flags, a->flags);
	DIFF((a->flags & ~WORSE_FLAGS) != (b->flags & ~WORSE_FLAGS),
	     "flags 0x%x, the reference 0x%x", b->flags, a->flags);
	if (headers_diff(a, b, buf, len))
		return buf;
	DIFF(a->body_len != b->body_len || a->body_captured != b->body_captured,
	     "body %" PRIu64 " bytes (%u kept), the reference %" PRIu64 " (%u)", b->body_len,
	     b->body_captured, a->body_len, a->body_captured);
	at = bytes_diff(a->body, b->body, a->body_captured);
	DIFF(at >= 0, "body byte %ld: 0x%02x, the reference 0x%02x", at, b->body[at], a->body[at]);
	return grpc_diff(a, b, buf, len);
}

static bool same_key(const struct message *a, const struct message *b)
{
	return a->who.ssl == b->who.ssl && a->out == b->out && a->kind == b->kind &&
	       a->stream == b->stream;
}

/* ---- the report of a failure ---- */

static void put_escaped(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isprint(c) && c != '\\')
			putc(c, f);
		else
			fprintf(f, "\\x%02x", c);
	}
}

static void put_str(const char *s)
{
	if (!s) {
		fputs("(null)", stderr);
		return;
	}
	putc('"', stderr);
	put_escaped(stderr, s, strlen(s));
	putc('"', stderr);
}

static void print_rules(const struct kf_rules *r, uint32_t gen)
{
	fprintf(stderr, "  rules (gen %u): pids ", gen);
	if (!r->pids_set)
		fputs("any", stderr);
	for (uint32_t i = 0; r->pids_set && i < r->npids; i++)
		fprintf(stderr, "%s%u", i ? "," : "{", (unsigned int)r->pids[i]);
	fputs(r->pids_set ? "}" : "", stderr);
	fputs("; comms ", stderr);
	if (!r->comms_set)
		fputs("any", stderr);
	for (uint32_t i = 0; r->comms_set && i < r->ncomms; i++) {
		fputs(i ? "," : "{", stderr);
		put_str(r->comms[i]);
	}
	fputs(r->comms_set ? "}" : "", stderr);
	fputs("; path prefixes ", stderr);
	if (!r->paths_set)
		fputs("any", stderr);
	for (uint32_t i = 0; r->paths_set && i < r->nprefixes; i++) {
		fputs(i ? "," : "{", stderr);
		putc('"', stderr);
		put_escaped(stderr, (const char *)r->prefixes[i].s, r->prefixes[i].len);
		putc('"', stderr);
	}
	fputs(r->paths_set ? "}\n" : "\n", stderr);
}

static void print_msg(const char *who, const struct message *m)
{
	fprintf(stderr, "  %s: conn 0x%" PRIx64 " %s %s %s stream %u method ", who,
		(uint64_t)m->who.ssl, msg_proto_name(m->proto), msg_kind_name(m->kind),
		m->out ? "out" : "in", m->stream);
	put_str(m->method);
	fputs(" path ", stderr);
	put_str(m->path);
	fprintf(stderr,
		" status %d grpc_status %d flags 0x%x headers %u body %" PRIu64
		" bytes gRPC messages %u\n",
		m->status, m->grpc_status, m->flags, m->nheaders, m->body_len, m->grpc_total);
}

static void print_failure(const struct prop_check *pc, const struct prop_trial *t,
			  const struct kf_rules *rules, const struct run *test,
			  const struct message *ref, const struct message *cand, const char *why)
{
	uint32_t gen0 = pc->gen - (t->expr[1] ? 1 : 0);

	fprintf(stderr, "kf_prop: FAIL: transport %s, seed %" PRIu64 "\n", pc->tr->name, t->seed);
	fprintf(stderr, "  alone: kf_prop --transport %s --seed %" PRIu64 " --trials 1\n",
		pc->tr->name, t->seed);
	fputs("  expression: ", stderr);
	put_escaped(stderr, t->expr[0], strlen(t->expr[0]));
	putc('\n', stderr);
	print_rules(&rules[0], gen0);
	if (t->expr[1]) {
		fprintf(stderr, "  from call %zu of %zu on, expression: ", t->change_at, t->ncalls);
		put_escaped(stderr, t->expr[1], strlen(t->expr[1]));
		putc('\n', stderr);
		print_rules(&rules[1], pc->gen);
	}
	print_msg("reference message", ref);
	if (cand) {
		print_msg("test run's nearest", cand);
		fprintf(stderr, "  difference: %s\n", why);
	} else {
		fputs("  the test run has no message of that connection, direction, kind and "
		      "stream\n",
		      stderr);
	}
	fprintf(stderr,
		"  the test run accepted %zu messages; record bytes %" PRIu64
		", malformed records %" PRIu64 "\n",
		test->n, test->bytes, test->stats->bad_records);
}

/* Whether rules keep every call of the traced process out. */
static bool rules_exclude(const struct kf_rules *r, uint32_t pid, const char *comm)
{
	bool pid_in = false, comm_in = false;

	for (uint32_t i = 0; i < r->npids; i++)
		pid_in |= r->pids[i] == pid;
	for (uint32_t i = 0; i < r->ncomms; i++)
		comm_in |= !strncmp(r->comms[i], comm, TLSTOP_COMM_LEN);
	return (r->pids_set && !pid_in) || (r->comms_set && !comm_in);
}

static bool began_before_change(const struct prop_trial *t, uint64_t conn)
{
	for (size_t i = 0; i < t->change_at; i++)
		if (t->calls[i].conn == conn)
			return true;
	return false;
}

/* Rules that keep the traced process out drop its calls whole, HPACK
 * blocks included: once they change, its connections that began before
 * are joined late, as they are in tlstop. Their later messages are owed
 * nothing. */
static bool exempt(const struct prop_check *pc, const struct prop_trial *t,
		   const struct kf_rules *rules, const struct run *ref, const struct message *m)
{
	return t->expr[1] && m->start_ns >= ref->phase_ts &&
	       rules_exclude(&rules[0], pc->tr->pid(pc->t), pc->tr->comm(pc->t)) &&
	       began_before_change(t, m->who.ssl);
}

/* Pairs every accepted reference message with an identical test one. */
static int compare(struct prop_check *pc, const struct prop_trial *t,
		   const struct kf_rules *rules, const struct run *ref, const struct run *test)
{
	bool *used = calloc(test->n + 1, sizeof(*used));
	char why[256];
	int err = 0;

	if (!used) {
		fputs("kf_prop: out of memory\n", stderr);
		return -1;
	}
	for (size_t i = 0; i < ref->n && !err; i++) {
		const struct message *a = ref->msgs[i], *cand = NULL;
		size_t j;

		if (exempt(pc, t, rules, ref, a)) {
			pc->tot.exempt++;
			continue;
		}
		for (j = 0; j < test->n; j++) {
			const struct message *b = test->msgs[j];

			if (used[j] || !same_key(a, b))
				continue;
			if (!msg_diff(a, b, why, sizeof(why)))
				break;
			if (!cand || (str_eq(a->path, b->path) && !str_eq(a->path, cand->path)))
				cand = b;
		}
		if (j < test->n) {
			used[j] = true;
			pc->tot.checked++;
			continue;
		}
		if (cand)
			msg_diff(a, cand, why, sizeof(why));
		print_failure(pc, t, rules, test, a, cand, why);
		err = 1;
	}
	free(used);
	return err;
}

/* ---- a trial ---- */

static int compile(const struct prop_trial *t, struct filter **f, bool verbose)
{
	struct filter_error err;

	for (int i = 0; i < 2; i++) {
		if (!t->expr[i]) {
			f[i] = f[0];
			continue;
		}
		if (filter_compile(&f[i], t->expr[i], &err)) {
			if (verbose) {
				printf("seed %" PRIu64 ": skipped, at %zu: %s: ", t->seed,
				       err.offset, err.msg);
				put_escaped(stdout, t->expr[i], strlen(t->expr[i]));
				putc('\n', stdout);
			}
			if (i)
				filter_free(f[0]);
			return -1;
		}
	}
	return 0;
}

static void verbose_line(const struct prop_trial *t, const struct run *ref,
			 const struct run *test)
{
	printf("seed %" PRIu64 ": %zu conns, %zu calls, messages %" PRIu64
	       ", accepted %zu/%zu, bytes %" PRIu64 "/%" PRIu64 ": ",
	       t->seed, t->nconns, t->ncalls, ref->decoded, test->n, ref->n, test->bytes,
	       ref->bytes);
	put_escaped(stdout, t->expr[0], strlen(t->expr[0]));
	if (t->expr[1]) {
		fputs(" -> ", stdout);
		put_escaped(stdout, t->expr[1], strlen(t->expr[1]));
	}
	putc('\n', stdout);
}

int prop_check_trial(struct prop_check *pc, const struct prop_trial *t)
{
	struct filter *f[2];
	struct kf_rules *rules = calloc(2, sizeof(*rules));
	struct run ref = { 0 }, test = { 0 };
	int err = -1;

	if (!rules) {
		fputs("kf_prop: out of memory\n", stderr);
		return -1;
	}
	if (compile(t, f, pc->verbose)) {
		pc->tot.skipped++;
		free(rules);
		return 0;
	}
	filter_lower(f[0], &rules[0]);
	filter_lower(f[1], &rules[1]);
	if (run_open(&ref, f) || run_open(&test, f))
		fputs("kf_prop: out of memory\n", stderr);
	else if (!run_calls(pc, &ref, &prop_pass_transport, pc->ref, t, NULL) &&
		 !run_calls(pc, &test, pc->tr, pc->t, t, rules)) {
		if (pc->verbose)
			verbose_line(t, &ref, &test);
		err = compare(pc, t, rules, &ref, &test);
		pc->tot.trials++;
		pc->tot.changes += t->expr[1] != NULL;
		pc->tot.messages += ref.decoded;
		pc->tot.unclean += ref.unclean;
		pc->tot.decode_errors += ref.stats->proto.decode_errors;
		pc->tot.accepted += ref.n;
		pc->tot.delivered += test.bytes;
		pc->tot.reference += ref.bytes;
	}
	run_free(&ref);
	run_free(&test);
	if (f[1] != f[0])
		filter_free(f[1]);
	filter_free(f[0]);
	free(rules);
	return err;
}
