/* fuzz_store.c - libFuzzer target for the message store and the method
 * statistics: 8-byte operations (add, close, reap, snapshot) on a few
 * connections under small budgets, with the store's invariants checked
 * after each. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "methods.h"
#include "store.h"

#define NCONNS 8

static const struct msg_limits lim = { 1 << 16, 16, 1 << 16 };
static const char *const paths[] = { "/a.S/M", "/b.S/N", "/api/users?x=1", "/", "noslash" };

static struct message *make_msg(const uint8_t *op, uint64_t id, uint64_t now)
{
	static const uint8_t zeros[255 * 255];
	struct message *m = msg_new(op[4] % 3 + 1, op[4] / 3 % 4 + 1, op[4] & 0x80);
	const char *path = paths[op[5] % 5];

	if (!m)
		abort();
	m->id = id;
	m->start_ns = m->end_ns = now;
	m->latency_ns = op[6] < 64 ? 0 : (uint64_t)op[7] << (op[6] % 48);
	m->status = op[5] & 0x40 ? 503 : 200;
	m->grpc_status = (int)(op[5] >> 3) % 4 - 1;
	m->error_code = op[5] >> 7;
	m->conn_seq = op[1];
	m->who.pid = op[1] % 3;
	m->flags = op[5] & 0x20 ? MSG_F_PATH_UNKNOWN : 0;
	if (!(op[5] & 0x20))
		msg_set_str(&m->path, path, strlen(path));
	msg_set_str(&m->method, "GET", 3);
	msg_add_body(m, zeros, (size_t)op[2] * op[2], &lim);
	return m;
}

/* Lists, lookups and counts agree; budgets hold unless one message is
 * all a connection (or the store) holds. */
static void check_store(const struct store *s, const struct store_limits *l)
{
	struct store_stats st;
	size_t mem = 0, msgs = 0;

	store_stats(s, &st);
	for (struct store_conn *c = store_conn_first(s); c; c = store_conn_next(c)) {
		size_t cmem = 0, n = 0;

		for (struct store_msg *sm = store_conn_oldest(c); sm; sm = store_msg_newer(sm)) {
			if (sm->conn != c || store_msg_find(s, sm->m->id) != sm)
				__builtin_trap();
			cmem += sm->mem;
			n++;
		}
		if (n != c->nmsgs || cmem >= c->mem || (n > 1 && c->mem > l->conn_budget))
			__builtin_trap();
		if (store_conn_find(s, &c->key) != c)
			__builtin_trap();
		mem += c->mem;
		msgs += n;
	}
	if (mem != st.mem || msgs != st.msgs || (st.msgs > 1 && st.mem > l->total_budget))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_limits l = { 4096, 16384 };
	struct methods_config cfg = { 3, 4 };
	struct store *s;
	struct methods *ms;
	uint64_t now = 0, id = 0;

	if (size < 1)
		return 0;
	l.conn_budget = 1024 + (size_t)data[0] * 64;
	s = store_new(&l);
	ms = methods_new(&cfg);
	if (!s || !ms)
		abort();
	for (data++, size--; size >= 8; data += 8, size -= 8) {
		struct store_conn_key k = { .gen = data[1] >> 4 };
		struct methods_snap snap;

		snprintf(k.id, sizeof(k.id), "fd:1:%u", data[1] % NCONNS);
		now += (uint64_t)data[3] * 50000000ULL;
		switch (data[0] % 4) {
		case 0: {
			struct message *m = make_msg(data, ++id, now);

			methods_add(ms, m, now);
			store_add(s, &k, m);
			break;
		}
		case 1:
			store_conn_close(s, &k, now);
			break;
		case 2:
			store_reap(s, now - (now > 1000000000ULL ? 1000000000ULL : now));
			break;
		case 3:
			if (!methods_snapshot(ms, now, &snap)) {
				methods_sort(&snap, data[2] % 3);
				for (size_t i = 0; i < snap.n; i++)
					if (snap.rows[i].p99_ms > snap.rows[i].max_ms ||
					    snap.rows[i].errors > snap.rows[i].calls)
						__builtin_trap();
				methods_snap_free(&snap);
			}
			if (methods_count(ms) > cfg.max_methods + 1)
				__builtin_trap();
			break;
		}
		check_store(s, &l);
	}
	store_free(s);
	methods_free(ms);
	return 0;
}
