/* test_methods.c - per-method statistics on a fake clock: rates over the
 * window, bucket rollover, percentiles, errors, keys, the cap, sorting. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "methods.h"
#include "unit.h"

#define MS 1000000ULL
#define SEC 1000000000ULL

static struct message *grpc(const char *path, int grpc_status, uint64_t latency_ns)
{
	struct message *m = msg_new(MSG_GRPC, MSG_RESPONSE, false);

	msg_set_str(&m->method, "POST", 4);
	msg_set_str(&m->path, path, strlen(path));
	m->status = 200;
	m->grpc_status = grpc_status;
	m->latency_ns = latency_ns;
	m->conn_seq = 1;
	m->who.pid = 100;
	return m;
}

static struct message *http(enum msg_proto p, const char *method, const char *path, int status)
{
	struct message *m = msg_new(p, MSG_RESPONSE, false);

	msg_set_str(&m->method, method, strlen(method));
	msg_set_str(&m->path, path, strlen(path));
	m->status = status;
	m->latency_ns = MS;
	m->conn_seq = 1;
	m->who.pid = 100;
	return m;
}

static void add(struct methods *ms, struct message *m, uint64_t now)
{
	methods_add(ms, m, now);
	msg_free(m);
}

static const struct methods_row *row(const struct methods_snap *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->rows[i].key, key))
			return &s->rows[i];
	return NULL;
}

static bool near(double got, double want, double rel)
{
	double d = got > want ? got - want : want - got;

	return d <= rel * want;
}

static void test_rate_window(void)
{
	struct methods *ms = methods_new(NULL);
	struct methods_snap s;
	const struct methods_row *r;

	/* 100 calls/s for 20.5 s, 1 KiB each */
	for (uint64_t t = 0; t < 20 * SEC + 500 * MS; t += 10 * MS) {
		struct message *m = grpc("/shop.Cart/Add", 0, 2 * MS);

		m->body_len = 1024;
		add(ms, m, t);
	}
	CHECK(methods_snapshot(ms, 20 * SEC + 500 * MS, &s) == 0);
	CHECK_EQ_U64(s.n, 1);
	r = row(&s, "/shop.Cart/Add");
	CHECK(r != NULL);
	if (r) {
		CHECK_STR(r->service, "shop.Cart");
		CHECK_STR(r->method, "Add");
		/* seconds 11..19 whole and half of 20: 9.5 s */
		CHECK_EQ_U64(r->calls, 950);
		CHECK(near(s.window_s, 9.5, 1e-9));
		CHECK(near(r->calls_per_s, 100, 1e-9));
		CHECK(near(r->bytes_per_s, 102400, 1e-9));
		CHECK_EQ_U64(r->errors, 0);
		CHECK(near(r->p50_ms, 2, 0.0625));
		CHECK(near(r->max_ms, 2, 1e-9));
		CHECK_EQ_U64(r->conns, 1);
		CHECK_EQ_U64(r->pids, 1);
	}
	methods_snap_free(&s);

	/* the window slides: 5 s later only seconds 16..20 hold calls */
	CHECK(methods_snapshot(ms, 25 * SEC + 500 * MS, &s) == 0);
	r = row(&s, "/shop.Cart/Add");
	CHECK(r && r->calls == 450);
	methods_snap_free(&s);

	/* idle past the window: no row, but still tracked */
	CHECK(methods_snapshot(ms, 31 * SEC, &s) == 0);
	CHECK_EQ_U64(s.n, 0);
	CHECK_EQ_U64(methods_count(ms), 1);
	methods_snap_free(&s);

	/* back after a pause: old buckets of the same slots do not leak in */
	add(ms, grpc("/shop.Cart/Add", 0, 4 * MS), 40 * SEC + 100 * MS);
	CHECK(methods_snapshot(ms, 40 * SEC + 500 * MS, &s) == 0);
	r = row(&s, "/shop.Cart/Add");
	CHECK(r && r->calls == 1);
	CHECK(r && near(r->max_ms, 4, 1e-9));
	CHECK(r && near(r->calls_per_s, 1 / 9.5, 1e-9));
	methods_snap_free(&s);

	/* idle for two windows: freed */
	CHECK(methods_snapshot(ms, 61 * SEC, &s) == 0);
	CHECK_EQ_U64(methods_count(ms), 0);
	methods_snap_free(&s);
	methods_free(ms);
}

