/* test_store.c - the message store: budgets, eviction, lookup, closing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "unit.h"

static const struct msg_limits lim = { 1 << 20, 16, 1 << 16 };

/* A response of body_len bytes on a known path; all the same size for the
 * same body_len. */
static struct message *msg(uint64_t id, size_t body_len)
{
	struct message *m = msg_new(MSG_H1, MSG_RESPONSE, false);
	uint8_t *body = calloc(1, body_len + 1);

	m->id = id;
	m->start_ns = id * 10;
	m->end_ns = id * 10 + 5;
	m->status = 200;
	msg_set_str(&m->path, "/p", 2);
	msg_add_body(m, body, body_len, &lim);
	free(body);
	return m;
}

/* msg(id, body_len) made extra bytes costlier by a header. */
static struct message *padded(uint64_t id, size_t body_len, size_t extra)
{
	struct message *m = msg(id, body_len);
	size_t before = msg_mem(m);
	char *v;

	msg_add_header(m, "x", 1, "", 0, 0, &lim);
	extra -= msg_mem(m) - before;
	v = malloc(extra);
	memset(v, 'v', extra);
	msg_free(m);
	m = msg(id, body_len);
	msg_add_header(m, "x", 1, v, extra, 0, &lim);
	free(v);
	return m;
}

static struct store_conn_key key(const char *id, uint64_t gen)
{
	struct store_conn_key k = { .gen = gen };

	snprintf(k.id, sizeof(k.id), "%s", id);
	return k;
}

/* What one message of body_len costs in a store, and a connection with
 * its path set: read from a store with room for anything. */
static void costs(size_t body_len, size_t *msg_cost, size_t *conn_cost)
{
	struct store_limits big = { SIZE_MAX, SIZE_MAX };
	struct store *s = store_new(&big);
	struct store_conn_key k = key("fd:1:3", 1);
	struct store_conn *c;

	store_add(s, &k, msg(1, body_len));
	c = store_conn_find(s, &k);
	*msg_cost = c->oldest->mem;
	*conn_cost = c->mem - c->oldest->mem;
	store_free(s);
}

static void test_basic(void)
{
	struct store_limits big = { SIZE_MAX, SIZE_MAX };
	struct store *s = store_new(&big);
	struct store_conn_key k = key("fd:10:5", 7);
	struct store_conn *c;
	struct store_msg *sm;
	struct message *m;
	uint64_t id = 1;

	m = msg(1, 100);
	m->out = true;
	m->who.pid = 10;
	CHECK(store_add(s, &k, m) == 0);
	m = msg(2, 30);
	m->status = 503;
	CHECK(store_add(s, &k, m) == 0);
	m = msg(3, 0);
	m->kind = MSG_RESET;
	m->proto = MSG_H2;
	m->error_code = 8;
	msg_set_str(&m->path, "/q", 2);
	m->who.pid = 11;
	CHECK(store_add(s, &k, m) == 0);

	c = store_conn_find(s, &k);
	CHECK(c != NULL);
	CHECK(store_conn_first(s) == c && store_conn_next(c) == NULL);
	CHECK_EQ_U64(c->msgs_out, 1);
	CHECK_EQ_U64(c->msgs_in, 2);
	CHECK_EQ_U64(c->bytes_out, 100);
	CHECK_EQ_U64(c->bytes_in, 30);
	CHECK_EQ_U64(c->errors, 2);
	CHECK_EQ_U64(c->first_ns, 10);
	CHECK_EQ_U64(c->last_ns, 35);
	CHECK_STR(c->last_path, "/q");
	CHECK(c->proto == MSG_H2);
	CHECK_EQ_U64(c->who.pid, 11);
	CHECK_EQ_U64(c->nmsgs, 3);
	CHECK(!c->closed);

	for (sm = store_conn_oldest(c); sm; sm = store_msg_newer(sm))
		CHECK_EQ_U64(sm->m->id, id++);
	CHECK_EQ_U64(id, 4);
	for (sm = store_conn_newest(c); sm; sm = store_msg_older(sm))
		CHECK_EQ_U64(sm->m->id, --id);
	CHECK_EQ_U64(id, 1);

	sm = store_msg_find(s, 2);
	CHECK(sm && sm->m->id == 2 && sm->conn == c);
	CHECK(store_msg_find(s, 4) == NULL);
	CHECK_EQ_U64(store_mem(s), c->mem);
	store_free(s);
}

