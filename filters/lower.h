/* lower.h - the part of a filter the kernel can check before copying a
 * call: pid, comm and path-prefix rules that every message the expression
 * matches satisfies, and the text of :filter explain. */
#ifndef TLSTOP_LOWER_H
#define TLSTOP_LOWER_H

#include <stdbool.h>
#include <stdint.h>

#include "filter.h"
#include "strbuf.h"
#include "tlstop.h"

struct kf_prefix {
	uint8_t len; /* bytes in s, 1..TLSTOP_KF_PATH_MAX */
	uint8_t s[TLSTOP_KF_PATH_MAX]; /* zero after len */
};

/* Each set is sorted and without repeats; an empty set in force means
 * nothing can match. */
struct kf_rules {
	bool pids_set; /* messages of other pids can never match */
	uint32_t npids;
	uint32_t pids[TLSTOP_KF_MAX_PIDS];
	bool comms_set; /* messages of other comms can never match */
	uint32_t ncomms;
	char comms[TLSTOP_KF_MAX_COMMS][TLSTOP_COMM_LEN]; /* NUL-terminated, at most 15 chars */
	bool paths_set; /* every matching message's path starts with one of prefixes[] */
	uint32_t nprefixes;
	struct kf_prefix prefixes[TLSTOP_KF_MAX_PREFIXES]; /* none begins another */
};

/* Rules implied by f (NULL f: no rule). Never fails: what cannot be
 * lowered is left out. */
void filter_lower(const struct filter *f, struct kf_rules *r);

/* Human text for :filter explain and --explain, one item per line,
 * appended to sb: what the kernel checks (r, and sampling when sample_n > 1),
 * what userspace checks (all of f), and each term of f the kernel does not
 * check, with the reason. ascii: no UTF-8 symbols. */
void filter_explain(const struct filter *f, const struct kf_rules *r, uint32_t sample_n, bool ascii,
		    struct strbuf *sb);

#endif
