/* prop_check.h - the oracle: a trial's calls fed whole to the decoders
 * (the reference) and through the transport under test with the lowered
 * rules; every message the filter accepts in the reference must come out
 * of the test run accepted, identical and complete. */
#ifndef TLSTOP_PROP_CHECK_H
#define TLSTOP_PROP_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "prop.h"
#include "prop_gen.h"

struct prop_totals {
	uint64_t trials; /* run to the end */
	uint64_t skipped; /* an expression did not compile */
	uint64_t changes; /* trials whose rules changed mid-traffic */
	uint64_t messages; /* decoded in the reference runs */
	/* of them, with a gap, incomplete, malformed or without a known path
	 * though not reset: the generator's traffic should have next to none */
	uint64_t unclean;
	uint64_t decode_errors; /* the reference decoders' counter */
	uint64_t accepted; /* of them, accepted by the filter */
	uint64_t checked; /* found identical in the test runs */
	/* not checked: after a change, on a connection the old rules kept
	 * out whole (see exempt() in prop_check.c) */
	uint64_t exempt;
	uint64_t delivered; /* record bytes the transport under test fed */
	uint64_t reference; /* record bytes the reference fed */
};

struct prop_check {
	const struct prop_transport *tr;
	void *t; /* the transport under test, open */
	void *ref; /* a pass transport, open: the reference */
	uint32_t gen; /* of the last rules given */
	bool verbose;
	struct prop_totals tot;
};

/* Runs trial t. Returns 0 when the property held (or the trial was
 * skipped), 1 when it did not (the difference printed), -1 when a
 * transport failed (reported). */
int prop_check_trial(struct prop_check *pc, const struct prop_trial *t);

#endif
