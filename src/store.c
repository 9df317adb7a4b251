/* store.c - the bounded message store. */
#include <stdlib.h>
#include <string.h>

#include "methods.h"
#include "store.h"

/* what one entry costs besides its payload: its record and, at a load
 * factor between 1/2 and 1, up to two bucket slots */
#define MSG_OVERHEAD (sizeof(struct store_msg) + 2 * sizeof(void *))
#define CONN_OVERHEAD (sizeof(struct store_conn) + 2 * sizeof(void *))

struct store {
	struct store_limits lim;
	struct htab conns; /* key -> store_conn */
	struct htab msgs; /* id -> store_msg */
	struct store_conn *first_conn, *last_conn; /* creation order */
	struct store_msg *oldest, *newest; /* insertion order */
	uint64_t nconns, nmsgs;
	uint64_t evicted_msgs, evicted_bytes;
	size_t mem;
};

/* The id bytes that count: the last byte is always the terminator. */
static size_t key_len(const struct store_conn_key *k)
{
	return strnlen(k->id, sizeof(k->id) - 1);
}

static uint64_t key_hash(const struct store_conn_key *k)
{
	return htab_hash_bytes(k->id, key_len(k), k->gen);
}

static bool key_eq(const struct store_conn_key *a, const struct store_conn_key *b)
{
	size_t n = key_len(a);

	return a->gen == b->gen && n == key_len(b) && !memcmp(a->id, b->id, n);
}

static size_t conn_overhead(const struct store_conn *c)
{
	return CONN_OVERHEAD + (c->last_path ? strlen(c->last_path) + 1 : 0);
}

struct store *store_new(const struct store_limits *lim)
{
	struct store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->lim = *lim;
	if (htab_init(&s->conns) || htab_init(&s->msgs)) {
		htab_fini(&s->conns);
		free(s);
		return NULL;
	}
	return s;
}

/* Unlinks sm from every list, frees it and its message. */
static void msg_drop(struct store *s, struct store_msg *sm)
{
	struct store_conn *c = sm->conn;

	if (sm->gprev)
		sm->gprev->gnext = sm->gnext;
	else
		s->oldest = sm->gnext;
	if (sm->gnext)
		sm->gnext->gprev = sm->gprev;
	else
		s->newest = sm->gprev;
	if (sm->cprev)
		sm->cprev->cnext = sm->cnext;
	else
		c->oldest = sm->cnext;
	if (sm->cnext)
		sm->cnext->cprev = sm->cprev;
	else
		c->newest = sm->cprev;
	htab_del(&s->msgs, &sm->hnode);
	c->nmsgs--;
	c->mem -= sm->mem;
	s->nmsgs--;
	s->mem -= sm->mem;
	msg_free(sm->m);
	free(sm);
}

static void conn_drop(struct store *s, struct store_conn *c)
{
	while (c->oldest)
		msg_drop(s, c->oldest);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->first_conn = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->last_conn = c->prev;
	htab_del(&s->conns, &c->hnode);
	s->nconns--;
	s->mem -= c->mem;
	free(c->last_path);
	free(c);
}

void store_free(struct store *s)
{
	if (!s)
		return;
	while (s->first_conn)
		conn_drop(s, s->first_conn);
	htab_fini(&s->conns);
	htab_fini(&s->msgs);
	free(s);
}

static void count_eviction(struct store *s, struct store_conn *c, size_t bytes)
{
	c->evicted_msgs++;
	c->evicted_bytes += bytes;
	s->evicted_msgs++;
	s->evicted_bytes += bytes;
}

/* Returns true when the message's connection went with it. */
static bool evict(struct store *s, struct store_msg *sm)
{
	struct store_conn *c = sm->conn;

	count_eviction(s, c, sm->mem);
	msg_drop(s, sm);
	/* a closed connection is only worth showing for its messages */
	if (!c->closed || c->nmsgs)
		return false;
	conn_drop(s, c);
	return true;
}

struct store_conn *store_conn_find(const struct store *s, const struct store_conn_key *k)
{
	struct htab_node *n;

	for (n = htab_first(&s->conns, key_hash(k)); n; n = htab_next(n))
		if (key_eq(&((struct store_conn *)n)->key, k))
			return (struct store_conn *)n;
	return NULL;
}

static struct store_conn *conn_get(struct store *s, const struct store_conn_key *k)
{
	struct store_conn *c = store_conn_find(s, k);

	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->key = *k;
	c->key.id[sizeof(c->key.id) - 1] = '\0';
	c->mem = conn_overhead(c);
	c->prev = s->last_conn;
	if (s->last_conn)
		s->last_conn->next = c;
	else
		s->first_conn = c;
	s->last_conn = c;
	htab_add(&s->conns, &c->hnode, key_hash(&c->key));
	s->nconns++;
	s->mem += c->mem;
	return c;
}

