/* kf_model.c - the prefilter's decisions (bpf/kf_logic.h, the very code the
 * BPF programs run) in userspace, with small tables for the maps: the fast
 * transport of the property test. What differs from the kernel is only the
 * glue: reading memory, the maps, the loop helper. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "kfilter.h"
#include "prop.h"

#define MODEL_MAX 4096 /* entries per table: more than a trial makes */

struct model_conn {
	uint64_t ssl;
	struct kf_conn c;
};

struct model_stream {
	struct kf_stream_key k;
	struct kf_stream v;
	bool used;
};

struct model_ins {
	struct kf_ins_key k;
	struct tlstop_kf_path_key v;
};

struct model_carry {
	struct kf_carry_key k;
	struct kf_carry v;
	bool used;
};

struct model {
	uint32_t pid, tid;
	char comm[TLSTOP_COMM_LEN];
	uint64_t ts;
	struct tlstop_kf_config cfg;
	struct kf_rules rules;
	struct tlstop_kf_path_key *keys; /* two per prefix */
	size_t nkeys;
	struct model_conn conns[64];
	size_t nconns;
	struct model_stream streams[MODEL_MAX];
	struct model_ins ins[MODEL_MAX];
	size_t nins;
	struct model_carry carries[8];
	struct kf_scratch s;
	struct tlstop_data *rec;
	uint64_t next_id;
};

/* the logic reaches its state through this, as BPF through its maps */
static struct model *model_cur;

#define KF_READ(dst, n, base, off) (memcpy(dst, (const uint8_t *)(uintptr_t)(base) + (off), n), 0)
#define KF_LOOP(n, cb, ctx)                                                                     \
	do {                                                                                    \
		for (uint32_t i_ = 0; i_ < (n) && !cb(i_, ctx); i_++)                           \
			;                                                                       \
	} while (0)
#define KF_COPY(dst, src, n) memcpy(dst, src, n)

static struct kf_stream *kf_stream_get(struct kf_stream_key *k)
{
	for (size_t i = 0; i < MODEL_MAX; i++)
		if (model_cur->streams[i].used && !memcmp(&model_cur->streams[i].k, k, sizeof(*k)))
			return &model_cur->streams[i].v;
	return NULL;
}

static void kf_stream_put(struct kf_stream_key *k, struct kf_stream *v)
{
	struct kf_stream *old = kf_stream_get(k);

	if (old) {
		*old = *v;
		return;
	}
	/* a full table forgets, as an LRU map does: only lets more through */
	for (size_t i = 0; i < MODEL_MAX; i++)
		if (!model_cur->streams[i].used) {
			model_cur->streams[i] = (struct model_stream){ .k = *k, .v = *v, .used = true };
			return;
		}
}

static void kf_stream_del(struct kf_stream_key *k)
{
	for (size_t i = 0; i < MODEL_MAX; i++)
		if (model_cur->streams[i].used && !memcmp(&model_cur->streams[i].k, k, sizeof(*k)))
			model_cur->streams[i].used = false;
}

static struct tlstop_kf_path_key *kf_ins_get(struct kf_ins_key *k)
{
	for (size_t i = 0; i < model_cur->nins; i++)
		if (!memcmp(&model_cur->ins[i].k, k, sizeof(*k)))
			return &model_cur->ins[i].v;
	return NULL;
}

static void kf_ins_put(struct kf_ins_key *k, struct tlstop_kf_path_key *v)
{
	struct tlstop_kf_path_key *old = kf_ins_get(k);

	if (old)
		*old = *v;
	else if (model_cur->nins < MODEL_MAX)
		model_cur->ins[model_cur->nins++] = (struct model_ins){ .k = *k, .v = *v };
}

static struct kf_carry *kf_carry_get(struct kf_carry_key *k)
{
	for (size_t i = 0; i < sizeof(model_cur->carries) / sizeof(model_cur->carries[0]); i++)
		if (model_cur->carries[i].used && !memcmp(&model_cur->carries[i].k, k, sizeof(*k)))
			return &model_cur->carries[i].v;
	return NULL;
}

