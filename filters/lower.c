/* lower.c - the filter's in-kernel part. The kernel copies a call only when
 * it passes the rules lowered here, so a rule must hold for every message
 * the expression matches: what cannot be shown to hold is left out (the
 * whole expression still runs in userspace), and a rule may be wider than
 * the expression, never narrower. */
#include <stdlib.h>
#include <string.h>

#include "filter_int.h"
#include "lower.h"
#include "re_prefix.h"

/* ---- sets of rules ---- */

static bool begins(const struct kf_prefix *a, const struct kf_prefix *p)
{
	return a->len >= p->len && !memcmp(a->s, p->s, p->len);
}

static int prefix_cmp(const void *a, const void *b)
{
	const struct kf_prefix *x = a, *y = b;
	int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);

	return c ? c : x->len - y->len;
}

/* Sorts v and drops each prefix that another one begins: the same paths
 * pass. Sorted, a prefix is followed by those it begins. */
static size_t prefixes_minimise(struct kf_prefix *v, size_t n)
{
	size_t k = 0;

	if (n > 1)
		qsort(v, n, sizeof(*v), prefix_cmp);
	for (size_t i = 0; i < n; i++)
		if (!k || !begins(&v[i], &v[k - 1]))
			v[k++] = v[i];
	return k;
}

/* What storing a path rule did besides storing it. */
enum {
	PATHS_CUT = 1, /* prefixes were cut to fit */
	PATHS_ALL = 2, /* they let every path pass: no rule */
};

/* Whether minimised prefixes let every path pass: the empty one does, and
 * the 256 bytes alone keep out nothing but an empty path, not worth a
 * rule. */
static bool prefixes_cover_all(const struct kf_prefix *v, size_t n)
{
	size_t singles = 0;

	for (size_t i = 0; i < n; i++)
		singles += v[i].len == 1;
	return (n && !v[0].len) || singles == 256;
}

/* r's path rule becomes v[0..n) (reordered and cut in place): minimised,
 * then the longest cut by a byte at a time until they fit. Prefixes that
 * let every path pass are no rule. Returns PATHS_ flags. */
static unsigned paths_store(struct kf_rules *r, struct kf_prefix *v, size_t n)
{
	unsigned did = 0;

	r->paths_set = false;
	r->nprefixes = 0;
	n = prefixes_minimise(v, n);
	while (n > TLSTOP_KF_MAX_PREFIXES) {
		uint8_t longest = 0;

		for (size_t i = 0; i < n; i++)
			longest = v[i].len > longest ? v[i].len : longest;
		for (size_t i = 0; i < n; i++)
			if (v[i].len == longest)
				v[i].s[--v[i].len] = 0;
		n = prefixes_minimise(v, n);
		did |= PATHS_CUT;
	}
	if (prefixes_cover_all(v, n))
		return did | PATHS_ALL;
	r->paths_set = true;
	r->nprefixes = (uint32_t)n;
	if (n)
		memcpy(r->prefixes, v, n * sizeof(*v));
	return did;
}

/* Paths that begin with one of r's prefixes and with one of k's: of two
 * prefixes where one begins the other, the longer. Returns PATHS_ flags. */
static unsigned paths_and(struct kf_rules *r, const struct kf_rules *k)
{
	struct kf_prefix *v;
	size_t n = 0;
	unsigned did;

	if (!k->paths_set)
		return 0;
	if (!r->paths_set) {
		r->paths_set = true;
		r->nprefixes = k->nprefixes;
		memcpy(r->prefixes, k->prefixes, k->nprefixes * sizeof(k->prefixes[0]));
		return 0;
	}
	v = malloc((r->nprefixes + k->nprefixes + 1) * sizeof(*v));
	if (!v)
		return 0; /* r alone still holds */
	for (uint32_t i = 0; i < r->nprefixes; i++)
		for (uint32_t j = 0; j < k->nprefixes; j++)
			if (begins(&r->prefixes[i], &k->prefixes[j])) {
				v[n++] = r->prefixes[i];
				break;
			}
	for (uint32_t j = 0; j < k->nprefixes; j++)
		for (uint32_t i = 0; i < r->nprefixes; i++)
			if (begins(&k->prefixes[j], &r->prefixes[i])) {
				v[n++] = k->prefixes[j];
				break;
			}
	did = paths_store(r, v, n);
	free(v);
	return did;
}

