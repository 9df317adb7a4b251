/* methods.c - per-method statistics over a sliding window of 1-second
 * buckets, each with a sparse log-linear latency histogram. */
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "methods.h"

#define NS_PER_S 1000000000ULL

/*
 * Latency bins: one for everything under 2^10 ns (~1 us), then 8 per
 * power of two up to 2^40 ns (~18 min), then one for the rest. A bin
 * [lo, lo + lo/8) is reported by its midpoint, so the reported value is
 * within 1/16 = 6.25% of every latency in it; below 1 us the error is at
 * most 512 ns and past 2^40 ns the exact maximum is reported.
 */
#define LAT_MIN_SHIFT 10
#define LAT_MAX_SHIFT 40
#define LAT_SUB_BITS 3
#define LAT_SUB (1u << LAT_SUB_BITS)
#define LAT_BINS (2 + (LAT_MAX_SHIFT - LAT_MIN_SHIFT) * LAT_SUB)

#define DISTINCT_FIRST 4 /* entries of a distinct set's first allocation */

#define KEY_UNKNOWN "(unknown)"
#define KEY_OTHER "(other)"

/* Counts of the bins [lo, lo + len) only: latencies of one method cluster. */
struct lat_hist {
	uint32_t *bins;
	uint16_t lo, len;
};

struct bucket {
	uint64_t sec; /* the second it holds; valid when used */
	bool used;
	uint64_t calls, errors, bytes;
	uint64_t lat_n; /* latencies in the histogram */
	uint64_t max_ns;
	struct lat_hist hist;
};

struct seen {
	uint64_t id;
	uint64_t sec; /* last second it was seen */
};

/* Ids seen lately, at most METHODS_DISTINCT_MAX of them. */
struct distinct {
	struct seen *e;
	uint32_t n, cap;
};

struct method {
	struct htab_node hnode; /* first: the table hands nodes back */
	struct method *prev, *next;
	char *key;
	uint16_t svc_off, svc_len, meth_off; /* service and method within key */
	uint64_t last_sec; /* latest second with activity */
	struct distinct conns, pids;
	struct bucket b[]; /* window_s of them, by second modulo window_s */
};

struct methods {
	uint32_t window_s;
	uint32_t max;
	struct htab tab;
	uint64_t seed; /* keys come from the traffic: no fixed hash to collide on */
	struct method *first;
	size_t n;
	uint64_t cur_sec; /* latest second seen: time never goes back */
	uint64_t start_sec; /* second of the first add */
	bool started;
	uint64_t swept_sec;
};

struct methods *methods_new(const struct methods_config *cfg)
{
	struct methods *ms = calloc(1, sizeof(*ms));

	if (!ms)
		return NULL;
	ms->window_s = cfg && cfg->window_s ? cfg->window_s : METHODS_WINDOW_S;
	ms->max = cfg && cfg->max_methods ? cfg->max_methods : METHODS_MAX;
	ms->seed = (uintptr_t)ms; /* differs per run with ASLR */
	if (htab_init(&ms->tab)) {
		free(ms);
		return NULL;
	}
	return ms;
}

static void method_free(struct methods *ms, struct method *me)
{
	if (me->prev)
		me->prev->next = me->next;
	else
		ms->first = me->next;
	if (me->next)
		me->next->prev = me->prev;
	htab_del(&ms->tab, &me->hnode);
	ms->n--;
	for (uint32_t i = 0; i < ms->window_s; i++)
		free(me->b[i].hist.bins);
	free(me->conns.e);
	free(me->pids.e);
	free(me->key);
	free(me);
}

void methods_free(struct methods *ms)
{
	if (!ms)
		return;
	while (ms->first)
		method_free(ms, ms->first);
	htab_fini(&ms->tab);
	free(ms);
}

size_t methods_count(const struct methods *ms)
{
	return ms->n;
}

bool methods_is_error(const struct message *m)
{
	if (m->kind == MSG_RESET)
		return m->error_code != 0;
	return m->status >= 500 || (m->grpc_status != -1 && m->grpc_status != 0);
}

/* Copies at most n bytes of s to key + len, cut at the key limit. */
static size_t key_append(char *key, size_t len, const char *s, size_t n)
{
	if (n > METHODS_KEY_MAX - len)
		n = METHODS_KEY_MAX - len;
	memcpy(key + len, s, n);
	key[len + n] = '\0';
	return len + n;
}

size_t methods_key(const struct message *m, char key[METHODS_KEY_MAX + 1])
{
	size_t len = 0;

	if (!m->path || (m->flags & MSG_F_PATH_UNKNOWN))
		return key_append(key, 0, KEY_UNKNOWN, strlen(KEY_UNKNOWN));
	if (m->proto != MSG_GRPC) {
		const char *verb = m->method ? m->method : "?";

		len = key_append(key, 0, verb, strlen(verb));
		len = key_append(key, len, " ", 1);
	}
	return key_append(key, len, m->path, strcspn(m->path, "?"));
}