static void test_conn_budget(void)
{
	size_t mc, cc;
	struct store_limits l;
	struct store *s;
	struct store_conn_key a = key("fd:1:3", 1), b = key("fd:1:4", 1);
	struct store_conn *ca, *cb;
	struct store_stats st;

	costs(200, &mc, &cc);
	l = (struct store_limits){ cc + 3 * mc, SIZE_MAX };
	s = store_new(&l);
	for (uint64_t id = 1; id <= 5; id++)
		CHECK(store_add(s, &a, msg(id, 200)) == 0);
	CHECK(store_add(s, &b, msg(6, 200)) == 0);
	ca = store_conn_find(s, &a);
	cb = store_conn_find(s, &b);
	CHECK_EQ_U64(ca->nmsgs, 3);
	CHECK_EQ_U64(store_conn_oldest(ca)->m->id, 3);
	CHECK_EQ_U64(ca->evicted_msgs, 2);
	CHECK_EQ_U64(ca->evicted_bytes, 2 * mc);
	CHECK_EQ_U64(ca->msgs_in, 5);
	CHECK_EQ_U64(cb->nmsgs, 1);
	CHECK_EQ_U64(cb->evicted_msgs, 0);
	CHECK(store_msg_find(s, 1) == NULL);
	CHECK(store_msg_find(s, 2) == NULL);
	CHECK(store_msg_find(s, 3) != NULL);
	store_stats(s, &st);
	CHECK_EQ_U64(st.evicted_msgs, 2);
	CHECK_EQ_U64(st.msgs, 4);
	CHECK_EQ_U64(st.conns, 2);
	CHECK_EQ_U64(st.mem, ca->mem + cb->mem);
	CHECK_EQ_U64(st.mem, 2 * cc + 4 * mc);
	CHECK_EQ_U64(st.lim.conn_budget, l.conn_budget);

	/* larger than the connection's budget: kept, alone */
	CHECK(store_add(s, &a, msg(7, 1 << 14)) == 0);
	ca = store_conn_find(s, &a);
	CHECK_EQ_U64(ca->nmsgs, 1);
	CHECK_EQ_U64(store_conn_oldest(ca)->m->id, 7);
	CHECK_EQ_U64(ca->evicted_msgs, 5);
	store_free(s);
}

static void test_total_budget(void)
{
	size_t mc, cc;
	struct store_limits l;
	struct store *s;
	struct store_conn_key a = key("fd:1:3", 1), b = key("fd:2:3", 1);
	struct store_conn *ca, *cb;
	struct store_stats st;

	costs(100, &mc, &cc);
	l = (struct store_limits){ SIZE_MAX, 2 * cc + 4 * mc };
	s = store_new(&l);
	/* a gets 1, 3, 5; b gets 2, 4, 6: the globally oldest go first */
	for (uint64_t id = 1; id <= 6; id++)
		CHECK(store_add(s, id & 1 ? &a : &b, msg(id, 100)) == 0);
	ca = store_conn_find(s, &a);
	cb = store_conn_find(s, &b);
	CHECK_EQ_U64(store_conn_oldest(ca)->m->id, 3);
	CHECK_EQ_U64(store_conn_oldest(cb)->m->id, 4);
	CHECK_EQ_U64(ca->evicted_msgs, 1);
	CHECK_EQ_U64(cb->evicted_msgs, 1);
	CHECK(store_mem(s) <= l.total_budget);

	/* one that cannot fit even alone is counted and dropped */
	CHECK(store_add(s, &a, msg(7, 1 << 16)) == 1);
	ca = store_conn_find(s, &a);
	CHECK_EQ_U64(ca->nmsgs, 2);
	CHECK_EQ_U64(ca->evicted_msgs, 2);
	CHECK_EQ_U64(ca->msgs_in, 4);
	CHECK(store_msg_find(s, 7) == NULL);
	store_stats(s, &st);
	CHECK_EQ_U64(st.evicted_msgs, 3);
	CHECK_EQ_U64(st.msgs, 4);

	/* one costing 3.5 of the others fits only when all of them go */
	CHECK(store_add(s, &b, padded(8, 100, mc * 7 / 2 - mc)) == 0);
	store_stats(s, &st);
	CHECK(st.mem <= l.total_budget);
	CHECK(store_msg_find(s, 8) != NULL);
	CHECK_EQ_U64(st.evicted_msgs, 3 + 4);
	store_free(s);
}

