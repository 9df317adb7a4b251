/* output.h - batch text and JSON Lines printers, side by side, for every
 * record tlstop prints, and the one place errors are reported. */
#ifndef TLSTOP_OUTPUT_H
#define TLSTOP_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "capture.h"
#include "json.h"
#include "libs.h"
#include "stats.h"
#include "targets.h"

struct output {
	FILE *f;
	bool json;
	bool utf8;
	int64_t realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	const struct lib_table *libs;
	int detail; /* text: 0 counters, 1 a line per message, 2 + headers, 3 + bodies */
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

/* Decoded messages and per-method tables (msg_output.c). */
struct message;
struct methods_snap;
void output_message(struct output *o, const struct message *m);
void output_methods(struct output *o, const struct methods_snap *snap, uint64_t now_ns);

/* Pieces shared by the printers. */
uint64_t output_wall_ns(const struct output *o, uint64_t mono_ns);
/* "12:03:04.118042", or RFC 3339 "2026-11-21T12:03:04.118042Z" when full */
void output_format_ts(char *buf, size_t len, uint64_t wall_ns, bool full);
void output_json_ts(struct json_writer *w, const struct output *o, uint64_t mono_ns);
void output_json_str_or_null(struct json_writer *w, const char *key, const char *v);
/* Bytes as a string under text_key when printable UTF-8 text, else base64
 * under b64_key: exactly one of the two. */
void output_json_bytes(struct json_writer *w, const char *text_key, const char *b64_key,
		       const uint8_t *p, size_t n);
/* pid, tid, comm, lib, lib_path, linking and the conn object */
void output_who_json(struct output *o, struct json_writer *w, const struct tlstop_data *d);
/* "127.0.0.1:443" or "[::1]:443"; false when the call has no address */
bool output_endpoint(char *buf, size_t len, const struct tlstop_data *d, bool local);
/* "fd:PID:FD" or "ssl:PID:0x..." */
void output_conn_id(char *buf, size_t len, const struct tlstop_data *d);
const char *output_role_name(uint16_t role);
/* Quoted, C-escaped, cut at max bytes with "..." */
void output_preview(FILE *f, const uint8_t *data, uint32_t len, uint32_t max);

/* Errors and warnings go to stderr, as JSON objects in JSON mode. */
void report(bool json, const char *level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