static unsigned paths_or(struct kf_rules *r, const struct kf_rules *k)
{
	struct kf_prefix *v = NULL;
	size_t n = r->nprefixes + k->nprefixes;
	unsigned did;

	if (r->paths_set && k->paths_set)
		v = malloc((n + 1) * sizeof(*v));
	if (!v) { /* a branch allows every path (or no memory) */
		r->paths_set = false;
		r->nprefixes = 0;
		return 0;
	}
	memcpy(v, r->prefixes, r->nprefixes * sizeof(*v));
	memcpy(v + r->nprefixes, k->prefixes, k->nprefixes * sizeof(*v));
	did = paths_store(r, v, n);
	free(v);
	return did;
}

static int pid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int comm_cmp(const void *a, const void *b)
{
	return strncmp(a, b, TLSTOP_COMM_LEN);
}

/* A sorted set of pids or comms inside a struct kf_rules. */
struct items {
	bool *set;
	uint32_t *n;
	char *v;
	size_t size, max;
	int (*cmp)(const void *, const void *);
};

static struct items pids_of(struct kf_rules *r)
{
	return (struct items){ &r->pids_set, &r->npids, (char *)r->pids, sizeof(r->pids[0]),
			       TLSTOP_KF_MAX_PIDS, pid_cmp };
}

static struct items comms_of(struct kf_rules *r)
{
	return (struct items){ &r->comms_set, &r->ncomms, (char *)r->comms, sizeof(r->comms[0]),
			       TLSTOP_KF_MAX_COMMS, comm_cmp };
}

/* a becomes the items in a and in b (and) or in either (or). */
static void items_merge(struct items a, struct items b, bool or)
{
	uint32_t k = 0, n0 = *a.n;

	if (or && (!*a.set || !*b.set)) {
		*a.set = false;
		*a.n = 0;
		return;
	}
	if (!*b.set)
		return;
	if (!*a.set || or) {
		for (uint32_t i = 0; i < *b.n; i++) {
			const char *x = b.v + i * b.size;

			if (*a.set && bsearch(x, a.v, n0, a.size, a.cmp))
				continue;
			if (*a.n == a.max) {
				*a.set = false; /* too many to check in the kernel */
				*a.n = 0;
				return;
			}
			memcpy(a.v + (*a.n)++ * a.size, x, a.size);
		}
		*a.set = true;
		qsort(a.v, *a.n, a.size, a.cmp);
		return;
	}
	for (uint32_t i = 0; i < *a.n; i++) {
		const char *x = a.v + i * a.size;

		if (bsearch(x, b.v, *b.n, b.size, b.cmp))
			memmove(a.v + k++ * a.size, x, a.size);
	}
	*a.n = k;
}

/* r becomes what r and k (or: r or k) allow; returns PATHS_ flags. */
static unsigned rules_merge(struct kf_rules *r, const struct kf_rules *k, bool or)
{
	struct kf_rules *kk = (struct kf_rules *)k; /* items_merge() only reads it */

	items_merge(pids_of(r), pids_of(kk), or);
	items_merge(comms_of(r), comms_of(kk), or);
	return or ? paths_or(r, k) : paths_and(r, k);
}

/* ---- lowering ---- */

static const char *lower_regex(const struct filter_term *t, struct kf_rules *r)
{
	struct kf_prefix *v;
	size_t n;
	const char *why = re_prefix_read(t->str, t->len, t->re, &v, &n);

	if (!why && (paths_store(r, v, n) & PATHS_ALL))
		why = "matches every path";
	free(v);
	return why;
}

/* r: what t alone implies. Returns why there is no rule, or NULL. */
static const char *lower_term(const struct filter_term *t, struct kf_rules *r)
{
	struct kf_prefix p = { 0 };
	size_t n;

	memset(r, 0, sizeof(*r));
	if (t->field == FF_PATH && t->op == FOP_MATCH)
		return lower_regex(t, r);
	if (t->field != FF_PID && t->field != FF_COMM && t->field != FF_PATH &&
	    t->field != FF_SERVICE)
		return "field not known in the kernel";
	if (t->unknown)
		return "unknown paths are decided in userspace";
	if (t->op != FOP_EQ)
		return "operator not lowered";
	switch (t->field) {
	case FF_PID:
		/* a pid beyond 32 bits matches nothing: the empty set */
		r->pids_set = true;
		r->npids = t->num <= UINT32_MAX;
		r->pids[0] = (uint32_t)t->num;
		return NULL;
	case FF_COMM:
		/* the kernel's comm has 15 bytes: a longer one never matches */
		r->comms_set = true;
		r->ncomms = 1;
		memcpy(r->comms[0], t->str, t->len < TLSTOP_COMM_LEN ? t->len : TLSTOP_COMM_LEN - 1);
		return NULL;
	case FF_SERVICE:
		/* "/service/rpc" (eval.c): the service ends at the path's last '/' */
		n = t->len < TLSTOP_KF_PATH_MAX - 1 ? t->len : TLSTOP_KF_PATH_MAX - 1;
		p.s[0] = '/';
		memcpy(p.s + 1, t->str, n);
		p.len = (uint8_t)(n + 1);
		if (p.len < TLSTOP_KF_PATH_MAX)
			p.s[p.len++] = '/';
		break;
	default:
		p.len = (uint8_t)(t->len < TLSTOP_KF_PATH_MAX ? t->len : TLSTOP_KF_PATH_MAX);
		memcpy(p.s, t->str, p.len);
		break;
	}
	paths_store(r, &p, 1);
	return r->paths_set ? NULL : "no path prefix";
}

