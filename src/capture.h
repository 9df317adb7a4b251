/* capture.h - turns ring-buffer records (live or from a recording) into
 * whole TLS calls and process notices; the one entry point of the pipeline
 * after the kernel. */
#ifndef TLSTOP_CAPTURE_H
#define TLSTOP_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"
#include "tlstop.h"

/* A range of a call the in-kernel prefilter did not copy (TLSTOP_F_SKIP). */
struct call_skip {
	uint32_t off;
	uint32_t len;
};

struct tls_call {
	const struct tlstop_data *hdr; /* fields of the first record; data[] unused */
	const uint8_t *data; /* captured_len bytes; gaps are zero when lost */
	uint32_t data_len;
	bool lost; /* records of this call were lost */
	const struct call_skip *skips; /* in order; their bytes in data are zero */
	uint32_t nskips;
};

struct capture_ops {
	void (*call)(const struct tls_call *call, void *arg);
	void (*proc)(const struct tlstop_proc *notice, void *arg);
};

struct capture;

struct capture *capture_new(const struct capture_ops *ops, void *arg, struct stats *stats);
void capture_free(struct capture *c);
/* Feeds one record as the kernel wrote it. Malformed records are counted in
 * stats->bad_records and dropped; returns -1 for them, 0 otherwise. */
int capture_feed(struct capture *c, const void *rec, size_t size);
/* Emits calls whose last records never came (lost), if they started before
 * older_than_ns (CLOCK_MONOTONIC; UINT64_MAX flushes all). */
void capture_flush(struct capture *c, uint64_t older_than_ns);

#endif
