/* options.h - the command line. */
#ifndef TLSTOP_OPTIONS_H
#define TLSTOP_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "probe_plan.h"
#include "tlstop.h"

struct options {
	bool batch;
	bool json;
	bool verbose;
	pid_t *pids;
	int npids;
	char *comm;
	uint64_t count; /* 0: unlimited */
	double duration; /* seconds, 0: unlimited */
	double delay; /* seconds between stats records */
	uint32_t snaplen;
	bool list_targets;
	char *write_path;
	char *read_path;
	bool demo;
	bool raw; /* print TLS calls, not decoded messages */
	bool no_mask;
	bool stats; /* --stats: per-method snapshots instead of messages */
	int detail; /* text output detail, 0..3 */
	uint32_t body_max; /* body bytes kept per message */
	uint64_t budget; /* store bytes, all connections */
	uint64_t conn_budget; /* store bytes per connection */
	enum probe_method probe_method; /* PROBE_AUTO or PROBE_ENTRY_RETURN */
	char *filter; /* -f or the trailing FILTER; NULL: none */
	bool tui; /* --tui: the view even when stdout is not a terminal */
	bool no_color, no_unicode, mouse;
	double speed; /* replay pace factor; 0: not given */
	uint32_t sample; /* --sample N: keep one connection in N; 0: all */
	bool explain; /* print what the filter leaves to the kernel and exit */
};

enum options_result {
	OPTIONS_RUN = 0,
	OPTIONS_EXIT = 1, /* --help or --version was printed */
	OPTIONS_ERROR = -1, /* *cause says what is wrong */
};

enum options_result options_parse(struct options *o, int argc, char **argv, FILE *out,
				  char **cause);
void options_free(struct options *o);

#endif