/* Early in a run the rate is over the time since the first call. */
static void test_rate_start(void)
{
	struct methods_config cfg = { .window_s = 5 };
	struct methods *ms = methods_new(&cfg);
	struct methods_snap s;

	for (uint64_t t = 100 * SEC; t < 102 * SEC; t += 100 * MS)
		add(ms, grpc("/a.B/C", 0, MS), t);
	CHECK(methods_snapshot(ms, 102 * SEC, &s) == 0);
	CHECK(s.n == 1 && s.rows[0].calls == 20);
	CHECK(near(s.window_s, 2, 1e-9));
	CHECK(s.n == 1 && near(s.rows[0].calls_per_s, 10, 1e-9));
	methods_snap_free(&s);
	/* a clock going back counts in the latest second */
	add(ms, grpc("/a.B/C", 0, MS), 50 * SEC);
	CHECK(methods_snapshot(ms, 102 * SEC, &s) == 0);
	CHECK(s.n == 1 && s.rows[0].calls == 21);
	methods_snap_free(&s);
	methods_free(ms);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The exact pct-th percentile (nearest rank) of sorted v. */
static double exact_ms(const uint64_t *v, size_t n, unsigned pct)
{
	size_t rank = (n * pct + 99) / 100;

	return v[rank - 1] / 1e6;
}

/* Feeds n latencies (spread over 5 s) and compares against the exact
 * percentiles: within the stated 6.25%. */
static void check_distribution(uint64_t *v, size_t n)
{
	struct methods *ms = methods_new(NULL);
	struct methods_snap s;

	for (size_t i = 0; i < n; i++)
		add(ms, grpc("/d.D/D", 0, v[i]), i * 5 * SEC / n);
	qsort(v, n, sizeof(*v), cmp_u64);
	CHECK(methods_snapshot(ms, 5 * SEC, &s) == 0);
	CHECK(s.n == 1);
	if (s.n == 1) {
		CHECK_EQ_U64(s.rows[0].calls, n);
		CHECK(near(s.rows[0].p50_ms, exact_ms(v, n, 50), 0.0625));
		CHECK(near(s.rows[0].p99_ms, exact_ms(v, n, 99), 0.0625));
		CHECK(s.rows[0].max_ms == v[n - 1] / 1e6);
		CHECK(s.rows[0].p99_ms <= s.rows[0].max_ms);
	}
	methods_snap_free(&s);
	methods_free(ms);
}

/* Under 1 us the error is at most 512 ns; past the last bin (~18 min)
 * the maximum is reported. */
static void test_extremes(void)
{
	struct methods *ms = methods_new(NULL);
	struct methods_snap s;

	add(ms, grpc("/fast.S/M", 0, 300), SEC);
	add(ms, grpc("/fast.S/M", 0, 700), SEC);
	for (uint64_t i = 0; i < 100; i++)
		add(ms, grpc("/slow.S/M", 0, (2000 + i) * SEC), SEC);
	CHECK(methods_snapshot(ms, SEC + 1, &s) == 0);
	CHECK(row(&s, "/fast.S/M") && near(row(&s, "/fast.S/M")->p50_ms, 300 / 1e6, 512 / 300.0));
	CHECK(row(&s, "/fast.S/M") && near(row(&s, "/fast.S/M")->p99_ms, 700 / 1e6, 512 / 700.0));
	CHECK(row(&s, "/fast.S/M") && row(&s, "/fast.S/M")->max_ms == 700 / 1e6);
	CHECK(row(&s, "/slow.S/M") && row(&s, "/slow.S/M")->p50_ms == 2099e3);
	methods_snap_free(&s);
	methods_free(ms);
}

static void test_percentiles(void)
{
	uint64_t v[10000];
	uint64_t x = 88172645463325252ULL;

	/* uniform 1..1000 ms */
	for (size_t i = 0; i < 1000; i++)
		v[i] = (i + 1) * MS;
	check_distribution(v, 1000);

	/* bimodal: 98 fast, 2 slow */
	for (size_t i = 0; i < 100; i++)
		v[i] = i < 98 ? 1 * MS : 250 * MS;
	check_distribution(v, 100);

	/* roughly log-uniform from 2 us to ~33 s (xorshift64) */
	for (size_t i = 0; i < 10000; i++) {
		uint64_t base;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		base = 2000ULL << (x % 24);
		v[i] = base + (x >> 24) % base;
	}
	check_distribution(v, 10000);

	test_extremes();
}

static void test_errors(void)
{
	struct methods *ms = methods_new(NULL);
	struct methods_snap s;
	const struct methods_row *r;
	struct message *m;
	uint64_t t = SEC;

	add(ms, http(MSG_H1, "GET", "/h1", 500), t);
	add(ms, http(MSG_H1, "GET", "/h1", 404), t);
	add(ms, http(MSG_H1, "GET", "/h1", 200), t);
	add(ms, http(MSG_H2, "GET", "/h2", 503), t);
	add(ms, http(MSG_H2, "GET", "/h2", 200), t);
	add(ms, grpc("/g.S/M", 14, MS), t);
	add(ms, grpc("/g.S/M", 0, MS), t);
	add(ms, grpc("/g.S/M", -1, MS), t);
	/* a reset ends a call in error; one with NO_ERROR follows a response */
	m = grpc("/g.S/M", -1, 5 * MS);
	m->kind = MSG_RESET;
	m->error_code = 8;
	add(ms, m, t);
	m = grpc("/g.S/M", -1, MS);
	m->kind = MSG_RESET;
	add(ms, m, t);
	/* a response cut by a reset: its reset counts, not it */
	m = grpc("/g.S/M", -1, MS);
	m->flags |= MSG_F_RESET;
	m->body_len = 7;
	add(ms, m, t);
	/* requests and partial records: bytes only */
	m = grpc("/g.S/M", -1, 0);
	m->kind = MSG_REQUEST;
	m->body_len = 100;
	add(ms, m, t);
	m = grpc("/g.S/M", 0, MS);
	m->flags |= MSG_F_PARTIAL;
	m->body_len = 1000;
	add(ms, m, t);
	m = grpc("/g.S/M", 0, MS);
	m->kind = MSG_GOAWAY;
	m->body_len = 10000;
	add(ms, m, t);

	CHECK(methods_snapshot(ms, t + 500 * MS, &s) == 0);
	CHECK_EQ_U64(s.n, 3);
	r = row(&s, "GET /h1");
	CHECK(r && r->calls == 3 && r->errors == 1);
	CHECK(r && near(r->error_pct, 100.0 / 3, 1e-9));
	CHECK(r && !strcmp(r->service, "") && !strcmp(r->method, "GET /h1"));
	r = row(&s, "GET /h2");
	CHECK(r && r->calls == 2 && r->errors == 1);
	r = row(&s, "/g.S/M");
	CHECK(r && r->calls == 4 && r->errors == 2);
	CHECK(r && r->bytes == 1107);
	CHECK(r && near(r->max_ms, 5, 1e-9));
	methods_snap_free(&s);
	methods_free(ms);
}

static void test_keys(void)
{
	struct methods *ms = methods_new(NULL);
	struct methods_snap s;
	const struct methods_row *r;
	struct message *m;

	add(ms, http(MSG_H1, "GET", "/api/users?id=3", 200), SEC);
	add(ms, http(MSG_H2, "GET", "/api/users", 200), SEC);
	add(ms, http(MSG_H1, "POST", "/api/users", 200), SEC);
	m = http(MSG_H2, "GET", "/x", 200);
	m->flags |= MSG_F_PATH_UNKNOWN;
	msg_set_str(&m->path, NULL, 0);
	add(ms, m, SEC);
	m = grpc("/y.Y/Y", 0, MS);
	m->flags |= MSG_F_PATH_UNKNOWN;
	msg_set_str(&m->path, NULL, 0);
	add(ms, m, SEC);
	m = http(MSG_H1, "GET", "/z", 200);
	msg_set_str(&m->method, NULL, 0);
	add(ms, m, SEC);
	add(ms, grpc("NoSlash", 0, MS), SEC);

	CHECK(methods_snapshot(ms, SEC + 1, &s) == 0);
	CHECK_EQ_U64(s.n, 5);
	r = row(&s, "GET /api/users");
	CHECK(r && r->calls == 2);
	CHECK(row(&s, "POST /api/users") != NULL);
	r = row(&s, "(unknown)");
	CHECK(r && r->calls == 2 && !strcmp(r->service, ""));
	CHECK(row(&s, "? /z") != NULL);
	r = row(&s, "NoSlash");
	CHECK(r && !strcmp(r->service, "") && !strcmp(r->method, "NoSlash"));
	methods_snap_free(&s);
	methods_free(ms);
}

static void test_cap(void)
{
	struct methods_config cfg = { .max_methods = 3 };
	struct methods *ms = methods_new(&cfg);
	struct methods_snap s;
	const struct methods_row *r;
	char path[METHODS_KEY_MAX * 2];

	for (int i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "/s.S/M%d", i);
		add(ms, grpc(path, 0, MS), SEC);
	}
	add(ms, grpc("/s.S/M0", 0, MS), SEC);
	CHECK_EQ_U64(methods_count(ms), 4);
	CHECK(methods_snapshot(ms, SEC + 1, &s) == 0);
	CHECK_EQ_U64(s.n, 4);
	r = row(&s, "(other)");
	CHECK(r && r->calls == 3);
	r = row(&s, "/s.S/M0");
	CHECK(r && r->calls == 2);
	methods_snap_free(&s);
	methods_free(ms);

	/* a long key is cut, not refused */
	ms = methods_new(NULL);
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	add(ms, grpc(path, 0, MS), SEC);
	CHECK(methods_snapshot(ms, SEC + 1, &s) == 0);
	CHECK(s.n == 1 && strlen(s.rows[0].key) == METHODS_KEY_MAX);
	methods_snap_free(&s);
	methods_free(ms);
}

