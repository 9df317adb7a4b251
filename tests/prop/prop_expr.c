/* prop_expr.c - random filter expressions over a trial's paths: regexes
 * derived from the paths (anchored or not, with wildcards, classes,
 * alternations, optional parts, (?i)), exact paths, pid, comm, status and
 * grpc_status terms, combined with and/or/not in every spelling. */
#include <stdio.h>
#include <string.h>

#include "prop_gen_int.h"
#include "tlstop.h"

#define DEPTH_MAX 3

/* s quoted with q for the filter language, whose only escapes are \' \"
 * and \\: other backslashes stay the regex's. */
static void quoted(struct strbuf *b, const char *s, char q)
{
	sb_addc(b, q);
	for (const char *p = s; *p; p++) {
		if (*p == q || (*p == '\\' && (!p[1] || strchr("'\"\\", p[1]))))
			sb_addc(b, '\\');
		sb_addc(b, *p);
	}
	sb_addc(b, q);
}

static char alnum(struct prop_rng *r)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

	return set[rng_below(r, sizeof(set) - 1)];
}

static void literal(struct strbuf *b, char c)
{
	if (strchr("\\^$.|?*+()[]{}", c))
		sb_addc(b, '\\');
	sb_addc(b, c);
}

static void class_char(struct strbuf *b, char c)
{
	if (strchr("\\]^-[", c))
		sb_addc(b, '\\');
	sb_addc(b, c);
}

/* Byte c of a path as a regex: itself, or (within budget) a wildcard, a
 * class, an alternation, a wildcard run, or with an optional byte before. */
static void regex_char(struct prop_rng *r, struct strbuf *b, char c, uint32_t *budget)
{
	uint32_t k = *budget ? rng_below(r, 100) : 100;

	if (k < 20)
		(*budget)--;
	if (k < 5) {
		sb_addc(b, '.');
	} else if (k < 10) {
		sb_addc(b, '[');
		class_char(b, c);
		class_char(b, alnum(r));
		sb_addc(b, ']');
	} else if (k < 13) {
		sb_addc(b, '(');
		literal(b, c);
		sb_addc(b, '|');
		literal(b, alnum(r));
		sb_addc(b, ')');
	} else if (k < 16) {
		literal(b, alnum(r));
		sb_addc(b, '?');
		literal(b, c);
	} else if (k < 18) {
		sb_adds(b, ".*");
		literal(b, c);
	} else if (k < 20) {
		literal(b, c);
		sb_addc(b, '?');
	} else if (c == '.' && rng_pct(r, 25)) {
		sb_addc(b, '.'); /* unescaped: matches the dot and anything else */
	} else {
		literal(b, c);
	}
}

/* A prefix of p (often all of it) as a regex. */
static void regex_piece(struct prop_rng *r, struct strbuf *b, const char *p)
{
	uint32_t n = (uint32_t)strlen(p), len = rng_pct(r, 20) ? n : rng_range(r, 1, n);
	uint32_t budget = rng_pct(r, 50) ? rng_range(r, 1, 2) : 0;

	for (uint32_t i = 0; i < len; i++)
		regex_char(r, b, p[i], &budget);
	if (len == n && rng_pct(r, 20))
		sb_addc(b, '$');
}

static void regex(struct prop_rng *r, struct strbuf *b, const struct gen_paths *paths)
{
	if (rng_pct(r, 7))
		sb_adds(b, "(?i)");
	if (rng_pct(r, 85))
		sb_addc(b, '^');
	if (rng_pct(r, 15)) {
		sb_addc(b, '(');
		regex_piece(r, b, gen_path(r, paths));
		sb_addc(b, '|');
		regex_piece(r, b, gen_path(r, paths));
		sb_addc(b, ')');
	} else {
		regex_piece(r, b, gen_path(r, paths));
	}
}