/* gRPC "/pkg.Service/Method" splits into service and method; anything
 * else is all method. */
static void split_key(struct method *me, bool grpc)
{
	const char *slash = strrchr(me->key, '/');

	me->svc_off = me->svc_len = me->meth_off = 0;
	if (!grpc || me->key[0] != '/' || !slash || slash == me->key)
		return;
	me->svc_off = 1;
	me->svc_len = (uint16_t)(slash - me->key - 1);
	me->meth_off = (uint16_t)(slash - me->key + 1);
}

static struct method *method_find(const struct methods *ms, const char *key, uint64_t hash)
{
	struct htab_node *n;

	for (n = htab_first(&ms->tab, hash); n; n = htab_next(n))
		if (!strcmp(((struct method *)n)->key, key))
			return (struct method *)n;
	return NULL;
}

static struct method *method_new(struct methods *ms, const char *key, size_t len, bool grpc,
				 uint64_t hash)
{
	struct method *me = calloc(1, sizeof(*me) + ms->window_s * sizeof(me->b[0]));

	if (!me)
		return NULL;
	me->key = strndup(key, len);
	if (!me->key) {
		free(me);
		return NULL;
	}
	split_key(me, grpc);
	me->next = ms->first;
	if (ms->first)
		ms->first->prev = me;
	ms->first = me;
	htab_add(&ms->tab, &me->hnode, hash);
	ms->n++;
	return me;
}

/* The method m counts under: its own, or "(other)" past the cap. */
static struct method *method_get(struct methods *ms, const struct message *m)
{
	char key[METHODS_KEY_MAX + 1];
	size_t len = methods_key(m, key);
	uint64_t hash = htab_hash_bytes(key, len, ms->seed);
	struct method *me = method_find(ms, key, hash);

	if (me)
		return me;
	if (ms->n >= ms->max) {
		len = key_append(key, 0, KEY_OTHER, strlen(KEY_OTHER));
		hash = htab_hash_bytes(key, len, ms->seed);
		me = method_find(ms, key, hash);
		if (me)
			return me;
	}
	return method_new(ms, key, len, m->proto == MSG_GRPC, hash);
}

static void sweep(struct methods *ms)
{
	struct method *me = ms->first, *next;

	ms->swept_sec = ms->cur_sec;
	for (; me; me = next) {
		next = me->next;
		if (me->last_sec + 2 * (uint64_t)ms->window_s < ms->cur_sec)
			method_free(ms, me);
	}
}

/* Moves the clock to now_ns (never back); sweeps idle methods once a second. */
static void advance(struct methods *ms, uint64_t now_ns)
{
	uint64_t sec = now_ns / NS_PER_S;

	if (sec > ms->cur_sec)
		ms->cur_sec = sec;
	if (ms->cur_sec > ms->swept_sec)
		sweep(ms);
}

static unsigned lat_bin(uint64_t ns)
{
	unsigned e;

	if (ns < 1ULL << LAT_MIN_SHIFT)
		return 0;
	e = 63 - (unsigned)__builtin_clzll(ns);
	if (e >= LAT_MAX_SHIFT)
		return LAT_BINS - 1;
	return 1 + (e - LAT_MIN_SHIFT) * LAT_SUB + ((ns >> (e - LAT_SUB_BITS)) & (LAT_SUB - 1));
}

/* The value a bin reports; 0 for the overflow bin (the maximum is used). */
static uint64_t lat_bin_value(unsigned bin)
{
	unsigned e, sub;

	if (bin == 0)
		return 1ULL << (LAT_MIN_SHIFT - 1);
	if (bin == LAT_BINS - 1)
		return 0;
	e = LAT_MIN_SHIFT + (bin - 1) / LAT_SUB;
	sub = (bin - 1) % LAT_SUB;
	return ((uint64_t)(LAT_SUB * 2 + sub * 2 + 1)) << (e - LAT_SUB_BITS - 1);
}

/* Widens the histogram to hold bin; false when out of memory. */
static bool hist_cover(struct lat_hist *h, unsigned bin)
{
	unsigned lo, hi;
	uint32_t *b;

	if (h->len && bin >= h->lo && bin < (unsigned)h->lo + h->len)
		return true;
	lo = h->len && h->lo < bin ? h->lo : bin;
	hi = h->len && (unsigned)h->lo + h->len > bin + 1 ? (unsigned)h->lo + h->len : bin + 1;
	b = calloc(hi - lo, sizeof(*b));
	if (!b)
		return false;
	if (h->len)
		memcpy(b + (h->lo - lo), h->bins, h->len * sizeof(*b));
	free(h->bins);
	h->bins = b;
	h->lo = (uint16_t)lo;
	h->len = (uint16_t)(hi - lo);
	return true;
}