static void kf_carry_put(struct kf_carry_key *k, struct kf_carry *v)
{
	struct kf_carry *old = kf_carry_get(k);

	if (old) {
		*old = *v;
		return;
	}
	/* full: the block is not walked, as when the map fails */
	for (size_t i = 0; i < sizeof(model_cur->carries) / sizeof(model_cur->carries[0]); i++)
		if (!model_cur->carries[i].used) {
			model_cur->carries[i] = (struct model_carry){ .k = *k, .v = *v, .used = true };
			return;
		}
}

static void kf_carry_del(struct kf_carry_key *k)
{
	for (size_t i = 0; i < sizeof(model_cur->carries) / sizeof(model_cur->carries[0]); i++)
		if (model_cur->carries[i].used && !memcmp(&model_cur->carries[i].k, k, sizeof(*k)))
			model_cur->carries[i].used = false;
}

/* an LPM trie lookup: some key's first prefixlen bits equal k's */
static bool kf_path_match(struct tlstop_kf_path_key *k)
{
	for (size_t i = 0; i < model_cur->nkeys; i++) {
		const struct tlstop_kf_path_key *p = &model_cur->keys[i];
		uint32_t bits = p->prefixlen, whole = bits / 8, rest = bits % 8;

		if (bits > k->prefixlen || memcmp(p->data, k->data, whole))
			continue;
		if (!rest || !((p->data[whole] ^ k->data[whole]) & (0xff00 >> rest)))
			return true;
	}
	return false;
}

static uint64_t kf_new_id(void)
{
	return ++model_cur->next_id;
}

#include "kf_logic.h"

static void *model_open(char **cause)
{
	struct model *m = calloc(1, sizeof(*m));

	if (m)
		m->rec = malloc(sizeof(*m->rec) + TLSTOP_CHUNK_MAX);
	if (!m || !m->rec) {
		free(m);
		*cause = strdup("out of memory");
		return NULL;
	}
	m->pid = (uint32_t)getpid();
	m->tid = (uint32_t)gettid();
	prctl(PR_GET_NAME, m->comm);
	return m;
}

static int model_set_rules(void *t, const struct kf_rules *r, uint32_t gen)
{
	struct model *m = t;

	m->rules = *r;
	free(m->keys);
	m->keys = calloc(2 * (r->nprefixes + 1), sizeof(*m->keys));
	if (!m->keys)
		return -1;
	m->nkeys = 0;
	for (uint32_t i = 0; i < r->nprefixes; i++, m->nkeys += 2)
		kfilter_prefix_keys(&r->prefixes[i], &m->keys[m->nkeys]);
	m->cfg.gen = gen;
	m->cfg.flags = (r->pids_set ? TLSTOP_KF_PIDS : 0) | (r->comms_set ? TLSTOP_KF_COMMS : 0) |
		       (r->paths_set ? TLSTOP_KF_PATHS : 0);
	return 0;
}

static bool in_sets(const struct model *m)
{
	const struct kf_rules *r = &m->rules;
	bool pid_ok = !r->pids_set, comm_ok = !r->comms_set;

	for (uint32_t i = 0; i < r->npids; i++)
		pid_ok |= r->pids[i] == m->pid;
	for (uint32_t i = 0; i < r->ncomms; i++)
		comm_ok |= !strncmp(r->comms[i], m->comm, TLSTOP_COMM_LEN);
	return pid_ok && comm_ok;
}

static struct kf_conn *conn_get(struct model *m, uint64_t ssl)
{
	for (size_t i = 0; i < m->nconns; i++)
		if (m->conns[i].ssl == ssl)
			return &m->conns[i].c;
	if (m->nconns == sizeof(m->conns) / sizeof(m->conns[0]))
		return NULL;
	m->conns[m->nconns].ssl = ssl;
	memset(&m->conns[m->nconns].c, 0, sizeof(struct kf_conn));
	m->conns[m->nconns].c.id = kf_new_id();
	return &m->conns[m->nconns++].c;
}

