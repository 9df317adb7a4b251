/* kfilter.h - the prefilter's rules written into the BPF maps, live: a new
 * expression or sample rate takes effect at the next TLS call, without
 * re-attaching anything. */
#ifndef TLSTOP_KFILTER_H
#define TLSTOP_KFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lower.h"

/* The maps' file descriptors (from the tracer). */
struct kfilter_maps {
	int config, pids, comms, paths;
};

/* Replaces the rules in force by r (NULL: none) and the sample rate
 * (0 or 1: every connection). gen must differ from the last one given:
 * decisions made under older rules are void. Returns 0, or -1 with *cause;
 * the kernel then copies everything (rules off), which is always safe. */
int kfilter_set(const struct kfilter_maps *m, const struct kf_rules *r, uint32_t sample_n,
		uint32_t gen, char **cause);

/* The LPM trie keys of a prefix: raw, and HPACK Huffman-coded (a Huffman
 * prefix need not end on a byte: the trie compares bits). */
void kfilter_prefix_keys(const struct kf_prefix *p, struct tlstop_kf_path_key k[2]);

struct strbuf;
struct filter;

/* What is in force: the filters the rules came from, and the rules. */
struct kfilter;

/* m NULL: nothing goes to a kernel (a replay); the rules are still worked
 * out, for explain. */
struct kfilter *kfilter_new(const struct kfilter_maps *m, uint32_t sample_n);
void kfilter_free(struct kfilter *k);
/* The kernel keeps what any of fs[0..n) could match: a NULL filter among
 * them, or none at all, leaves only the sample rate. Returns 0, or -1 with
 * *cause (the kernel then copies everything). */
int kfilter_update(struct kfilter *k, const struct filter *const *fs, size_t n, char **cause);
const struct kf_rules *kfilter_rules(const struct kfilter *k);
/* `:filter explain` and --explain: what went to the kernel and what stays
 * in userspace. */
void kfilter_explain(const struct kfilter *k, bool ascii, struct strbuf *sb);

#endif
