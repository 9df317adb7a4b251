/* methods.h - per-method statistics over a sliding window (calls/s,
 * errors, latency percentiles, bytes, distinct connections and pids) for
 * the Methods screen and --stats snapshots. Time is always passed in. */
#ifndef TLSTOP_METHODS_H
#define TLSTOP_METHODS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "message.h"

#define METHODS_WINDOW_S 10 /* default window */
#define METHODS_MAX 10000 /* default cap on methods; later keys count under "(other)" */
#define METHODS_KEY_MAX 256 /* longer keys are cut */
#define METHODS_DISTINCT_MAX 64 /* conns and pids are counted up to this: print "64+" */

struct methods_config {
	uint32_t window_s; /* 0: METHODS_WINDOW_S */
	uint32_t max_methods; /* 0: METHODS_MAX */
};

/* One method over the window. Latencies are -1 when none was known; they
 * are within 6.25% of the exact percentile (see methods.c), never above
 * max_ms, which is exact. */
struct methods_row {
	const char *key; /* "/pkg.Service/Method", "GET /api/users", "(unknown)", "(other)" */
	const char *service; /* gRPC: "pkg.Service"; others: "" */
	const char *method; /* gRPC: "Method"; others: the key */
	uint64_t calls;
	double calls_per_s;
	uint64_t errors;
	double error_pct; /* 0 without calls */
	double p50_ms, p99_ms, max_ms;
	uint64_t bytes;
	double bytes_per_s;
	uint32_t conns, pids; /* METHODS_DISTINCT_MAX means at least that many */
};

/* Rows of every method active in the window; the strings live in text. */
struct methods_snap {
	struct methods_row *rows;
	size_t n;
	double window_s; /* the seconds the rates are over */
	char *text;
};

enum methods_sort {
	METHODS_SORT_RATE, /* calls/s, the default */
	METHODS_SORT_ERRORS,
	METHODS_SORT_P99,
};

struct methods;

/* NULL when out of memory. */
struct methods *methods_new(const struct methods_config *cfg);
/* Frees everything methods_new() and methods_add() allocated. */
void methods_free(struct methods *ms);

/* Counts m at now_ns (CLOCK_MONOTONIC; a time before an earlier one counts
 * in the latest second). One call per completed exchange: a response
 * (the last record of a partial one) or a reset, except an RST_STREAM
 * with NO_ERROR, which follows a complete response (RFC 9113 8.1).
 * Requests and partial records add their body bytes only; GOAWAYs are
 * ignored. The caller keeps m. */
void methods_add(struct methods *ms, const struct message *m, uint64_t now_ns);
/* Fills snap with the methods active in the window ending at now_ns, in
 * no particular order; methods idle for two windows are freed. The caller
 * frees snap with methods_snap_free(). -1 when out of memory. */
int methods_snapshot(struct methods *ms, uint64_t now_ns, struct methods_snap *snap);
void methods_snap_free(struct methods_snap *snap);
/* Sorts the rows, largest first, ties by key. */
void methods_sort(struct methods_snap *snap, enum methods_sort by);
/* Methods tracked now, "(other)" included. */
size_t methods_count(const struct methods *ms);

/* The row m counts under, into key (NUL-terminated); returns its length:
 * gRPC "/pkg.Service/Method", others "METHOD /path" without the query,
 * "(unknown)" when the path is not known. */
size_t methods_key(const struct message *m, char key[METHODS_KEY_MAX + 1]);

/* The error rule of the Methods and Connections screens: HTTP status >= 500,
 * grpc-status other than OK, a reset other than NO_ERROR. */
bool methods_is_error(const struct message *m);

#endif
