/* htab.c - intrusive chained hash table. */
#include <stdlib.h>

#include "htab.h"

#define HTAB_MIN_BUCKETS 16

int htab_init(struct htab *t)
{
	t->buckets = calloc(HTAB_MIN_BUCKETS, sizeof(*t->buckets));
	t->mask = HTAB_MIN_BUCKETS - 1;
	t->count = 0;
	return t->buckets ? 0 : -1;
}

void htab_fini(struct htab *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->mask = 0;
	t->count = 0;
}

static void link_head(struct htab_node **slot, struct htab_node *n)
{
	n->next = *slot;
	n->pprev = slot;
	if (*slot)
		(*slot)->pprev = &n->next;
	*slot = n;
}

static void htab_grow(struct htab *t)
{
	size_t nb = (t->mask + 1) * 2;
	struct htab_node **b = calloc(nb, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i <= t->mask; i++) {
		struct htab_node *n = t->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			link_head(&b[n->hash & (nb - 1)], n);
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->mask = nb - 1;
}

void htab_add(struct htab *t, struct htab_node *n, uint64_t hash)
{
	if (t->count > t->mask)
		htab_grow(t);
	n->hash = hash;
	link_head(&t->buckets[hash & t->mask], n);
	t->count++;
}

void htab_del(struct htab *t, struct htab_node *n)
{
	*n->pprev = n->next;
	if (n->next)
		n->next->pprev = n->pprev;
	n->next = NULL;
	n->pprev = NULL;
	t->count--;
}

struct htab_node *htab_first(const struct htab *t, uint64_t hash)
{
	struct htab_node *n = t->buckets[hash & t->mask];

	while (n && n->hash != hash)
		n = n->next;
	return n;
}

struct htab_node *htab_next(const struct htab_node *n)
{
	struct htab_node *p = n->next;

	while (p && p->hash != n->hash)
		p = p->next;
	return p;
}

size_t htab_mem(const struct htab *t)
{
	return (t->mask + 1) * sizeof(*t->buckets);
}

uint64_t htab_hash_u64(uint64_t x)
{
	/* splitmix64's finaliser: every input bit moves every output bit */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint64_t htab_hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ htab_hash_u64(seed);

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	/* FNV's low bits are weak and they pick the bucket */
	return htab_hash_u64(h);
}
