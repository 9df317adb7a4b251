/* capture.c - reassembly of TLS calls split over several ring-buffer records. */
#include <stdlib.h>
#include <string.h>

#include "capture.h"

/* A call whose first records arrived and whose last has not. Records of one
 * call are submitted back to back by one program run, so each thread has at
 * most one call in assembly and the list stays as short as the number of
 * CPUs producing concurrently. */
struct pending {
	struct pending *next;
	struct tlstop_data hdr;
	uint8_t *buf; /* captured_len bytes, each at its offset in the call */
	uint32_t next_off;
	bool lost;
	struct tlstop_skip *skips;
	uint32_t nskips;
};

struct capture {
	const struct capture_ops *ops;
	void *arg;
	struct stats *stats;
	struct pending *pending;
};

struct capture *capture_new(const struct capture_ops *ops, void *arg, struct stats *stats)
{
	struct capture *c = calloc(1, sizeof(*c));

	if (c) {
		c->ops = ops;
		c->arg = arg;
		c->stats = stats;
	}
	return c;
}

/* The pieces of [off, end) around the skips k[0..n), in order and inside
 * it; out has room for 2 n + 1. Kept bytes are at in_place + their offset
 * in the call when in_place is set, else one after the other from packed
 * (the bytes that follow a record's skip table). */
static uint32_t lay_out(struct call_piece *out, uint32_t off, uint32_t end,
			const struct tlstop_skip *k, uint32_t n, const uint8_t *packed,
			const uint8_t *in_place)
{
	uint32_t np = 0;

	for (uint32_t i = 0; i <= n; i++) {
		uint32_t stop = i < n ? k[i].off : end;

		if (stop > off) {
			out[np++] = (struct call_piece){ off, stop - off,
							 in_place ? in_place + off : packed };
			if (!in_place)
				packed += stop - off;
		}
		if (i < n) {
			out[np++] = (struct call_piece){ k[i].off, k[i].len, NULL };
			off = k[i].off + k[i].len;
		}
	}
	return np;
}

static void emit(struct capture *c, const struct tlstop_data *hdr, const uint8_t *data,
		 bool lost, const struct call_piece *pieces, uint32_t npieces)
{
	struct tls_call call = {
		.hdr = hdr,
		.data = data,
		.data_len = hdr->captured_len,
		.lost = lost,
		.pieces = pieces,
		.npieces = npieces,
	};

	c->stats->calls++;
	c->stats->bytes += hdr->len;
	c->stats->captured_bytes += hdr->captured_len;
	if (hdr->flags & TLSTOP_F_TRUNCATED)
		c->stats->truncated_calls++;
	if (lost)
		c->stats->incomplete_calls++;
	c->ops->call(&call, c->arg);
}

static void pending_free(struct pending *p)
{
	free(p->skips);
	free(p->buf);
	free(p);
}

static void pending_finish(struct capture *c, struct pending **link)
{
	struct pending *p = *link;
	struct call_piece *pieces = NULL;
	uint32_t np = 0;

	*link = p->next;
	/* the pieces of a lost call are unknown: the decoders take it as a gap */
	if (p->nskips && !p->lost) {
		pieces = malloc((2 * (size_t)p->nskips + 1) * sizeof(*pieces));
		if (pieces)
			np = lay_out(pieces, 0, p->hdr.captured_len, p->skips, p->nskips, NULL,
				     p->buf);
		else
			p->lost = true;
	}
	emit(c, &p->hdr, p->nskips ? NULL : p->buf, p->lost, pieces, np);
	free(pieces);
	pending_free(p);
}

static struct pending **pending_find(struct capture *c, uint32_t tid)
{
	struct pending **link;

	for (link = &c->pending; *link; link = &(*link)->next)
		if ((*link)->hdr.tid == tid)
			return link;
	return NULL;
}

/* The skips of a TLSTOP_F_SKIP record, in k (room for TLSTOP_SKIPS_MAX);
 * *kept: the bytes that follow them. -1 when the record is malformed. */
static int record_skips(const struct tlstop_data *d, size_t size, struct tlstop_skip *k,
			uint32_t *n, const uint8_t **kept)
{
	uint64_t pos = d->offset, end = (uint64_t)d->offset + d->chunk_len, dropped = 0;
	const uint8_t *table = d->data;

	if (!d->nskips) {
		/* the whole range */
		k[0] = (struct tlstop_skip){ d->offset, d->chunk_len };
		*n = 1;
		*kept = NULL;
		return 0;
	}
	if (d->nskips > TLSTOP_SKIPS_MAX || size < sizeof(*d) + d->nskips * sizeof(*k))
		return -1;
	for (uint32_t i = 0; i < d->nskips; i++) {
		memcpy(&k[i], table + i * sizeof(*k), sizeof(*k));
		if (!k[i].len || k[i].off < pos || (uint64_t)k[i].off + k[i].len > end)
			return -1;
		pos = (uint64_t)k[i].off + k[i].len;
		dropped += k[i].len;
	}
	if (size < sizeof(*d) + d->nskips * sizeof(*k) + (d->chunk_len - dropped))
		return -1;
	*n = d->nskips;
	*kept = table + d->nskips * sizeof(*k);
	return 0;
}