static void test_distinct(void)
{
	struct methods *ms = methods_new(NULL);
	struct methods_snap s;
	struct message *m;

	for (uint64_t i = 0; i < 100; i++) {
		m = grpc("/many.C/M", 0, MS);
		m->conn_seq = i + 1;
		m->who.pid = (uint32_t)(i % 3);
		add(ms, m, SEC);
		m = grpc("/few.C/M", 0, MS);
		m->conn_seq = i % 5 + 1;
		add(ms, m, SEC);
	}
	CHECK(methods_snapshot(ms, SEC + 1, &s) == 0);
	CHECK(row(&s, "/many.C/M") && row(&s, "/many.C/M")->conns == METHODS_DISTINCT_MAX);
	CHECK(row(&s, "/many.C/M") && row(&s, "/many.C/M")->pids == 3);
	CHECK(row(&s, "/few.C/M") && row(&s, "/few.C/M")->conns == 5);
	methods_snap_free(&s);
	/* connections seen only before the window make room for new ones */
	m = grpc("/many.C/M", 0, MS);
	m->conn_seq = 1000;
	add(ms, m, 20 * SEC);
	CHECK(methods_snapshot(ms, 20 * SEC + 1, &s) == 0);
	CHECK(s.n == 1 && s.rows[0].conns == 1 && s.rows[0].pids == 1);
	methods_snap_free(&s);
	methods_free(ms);
}