/* The bucket of second sec, emptied when it held an older second. The
 * histogram's bins stay allocated: the next second needs the same ones. */
static struct bucket *bucket_at(struct methods *ms, struct method *me, uint64_t sec)
{
	struct bucket *b = &me->b[sec % ms->window_s];

	if (!b->used || b->sec != sec) {
		struct lat_hist h = b->hist;

		if (h.len)
			memset(h.bins, 0, h.len * sizeof(*h.bins));
		memset(b, 0, sizeof(*b));
		b->hist = h;
		b->sec = sec;
		b->used = true;
	}
	return b;
}

static void distinct_add(struct distinct *d, uint64_t id, uint64_t sec, uint32_t window_s)
{
	struct seen *oldest = NULL;

	for (uint32_t i = 0; i < d->n; i++) {
		if (d->e[i].id == id) {
			d->e[i].sec = sec;
			return;
		}
		if (!oldest || d->e[i].sec < oldest->sec)
			oldest = &d->e[i];
	}
	if (d->n == d->cap && d->cap < METHODS_DISTINCT_MAX) {
		uint32_t cap = d->cap ? d->cap * 2 : DISTINCT_FIRST;
		struct seen *e = realloc(d->e, cap * sizeof(*e));

		if (e) {
			d->e = e;
			d->cap = cap;
		}
	}
	if (d->n < d->cap)
		d->e[d->n++] = (struct seen){ id, sec };
	else if (oldest && oldest->sec + window_s <= sec)
		*oldest = (struct seen){ id, sec };
}

static uint32_t distinct_count(const struct distinct *d, uint64_t sec, uint32_t window_s)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < d->n; i++)
		n += d->e[i].sec + window_s > sec;
	return n;
}

/* The connection's run-wide number when the capture gave one, else its
 * (pid, fd, SSL*). */
static uint64_t conn_id(const struct message *m)
{
	if (m->conn_seq)
		return m->conn_seq;
	return htab_hash_u64(((uint64_t)m->who.pid << 32 | (uint32_t)m->who.fd) ^
			     htab_hash_u64(m->who.ssl));
}

/* A response cut by a reset is counted by the reset's own message. */
static bool completes_call(const struct message *m)
{
	if (m->kind == MSG_RESET)
		return m->error_code != 0;
	return m->kind == MSG_RESPONSE && !(m->flags & (MSG_F_PARTIAL | MSG_F_RESET));
}

static void bucket_add_call(struct bucket *b, const struct message *m)
{
	unsigned bin = lat_bin(m->latency_ns);

	b->calls++;
	b->errors += methods_is_error(m);
	if (!m->latency_ns)
		return;
	if (m->latency_ns > b->max_ns)
		b->max_ns = m->latency_ns;
	if (hist_cover(&b->hist, bin)) {
		b->hist.bins[bin - b->hist.lo]++;
		b->lat_n++;
	}
}

void methods_add(struct methods *ms, const struct message *m, uint64_t now_ns)
{
	struct method *me;
	struct bucket *b;

	if (m->kind == MSG_GOAWAY)
		return;
	advance(ms, now_ns);
	if (!ms->started) {
		ms->started = true;
		ms->start_sec = ms->cur_sec;
	}
	me = method_get(ms, m);
	if (!me)
		return;
	me->last_sec = ms->cur_sec;
	b = bucket_at(ms, me, ms->cur_sec);
	b->bytes += m->body_len;
	if (completes_call(m))
		bucket_add_call(b, m);
	distinct_add(&me->conns, conn_id(m), ms->cur_sec, ms->window_s);
	distinct_add(&me->pids, m->who.pid, ms->cur_sec, ms->window_s);
}

/* A method's buckets merged over the window. */
struct totals {
	uint64_t calls, errors, bytes, lat_n, max_ns;
	uint64_t bins[LAT_BINS];
};

static void merge(const struct methods *ms, const struct method *me, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (uint32_t i = 0; i < ms->window_s; i++) {
		const struct bucket *b = &me->b[i];

		if (!b->used || b->sec + ms->window_s <= ms->cur_sec)
			continue;
		t->calls += b->calls;
		t->errors += b->errors;
		t->bytes += b->bytes;
		t->lat_n += b->lat_n;
		if (b->max_ns > t->max_ns)
			t->max_ns = b->max_ns;
		for (unsigned j = 0; j < b->hist.len; j++)
			t->bins[b->hist.lo + j] += b->hist.bins[j];
	}
}

