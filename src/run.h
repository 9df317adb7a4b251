/* run.h - batch mode: the session driven until it stops, printing one
 * record per message (or per call, or --stats tables), or the
 * --list-targets report. Returns the process exit status. */
#ifndef TLSTOP_RUN_H
#define TLSTOP_RUN_H

#include "options.h"

enum run_status {
	RUN_OK = 0,
	RUN_USAGE = 1, /* bad usage, a filter syntax error or an unreadable recording */
	RUN_CANNOT_TRACE = 2, /* privileges, BTF, BPF refused */
	RUN_NOTHING = 3, /* nothing to trace for --pid/--comm */
};

struct filter;
/* f: the messages printed and counted (NULL: all); the caller keeps it. */
int run_batch(const struct options *o, const struct filter *f);
struct session;
/* session_open() said RUN_NOTHING: why each --pid cannot be traced. */
void run_report_nothing(const struct options *o, struct session *s, const char *headline);

#endif
