/* test_capture.c - reassembly of TLS calls from ring-buffer records. */
#include <stdint.h>
#include <stdio.h>
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
		uint8_t *data; /* data_len bytes; those kept back are zero */
		char layout[128]; /* the pieces: "D0+10 S10+50 ..."; "" for data alone */
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
	s->calls[s->ncalls].data = calloc(1, c->data_len + 1);
	if (c->data)
		memcpy(s->calls[s->ncalls].data, c->data, c->data_len);
	CHECK(!c->data == !!c->pieces);
	for (uint32_t i = 0, at = 0; i < c->npieces; i++) {
		const struct call_piece *k = &c->pieces[i];
		char *l = s->calls[s->ncalls].layout;

		CHECK(k->off == at && k->off + k->len <= c->data_len);
		at = k->off + k->len;
		if (k->data)
			memcpy(s->calls[s->ncalls].data + k->off, k->data, k->len);
		snprintf(l + strlen(l), sizeof(s->calls[0].layout) - strlen(l), "%s%c%u+%u",
			 i ? " " : "", k->data ? 'D' : 'S', k->off, k->len);
	}
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

/* A TLSTOP_F_SKIP record over [off, off + span) of a call of len bytes:
 * the skips k[0..n), then the pattern's bytes between them. */
static struct tlstop_data *packed(uint32_t tid, uint64_t ts, uint32_t len, uint32_t off,
				  uint32_t span, const struct tlstop_skip *k, uint16_t n, bool last)
{
	struct tlstop_data *d = calloc(1, sizeof(*d) + n * sizeof(*k) + span);
	uint8_t *kept = d->data + n * sizeof(*k);
	uint32_t pos = off;

	memcpy(d->data, k, n * sizeof(*k));
	for (uint16_t i = 0; i <= n; i++) {
		uint32_t end = i < n ? k[i].off : off + span;

		for (; pos < end; pos++)
			*kept++ = (uint8_t)(pos * 7);
		if (i < n)
			pos = k[i].off + k[i].len;
	}
	d->hdr.type = TLSTOP_EV_DATA;
	d->hdr.size = (uint32_t)(kept - (uint8_t *)d);
	d->tid = tid;
	d->pid = 100;
	d->ts_ns = ts;
	d->len = d->captured_len = len;
	d->offset = off;
	d->chunk_len = span;
	d->nskips = n;
	d->flags = TLSTOP_F_SKIP | (last ? TLSTOP_F_LAST : 0);
	return d;
}

/* the pattern where kept, zero where skipped */
static bool skipped_ok(const uint8_t *data, uint32_t len, const struct tlstop_skip *k, int n)
{
	for (uint32_t i = 0; i < len; i++) {
		bool in = false;

		for (int j = 0; j < n; j++)
			in |= i >= k[j].off && i < k[j].off + k[j].len;
		if (data[i] != (in ? 0 : (uint8_t)(i * 7)))
			return false;
	}
	return true;
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

	/* a call the prefilter cut: one record with its skips, no copy */
	{
		const struct tlstop_skip k[] = { { 10, 50 }, { 100, 60 } };

		feed(c, packed(8, 80, 200, 0, 200, k, 2, true));
		CHECK(s.ncalls == 1 && !s.calls[0].lost && s.calls[0].data_len == 200);
		CHECK_STR(s.calls[0].layout, "D0+10 S10+50 D60+40 S100+60 D160+40");
		CHECK(skipped_ok(s.calls[0].data, 200, k, 2));
		reset(&s);

		/* a skip at each end */
		feed(c, packed(8, 81, 200, 0, 200, (struct tlstop_skip[]){ { 0, 9 }, { 30, 170 } },
			       2, true));
		CHECK_STR(s.calls[0].layout, "S0+9 D9+21 S30+170");
		reset(&s);
	}

	/* the whole range in one skip record (nskips 0) */
	d = chunk(8, 82, 300, 300, 0, 0, true, &size);
	d->chunk_len = 300;
	d->flags |= TLSTOP_F_SKIP;
	feed(c, d);
	CHECK(s.ncalls == 1 && !s.calls[0].lost);
	CHECK_STR(s.calls[0].layout, "S0+300");
	reset(&s);

	/* a long call: data records, a packed record, a skip record */
	{
		const struct tlstop_skip k[] = { { 16400, 100 }, { 17000, 24 } };

		feed(c, chunk(9, 90, 20000, 20000, 0, 16384, false, &size));
		feed(c, packed(9, 90, 20000, 16384, 1000, k, 2, false));
		d = chunk(9, 90, 20000, 20000, 17384, 0, false, &size);
		d->chunk_len = 2000;
		d->flags |= TLSTOP_F_SKIP;
		feed(c, d);
		feed(c, chunk(9, 90, 20000, 20000, 19384, 616, true, &size));
		CHECK(s.ncalls == 1 && !s.calls[0].lost);
		CHECK_STR(s.calls[0].layout, "D0+16400 S16400+100 D16500+500 S17000+24 "
						"D17024+360 S17384+2000 D19384+616");
		CHECK(skipped_ok(s.calls[0].data, 20000,
				 (struct tlstop_skip[]){ { 16400, 100 }, { 17000, 24 }, { 17384, 2000 } },
				 3));
		reset(&s);
	}

	/* malformed skip tables are refused whole */
	{
		const struct tlstop_skip k[] = { { 10, 50 }, { 100, 60 } };
		const uint64_t bad = stats.bad_records;

		d = packed(10, 100, 200, 0, 200, k, 2, true);
		d->hdr.size--; /* a kept byte short */
		CHECK(capture_feed(c, d, d->hdr.size) == -1);
		d->hdr.size++;
		d->nskips = TLSTOP_SKIPS_MAX + 1;
		CHECK(capture_feed(c, d, d->hdr.size) == -1);
		d->nskips = 2;
		((struct tlstop_skip *)d->data)[1].off = 40; /* overlaps the first */
		CHECK(capture_feed(c, d, d->hdr.size) == -1);
		((struct tlstop_skip *)d->data)[1].off = 150; /* past the range */
		CHECK(capture_feed(c, d, d->hdr.size) == -1);
		((struct tlstop_skip *)d->data)[1] = (struct tlstop_skip){ 100, 0 };
		CHECK(capture_feed(c, d, d->hdr.size) == -1);
		d->hdr.size = sizeof(*d) + 8; /* the table cut */
		CHECK(capture_feed(c, d, d->hdr.size) == -1);
		free(d);
		CHECK_EQ_U64(stats.bad_records - bad, 6);
		CHECK(s.ncalls == 0);
		stats.bad_records = bad;
	}

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
