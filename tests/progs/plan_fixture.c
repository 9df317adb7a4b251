/* plan_fixture.c - functions shaped like OpenSSL's SSL_write/SSL_read and
 * their _ex twins, and shapes the probe planner must refuse. Built at
 * several optimisation levels and code-generation options (Makefile.am) for
 * test_probe_plan; run, it makes one call of each so nothing is dead. */
#include <stddef.h>
#include <stdio.h>

struct conn {
	int closed;
	int cached;
	int (*hook)(struct conn *c, const void *buf, int num);
	size_t total;
};

int fixture_errors;

/* noipa: gcc would otherwise see that this leaves eax alone and keep a
 * value in it across the call, as no call into another file allows */
__attribute__((noipa)) void fixture_error(int code)
{
	fixture_errors += code;
}

/* The worker, like ssl_write_internal: 1 and *done on success. */
__attribute__((noipa)) int fixture_worker(struct conn *c, const void *buf, size_t num,
					     size_t *done)
{
	if (c->closed)
		return -1;
	c->total += num + (buf != NULL);
	*done = num;
	return num ? 1 : 0;
}

/* OpenSSL 3's SSL_write: argument check, worker, count from the slot. */
__attribute__((noinline)) int SSL_write(struct conn *c, const void *buf, int num)
{
	size_t done;
	int ret;

	if (num < 0) {
		fixture_error(1);
		return -1;
	}
	ret = fixture_worker(c, buf, (size_t)num, &done);
	if (ret > 0)
		ret = (int)done;
	return ret;
}

/* A tail jump into SSL_write at -O2: planned inside SSL_write. */
int tail_write(struct conn *c, const void *buf, int num)
{
	return SSL_write(c, buf, num);
}

/* OpenSSL 3's SSL_write_ex: the result is folded with a cmov. */
int SSL_write_ex(struct conn *c, const void *buf, size_t num, size_t *written)
{
	int ret = fixture_worker(c, buf, num, written);

	return ret < 0 ? 0 : ret;
}

/* A path returns a count without the worker: entry + return only. */
int cached_write(struct conn *c, const void *buf, int num)
{
	size_t done;

	if (c->cached)
		return c->cached;
	if (fixture_worker(c, buf, (size_t)num, &done) > 0)
		return (int)done;
	return -1;
}

/* Retries: the worker call is in a loop. */
int loop_write(struct conn *c, const void *buf, int num)
{
	size_t done;
	int ret;

	do
		ret = fixture_worker(c, buf, (size_t)num, &done);
	while (ret == 0 && !c->closed);
	return ret > 0 ? (int)done : ret;
}

/* The work happens behind a function pointer. */
int indirect_write(struct conn *c, const void *buf, int num)
{
	if (num < 0)
		return -1;
	return c->hook(c, buf, num);
}

static int hook(struct conn *c, const void *buf, int num)
{
	size_t done;

	return fixture_worker(c, buf, (size_t)num, &done);
}

int main(void)
{
	struct conn c = { .hook = hook };
	char buf[8] = "fixture";
	size_t n = 0;

	SSL_write(&c, buf, 7);
	tail_write(&c, buf, 7);
	SSL_write_ex(&c, buf, 7, &n);
	cached_write(&c, buf, 7);
	loop_write(&c, buf, 7);
	indirect_write(&c, buf, 7);
	printf("%zu\n", c.total + n + (size_t)fixture_errors);
	return 0;
}