static void lower_node(const struct filter_node *n, struct kf_rules *r)
{
	struct kf_rules *k;

	memset(r, 0, sizeof(*r));
	if (n->kind == FN_TERM) {
		lower_term(&n->term, r);
		return;
	}
	if (n->kind == FN_NOT)
		return; /* nothing below a not is lowered, nor inverted */
	k = malloc(sizeof(*k));
	if (!k)
		return;
	lower_node(n->kid, r);
	for (const struct filter_node *c = n->kid->next; c; c = c->next) {
		lower_node(c, k);
		rules_merge(r, k, n->kind == FN_OR);
	}
	free(k);
}

void filter_lower(const struct filter *f, struct kf_rules *r)
{
	memset(r, 0, sizeof(*r));
	if (f && f->root)
		lower_node(f->root, r);
}

/* ---- explain ---- */

#define LIST_MAX 4 /* items of a set shown */

enum dim { D_PIDS, D_COMMS, D_PATHS, D_COUNT };

/* Why the rules of a subtree's terms do not reach the kernel, per
 * dimension: dropped (drop) or only shortened on the way up. */
struct why {
	const char *text[D_COUNT];
	bool drop[D_COUNT];
};

struct explain {
	const struct filter *f;
	struct strbuf *sb;
	const char *dot, *in, *ell;
	struct kf_rules *k; /* scratch */
};

static bool dim_set(const struct kf_rules *r, enum dim d)
{
	return d == D_PIDS ? r->pids_set : d == D_COMMS ? r->comms_set : r->paths_set;
}

/* Expression text on one line. */
static void add_text(struct strbuf *sb, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sb_addc(sb, (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i]);
}

static void add_escaped(struct strbuf *sb, const uint8_t *s, size_t n, bool quoted)
{
	if (quoted)
		sb_addc(sb, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] >= 0x7f)
			sb_printf(sb, "\\x%02x", s[i]);
		else if (s[i] == '"' || s[i] == '\\')
			sb_printf(sb, "\\%c", s[i]);
		else
			sb_addc(sb, (char)s[i]);
	}
	if (quoted)
		sb_addc(sb, '"');
}

/* Before item i of n: the separator; false once LIST_MAX were shown. */
static bool list_next(struct explain *e, uint32_t i, uint32_t n, const char *what)
{
	if (i == LIST_MAX) {
		sb_printf(e->sb, ", %s (%u %s)", e->ell, n, what);
		return false;
	}
	if (i)
		sb_adds(e->sb, ", ");
	return true;
}

static void explain_paths(struct explain *e, const struct kf_rules *r)
{
	const struct kf_prefix *p = r->prefixes;

	if (r->nprefixes == 1) {
		sb_addc(e->sb, ' ');
		add_escaped(e->sb, p->s, p->len, true);
		return;
	}
	sb_printf(e->sb, "%s{", e->in);
	for (uint32_t i = 0; i < r->nprefixes && list_next(e, i, r->nprefixes, "prefixes"); i++)
		add_escaped(e->sb, p[i].s, p[i].len, true);
	sb_addc(e->sb, '}');
}

/* Starts an item of the kernel line, which starts at start. */
static void kernel_item(struct explain *e, size_t start, const char *name)
{
	sb_printf(e->sb, "%s%s", e->sb->len == start ? "kernel: " : e->dot, name);
}

