/* pipeline.h - everything after capture: TLS calls to connections and
 * decoders, messages masked, counted per method, printed and kept in the
 * bounded store. Live capture and replay share it; the UI reads its store
 * and statistics. */
#ifndef TLSTOP_PIPELINE_H
#define TLSTOP_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "options.h"
#include "output.h"
#include "stats.h"

struct pipeline;
struct filter;
struct filter_env;

/* NULL when out of memory. out is where messages (or --raw calls, or
 * --stats tables) are printed; NULL prints nothing (the UI). */
struct pipeline *pipeline_new(const struct options *o, struct output *out);
/* Ends every connection (their open messages are printed, incomplete)
 * and frees. */
void pipeline_free(struct pipeline *p);
void pipeline_call(struct pipeline *p, const struct tls_call *call);
/* A traced process exited: its connections end. */
void pipeline_exit(struct pipeline *p, uint32_t pid, uint64_t ts);
/* Every --delay at CLOCK_MONOTONIC now (the recording's clock on replay):
 * long gRPC streams, idle connections, the --stats table. */
void pipeline_tick(struct pipeline *p, uint64_t now);
/* Ends every connection: their open messages are printed, incomplete. */
void pipeline_end(struct pipeline *p);
/* The latest call time seen (CLOCK_MONOTONIC of the capture). */
uint64_t pipeline_clock(const struct pipeline *p);
/* The decoder and store counters, for stats records. */
void pipeline_counters(const struct pipeline *p, struct stats *s);
/* Messages f does not match are neither printed nor counted per method;
 * the store, when there is one, keeps them all (the UI filters per
 * screen). f NULL: every message. p takes neither; both must outlive p or the next call. */
void pipeline_set_filter(struct pipeline *p, const struct filter *f, const struct filter_env *env);
/* What the UI reads; valid until pipeline_free(). NULL with batch output,
 * which keeps no message. */
struct store *pipeline_store(const struct pipeline *p);
struct methods *pipeline_methods(const struct pipeline *p);
/* Messages decoded since the start, matching or not. */
uint64_t pipeline_messages(const struct pipeline *p);
/* --count was reached. */
bool pipeline_done(const struct pipeline *p);

#endif
