/* record.h - the recording file: raw capture records, versioned and
 * checksummed, so a capture can be replayed without root. */
#ifndef TLSTOP_RECORD_H
#define TLSTOP_RECORD_H

#include <stdint.h>

#define REC_MAGIC "TLSTOPRC" /* 8 bytes */
#define REC_VERSION 1
#define REC_MAX_PAYLOAD (4u * 1024 * 1024)

enum rec_type {
	REC_EVENT = 1, /* a ring-buffer record, bytes as the kernel wrote them */
	REC_LIB = 2, /* a target file (struct rec_lib + path) */
	REC_STATS = 3, /* a counters snapshot (struct stats_snapshot) */
};

struct rec_writer;
struct rec_reader;

/* Creates path with mode 0600 (an existing file is replaced, and its mode
 * reset to 0600). realtime_offset_ns = CLOCK_REALTIME - CLOCK_MONOTONIC at
 * capture time, stored in the header so replayed timestamps match live. */
int rec_writer_open(struct rec_writer **w, const char *path, int64_t realtime_offset_ns,
		    char **cause);
int rec_write(struct rec_writer *w, uint32_t type, const void *buf, uint32_t len,
	      char **cause);
/* Flushes and closes; returns -1 with *cause when the final flush failed. */
int rec_writer_close(struct rec_writer *w, char **cause);

int rec_reader_open(struct rec_reader **r, const char *path, char **cause);
int64_t rec_reader_realtime_offset(const struct rec_reader *r);
/* Returns 1 with the next record (*buf valid until the next call), 0 at a
 * clean end of file, -1 with *cause naming the byte offset when the file is
 * truncated or corrupted. */
int rec_read(struct rec_reader *r, uint32_t *type, const void **buf, uint32_t *len,
	     char **cause);
void rec_reader_close(struct rec_reader *r);

#endif
