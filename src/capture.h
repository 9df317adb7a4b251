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

/* A run of a call's bytes, in order: captured (data), or kept back by the
 * in-kernel prefilter (data NULL). */
struct call_piece {
	uint32_t off;
	uint32_t len;
	const uint8_t *data;
};

struct tls_call {
	const struct tlstop_data *hdr; /* fields of the first record; data[] unused */
	/* the captured_len bytes, when the prefilter kept none back (else
	 * NULL); gaps are zero when lost */
	const uint8_t *data;
	uint32_t data_len;
	bool lost; /* records of this call were lost */
	/* when the prefilter kept bytes back (data NULL): the pieces, covering
	 * [0, data_len) unless lost */
	const struct call_piece *pieces;
	uint32_t npieces;
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
