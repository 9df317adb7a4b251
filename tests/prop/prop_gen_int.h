/* prop_gen_int.h - what the trial generator's parts share: the PRNG, the
 * trial's paths and a connection's two byte streams in wire order. */
#ifndef TLSTOP_PROP_GEN_INT_H
#define TLSTOP_PROP_GEN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

struct prop_rng {
	uint64_t s;
};

uint64_t rng_next(struct prop_rng *r);
uint32_t rng_below(struct prop_rng *r, uint32_t n); /* [0, n), n > 0 */
uint32_t rng_range(struct prop_rng *r, uint32_t lo, uint32_t hi); /* [lo, hi] */
bool rng_pct(struct prop_rng *r, uint32_t pct); /* true pct times in 100 */
/* A size from 0 to max, small ones much more likely: most messages are
 * small, a few span many calls. */
uint32_t rng_size(struct prop_rng *r, uint32_t max);
void rng_fill(struct prop_rng *r, struct strbuf *b, size_t n);

#define GEN_PATHS_MAX 16

/* The paths requests use in a trial, NUL-terminated (none holds a NUL). */
struct gen_paths {
	char *p[GEN_PATHS_MAX];
	size_t n;
};

/* A path from the trial's set. */
const char *gen_path(struct prop_rng *r, const struct gen_paths *paths);

/* A run of bytes one direction put on the wire before the other spoke
 * (or the rules changed): calls never straddle two. */
struct gseg {
	uint8_t dir;
	uint8_t phase;
	size_t off, end;
};

struct prop_gconn {
	uint64_t id; /* the SSL* value */
	bool client; /* the traced process is the client: its requests go out */
	bool h2;
	struct h2gen *h2gen; /* HPACK state and stream ids across phases */
	uint8_t phase; /* of the bytes put now */
	struct strbuf dir[2]; /* [TLSTOP_DIR_OUT], [TLSTOP_DIR_IN] */
	struct gseg *segs;
	size_t nsegs, segs_cap;
	bool oom;
};

/* Appends n bytes to direction dir of c. */
void gconn_put(struct prop_gconn *c, uint8_t dir, const void *p, size_t n);
/* Directions of the requests and of the responses. */
uint8_t gconn_req_dir(const struct prop_gconn *c);
uint8_t gconn_resp_dir(const struct prop_gconn *c);

/* One phase of traffic on c: keep-alive HTTP/1.1 requests and responses. */
void h1gen_phase(struct prop_rng *r, struct prop_gconn *c, const struct gen_paths *paths);

/* HTTP/2: the connection's preface in its first phase, then concurrent
 * streams; last: the final phase (a GOAWAY may end it). */
struct h2gen *h2gen_new(struct prop_rng *r);
void h2gen_phase(struct prop_rng *r, struct prop_gconn *c, const struct gen_paths *paths,
		 bool last);
void h2gen_free(struct h2gen *g);

/* A filter expression over the paths, pid and comm (or others). */
char *expr_gen(struct prop_rng *r, const struct gen_paths *paths, uint32_t pid, const char *comm);

#endif
