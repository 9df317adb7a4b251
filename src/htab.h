/* htab.h - a small intrusive chained hash table: records embed a struct
 * htab_node as their first member and compare their own keys. */
#ifndef TLSTOP_HTAB_H
#define TLSTOP_HTAB_H

#include <stddef.h>
#include <stdint.h>

struct htab_node {
	struct htab_node *next;
	struct htab_node **pprev; /* what points at this node: unlinking needs no walk */
	uint64_t hash;
};

struct htab {
	struct htab_node **buckets;
	size_t mask; /* buckets - 1, a power of two minus one */
	size_t count;
};

/* Allocates the first buckets; -1 when out of memory. */
int htab_init(struct htab *t);
/* Frees the buckets; the nodes belong to the caller. */
void htab_fini(struct htab *t);
/* Links the caller's node under hash. Never fails: when doubling the
 * buckets runs out of memory the chains just grow longer. */
void htab_add(struct htab *t, struct htab_node *n, uint64_t hash);
/* Unlinks a node that was added. */
void htab_del(struct htab *t, struct htab_node *n);
/* The first node with that hash, or NULL; htab_next() gives the following
 * ones with the same hash. The caller compares the keys. */
struct htab_node *htab_first(const struct htab *t, uint64_t hash);
struct htab_node *htab_next(const struct htab_node *n);
/* Bytes of the bucket array. */
size_t htab_mem(const struct htab *t);

uint64_t htab_hash_u64(uint64_t x);
/* FNV-1a over n bytes, started from seed. */
uint64_t htab_hash_bytes(const void *p, size_t n, uint64_t seed);

#endif
