/* kf_prop.c - the property test of the in-kernel prefilter: random traffic
 * and filter expressions; every message the filter accepts when all bytes
 * reach userspace must be accepted, identical and complete, when the calls
 * go through a transport with the lowered rules in place.
 *
 *   kf_prop --transport pass|model|bpf [--seed N] [--trials N] [--verbose] [--break]
 *
 * Trial i uses seed N + i and is replayed alone by --seed N+i --trials 1.
 * Exit 0: the property held; 1: it did not (the first counterexample is
 * printed), or an error; 77: the transport cannot run here, outside CI. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prop_check.h"

#define CONN_BASE 0x550000000000ULL /* SSL* values that look like heap pointers */

static const struct prop_transport *const transports[] = {
	&prop_pass_transport,
	&prop_model_transport,
	&prop_bpf_transport,
};

static const struct prop_transport *transport_named(const char *name)
{
	for (size_t i = 0; i < sizeof(transports) / sizeof(transports[0]); i++)
		if (!strcmp(transports[i]->name, name))
			return transports[i];
	return NULL;
}

static int usage(void)
{
	fputs("usage: kf_prop --transport pass|model|bpf [--seed N] [--trials N] [--verbose] "
	      "[--break]\n",
	      stderr);
	return 1;
}

/* Cannot run here: a skip, but never under CI. */
static int cannot_run(const struct prop_transport *tr, char *cause)
{
	const char *ci = getenv("CI");

	fprintf(stderr, "kf_prop: transport %s cannot run: %s\n", tr->name,
		cause ? cause : "unknown cause");
	free(cause);
	return ci && !strcmp(ci, "true") ? 1 : 77;
}

static int run(struct prop_check *pc, uint64_t seed, uint64_t trials)
{
	uint32_t pid = pc->tr->pid(pc->t);
	const char *comm = pc->tr->comm(pc->t);
	int rc = 0;

	prop_pass_identity(pc->ref, pid, comm);
	for (uint64_t i = 0; i < trials && !rc; i++) {
		struct prop_trial t;

		if (prop_trial_gen(&t, seed + i, CONN_BASE + (i << 12), pid, comm)) {
			fputs("kf_prop: out of memory\n", stderr);
			return 1;
		}
		rc = prop_check_trial(pc, &t);
		prop_trial_free(&t);
	}
	return rc ? 1 : 0;
}

static void summary(const struct prop_check *pc, int rc)
{
	const struct prop_totals *s = &pc->tot;

	printf("kf_prop: transport=%s trials=%" PRIu64 " skipped=%" PRIu64 " changes=%" PRIu64
	       " messages=%" PRIu64 " unclean=%" PRIu64 " decode_errors=%" PRIu64
	       " accepted=%" PRIu64 " checked=%" PRIu64 " exempt=%" PRIu64
	       " delivered=%" PRIu64 "/%" PRIu64 " bytes (%.1f%% dropped)%s\n",
	       pc->tr->name, s->trials, s->skipped, s->changes, s->messages, s->unclean,
	       s->decode_errors, s->accepted, s->checked, s->exempt, s->delivered, s->reference,
	       s->reference ? 100.0 * (double)(s->reference - s->delivered) / (double)s->reference :
			      0.0,
	       rc ? " FAIL" : "");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "transport", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "trials", required_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "break", no_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	struct prop_check pc = { 0 };
	uint64_t seed = 1, trials = 500;
	char *cause = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			pc.tr = transport_named(optarg);
			if (!pc.tr)
				return usage();
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			trials = strtoull(optarg, NULL, 0);
			break;
		case 'v':
			pc.verbose = true;
			break;
		case 'b':
			prop_pass_break = true;
			break;
		default:
			return usage();
		}
	}
	if (!pc.tr || optind != argc)
		return usage();
	pc.ref = prop_pass_transport.open(&cause);
	if (!pc.ref) {
		fprintf(stderr, "kf_prop: %s\n", cause);
		free(cause);
		return 1;
	}
	pc.t = pc.tr->open(&cause);
	if (!pc.t) {
		prop_pass_transport.close(pc.ref);
		return cannot_run(pc.tr, cause);
	}
	rc = run(&pc, seed, trials);
	summary(&pc, rc);
	pc.tr->close(pc.t);
	prop_pass_transport.close(pc.ref);
	return rc;
}
