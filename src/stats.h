/* stats.h - loss and integrity counters: the kernel's, per library, and
 * what userspace saw; encoded into recordings so a replay reports them. */
#ifndef TLSTOP_STATS_H
#define TLSTOP_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"
#include "tlstop.h"

struct stats {
	struct tlstop_counters kernel;
	struct tlstop_kf_counters kfilter; /* what the prefilter kept back: not losses */
	struct tlstop_lib_counters lib[TLSTOP_MAX_LIBS];
	uint32_t nlibs;
	/* userspace, from the records received */
	uint64_t calls;
	uint64_t bytes;
	uint64_t captured_bytes;
	uint64_t delivered_bytes; /* ring-buffer records received, headers included */
	uint64_t truncated_calls;
	uint64_t incomplete_calls; /* some records of the call never arrived */
	uint64_t bad_records; /* malformed ring-buffer or recording records */
	/* decoding, from the pipeline */
	struct proto_counters proto;
	uint64_t conns; /* connections tracked */
	uint64_t store_msgs, store_mem; /* messages and bytes held */
	uint64_t evicted_msgs, evicted_bytes; /* dropped past the budgets */
};

/* Kernel part of a snapshot, for a REC_STATS record. Returns the bytes
 * written to buf (size at least stats_encoded_max()). */
size_t stats_encode(const struct stats *s, void *buf);
size_t stats_encoded_max(void);
/* Replaces the kernel part of s; -1 when the payload is malformed. */
int stats_decode(struct stats *s, const void *buf, size_t len);

#endif