static void explain_kernel(struct explain *e, const struct kf_rules *r, uint32_t sample_n)
{
	size_t start = e->sb->len;

	if (r->paths_set) {
		kernel_item(e, start, "path prefix");
		explain_paths(e, r);
	}
	if (r->pids_set) {
		kernel_item(e, start, "pid");
		sb_printf(e->sb, "%s{", e->in);
		for (uint32_t i = 0; i < r->npids && list_next(e, i, r->npids, "pids"); i++)
			sb_printf(e->sb, "%u", r->pids[i]);
		sb_addc(e->sb, '}');
	}
	if (r->comms_set) {
		kernel_item(e, start, "comm");
		sb_printf(e->sb, "%s{", e->in);
		for (uint32_t i = 0; i < r->ncomms && list_next(e, i, r->ncomms, "comms"); i++)
			add_escaped(e->sb, (const uint8_t *)r->comms[i],
				    strnlen(r->comms[i], TLSTOP_COMM_LEN), false);
		sb_addc(e->sb, '}');
	}
	if (e->sb->len != start)
		sb_addc(e->sb, '\n');
	else if (sample_n <= 1)
		sb_adds(e->sb, "kernel: nothing (every call is copied)\n");
	if (sample_n > 1)
		sb_printf(e->sb, "kernel: sample 1/%u connections\n", sample_n);
}

static void explain_node(struct explain *e, const struct filter_node *n, const struct why *w);

static void explain_term(struct explain *e, const struct filter_node *n, const struct why *w)
{
	const char *why = lower_term(&n->term, e->k);

	for (int d = 0; d < D_COUNT && !why; d++)
		if (dim_set(e->k, d))
			why = w->text[d];
	if (!why)
		return;
	sb_adds(e->sb, "not in the kernel: ");
	add_text(e->sb, e->f->text + n->off, n->end - n->off);
	sb_printf(e->sb, " (%s)\n", why);
}

/* Why dimension d of a kid does not reach past the and/or node n, whose
 * rules are r; every: whether every kid has rules in d; did: the PATHS_
 * flags of merging the kids. */
static const char *merge_why(const struct filter_node *n, const struct kf_rules *r, enum dim d,
			     bool every, unsigned did, bool *drop)
{
	static const char *const too_many[] = { "too many pids", "too many comms",
						"too many prefixes" };

	*drop = !dim_set(r, d);
	if (*drop && n->kind == FN_OR && !every)
		return "or with a branch that cannot be lowered";
	if (*drop && d == D_PATHS && (did & PATHS_ALL))
		return "or with branches that together match every path";
	if (*drop)
		return too_many[d];
	return d == D_PATHS && (did & PATHS_CUT) ? "too many prefixes, shortened" : NULL;
}

/* Each kid with the reasons its rules are lost or cut at n. */
static void explain_list(struct explain *e, const struct filter_node *n, const struct why *w)
{
	struct kf_rules *r = malloc(sizeof(*r));
	bool every[D_COUNT] = { true, true, true };
	const struct filter_node *c;
	unsigned did = 0;

	if (!r)
		return;
	for (c = n->kid; c; c = c->next) {
		lower_node(c, e->k);
		for (int d = 0; d < D_COUNT; d++)
			every[d] &= dim_set(e->k, d);
		if (c == n->kid)
			memcpy(r, e->k, sizeof(*r));
		else
			did |= rules_merge(r, e->k, n->kind == FN_OR);
	}
	for (c = n->kid; c; c = c->next) {
		struct why cw = *w;

		lower_node(c, e->k);
		for (int d = 0; d < D_COUNT; d++) {
			bool drop;
			const char *why = dim_set(e->k, d) ?
						  merge_why(n, r, d, every[d], did, &drop) : NULL;

			/* a loss further up wins over a cut here */
			if (why && (!w->text[d] || (drop && !w->drop[d]))) {
				cw.text[d] = why;
				cw.drop[d] = drop;
			}
		}
		explain_node(e, c, &cw);
	}
	free(r);
}

static void explain_node(struct explain *e, const struct filter_node *n, const struct why *w)
{
	struct why under_not;

	switch (n->kind) {
	case FN_TERM:
		explain_term(e, n, w);
		break;
	case FN_NOT:
		for (int d = 0; d < D_COUNT; d++) {
			under_not.text[d] = "under not";
			under_not.drop[d] = true;
		}
		explain_node(e, n->kid, &under_not);
		break;
	case FN_AND:
	case FN_OR:
		explain_list(e, n, w);
		break;
	}
}

void filter_explain(const struct filter *f, const struct kf_rules *r, uint32_t sample_n,
		    bool ascii, struct strbuf *sb)
{
	struct explain e = { f, sb, " · ", " ∈ ", "…", NULL };
	static const struct why none;

	if (ascii) {
		e.dot = " . ";
		e.in = " in ";
		e.ell = "...";
	}
	explain_kernel(&e, r, sample_n);
	if (!f || !f->root) {
		sb_adds(sb, "userspace: nothing (no filter)\n");
		return;
	}
	sb_adds(sb, "userspace: ");
	add_text(sb, f->text, strlen(f->text));
	sb_addc(sb, '\n');
	e.k = malloc(sizeof(*e.k));
	if (e.k)
		explain_node(&e, f->root, &none);
	free(e.k);
}
