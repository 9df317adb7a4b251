/* run.h - the three ways tlstop runs: live capture, replay of a recording,
 * and the --list-targets report. Each returns the process exit status. */
#ifndef TLSTOP_RUN_H
#define TLSTOP_RUN_H

#include "options.h"

enum run_status {
	RUN_OK = 0,
	RUN_USAGE = 1, /* bad usage or unreadable recording */
	RUN_CANNOT_TRACE = 2, /* privileges, BTF, BPF refused */
	RUN_NOTHING = 3, /* nothing to trace for --pid/--comm */
};

int run_live(const struct options *o);
int run_replay(const struct options *o);

#endif
