/* pipeline.c - the decoding pipeline behind capture. */
#include <stdlib.h>
#include <string.h>

#include "conns.h"
#include "filter.h"
#include "mask.h"
#include "methods.h"
#include "pipeline.h"
#include "store.h"

/* A connection silent this long is ended: tlstop sees no close(), and the
 * table must not grow with every connection a node ever made. */
#define IDLE_NS (300 * 1000000000ULL)
#define MAX_CONNS 65536
#define GRPC_MAX 64
#define HEADER_BYTES_MAX (64u << 10)
#define REAP_AFTER_NS (60 * 1000000000ULL) /* closed connections linger in the store */

struct pipeline {
	const struct options *o;
	struct output *out;
	struct msg_limits lim;
	struct proto_counters cnt;
	struct conns *conns;
	struct store *store;
	struct methods *methods;
	struct mask *mask;
	const struct filter *filter; /* NULL: every message */
	const struct filter_env *env;
	uint64_t printed;
	uint64_t last_ts; /* latest call time seen */
};

static bool wanted(const struct pipeline *p, const struct tlstop_data *d)
{
	const struct options *o = p->o;
	bool pid_ok = !o->npids;

	for (int i = 0; i < o->npids; i++)
		pid_ok |= o->pids[i] == (pid_t)d->pid;
	return pid_ok && (!o->comm || !strncmp(o->comm, d->comm, TLSTOP_COMM_LEN));
}

static void store_key(struct store_conn_key *k, const struct tlstop_data *who, uint64_t seq)
{
	memset(k, 0, sizeof(*k));
	output_conn_id(k->id, sizeof(k->id), who);
	k->gen = seq;
}

static void on_message(struct message *m, void *arg)
{
	struct pipeline *p = arg;
	struct store_conn_key key;

	mask_message(p->mask, m);
	/* matched on what is shown: a filter cannot reveal a masked value */
	if (!p->filter || filter_match(p->filter, m, p->env)) {
		methods_add(p->methods, m, m->end_ns);
		if (p->out && !p->o->stats && !pipeline_done(p)) {
			output_message(p->out, m);
			p->printed++;
		}
	}
	if (!p->store) {
		msg_free(m);
		return;
	}
	store_key(&key, &m->who, m->conn_seq);
	store_add(p->store, &key, m);
}

static void on_closed(const struct tlstop_data *who, uint64_t seq, uint64_t ts, void *arg)
{
	struct pipeline *p = arg;
	struct store_conn_key key;

	if (!p->store)
		return;
	store_key(&key, who, seq);
	store_conn_close(p->store, &key, ts);
}

struct pipeline *pipeline_new(const struct options *o, struct output *out)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	struct store_limits sl = { .conn_budget = o->conn_budget, .total_budget = o->budget };
	struct conns_config cc = {
		.sink = { on_message, p },
		.closed = on_closed,
		.idle_ns = IDLE_NS,
		.max_conns = MAX_CONNS,
	};

	if (!p)
		return NULL;
	p->o = o;
	p->out = out;
	p->lim = (struct msg_limits){ .body_max = o->body_max,
				      .grpc_max = GRPC_MAX,
				      .header_bytes_max = HEADER_BYTES_MAX };
	cc.lim = &p->lim;
	cc.cnt = &p->cnt;
	p->conns = conns_new(&cc);
	/* batch output prints messages as they come: only the interactive
	 * view (no output) browses them afterwards */
	if (!out)
		p->store = store_new(&sl);
	p->methods = methods_new(&(struct methods_config){ 0 });
	p->mask = mask_new(!o->no_mask, NULL, 0);
	if (!p->conns || (!out && !p->store) || !p->methods || !p->mask) {
		pipeline_free(p);
		return NULL;
	}
	return p;
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	conns_free(p->conns); /* first: it emits what was open */
	store_free(p->store);
	methods_free(p->methods);
	mask_free(p->mask);
	free(p);
}

void pipeline_call(struct pipeline *p, const struct tls_call *call)
{
	if (!wanted(p, call->hdr))
		return;
	if (call->hdr->ts_ns > p->last_ts)
		p->last_ts = call->hdr->ts_ns;
	if (!p->o->raw) {
		conns_call(p->conns, call);
	} else if (p->out && !pipeline_done(p)) {
		output_call(p->out, call);
		p->printed++;
	}
}

void pipeline_exit(struct pipeline *p, uint32_t pid, uint64_t ts)
{
	conns_exit(p->conns, pid, ts);
}

void pipeline_end(struct pipeline *p)
{
	conns_end_all(p->conns, p->last_ts);
}

uint64_t pipeline_clock(const struct pipeline *p)
{
	return p->last_ts;
}

static void print_methods(struct pipeline *p, uint64_t now)
{
	struct methods_snap snap;

	if (methods_snapshot(p->methods, now, &snap))
		return;
	methods_sort(&snap, METHODS_SORT_RATE);
	output_methods(p->out, &snap, now);
	methods_snap_free(&snap);
	p->printed++;
}

void pipeline_tick(struct pipeline *p, uint64_t now)
{
	conns_tick(p->conns, now);
	if (p->store && now > REAP_AFTER_NS)
		store_reap(p->store, now - REAP_AFTER_NS);
	if (p->out && p->o->stats && !pipeline_done(p))
		print_methods(p, now);
}

void pipeline_counters(const struct pipeline *p, struct stats *s)
{
	struct store_stats st = { 0 };

	if (p->store)
		store_stats(p->store, &st);
	s->proto = p->cnt;
	s->conns = conns_count(p->conns);
	s->store_msgs = st.msgs;
	s->store_mem = st.mem;
	s->evicted_msgs = st.evicted_msgs;
	s->evicted_bytes = st.evicted_bytes;
}

void pipeline_set_filter(struct pipeline *p, const struct filter *f, const struct filter_env *env)
{
	p->filter = f;
	p->env = env;
}

struct store *pipeline_store(const struct pipeline *p)
{
	return p->store;
}

struct methods *pipeline_methods(const struct pipeline *p)
{
	return p->methods;
}

uint64_t pipeline_messages(const struct pipeline *p)
{
	return p->cnt.messages;
}

bool pipeline_done(const struct pipeline *p)
{
	return p->o->count && p->printed >= p->o->count;
}
