/* output.h - batch text and JSON Lines printers, side by side, for every
 * record tlstop prints, and the one place errors are reported. */
#ifndef TLSTOP_OUTPUT_H
#define TLSTOP_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "capture.h"
#include "libs.h"
#include "stats.h"
#include "targets.h"

struct output {
	FILE *f;
	bool json;
	bool utf8;
	int64_t realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	const struct lib_table *libs;
};

void output_init(struct output *o, FILE *f, bool json, int64_t realtime_offset_ns,
		 const struct lib_table *libs);
void output_ready(struct output *o, pid_t self, unsigned int targets, unsigned int probes,
		  const char *source);
void output_call(struct output *o, const struct tls_call *call);
void output_stats(struct output *o, const struct stats *s, uint64_t now_ns);
void output_exit(struct output *o, const struct tlstop_proc *p);
/* The --list-targets report. */
void output_targets(struct output *o, struct targets *t);

/* Errors and warnings go to stderr, as JSON objects in JSON mode. */
void report(bool json, const char *level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