static void test_close_reap(void)
{
	size_t mc, cc;
	struct store_limits l;
	struct store *s;
	struct store_conn_key a = key("fd:1:3", 1), b = key("fd:1:4", 1), c = key("fd:1:5", 1);
	struct store_conn_key z = key("fd:9:9", 1);

	costs(100, &mc, &cc);
	l = (struct store_limits){ SIZE_MAX, 3 * cc + 2 * mc };
	s = store_new(&l);
	CHECK(store_add(s, &a, msg(1, 100)) == 0);
	CHECK(store_add(s, &b, msg(2, 100)) == 0);
	CHECK(store_conn_close(s, &a, 1000) == 0);
	CHECK(store_conn_close(s, &z, 1000) == -1);
	CHECK(store_conn_find(s, &a)->closed);
	CHECK_EQ_U64(store_conn_find(s, &a)->closed_ns, 1000);
	/* a's only message is evicted: a closed connection goes with it */
	CHECK(store_add(s, &c, msg(3, 100)) == 0);
	CHECK(store_conn_find(s, &a) == NULL);
	CHECK(store_conn_find(s, &b) != NULL);
	CHECK_EQ_U64(store_mem(s), 2 * cc + 2 * mc);

	CHECK(store_conn_close(s, &b, 2000) == 0);
	CHECK(store_conn_close(s, &c, 3000) == 0);
	CHECK_EQ_U64(store_reap(s, 2000), 0);
	CHECK_EQ_U64(store_reap(s, 2001), 1);
	CHECK(store_conn_find(s, &b) == NULL);
	CHECK(store_msg_find(s, 2) == NULL);
	CHECK(store_conn_find(s, &c) != NULL);
	CHECK(store_conn_first(s) == store_conn_find(s, &c));
	CHECK_EQ_U64(store_reap(s, 5000), 1);
	CHECK(store_conn_first(s) == NULL);
	CHECK_EQ_U64(store_mem(s), 0);
	store_free(s);
}

static void test_gen(void)
{
	struct store_limits big = { SIZE_MAX, SIZE_MAX };
	struct store *s = store_new(&big);
	struct store_conn_key old = key("fd:1:3", 1), reused = key("fd:1:3", 2);
	struct store_conn *co, *cr;

	CHECK(store_add(s, &old, msg(1, 10)) == 0);
	CHECK(store_conn_close(s, &old, 50) == 0);
	CHECK(store_add(s, &reused, msg(2, 10)) == 0);
	co = store_conn_find(s, &old);
	cr = store_conn_find(s, &reused);
	CHECK(co && cr && co != cr);
	CHECK(co->closed && !cr->closed);
	CHECK_EQ_U64(co->nmsgs, 1);
	CHECK_EQ_U64(cr->nmsgs, 1);
	CHECK(store_conn_first(s) == co && store_conn_next(co) == cr);
	store_free(s);
}

/* Enough messages and connections to grow both tables several times. */
static void test_many(void)
{
	size_t mc, cc;
	struct store_limits l;
	struct store *s;
	struct store_stats st;
	char id[32];
	int bad = 0;

	costs(16, &mc, &cc);
	l = (struct store_limits){ SIZE_MAX, 1000 * (cc + 10 * mc) };
	s = store_new(&l);
	for (uint64_t i = 1; i <= 50000; i++) {
		struct store_conn_key k;

		snprintf(id, sizeof(id), "ssl:%u:0x1", (unsigned)(i % 997));
		k = key(id, i % 997);
		if (store_add(s, &k, msg(i, 16)))
			bad++;
	}
	CHECK_EQ_U64(bad, 0);
	store_stats(s, &st);
	CHECK(st.mem <= l.total_budget);
	CHECK_EQ_U64(st.msgs + st.evicted_msgs, 50000);
	CHECK(store_msg_find(s, 50000) != NULL);
	CHECK(store_msg_find(s, 1) == NULL);
	for (uint64_t i = 50000; i > 50000 - st.msgs; i--)
		if (!store_msg_find(s, i))
			bad++;
	CHECK_EQ_U64(bad, 0);
	store_free(s);
}

int main(void)
{
	test_basic();
	test_conn_budget();
	test_total_budget();
	test_close_reap();
	test_gen();
	test_many();
	return unit_result("test_store");
}
