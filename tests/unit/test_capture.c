/* test_capture.c - reassembly of TLS calls from ring-buffer records. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "unit.h"

#define MAX_CALLS 16

struct seen {
	int ncalls;
	struct {
		uint32_t tid, len, data_len;
		bool lost;
		uint8_t *data;
	} calls[MAX_CALLS];
	int nprocs;
};

static void on_call(const struct tls_call *c, void *arg)
{
	struct seen *s = arg;

	if (s->ncalls == MAX_CALLS)
		return;
	s->calls[s->ncalls].tid = c->hdr->tid;
	s->calls[s->ncalls].len = c->hdr->len;
	s->calls[s->ncalls].data_len = c->data_len;
	s->calls[s->ncalls].lost = c->lost;
	s->calls[s->ncalls].data = malloc(c->data_len + 1);
	memcpy(s->calls[s->ncalls].data, c->data, c->data_len);
	s->ncalls++;
}

static void on_proc(const struct tlstop_proc *p, void *arg)
{
	((struct seen *)arg)->nprocs++;
}

static const struct capture_ops ops = { on_call, on_proc };

/* A record as the kernel builds it: the header, then chunk bytes of the
 * pattern starting at offset. */
static struct tlstop_data *chunk(uint32_t tid, uint64_t ts, uint32_t len, uint32_t captured,
				 uint32_t off, uint32_t n, bool last, size_t *size)
{
	struct tlstop_data *d = calloc(1, sizeof(*d) + n);

	d->hdr.type = TLSTOP_EV_DATA;
	d->hdr.size = sizeof(*d) + n;
	d->tid = tid;
	d->pid = 100;
	d->ts_ns = ts;
	d->len = len;
	d->captured_len = captured;
	d->offset = off;
	d->chunk_len = n;
	d->flags = last ? TLSTOP_F_LAST : 0;
	if (captured < len)
		d->flags |= TLSTOP_F_TRUNCATED;
	for (uint32_t i = 0; i < n; i++)
		d->data[i] = (uint8_t)((off + i) * 7);
	*size = d->hdr.size;
	return d;
}

static void feed(struct capture *c, struct tlstop_data *d)
{
	CHECK(capture_feed(c, d, d->hdr.size) == 0);
	free(d);
}

static bool pattern_ok(const uint8_t *data, uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to; i++)
		if (data[i] != (uint8_t)(i * 7))
			return false;
	return true;
}

static void reset(struct seen *s)
{
	for (int i = 0; i < s->ncalls; i++)
		free(s->calls[i].data);
	memset(s, 0, sizeof(*s));
}

int main(void)
{
	struct stats stats = { 0 };
	struct seen s = { 0 };
	struct capture *c = capture_new(&ops, &s, &stats);
	struct tlstop_proc proc = { .hdr = { TLSTOP_EV_EXIT, sizeof(proc) }, .pid = 5 };
	struct tlstop_event_hdr tiny = { TLSTOP_EV_DATA, sizeof(tiny) };
	struct tlstop_data *d;
	size_t size;

	/* one record, one call */
	feed(c, chunk(1, 10, 100, 100, 0, 100, true, &size));
	CHECK(s.ncalls == 1 && !s.calls[0].lost && s.calls[0].data_len == 100);
	CHECK(pattern_ok(s.calls[0].data, 0, 100));
	reset(&s);

	/* three records of two threads interleaved, truncated at snaplen */
	feed(c, chunk(1, 20, 50000, 40000, 0, 16384, false, &size));
	feed(c, chunk(2, 21, 20000, 20000, 0, 16384, false, &size));
	feed(c, chunk(1, 20, 50000, 40000, 16384, 16384, false, &size));
	feed(c, chunk(2, 21, 20000, 20000, 16384, 3616, true, &size));
	CHECK(s.ncalls == 1 && s.calls[0].tid == 2 && !s.calls[0].lost);
	feed(c, chunk(1, 20, 50000, 40000, 32768, 7232, true, &size));
	CHECK(s.ncalls == 2 && s.calls[1].tid == 1 && !s.calls[1].lost);
	CHECK_EQ_U64(s.calls[1].len, 50000);
	CHECK_EQ_U64(s.calls[1].data_len, 40000);
	CHECK(pattern_ok(s.calls[1].data, 0, 40000));
	CHECK(pattern_ok(s.calls[0].data, 0, 20000));
	CHECK_EQ_U64(stats.truncated_calls, 1);
	reset(&s);

	/* a middle record lost: the call is flagged, the rest is in place */
	feed(c, chunk(3, 30, 40000, 40000, 0, 16384, false, &size));
	feed(c, chunk(3, 30, 40000, 40000, 32768, 7232, true, &size));
	CHECK(s.ncalls == 1 && s.calls[0].lost);
	CHECK(pattern_ok(s.calls[0].data, 32768, 40000));
	reset(&s);

	/* the last record lost: the next call of the thread flushes it */
	feed(c, chunk(4, 40, 20000, 20000, 0, 16384, false, &size));
	feed(c, chunk(4, 41, 10, 10, 0, 10, true, &size));
	CHECK(s.ncalls == 2 && s.calls[0].lost && !s.calls[1].lost);
	reset(&s);

	/* ... or the age flush does */
	feed(c, chunk(5, 50, 20000, 20000, 0, 16384, false, &size));
	capture_flush(c, 49);
	CHECK(s.ncalls == 0);
	capture_flush(c, 51);
	CHECK(s.ncalls == 1 && s.calls[0].lost);
	reset(&s);

	/* the first record lost */
	feed(c, chunk(6, 60, 20000, 20000, 16384, 3616, true, &size));
	CHECK(s.ncalls == 1 && s.calls[0].lost);
	CHECK_EQ_U64(stats.incomplete_calls, 4);
	reset(&s);

	/* process notices pass through */
	CHECK(capture_feed(c, &proc, sizeof(proc)) == 0);
	CHECK(s.nprocs == 1);

	/* malformed records are counted, never read past their end */
	CHECK(capture_feed(c, &tiny, sizeof(tiny)) == -1);
	d = chunk(7, 70, 100, 100, 0, 100, true, &size);
	CHECK(capture_feed(c, d, size - 1) == -1);
	d->chunk_len = 200;
	CHECK(capture_feed(c, d, size) == -1);
	d->chunk_len = 100;
	d->offset = 50;
	CHECK(capture_feed(c, d, size) == -1);
	d->offset = 0;
	d->captured_len = 1000;
	CHECK(capture_feed(c, d, size) == -1);
	d->hdr.type = 99;
	CHECK(capture_feed(c, d, size) == -1);
	free(d);
	CHECK_EQ_U64(stats.bad_records, 6);
	CHECK(s.ncalls == 0);

	capture_free(c);
	reset(&s);
	return unit_result("test_capture");
}