/* Only a changed path is copied: most messages repeat the last one. */
static void conn_set_path(struct store *s, struct store_conn *c, const char *path)
{
	size_t before = conn_overhead(c);
	char *p;

	if (c->last_path && !strcmp(c->last_path, path))
		return;
	p = strdup(path);
	if (!p)
		return;
	free(c->last_path);
	c->last_path = p;
	c->mem = c->mem - before + conn_overhead(c);
	s->mem = s->mem - before + conn_overhead(c);
}

static void conn_account(struct store *s, struct store_conn *c, const struct message *m)
{
	uint64_t start = m->start_ns ? m->start_ns : m->end_ns;

	if (!c->first_ns || (start && start < c->first_ns))
		c->first_ns = start;
	if (m->end_ns > c->last_ns)
		c->last_ns = m->end_ns;
	if (m->out) {
		c->msgs_out++;
		c->bytes_out += m->body_len;
	} else {
		c->msgs_in++;
		c->bytes_in += m->body_len;
	}
	if (methods_is_error(m))
		c->errors++;
	if (m->path)
		conn_set_path(s, c, m->path);
	if (m->proto > c->proto)
		c->proto = m->proto;
	c->who = m->who;
}

static void msg_link(struct store *s, struct store_conn *c, struct store_msg *sm)
{
	sm->gprev = s->newest;
	if (s->newest)
		s->newest->gnext = sm;
	else
		s->oldest = sm;
	s->newest = sm;
	sm->cprev = c->newest;
	if (c->newest)
		c->newest->cnext = sm;
	else
		c->oldest = sm;
	c->newest = sm;
	htab_add(&s->msgs, &sm->hnode, htab_hash_u64(sm->m->id));
	c->nmsgs++;
	c->mem += sm->mem;
	s->nmsgs++;
	s->mem += sm->mem;
}

/* Evicts oldest first until c and the store are within their budgets,
 * sparing keep, the newest message everywhere: the loops stop on it. */
static void enforce(struct store *s, struct store_conn *c, const struct store_msg *keep)
{
	bool gone = false;

	while (!gone && c->mem > s->lim.conn_budget && c->oldest && c->oldest != keep)
		gone = evict(s, c->oldest);
	while (s->mem > s->lim.total_budget && s->oldest && s->oldest != keep)
		evict(s, s->oldest);
}

int store_add(struct store *s, const struct store_conn_key *k, struct message *m)
{
	struct store_conn *c = conn_get(s, k);
	struct store_msg *sm;
	size_t mem = msg_mem(m) + MSG_OVERHEAD;

	if (!c) {
		msg_free(m);
		return -1;
	}
	conn_account(s, c, m);
	if (mem + conn_overhead(c) > s->lim.total_budget) {
		count_eviction(s, c, mem);
		msg_free(m);
		enforce(s, c, NULL);
		return 1;
	}
	sm = calloc(1, sizeof(*sm));
	if (!sm) {
		msg_free(m);
		return -1;
	}
	sm->m = m;
	sm->conn = c;
	sm->mem = mem;
	msg_link(s, c, sm);
	enforce(s, c, sm);
	return 0;
}

int store_conn_close(struct store *s, const struct store_conn_key *k, uint64_t now_ns)
{
	struct store_conn *c = store_conn_find(s, k);

	if (!c)
		return -1;
	if (!c->closed) {
		c->closed = true;
		c->closed_ns = now_ns;
	}
	return 0;
}

size_t store_reap(struct store *s, uint64_t before_ns)
{
	struct store_conn *c = s->first_conn, *next;
	size_t n = 0;

	for (; c; c = next) {
		next = c->next;
		if (c->closed && c->closed_ns < before_ns) {
			conn_drop(s, c);
			n++;
		}
	}
	return n;
}

struct store_conn *store_conn_first(const struct store *s)
{
	return s->first_conn;
}

struct store_conn *store_conn_next(const struct store_conn *c)
{
	return c->next;
}

struct store_msg *store_conn_oldest(const struct store_conn *c)
{
	return c->oldest;
}

struct store_msg *store_conn_newest(const struct store_conn *c)
{
	return c->newest;
}

struct store_msg *store_msg_newer(const struct store_msg *sm)
{
	return sm->cnext;
}

struct store_msg *store_msg_older(const struct store_msg *sm)
{
	return sm->cprev;
}

struct store_msg *store_msg_find(const struct store *s, uint64_t id)
{
	struct htab_node *n;

	for (n = htab_first(&s->msgs, htab_hash_u64(id)); n; n = htab_next(n))
		if (((struct store_msg *)n)->m->id == id)
			return (struct store_msg *)n;
	return NULL;
}

size_t store_mem(const struct store *s)
{
	return s->mem;
}

void store_stats(const struct store *s, struct store_stats *st)
{
	st->conns = s->nconns;
	st->msgs = s->nmsgs;
	st->evicted_msgs = s->evicted_msgs;
	st->evicted_bytes = s->evicted_bytes;
	st->mem = s->mem;
	st->lim = s->lim;
}