/* The transport's comm, or one near it, or another. */
static void comm_value(struct prop_rng *r, struct strbuf *b, const char *comm)
{
	char other[TLSTOP_COMM_LEN + 2];

	switch (rng_below(r, 6)) {
	case 0:
		quoted(b, "nginx", '"');
		return;
	case 1:
		snprintf(other, sizeof(other), "%.*s", (int)(strlen(comm) / 2 + 1), comm);
		quoted(b, other, '"');
		return;
	case 2:
		snprintf(other, sizeof(other), "%sx", comm);
		quoted(b, other, '"');
		return;
	default:
		quoted(b, comm, '"');
		return;
	}
}

static void term(struct prop_rng *r, struct strbuf *b, const struct gen_paths *paths,
		 uint32_t pid, const char *comm)
{
	static const char *const ops[] = { "path ~ ", "path !~ " };
	struct strbuf re = { 0 };
	uint32_t k = rng_below(r, 100);

	if (k < 57) {
		regex(r, &re, paths);
		if (k >= 30)
			sb_adds(b, ops[k >= 52]);
		quoted(b, sb_str(&re), '\'');
		b->oom |= re.oom;
		sb_free(&re);
	} else if (k < 65) {
		sb_adds(b, "path == ");
		quoted(b, gen_path(r, paths), '"');
	} else if (k < 73) {
		sb_printf(b, "pid == %u", rng_pct(r, 65) ? pid : rng_pct(r, 50) ? pid + 1 : 1);
	} else if (k < 81) {
		sb_adds(b, "comm == ");
		comm_value(r, b, comm);
	} else if (k < 88) {
		sb_adds(b, "status >= 400");
	} else if (k < 95) {
		sb_adds(b, "grpc_status != 0");
	} else {
		sb_adds(b, "method == POST");
	}
}

/* A term or a combination; *compound: and/or at its top, to be grouped. */
static void node(struct prop_rng *r, struct strbuf *b, const struct gen_paths *paths,
		 uint32_t pid, const char *comm, unsigned int depth, bool *compound);

static void operand(struct prop_rng *r, struct strbuf *b, const struct gen_paths *paths,
		    uint32_t pid, const char *comm, unsigned int depth)
{
	struct strbuf kid = { 0 };
	bool compound = false, group;

	node(r, &kid, paths, pid, comm, depth, &compound);
	/* and binds tighter than or: ungrouped, the tree differs from the
	 * text's look, which is as good a test */
	group = compound && rng_pct(r, 80);
	if (group)
		sb_addc(b, '(');
	sb_add(b, sb_str(&kid), kid.len);
	if (group)
		sb_addc(b, ')');
	b->oom |= kid.oom;
	sb_free(&kid);
}

static void node(struct prop_rng *r, struct strbuf *b, const struct gen_paths *paths,
		 uint32_t pid, const char *comm, unsigned int depth, bool *compound)
{
	static const char *const ands[] = { " and ", " && ", " " };
	static const char *const ors[] = { " or ", " || " };
	uint32_t k = depth >= DEPTH_MAX ? 0 : rng_below(r, 100);
	bool is_and = rng_pct(r, 50);

	if (k < 45) {
		term(r, b, paths, pid, comm);
		return;
	}
	if (k < 55) {
		sb_adds(b, rng_pct(r, 30) ? "!" : "not ");
		operand(r, b, paths, pid, comm, depth + 1);
		return;
	}
	*compound = true;
	for (uint32_t i = 0, n = rng_range(r, 2, 3); i < n; i++) {
		if (i)
			sb_adds(b, is_and ? ands[rng_below(r, 3)] : ors[rng_below(r, 2)]);
		operand(r, b, paths, pid, comm, depth + 1);
	}
}

char *expr_gen(struct prop_rng *r, const struct gen_paths *paths, uint32_t pid, const char *comm)
{
	struct strbuf b = { 0 };
	bool compound = false;

	node(r, &b, paths, pid, comm, 0, &compound);
	if (b.oom) {
		sb_free(&b);
		return NULL;
	}
	return sb_steal(&b);
}