static void test_sort(void)
{
	struct methods *ms = methods_new(NULL);
	struct methods_snap s;

	for (int i = 0; i < 30; i++)
		add(ms, grpc("/busy.S/M", 0, MS), SEC);
	for (int i = 0; i < 10; i++)
		add(ms, grpc("/failing.S/M", 13, 2 * MS), SEC);
	for (int i = 0; i < 3; i++)
		add(ms, grpc("/slow.S/M", 0, 900 * MS), SEC);
	add(ms, grpc("/a.S/M", 0, MS), SEC);
	add(ms, grpc("/b.S/M", 0, MS), SEC);
	CHECK(methods_snapshot(ms, SEC + 1, &s) == 0);
	CHECK_EQ_U64(s.n, 5);
	methods_sort(&s, METHODS_SORT_RATE);
	CHECK_STR(s.rows[0].key, "/busy.S/M");
	CHECK_STR(s.rows[1].key, "/failing.S/M");
	CHECK_STR(s.rows[3].key, "/a.S/M");
	CHECK_STR(s.rows[4].key, "/b.S/M");
	methods_sort(&s, METHODS_SORT_ERRORS);
	CHECK_STR(s.rows[0].key, "/failing.S/M");
	methods_sort(&s, METHODS_SORT_P99);
	CHECK_STR(s.rows[0].key, "/slow.S/M");
	CHECK_STR(s.rows[1].key, "/failing.S/M");
	methods_snap_free(&s);
	methods_free(ms);
}

int main(void)
{
	test_rate_window();
	test_rate_start();
	test_percentiles();
	test_errors();
	test_keys();
	test_cap();
	test_distinct();
	test_sort();
	return unit_result("test_methods");
}
