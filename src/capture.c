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
	uint8_t *buf;
	uint32_t next_off;
	bool lost;
	struct call_skip *skips;
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

static void emit(struct capture *c, const struct tlstop_data *hdr, const uint8_t *data,
		 bool lost, const struct call_skip *skips, uint32_t nskips)
{
	struct tls_call call = {
		.hdr = hdr,
		.data = data,
		.data_len = hdr->captured_len,
		.lost = lost,
		.skips = skips,
		.nskips = nskips,
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

static void pending_finish(struct capture *c, struct pending **link)
{
	struct pending *p = *link;

	*link = p->next;
	emit(c, &p->hdr, p->buf, p->lost, p->skips, p->nskips);
	free(p->skips);
	free(p->buf);
	free(p);
}

static struct pending **pending_find(struct capture *c, uint32_t tid)
{
	struct pending **link;

	for (link = &c->pending; *link; link = &(*link)->next)
		if ((*link)->hdr.tid == tid)
			return link;
	return NULL;
}

static int add_skip(struct pending *p, const struct tlstop_data *d)
{
	struct call_skip *n = realloc(p->skips, (p->nskips + 1) * sizeof(*n));

	if (!n)
		return -1;
	p->skips = n;
	n[p->nskips].off = d->offset;
	n[p->nskips].len = d->chunk_len;
	p->nskips++;
	return 0;
}

static int feed_data(struct capture *c, const struct tlstop_data *d, size_t size)
{
	struct pending **link = pending_find(c, d->tid), *p;
	bool skip = d->flags & TLSTOP_F_SKIP;

	if (size < sizeof(*d) + (skip ? 0 : d->chunk_len) || d->captured_len > d->len ||
	    d->chunk_len > d->captured_len || d->offset > d->captured_len - d->chunk_len)
		return -1;

	if (link && (*link)->hdr.ts_ns != d->ts_ns) {
		/* the thread moved on: the rest of its previous call was lost */
		(*link)->lost = true;
		pending_finish(c, link);
		link = NULL;
	}
	if (!link && d->offset == 0 && (d->flags & TLSTOP_F_LAST)) {
		/* the common case: the whole call in one record, no copy */
		struct call_skip all = { 0, d->chunk_len };

		emit(c, d, skip ? NULL : d->data, d->chunk_len != d->captured_len, &all, skip);
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
		p->lost = d->offset != 0;
		p->next = c->pending;
		c->pending = p;
		link = &c->pending;
	}
	p = *link;
	if (d->offset != p->next_off)
		p->lost = true;
	if (!skip)
		memcpy(p->buf + d->offset, d->data, d->chunk_len);
	else if (add_skip(p, d))
		p->lost = true;
	p->next_off = d->offset + d->chunk_len;
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
		free(p->skips);
		free(p->buf);
		free(p);
	}
	free(c);
}
