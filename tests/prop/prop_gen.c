/* prop_gen.c - a trial from its seed: the PRNG, the paths, connections
 * generated phase by phase, their bytes cut into calls and the calls of
 * the connections interleaved. */
#include <stdlib.h>
#include <string.h>

#include "prop_gen.h"
#include "prop_gen_int.h"

#define CALL_MAX 32768 /* under the default snaplen: no call is truncated */
#define CONNS_MAX 5

/* ---- PRNG (splitmix64: any seed, 0 included, gives a good stream) ---- */

uint64_t rng_next(struct prop_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t rng_below(struct prop_rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

uint32_t rng_range(struct prop_rng *r, uint32_t lo, uint32_t hi)
{
	return lo + rng_below(r, hi - lo + 1);
}

bool rng_pct(struct prop_rng *r, uint32_t pct)
{
	return rng_below(r, 100) < pct;
}

uint32_t rng_size(struct prop_rng *r, uint32_t max)
{
	uint32_t k = rng_below(r, 100), cap;

	if (k < 10)
		cap = 0;
	else if (k < 45)
		cap = 100;
	else if (k < 75)
		cap = 2000;
	else if (k < 92)
		cap = 16000;
	else
		cap = max;
	return rng_below(r, (cap < max ? cap : max) + 1);
}

void rng_fill(struct prop_rng *r, struct strbuf *b, size_t n)
{
	while (n) {
		uint64_t v = rng_next(r);
		size_t k = n < sizeof(v) ? n : sizeof(v);

		sb_add(b, &v, k);
		n -= k;
	}
}

/* ---- paths ---- */

/* Paths that share prefixes, differ in one byte, or are prefixes of each
 * other: what lowering and the kernel's matching must tell apart. */
static const char *const vocabulary[] = {
	"/pkg.A/Call", "/pkg.B/Call", "/pkgxA/Get", "/api/v1/items?id=7",
	"/", "/index.html", "/a", "/ab",
};

/* "/" and len - 1 bytes: printable ASCII but blank, or also 0x80-0xff. */
static char *random_path(struct prop_rng *r, uint32_t len, bool high)
{
	char *s = malloc(len + 1);

	if (!s)
		return NULL;
	s[0] = '/';
	for (uint32_t i = 1; i < len; i++)
		s[i] = (char)(high && rng_pct(r, 40) ? rng_range(r, 0x80, 0xff) :
							rng_range(r, 0x21, 0x7e));
	s[len] = '\0';
	return s;
}

/* A near miss of p: longer, shorter, or one byte changed (often past the
 * bytes the kernel compares). */
static char *derived_path(struct prop_rng *r, const char *p)
{
	size_t n = strlen(p);
	char *s = malloc(n + 12);

	if (!s)
		return NULL;
	memcpy(s, p, n + 1);
	switch (rng_below(r, 3)) {
	case 0:
		for (uint32_t k = rng_range(r, 1, 10); k; k--)
			s[n++] = (char)rng_range(r, 0x21, 0x7e);
		s[n] = '\0';
		break;
	case 1:
		if (n > 1)
			s[rng_range(r, 1, (uint32_t)n - 1)] = '\0';
		break;
	default:
		if (n > 1)
			s[rng_range(r, 1, (uint32_t)n - 1)] = (char)rng_range(r, 0x21, 0x7e);
		break;
	}
	return s;
}

static void paths_add(struct gen_paths *g, char *p, bool *oom)
{
	if (!p)
		*oom = true;
	else if (g->n < GEN_PATHS_MAX)
		g->p[g->n++] = p;
	else
		free(p);
}

static int paths_gen(struct prop_rng *r, struct gen_paths *g)
{
	size_t nvocab = sizeof(vocabulary) / sizeof(vocabulary[0]);
	bool oom = false;

	for (size_t i = 0; i < nvocab; i++)
		if (rng_pct(r, 50))
			paths_add(g, strdup(vocabulary[i]), &oom);
	for (uint32_t k = rng_range(r, 1, 2); k; k--)
		paths_add(g, random_path(r, rng_range(r, 2, 20), false), &oom);
	if (rng_pct(r, 40))
		paths_add(g, random_path(r, rng_range(r, 65, 80), false), &oom);
	if (rng_pct(r, 30))
		paths_add(g, random_path(r, rng_range(r, 100, 140), false), &oom);
	if (rng_pct(r, 35))
		paths_add(g, random_path(r, rng_range(r, 2, 30), true), &oom);
	for (uint32_t k = rng_below(r, 4); k && g->n; k--)
		paths_add(g, derived_path(r, g->p[rng_below(r, (uint32_t)g->n)]), &oom);
	return oom ? -1 : 0;
}

const char *gen_path(struct prop_rng *r, const struct gen_paths *paths)
{
	return paths->p[rng_below(r, (uint32_t)paths->n)];
}

/* ---- connections ---- */

void gconn_put(struct prop_gconn *c, uint8_t dir, const void *p, size_t n)
{
	struct gseg *last = c->nsegs ? &c->segs[c->nsegs - 1] : NULL;
	size_t off = c->dir[dir].len;

	if (!n)
		return;
	sb_add(&c->dir[dir], p, n);
	c->oom |= c->dir[dir].oom;
	if (last && last->dir == dir && last->phase == c->phase) {
		last->end = c->dir[dir].len;
		return;
	}
	if (c->nsegs == c->segs_cap) {
		size_t cap = c->segs_cap ? 2 * c->segs_cap : 16;
		struct gseg *s = realloc(c->segs, cap * sizeof(*s));

		if (!s) {
			c->oom = true;
			return;
		}
		c->segs = s;
		c->segs_cap = cap;
	}
	c->segs[c->nsegs++] = (struct gseg){ dir, c->phase, off, c->dir[dir].len };
}

uint8_t gconn_req_dir(const struct prop_gconn *c)
{
	return c->client ? TLSTOP_DIR_OUT : TLSTOP_DIR_IN;
}

uint8_t gconn_resp_dir(const struct prop_gconn *c)
{
	return c->client ? TLSTOP_DIR_IN : TLSTOP_DIR_OUT;
}

/* ---- calls ---- */

/* The length of the next call out of rest bytes: now and then a tiny one,
 * often what is left of the run (one write per message), else anything. */
static uint32_t call_len(struct prop_rng *r, size_t rest)
{
	uint32_t k = rng_below(r, 100), n;

	if (k < 8)
		n = rng_range(r, 1, 9);
	else if (k < 30)
		n = rng_range(r, 10, 512);
	else if (k < 50)
		n = rng_range(r, 513, 4096);
	else if (k < 62)
		n = rng_range(r, 4097, CALL_MAX);
	else
		n = CALL_MAX;
	return rest < n ? (uint32_t)rest : n;
}

/* A connection's calls, in wire order, with the phase of each. */
struct conn_calls {
	struct queued {
		struct prop_call call;
		uint8_t phase;
	} *q;
	size_t n, cap, next;
};

static int calls_add(struct conn_calls *cc, const struct prop_call *c, uint8_t phase)
{
	if (cc->n == cc->cap) {
		size_t cap = cc->cap ? 2 * cc->cap : 64;
		struct queued *q = realloc(cc->q, cap * sizeof(*q));

		if (!q)
			return -1;
		cc->q = q;
		cc->cap = cap;
	}
	cc->q[cc->n++] = (struct queued){ *c, phase };
	return 0;
}

/* A connection's segments cut into calls, in wire order. */
static int cut(struct prop_rng *r, const struct prop_gconn *c, struct conn_calls *cc)
{
	for (size_t i = 0; i < c->nsegs; i++) {
		const struct gseg *s = &c->segs[i];

		for (size_t off = s->off; off < s->end;) {
			struct prop_call call = { c->id, s->dir,
						  (const uint8_t *)c->dir[s->dir].s + off,
						  call_len(r, s->end - off) };

			if (calls_add(cc, &call, s->phase))
				return -1;
			off += call.len;
		}
	}
	return 0;
}

static bool has_phase(const struct conn_calls *cc, uint8_t phase)
{
	return cc->next < cc->n && cc->q[cc->next].phase == phase;
}

/* The calls of the connections interleaved, a few of one connection at a
 * time, each connection's order kept; every call of phase 0 comes before
 * any of phase 1. */
static int interleave(struct prop_rng *r, struct prop_trial *t, struct conn_calls *cc)
{
	size_t total = 0, live[CONNS_MAX];

	for (size_t i = 0; i < t->nconns; i++)
		total += cc[i].n;
	t->calls = malloc((total ? total : 1) * sizeof(*t->calls));
	if (!t->calls)
		return -1;
	t->change_at = total;
	for (uint8_t phase = 0; phase < 2; phase++) {
		if (phase == 1 && t->expr[1])
			t->change_at = t->ncalls;
		for (;;) {
			size_t nlive = 0, k;

			for (size_t i = 0; i < t->nconns; i++)
				if (has_phase(&cc[i], phase))
					live[nlive++] = i;
			if (!nlive)
				break;
			k = live[rng_below(r, (uint32_t)nlive)];
			for (uint32_t burst = rng_range(r, 1, 4); burst && has_phase(&cc[k], phase);
			     burst--)
				t->calls[t->ncalls++] = cc[k].q[cc[k].next++].call;
		}
	}
	return 0;
}

/* ---- the trial ---- */

static int conns_gen(struct prop_rng *r, struct prop_trial *t, uint64_t conn_base,
		     const struct gen_paths *paths)
{
	uint8_t nphases = t->expr[1] ? 2 : 1;

	t->nconns = rng_range(r, 1, CONNS_MAX);
	t->conns = calloc(t->nconns, sizeof(*t->conns));
	if (!t->conns)
		return -1;
	for (size_t i = 0; i < t->nconns; i++) {
		struct prop_gconn *c = &t->conns[i];

		c->id = conn_base + 16 * (i + 1);
		c->client = rng_pct(r, 60);
		c->h2 = rng_pct(r, 60);
		if (c->h2 && !(c->h2gen = h2gen_new(r)))
			return -1;
	}
	for (uint8_t phase = 0; phase < nphases; phase++) {
		for (size_t i = 0; i < t->nconns; i++) {
			struct prop_gconn *c = &t->conns[i];

			/* some connections begin after the change */
			if (phase == 0 && nphases == 2 && rng_pct(r, 20))
				continue;
			c->phase = phase;
			if (c->h2)
				h2gen_phase(r, c, paths, phase == nphases - 1);
			else
				h1gen_phase(r, c, paths);
			if (c->oom)
				return -1;
		}
	}
	return 0;
}

int prop_trial_gen(struct prop_trial *t, uint64_t seed, uint64_t conn_base, uint32_t pid,
		   const char *comm)
{
	struct prop_rng r = { seed };
	struct gen_paths paths = { .n = 0 };
	struct conn_calls cc[CONNS_MAX] = { { 0 } };
	int err = -1;

	memset(t, 0, sizeof(*t));
	t->seed = seed;
	if (paths_gen(&r, &paths))
		goto out;
	t->expr[0] = expr_gen(&r, &paths, pid, comm);
	if (!t->expr[0] || (rng_pct(&r, 25) && !(t->expr[1] = expr_gen(&r, &paths, pid, comm))))
		goto out;
	if (conns_gen(&r, t, conn_base, &paths))
		goto out;
	for (size_t i = 0; i < t->nconns; i++)
		if (cut(&r, &t->conns[i], &cc[i]))
			goto out;
	err = interleave(&r, t, cc);
out:
	for (size_t i = 0; i < CONNS_MAX; i++)
		free(cc[i].q);
	for (size_t i = 0; i < paths.n; i++)
		free(paths.p[i]);
	if (err)
		prop_trial_free(t);
	return err;
}

void prop_trial_free(struct prop_trial *t)
{
	for (size_t i = 0; i < t->nconns; i++) {
		struct prop_gconn *c = &t->conns[i];

		sb_free(&c->dir[0]);
		sb_free(&c->dir[1]);
		free(c->segs);
		h2gen_free(c->h2gen);
	}
	free(t->conns);
	free(t->calls);
	free(t->expr[0]);
	free(t->expr[1]);
	memset(t, 0, sizeof(*t));
}
