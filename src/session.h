/* session.h - one run of the capture core, live or from a recording,
 * driven by the caller's event loop: batch mode (run.c) and the UI (ui/)
 * both poll session_fd() and call session_step(). The UI reads the core
 * through the accessors below; the core never calls the UI. */
#ifndef TLSTOP_SESSION_H
#define TLSTOP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libs.h"
#include "options.h"
#include "output.h"
#include "stats.h"
#include "targets.h"

struct session;
struct store;
struct methods;
struct filter;

enum session_level {
	SESSION_INFO,
	SESSION_WARN,
	SESSION_ERROR,
};

/* One line of the Events log: attach and detach, libraries found, why a
 * process is not traced, losses by cause, what the filter pushed down. */
struct session_event {
	uint64_t seq; /* 1, 2, ... for the whole run; the log keeps the latest */
	uint64_t wall_ns; /* CLOCK_REALTIME */
	enum session_level level;
	char text[256];
};
#define SESSION_EVENTS_MAX 1024

/* Opens a live capture (o->read_path NULL) or a recording. out is where
 * batch records go; NULL prints nothing (the UI). Reports nothing itself:
 * returns a run_status (RUN_OK when open) with *cause set on failure. A
 * recording is replayed as fast as it can be read when o->speed is 0, else
 * paced on its own timestamps at o->speed times real time. On RUN_NOTHING
 * *s is a session that only scanned (session_targets() says why each --pid
 * cannot be traced); it must still be closed. */
int session_open(struct session **s, const struct options *o, struct output *out,
		 char **cause);
/* Finishes (open connections end, final counters), detaches probes, stops
 * the demo, closes the recording. Returns the exit status of the run. */
int session_close(struct session *s);

/* Readable when session_step() has work: ring buffer, signals, its timer. */
int session_fd(const struct session *s);
/* Does what is due without blocking: drains at most one batch of records,
 * rescans, ticks the pipeline every --delay. Returns true when more work
 * is already waiting (call again before sleeping). */
bool session_step(struct session *s);
/* A signal, --duration or --count ended the run, or a batch replay read
 * its whole recording. */
bool session_stopped(const struct session *s);
/* A replay read its whole recording (the UI keeps showing it). */
bool session_at_end(const struct session *s);

/* The message filter of batch output and --stats (NULL: everything).
 * The session does not take f. */
void session_set_filter(struct session *s, const struct filter *f);
/* The in-kernel prefilter keeps what any of fs could match (the screens'
 * filters); it never hides more than they do. */
void session_set_kernel_filters(struct session *s, const struct filter *const *fs, size_t n);
struct strbuf;
/* What went to the kernel and what stays in userspace, one item a line. */
void session_explain(const struct session *s, bool ascii, struct strbuf *sb);

/* Read access for the UI. Pointers stay valid until session_close(); what
 * they point to changes at every session_step(). */
struct store *session_store(const struct session *s);
struct methods *session_methods(const struct session *s);
const struct lib_table *session_libs(const struct session *s);
/* NULL on replay. */
struct targets *session_targets(const struct session *s);
/* Every counter, the kernel's read now when live. */
void session_stats(struct session *s, struct stats *st);
/* The capture clock: CLOCK_MONOTONIC live, the recording's position on
 * replay; what store and methods times are compared with. */
uint64_t session_clock(const struct session *s);
/* CLOCK_REALTIME - CLOCK_MONOTONIC of the capture, for wall timestamps. */
int64_t session_realtime_offset(const struct session *s);
/* Messages decoded since the start (for [PAUSED +N]). */
uint64_t session_messages(const struct session *s);
/* The latest events, oldest first; *n set to how many. */
const struct session_event *session_events(const struct session *s, size_t *n);
/* Adds a line to the Events log (the UI logs what it did too). */
void session_log(struct session *s, enum session_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* CLOCK_MONOTONIC when the session started. */
uint64_t session_started_ns(const struct session *s);

/* tlstop's own cost, for the header: CPU % since the previous call and RSS. */
struct self_usage {
	double cpu_pct;
	uint64_t rss_bytes;
	uint64_t last_cpu_ns, last_wall_ns; /* private: the previous sample */
};
void self_usage_sample(struct self_usage *u);

#endif
