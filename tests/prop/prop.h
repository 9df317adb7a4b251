/* prop.h - the property test of the in-kernel prefilter: what every
 * transport (the way records reach userspace: pass-through, a userspace
 * model of the kernel logic, the real BPF programs) provides to the oracle. */
#ifndef TLSTOP_PROP_H
#define TLSTOP_PROP_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "lower.h"
#include "tlstop.h"

struct prop_call {
	uint64_t conn; /* connection identity: used as the SSL* value */
	uint8_t dir; /* TLSTOP_DIR_OUT / TLSTOP_DIR_IN */
	const uint8_t *data;
	uint32_t len;
};

/* What the kernel hands to userspace. Each transport turns a call into
 * ring-buffer records and feeds them to capture_feed(cap, rec, size) (all
 * records of a call before returning). */
struct prop_transport {
	const char *name;
	void *(*open)(char **cause); /* NULL + cause: cannot run (e.g. no BPF) */
	int (*set_rules)(void *t, const struct kf_rules *r, uint32_t gen); /* live rule change */
	int (*call)(void *t, const struct prop_call *c, struct capture *cap);
	uint32_t (*pid)(void *t); /* the pid the records carry */
	const char *(*comm)(void *t); /* the comm they carry */
	void (*close)(void *t);
};

/* records with all data, chunked like the kernel (TLSTOP_CHUNK_MAX), pid and
 * comm of this process (see prop_pass_identity) */
extern const struct prop_transport prop_pass_transport;
extern const struct prop_transport prop_model_transport; /* tests/prop/kf_model.c */
extern const struct prop_transport prop_bpf_transport; /* tests/prop/kf_bpf.c */

/* The reference run must carry the pid and comm of the transport under
 * test, or pid and comm terms would judge the two runs differently. */
void prop_pass_identity(void *t, uint32_t pid, const char *comm);
/* kf_prop --break: once given rules, the pass transport flips the middle
 * byte of every call of 1 KiB or more, so the oracle is seen to fail. */
extern bool prop_pass_break;

/*
 * Feeds the records of [off, off + n) of a call to cap as the kernel writes
 * them: rec holds the call's header (ts, ssl, pid, tid, comm, dir, len,
 * captured_len...) and room for TLSTOP_CHUNK_MAX bytes; data (the call's
 * bytes from offset 0) is copied in chunks of at most TLSTOP_CHUNK_MAX, or,
 * when NULL, the range goes as one TLSTOP_F_SKIP record. last flags the
 * final record of the call. Returns 0, or -1 when capture refused a record.
 */
int prop_feed_range(struct capture *cap, struct tlstop_data *rec, const uint8_t *data,
		    uint32_t off, uint32_t n, bool last);

#endif