/* The pct-th percentile in ms, -1 without latencies. */
static double percentile_ms(const struct totals *t, unsigned pct)
{
	uint64_t rank = (t->lat_n * pct + 99) / 100, seen = 0;

	if (!t->lat_n)
		return -1;
	for (unsigned i = 0; i < LAT_BINS; i++) {
		uint64_t v;

		seen += t->bins[i];
		if (seen < rank)
			continue;
		v = lat_bin_value(i);
		if (!v || v > t->max_ns)
			v = t->max_ns;
		return v / 1e6;
	}
	return t->max_ns / 1e6;
}

/* Seconds the window covers at now_ns: whole seconds before the current
 * one plus the part of it gone, not reaching before the first add. */
static double window_len(const struct methods *ms, uint64_t now_ns)
{
	uint64_t from = ms->cur_sec + 1 > ms->window_s ? ms->cur_sec + 1 - ms->window_s : 0;
	double len;

	if (from < ms->start_sec)
		from = ms->start_sec;
	if (now_ns < ms->cur_sec * NS_PER_S)
		now_ns = ms->cur_sec * NS_PER_S;
	len = (double)(now_ns - from * NS_PER_S) / NS_PER_S;
	return len < 1 ? 1 : len;
}

static size_t row_text_len(const struct method *me)
{
	size_t len = strlen(me->key);

	return len + 1 + me->svc_len + 1 + (len - me->meth_off) + 1;
}

/* Copies s (n bytes) into the text at *p and returns where it went. */
static const char *text_put(char **p, const char *s, size_t n)
{
	char *d = *p;

	memcpy(d, s, n);
	d[n] = '\0';
	*p += n + 1;
	return d;
}

static void fill_row(const struct methods *ms, const struct method *me, const struct totals *t,
		     double secs, struct methods_row *r, char **text)
{
	size_t len = strlen(me->key);

	r->key = text_put(text, me->key, len);
	r->service = text_put(text, me->key + me->svc_off, me->svc_len);
	r->method = text_put(text, me->key + me->meth_off, len - me->meth_off);
	r->calls = t->calls;
	r->calls_per_s = t->calls / secs;
	r->errors = t->errors;
	r->error_pct = t->calls ? 100.0 * t->errors / t->calls : 0;
	r->p50_ms = percentile_ms(t, 50);
	r->p99_ms = percentile_ms(t, 99);
	r->max_ms = t->lat_n ? t->max_ns / 1e6 : -1;
	r->bytes = t->bytes;
	r->bytes_per_s = t->bytes / secs;
	r->conns = distinct_count(&me->conns, ms->cur_sec, ms->window_s);
	r->pids = distinct_count(&me->pids, ms->cur_sec, ms->window_s);
}

static bool active(const struct methods *ms, const struct method *me)
{
	return me->last_sec + ms->window_s > ms->cur_sec;
}

int methods_snapshot(struct methods *ms, uint64_t now_ns, struct methods_snap *snap)
{
	struct totals t;
	size_t text = 0;
	char *p;

	memset(snap, 0, sizeof(*snap));
	advance(ms, now_ns);
	snap->window_s = window_len(ms, now_ns);
	for (const struct method *me = ms->first; me; me = me->next)
		if (active(ms, me)) {
			snap->n++;
			text += row_text_len(me);
		}
	snap->rows = calloc(snap->n ? snap->n : 1, sizeof(*snap->rows));
	snap->text = malloc(text ? text : 1);
	if (!snap->rows || !snap->text) {
		methods_snap_free(snap);
		return -1;
	}
	p = snap->text;
	snap->n = 0;
	for (const struct method *me = ms->first; me; me = me->next) {
		if (!active(ms, me))
			continue;
		merge(ms, me, &t);
		fill_row(ms, me, &t, snap->window_s, &snap->rows[snap->n++], &p);
	}
	return 0;
}

void methods_snap_free(struct methods_snap *snap)
{
	free(snap->rows);
	free(snap->text);
	memset(snap, 0, sizeof(*snap));
}

static double sort_value(const struct methods_row *r, enum methods_sort by)
{
	switch (by) {
	case METHODS_SORT_ERRORS:
		return (double)r->errors;
	case METHODS_SORT_P99:
		return r->p99_ms;
	case METHODS_SORT_RATE:
		break;
	}
	return r->calls_per_s;
}

static int row_cmp(const void *a, const void *b, void *arg)
{
	const struct methods_row *x = a, *y = b;
	enum methods_sort by = *(const enum methods_sort *)arg;
	double vx = sort_value(x, by), vy = sort_value(y, by);

	if (vx != vy)
		return vx > vy ? -1 : 1;
	return strcmp(x->key, y->key);
}

void methods_sort(struct methods_snap *snap, enum methods_sort by)
{
	if (snap->n)
		qsort_r(snap->rows, snap->n, sizeof(*snap->rows), row_cmp, &by);
}