static int add_skips(struct pending *p, const struct tlstop_skip *k, uint32_t n)
{
	struct tlstop_skip *grown = realloc(p->skips, (p->nskips + n) * sizeof(*grown));

	if (!grown)
		return -1;
	p->skips = grown;
	memcpy(p->skips + p->nskips, k, n * sizeof(*k));
	p->nskips += n;
	return 0;
}

/* A record's bytes into the call being assembled, each at its offset. */
static void pending_add(struct pending *p, const struct tlstop_data *d, const struct tlstop_skip *k,
			uint32_t nk, const uint8_t *kept)
{
	struct call_piece pieces[2 * TLSTOP_SKIPS_MAX + 1];
	uint32_t np;

	if (d->offset != p->next_off)
		p->lost = true;
	p->next_off = d->offset + d->chunk_len;
	if (!(d->flags & TLSTOP_F_SKIP)) {
		memcpy(p->buf + d->offset, d->data, d->chunk_len);
		return;
	}
	np = lay_out(pieces, d->offset, p->next_off, k, nk, kept, NULL);
	for (uint32_t i = 0; i < np; i++)
		if (pieces[i].data)
			memcpy(p->buf + pieces[i].off, pieces[i].data, pieces[i].len);
	if (add_skips(p, k, nk))
		p->lost = true;
}

static int feed_data(struct capture *c, const struct tlstop_data *d, size_t size)
{
	struct pending **link = pending_find(c, d->tid), *p;
	struct call_piece pieces[2 * TLSTOP_SKIPS_MAX + 1];
	struct tlstop_skip k[TLSTOP_SKIPS_MAX];
	bool skip = d->flags & TLSTOP_F_SKIP;
	const uint8_t *kept = NULL;
	uint32_t nk = 0;

	if (d->captured_len > d->len || d->chunk_len > d->captured_len ||
	    d->offset > d->captured_len - d->chunk_len)
		return -1;
	if (skip ? record_skips(d, size, k, &nk, &kept) : size < sizeof(*d) + d->chunk_len)
		return -1;

	if (link && (*link)->hdr.ts_ns != d->ts_ns) {
		/* the thread moved on: the rest of its previous call was lost */
		(*link)->lost = true;
		pending_finish(c, link);
		link = NULL;
	}
	if (!link && d->offset == 0 && (d->flags & TLSTOP_F_LAST)) {
		/* the common case: the whole call in one record, no copy */
		if (skip)
			emit(c, d, NULL, d->chunk_len != d->captured_len, pieces,
			     lay_out(pieces, 0, d->chunk_len, k, nk, kept, NULL));
		else
			emit(c, d, d->data, d->chunk_len != d->captured_len, NULL, 0);
		return 0;
	}
	if (!link) {
		p = calloc(1, sizeof(*p));
		if (p)
			p->buf = calloc(1, d->captured_len ? d->captured_len : 1);
		if (!p || !p->buf) {
			free(p);
			return -1;
		}
		p->hdr = *d;
		p->hdr.nskips = 0;
		p->hdr.flags &= ~TLSTOP_F_SKIP;
		p->lost = d->offset != 0;
		p->next = c->pending;
		c->pending = p;
		link = &c->pending;
	}
	p = *link;
	pending_add(p, d, k, nk, kept);
	if (d->flags & TLSTOP_F_LAST) {
		p->hdr.flags |= d->flags & TLSTOP_F_LAST;
		pending_finish(c, link);
	}
	return 0;
}

int capture_feed(struct capture *c, const void *rec, size_t size)
{
	const struct tlstop_event_hdr *h = rec;
	int err = -1;

	if (size < sizeof(*h) || h->size > size)
		goto out;
	c->stats->delivered_bytes += h->size;
	switch (h->type) {
	case TLSTOP_EV_DATA:
		if (h->size >= sizeof(struct tlstop_data))
			err = feed_data(c, rec, h->size);
		break;
	case TLSTOP_EV_EXEC:
	case TLSTOP_EV_MMAP:
	case TLSTOP_EV_EXIT:
		if (h->size >= sizeof(struct tlstop_proc)) {
			c->ops->proc(rec, c->arg);
			err = 0;
		}
		break;
	}
out:
	if (err)
		c->stats->bad_records++;
	return err;
}

void capture_flush(struct capture *c, uint64_t older_than_ns)
{
	struct pending **link = &c->pending;

	while (*link) {
		if ((*link)->hdr.ts_ns < older_than_ns) {
			(*link)->lost = true;
			pending_finish(c, link);
		} else {
			link = &(*link)->next;
		}
	}
}

void capture_free(struct capture *c)
{
	if (!c)
		return;
	while (c->pending) {
		struct pending *p = c->pending;

		c->pending = p->next;
		pending_free(p);
	}
	free(c);
}