/* The call as one record with its skips, as ssl_leave's emit_packed(). */
static int model_packed(struct model *m, const struct prop_call *pc, struct capture *cap)
{
	struct tlstop_data *rec = m->rec;
	struct tlstop_skip *table = (struct tlstop_skip *)rec->data;
	uint8_t *kept = rec->data + m->s.nsegs * sizeof(*table);
	uint32_t pos = 0;

	for (uint32_t i = 0; i <= m->s.nsegs; i++) {
		uint32_t end = i < m->s.nsegs ? m->s.segs[i].off : pc->len;

		memcpy(kept, pc->data + pos, end - pos);
		kept += end - pos;
		if (i < m->s.nsegs) {
			table[i] = (struct tlstop_skip){ m->s.segs[i].off, m->s.segs[i].len };
			pos = m->s.segs[i].off + m->s.segs[i].len;
		}
	}
	rec->offset = 0;
	rec->chunk_len = pc->len;
	rec->nskips = (uint16_t)m->s.nsegs;
	rec->flags |= TLSTOP_F_SKIP | TLSTOP_F_LAST;
	rec->hdr.size = (uint32_t)(kept - (uint8_t *)rec);
	return capture_feed(cap, rec, rec->hdr.size);
}

/* What ssl_leave does after the call returns, bpf/tlstop.bpf.c prefilter() */
static int model_call(void *t, const struct prop_call *pc, struct capture *cap)
{
	struct model *m = t;
	struct tlstop_data *rec = m->rec;
	struct kf_walk w = { .base = (uintptr_t)pc->data, .len = pc->len, .gen = m->cfg.gen,
			     .s = &m->s, .dirn = pc->dir };
	uint32_t pos = 0, n;

	model_cur = m;
	memset(rec, 0, sizeof(*rec));
	rec->hdr.type = TLSTOP_EV_DATA;
	rec->ts_ns = rec->start_ns = ++m->ts;
	rec->ssl = pc->conn;
	rec->pid = m->pid;
	rec->tid = m->tid;
	rec->fd = -1;
	rec->len = rec->captured_len = pc->len;
	rec->dir = pc->dir;
	rec->func = pc->dir == TLSTOP_DIR_IN ? TLSTOP_FN_SSL_READ : TLSTOP_FN_SSL_WRITE;
	memcpy(rec->comm, m->comm, sizeof(rec->comm));
	memset(&m->s, 0, sizeof(m->s));
	if (!pc->len)
		return 0;
	if (m->cfg.flags && !in_sets(m))
		return 0;
	if (m->cfg.flags & TLSTOP_KF_PATHS) {
		w.conn = conn_get(m, pc->conn);
		if (w.conn) {
			w.dir = &w.conn->dir[pc->dir & 1];
			n = w.conn->proto == KF_P_H2 ? KF_H2_PREFACE_LEN : KF_H1_PEEK;
			if (n > pc->len)
				n = pc->len;
			memcpy(m->s.win, pc->data, n);
			kf_call(&w, n);
		}
	}
	if (m->s.nsegs && pc->len - m->s.dropped <= TLSTOP_PACK_MAX &&
	    m->s.segs[m->s.nsegs - 1].off + m->s.segs[m->s.nsegs - 1].len <= pc->len)
		return model_packed(m, pc, cap);
	for (uint32_t i = 0; i < m->s.nsegs; i++) {
		const struct kf_seg *g = &m->s.segs[i];

		if (g->off > pos && prop_feed_range(cap, rec, pc->data, pos, g->off - pos, false))
			return -1;
		if (prop_feed_range(cap, rec, NULL, g->off, g->len, g->off + g->len >= pc->len))
			return -1;
		pos = g->off + g->len;
	}
	if (pos < pc->len && prop_feed_range(cap, rec, pc->data, pos, pc->len - pos, true))
		return -1;
	return 0;
}

static uint32_t model_pid(void *t)
{
	return ((struct model *)t)->pid;
}

static const char *model_comm(void *t)
{
	return ((struct model *)t)->comm;
}

static void model_close(void *t)
{
	struct model *m = t;

	free(m->keys);
	free(m->rec);
	free(m);
}

const struct prop_transport prop_model_transport = {
	.name = "model",
	.open = model_open,
	.set_rules = model_set_rules,
	.call = model_call,
	.pid = model_pid,
	.comm = model_comm,
	.close = model_close,
};
