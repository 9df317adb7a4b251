/* prop_gen.h - one trial of the property test, built from a seed: paths
 * that collide on purpose, a filter expression over them (and sometimes a
 * second one the rules change to between whole requests), and HTTP/1,
 * HTTP/2 and gRPC connections cut into TLS calls at random boundaries and
 * interleaved. */
#ifndef TLSTOP_PROP_GEN_H
#define TLSTOP_PROP_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "prop.h"

struct prop_gconn;

struct prop_trial {
	uint64_t seed;
	/* expr[1]: the expression from calls[change_at] on; NULL when the
	 * rules do not change (change_at is then ncalls) */
	char *expr[2];
	size_t change_at;
	struct prop_call *calls; /* in the order the process made them */
	size_t ncalls;
	struct prop_gconn *conns; /* own the bytes the calls point into */
	size_t nconns;
};

/* Builds the trial of seed; pid and comm are what the transport's records
 * carry (pid and comm terms name them, or others). conn_base keeps the
 * connections of different trials apart. Returns 0, or -1 out of memory. */
int prop_trial_gen(struct prop_trial *t, uint64_t seed, uint64_t conn_base, uint32_t pid,
		   const char *comm);
void prop_trial_free(struct prop_trial *t);

#endif
