/* re_prefix.c - the path prefixes every match of an anchored regex begins
 * with (re_prefix.h).
 *
 * A reading of PCRE2 syntax as parse.c compiles it (options 0: a character
 * is a byte) that follows what an anchored match must begin with. The
 * state is a set of candidate beginnings: each item of the pattern extends
 * the open ones, and whatever the reading does not follow closes them. A
 * closed candidate is still the beginning of every match that went its way,
 * so stopping early is always safe; misreading where a group or a branch
 * ends is not, so the reading gives up on anything whose extent it is not
 * sure of, and checks its count of groups against PCRE2's. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "re_prefix.h"

#define RX_BUDGET 20000 /* items and branches read per regex, re-reads included */
#define RX_DEPTH 256 /* nested groups; PCRE2's own limit is 250 */
#define RX_REPEAT 8 /* copies of a group that {n} expands */

enum rx_why {
	RX_OK,
	RX_UNANCHORED,
	RX_OPTIONS, /* (?i) and the like, (*VERB)s */
	RX_UNSUPPORTED,
	RX_NO_PREFIX, /* anchored, but a match may begin with anything */
};

static const char *const rx_why_text[] = {
	[RX_UNANCHORED] = "regex not anchored",
	[RX_OPTIONS] = "regex sets options",
	[RX_UNSUPPORTED] = "regex construct not supported",
	[RX_NO_PREFIX] = "regex has no fixed beginning",
};

struct cand {
	uint8_t len;
	bool open; /* the pattern may still add bytes to s */
	bool anchored; /* s begins at the subject's start */
	uint8_t s[TLSTOP_KF_PATH_MAX];
};

struct cset {
	struct cand *v;
	size_t n, cap;
};

struct bytes {
	uint64_t w[4];
};

struct rx {
	const char *p;
	size_t len, pos;
	bool quote; /* inside \Q...\E */
	enum rx_why why; /* set once: the reading stops */
	unsigned budget;
	int depth;
	uint32_t captures;
	size_t count_from; /* groups opening before this were counted (re-reads) */
};

/* What one item of the pattern is, before its quantifier. */
enum atom_kind {
	A_BYTES, /* one byte of set */
	A_GROUP, /* a group, already applied to the state */
	A_ANCHOR, /* ^ \A */
	A_ASSERT, /* another zero-width item */
	A_OTHER, /* consumes what is not followed: back references, calls */
};

struct atom {
	enum atom_kind kind;
	struct bytes set;
};

struct quant {
	bool any; /* there is one */
	unsigned min;
	bool exact; /* max == min */
};

enum group_kind {
	G_PLAIN,
	G_LOOK,
	G_COND,
	G_CALL, /* read up to its ')' */
	G_BAD,
};

static void bytes_add(struct bytes *b, unsigned c)
{
	b->w[c >> 6] |= 1ull << (c & 63);
}

static bool bytes_has(const struct bytes *b, unsigned c)
{
	return b->w[c >> 6] >> (c & 63) & 1;
}

static void bytes_range(struct bytes *b, unsigned lo, unsigned hi)
{
	for (; lo <= hi; lo++)
		bytes_add(b, lo);
}

static void bytes_all(struct bytes *b)
{
	memset(b, 0xff, sizeof(*b));
}

static void bytes_merge(struct bytes *b, const struct bytes *o, bool invert)
{
	for (int i = 0; i < 4; i++)
		b->w[i] |= invert ? ~o->w[i] : o->w[i];
}

static bool cset_reserve(struct rx *rx, struct cset *s, size_t n)
{
	struct cand *v;

	if (n <= s->cap)
		return true;
	v = realloc(s->v, n * sizeof(*v));
	if (!v) {
		rx->why = RX_UNSUPPORTED;
		return false;
	}
	s->v = v;
	s->cap = n;
	return true;
}

static void cset_append(struct rx *rx, struct cset *d, const struct cset *s)
{
	if (!s->n || !cset_reserve(rx, d, d->n + s->n))
		return;
	memcpy(d->v + d->n, s->v, s->n * sizeof(*s->v));
	d->n += s->n;
}

static void cset_copy(struct rx *rx, struct cset *d, const struct cset *s)
{
	d->n = 0;
	cset_append(rx, d, s);
}

/* d takes s's candidates; s is left empty. */
static void cset_move(struct cset *d, struct cset *s)
{
	free(d->v);
	*d = *s;
	*s = (struct cset){ 0 };
}

static void cset_close(struct cset *s)
{
	for (size_t i = 0; i < s->n; i++)
		s->v[i].open = false;
}

static size_t cset_open(const struct cset *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->v[i].open;
	return n;
}

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len - y->len;
	return (x->open - y->open) * 2 + (x->anchored - y->anchored);
}

static void cset_dedupe(struct cset *s)
{
	size_t k = 0;

	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(*s->v), cand_cmp);
	for (size_t i = 0; i < s->n; i++)
		if (!k || cand_cmp(&s->v[i], &s->v[k - 1]))
			s->v[k++] = s->v[i];
	s->n = k;
}

/* Without repeats; when that is still too many, the longest candidates
 * are cut and end there, until they fit. */
static void cset_fit(struct cset *s)
{
	cset_dedupe(s);
	while (s->n > TLSTOP_KF_MAX_PREFIXES) {
		uint8_t longest = 0;

		for (size_t i = 0; i < s->n; i++)
			longest = s->v[i].len > longest ? s->v[i].len : longest;
		for (size_t i = 0; i < s->n; i++) {
			if (s->v[i].len == longest) {
				s->v[i].len--;
				s->v[i].open = false;
			}
		}
		cset_dedupe(s);
	}
}

/* Each open candidate followed by each byte of b, unless that makes too
 * many: then the candidates end here. */
static void cset_extend(struct rx *rx, struct cset *st, const struct bytes *b)
{
	size_t open = cset_open(st), k = 0, n;
	struct cset out = { 0 };
	uint8_t members[256];

	if (!open)
		return;
	for (unsigned x = 0; x < 256; x++)
		if (bytes_has(b, x))
			members[k++] = (uint8_t)x;
	n = st->n - open + open * k;
	if (n > TLSTOP_KF_MAX_PREFIXES) {
		cset_close(st);
		return;
	}
	if (!cset_reserve(rx, &out, n))
		return;
	for (size_t i = 0; i < st->n; i++) {
		const struct cand *c = &st->v[i];

		/* a match that may start past the subject's start: no rule
		 * whatever follows, so no need to read on */
		if (c->open && !c->anchored) {
			rx->why = RX_UNANCHORED;
			break;
		}
		if (!c->open) {
			out.v[out.n++] = *c;
			continue;
		}
		for (size_t j = 0; j < k; j++) {
			struct cand *d = &out.v[out.n++];

			*d = *c;
			d->s[d->len++] = members[j];
			d->open = d->len < TLSTOP_KF_PATH_MAX;
		}
	}
	cset_move(st, &out);
}

/* ^ and \A: where nothing was read yet the match starts at the subject's
 * start; after a byte they cannot hold (no multiline mode), closed. */
static void cset_anchor(struct cset *st)
{
	for (size_t i = 0; i < st->n; i++) {
		struct cand *c = &st->v[i];

		if (c->open && c->len)
			c->open = false;
		else if (c->open)
			c->anchored = true;
	}
}

static int peek(const struct rx *rx, size_t i)
{
	return rx->pos + i < rx->len ? (unsigned char)rx->p[rx->pos + i] : -1;
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_word(int c)
{
	return is_alpha(c) || is_digit(c) || c == '_';
}

static int hex_value(int c)
{
	if (is_digit(c))
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* Whether the pattern continues with the two bytes s. */
static bool at(const struct rx *rx, const char *s)
{
	return peek(rx, 0) == s[0] && peek(rx, 1) == s[1];
}

/* \Q starts a literal run and \E ends it; an \E outside is ignored.
 * Returns whether there was any. */
static bool skip_quoting(struct rx *rx)
{
	bool any = false;

	for (;; any = true, rx->pos += 2) {
		if (at(rx, "\\E"))
			rx->quote = false;
		else if (!rx->quote && at(rx, "\\Q"))
			rx->quote = true;
		else
			return any;
	}
}

/* \d \w \s \h \v, and their complements in capitals, added to b. PCRE2's
 * built-in tables are the C locale's: above 127 nothing is a digit, word
 * or space character. */
static bool class_escape(int c, struct bytes *b)
{
	struct bytes t = { 0 };

	switch (c | 0x20) {
	case 'd':
		bytes_range(&t, '0', '9');
		break;
	case 'w':
		bytes_range(&t, '0', '9');
		bytes_range(&t, 'A', 'Z');
		bytes_range(&t, 'a', 'z');
		bytes_add(&t, '_');
		break;
	case 's':
		bytes_range(&t, '\t', '\r');
		bytes_add(&t, ' ');
		break;
	case 'h':
		bytes_add(&t, '\t');
		bytes_add(&t, ' ');
		bytes_add(&t, 0xa0);
		break;
	case 'v':
		bytes_range(&t, '\n', '\r');
		bytes_add(&t, 0x85);
		break;
	default:
		return false;
	}
	bytes_merge(b, &t, !(c & 0x20));
	return true;
}

/* \xhh, \x{hh}: the value when it is a byte, spelt the usual way. */
static int read_hex(struct rx *rx)
{
	bool brace = peek(rx, 0) == '{';
	size_t i = brace, max = brace ? 8 : 2, k;
	unsigned v = 0;

	for (k = 0; k < max && hex_value(peek(rx, i)) >= 0; k++, i++)
		v = v * 16 + (unsigned)hex_value(peek(rx, i));
	if (!k || v > 255 || (brace && peek(rx, i++) != '}'))
		return -1;
	rx->pos += i;
	return (int)v;
}

#define ESC_SET -2 /* the escape was a class of bytes, added to the set */
#define ESC_OTHER -1 /* not a byte, nor a class read here */

/* After a backslash and c: the byte it stands for, ESC_SET or ESC_OTHER. */
static int escape_byte(struct rx *rx, int c, struct bytes *b)
{
	static const char names[] = "aefnrt", values[] = "\a\033\f\n\r\t";
	const char *k;

	if (!is_word(c))
		return c; /* \. \/ \\ and every other punctuation or high byte */
	if (c == 'x')
		return read_hex(rx);
	k = strchr(names, c);
	if (k)
		return values[k - names];
	return class_escape(c, b) ? ESC_SET : ESC_OTHER;
}

/* Steps over the argument of the escape c, if any ({...}, <name>, 'name',
 * the character of \c), so that nothing inside is read as structure. */
static void skip_escape_arg(struct rx *rx, int c)
{
	static const char opens[] = "{<'", closes[] = "}>'";
	int o = peek(rx, 0);
	const char *k = o > 0 ? strchr(opens, o) : NULL;

	if (c == 'c') {
		rx->pos += o >= 0;
		return;
	}
	if (!k || (o != '{' && c != 'g' && c != 'k'))
		return;
	for (size_t i = rx->pos + 1; i < rx->len && !strchr("()|[\\", rx->p[i]); i++) {
		if (rx->p[i] == closes[k - opens]) {
			rx->pos = i + 1;
			return;
		}
	}
	rx->why = RX_UNSUPPORTED;
}

/* [:alpha:] inside a class, at rx->pos. */
static bool posix_class(struct rx *rx)
{
	size_t i = 2, start;

	if (peek(rx, 1) != ':')
		return false;
	i += peek(rx, i) == '^';
	for (start = i; is_alpha(peek(rx, i)); i++)
		;
	if (i == start || peek(rx, i) != ':' || peek(rx, i + 1) != ']')
		return false;
	rx->pos += i + 2;
	return true;
}

/* One member of a class: its byte, or ESC_SET (added to b), or ESC_OTHER
 * for what the class reading does not follow. */
static int class_member(struct rx *rx, struct bytes *b)
{
	int c = peek(rx, 0), v;

	rx->pos++;
	if (c != '\\')
		return c;
	c = peek(rx, 0);
	rx->pos++;
	if (c == 'b')
		return '\b';
	if (c == 'Q' || c == 'E' || c < 0) {
		rx->why = RX_UNSUPPORTED;
		return ESC_OTHER;
	}
	v = escape_byte(rx, c, b);
	if (v == ESC_OTHER)
		skip_escape_arg(rx, c);
	return v;
}

/* [...] at rx->pos into set. Anything not followed makes it every byte:
 * wider is safe, even negated. */
static void parse_class(struct rx *rx, struct bytes *set)
{
	struct bytes b = { 0 };
	bool neg, unsure = false;
	int lo, hi;

	rx->pos++;
	neg = peek(rx, 0) == '^';
	rx->pos += neg;
	for (bool first = true; !rx->why; first = false) {
		if (peek(rx, 0) < 0) {
			rx->why = RX_UNSUPPORTED;
			return;
		}
		if (peek(rx, 0) == ']' && !first) {
			rx->pos++;
			break;
		}
		if (peek(rx, 0) == '[' && peek(rx, 1) > 0 && strchr(":.=", peek(rx, 1))) {
			if (!posix_class(rx))
				rx->why = RX_UNSUPPORTED;
			unsure = true;
			continue;
		}
		lo = class_member(rx, &b);
		unsure |= lo == ESC_OTHER;
		if (lo < 0)
			continue;
		if (peek(rx, 0) != '-' || peek(rx, 1) == ']' || peek(rx, 1) < 0) {
			bytes_add(&b, (unsigned)lo);
			continue;
		}
		rx->pos++;
		hi = class_member(rx, &b);
		if (hi < lo)
			unsure = true; /* [\d-z] and the like: errors for PCRE2 */
		else
			bytes_range(&b, (unsigned)lo, (unsigned)hi);
	}
	*set = (struct bytes){ { 0 } };
	if (unsure)
		bytes_all(set);
	else
		bytes_merge(set, &b, neg);
}

/* A backslash outside a class. */
static void parse_escape(struct rx *rx, struct atom *a)
{
	int c = peek(rx, 1), v;

	rx->pos += 2;
	if (c < 0 || c == 'Q' || c == 'E') {
		rx->why = RX_UNSUPPORTED; /* skip_quoting() took the others */
		return;
	}
	v = escape_byte(rx, c, &a->set);
	if (v >= 0)
		bytes_add(&a->set, (unsigned)v);
	if (v != ESC_OTHER)
		return;
	switch (c) {
	case 'A':
		a->kind = A_ANCHOR;
		return;
	case 'b':
	case 'B':
	case 'z':
	case 'Z':
	case 'G':
	case 'K':
		a->kind = A_ASSERT;
		return;
	case 'N':
		if (peek(rx, 0) != '{') {
			bytes_all(&a->set);
			return;
		}
		break;
	}
	skip_escape_arg(rx, c);
	a->kind = A_OTHER;
}

static void parse_atom(struct rx *rx, struct atom *a)
{
	int c = peek(rx, 0);

	*a = (struct atom){ .kind = A_BYTES };
	if (rx->quote) {
		rx->pos++;
		bytes_add(&a->set, (unsigned)c);
		return;
	}
	switch (c) {
	case '[':
		parse_class(rx, &a->set);
		return;
	case '.':
		bytes_all(&a->set);
		break;
	case '^':
		a->kind = A_ANCHOR;
		break;
	case '$':
		a->kind = A_ASSERT;
		break;
	case '\\':
		parse_escape(rx, a);
		return;
	case '*':
	case '+':
	case '?':
		rx->why = RX_UNSUPPORTED;
		return;
	default:
		bytes_add(&a->set, (unsigned)c);
		break;
	}
	rx->pos++;
}

static bool read_number(struct rx *rx, unsigned *v)
{
	size_t start = rx->pos;

	for (*v = 0; is_digit(peek(rx, 0)); rx->pos++)
		if (*v < 100000)
			*v = *v * 10 + (unsigned)(peek(rx, 0) - '0');
	return rx->pos > start;
}

/* {n} {n,} {n,m}, the only spellings every PCRE2 version reads as a
 * quantifier. */
static bool read_braces(struct rx *rx, struct quant *q)
{
	size_t start = rx->pos++;
	unsigned max;

	if (read_number(rx, &q->min)) {
		if (peek(rx, 0) == '}') {
			rx->pos++;
			return true;
		}
		if (peek(rx, 0) == ',') {
			rx->pos++;
			q->exact = read_number(rx, &max) && max == q->min;
			if (peek(rx, 0) == '}') {
				rx->pos++;
				return true;
			}
		}
	}
	rx->pos = start;
	return false;
}

static void read_quant(struct rx *rx, struct quant *q)
{
	bool skipped = skip_quoting(rx);
	int c = peek(rx, 0);

	*q = (struct quant){ .min = 1, .exact = true };
	if (rx->quote || c <= 0 || !strchr("?*+{", c))
		return;
	q->any = true;
	if (c == '{' && !read_braces(rx, q)) {
		/* a literal brace, or a newer PCRE2's {,m} or { n }: either way
		 * what precedes may be absent */
		q->min = 0;
		return;
	}
	if (c != '{') {
		rx->pos++;
		q->min = c == '+';
		q->exact = false;
	}
	if (peek(rx, 0) == '?' || peek(rx, 0) == '+')
		rx->pos++; /* lazy, possessive: the same lengths */
	if (skipped)
		q->min = 0; /* a\Q\E+: leave the quantifier's target open */
}

static void count_capture(struct rx *rx, size_t open)
{
	if (open >= rx->count_from) {
		rx->captures++;
		rx->count_from = open + 1;
	}
}

/* (?<name> (?'name' (?P<name>, the name at rx->pos. */
static enum group_kind group_name(struct rx *rx, int end, size_t open)
{
	size_t start = rx->pos;

	while (is_word(peek(rx, 0)))
		rx->pos++;
	if (rx->pos == start || peek(rx, 0) != end)
		return G_BAD;
	rx->pos++;
	count_capture(rx, open);
	return G_PLAIN;
}

/* (?R) (?1) (?+1) (?-1) (?&name) (?P=name) (?P>name): up to the ')'. */
static enum group_kind group_call(struct rx *rx, bool number)
{
	size_t start = rx->pos;

	rx->pos += number && (peek(rx, 0) == '+' || peek(rx, 0) == '-');
	while (number ? is_digit(peek(rx, 0)) : is_word(peek(rx, 0)))
		rx->pos++;
	if (rx->pos == start || peek(rx, 0) != ')')
		return G_BAD;
	rx->pos++;
	return G_CALL;
}

/* After '(': what the group is; rx->pos moves past its opening. */
static enum group_kind group_kind(struct rx *rx)
{
	size_t open = rx->pos - 1;
	int c = peek(rx, 0), d = peek(rx, 1);

	if (c == '*') {
		rx->why = RX_OPTIONS; /* (*UTF), (*ACCEPT), (*pla:...) */
		return G_BAD;
	}
	if (c != '?') {
		count_capture(rx, open);
		return G_PLAIN;
	}
	rx->pos += 2;
	switch (d) {
	case ':':
	case '>':
		return G_PLAIN;
	case '=':
	case '!':
	case '*':
		return G_LOOK;
	case '<':
		c = peek(rx, 0);
		if (c == '=' || c == '!' || c == '*') {
			rx->pos++;
			return G_LOOK;
		}
		return group_name(rx, '>', open);
	case '\'':
		return group_name(rx, '\'', open);
	case 'P':
		c = peek(rx, 0);
		rx->pos++;
		if (c == '<')
			return group_name(rx, '>', open);
		return c == '=' || c == '>' ? group_call(rx, false) : G_BAD;
	case '&':
		return group_call(rx, false);
	case 'R':
		rx->pos--;
		return peek(rx, 1) == ')' ? group_call(rx, false) : G_BAD;
	case '(':
		rx->pos--;
		return G_COND;
	}
	if (is_digit(d) || ((d == '+' || d == '-') && is_digit(peek(rx, 0)))) {
		rx->pos--;
		return group_call(rx, true);
	}
	/* (?i) (?-s) (?^) (?x:...), and (?| (?# (?C whose insides are read
	 * differently */
	if (is_alpha(d) && d != 'C')
		rx->why = RX_OPTIONS;
	if (d == '-' || d == '^')
		rx->why = RX_OPTIONS;
	return G_BAD;
}

static void parse_branches(struct rx *rx, struct cset *st);
static void parse_group(struct rx *rx, struct cset *st, struct atom *a);

/* The condition of (?(...)yes|no) at rx->pos: an assertion, or a name or
 * number up to ')'. */
static void skip_condition(struct rx *rx)
{
	struct cset none = { 0 };
	struct atom a;

	if (peek(rx, 1) == '?') {
		parse_group(rx, &none, &a);
		return;
	}
	for (size_t i = rx->pos + 1; i < rx->len && !strchr("(|[\\", rx->p[i]); i++) {
		if (rx->p[i] == ')') {
			rx->pos = i + 1;
			return;
		}
	}
	rx->why = RX_UNSUPPORTED;
}

/* A group at rx->pos. A plain group's branches apply to st; the insides
 * of assertions and conditions are read for their extent only. */
static void parse_group(struct rx *rx, struct cset *st, struct atom *a)
{
	struct cset none = { 0 };
	enum group_kind k;

	rx->pos++;
	if (++rx->depth > RX_DEPTH)
		rx->why = RX_UNSUPPORTED;
	k = group_kind(rx);
	*a = (struct atom){ .kind = k == G_PLAIN ? A_GROUP : k == G_LOOK ? A_ASSERT : A_OTHER };
	if (k == G_COND)
		skip_condition(rx);
	if (k == G_BAD && !rx->why)
		rx->why = RX_UNSUPPORTED;
	if (k != G_CALL && !rx->why) {
		parse_branches(rx, k == G_PLAIN ? st : &none);
		if (peek(rx, 0) == ')' && !rx->quote)
			rx->pos++;
		else if (!rx->why)
			rx->why = RX_UNSUPPORTED;
	}
	rx->depth--;
}

/* The quantifier q of the item a that started at start; st holds the state
 * after a group, before holds the state before it. */
static void repeat(struct rx *rx, struct cset *st, const struct atom *a, const struct quant *q,
		   struct cset *before, size_t start)
{
	size_t end = rx->pos;
	unsigned n = 1;

	if (q->any && (a->kind == A_ANCHOR || a->kind == A_ASSERT)) {
		rx->why = RX_UNSUPPORTED;
		return;
	}
	if (q->min == 0) {
		if (a->kind == A_GROUP)
			cset_move(st, before);
		cset_close(st);
		return;
	}
	switch (a->kind) {
	case A_BYTES:
		for (n = 0; n < q->min && n < TLSTOP_KF_PATH_MAX; n++)
			cset_extend(rx, st, &a->set);
		break;
	case A_GROUP:
		for (; n < q->min && n < RX_REPEAT && cset_open(st) && !rx->why; n++) {
			struct atom again;

			rx->pos = start;
			parse_group(rx, st, &again);
		}
		rx->pos = end;
		break;
	case A_ANCHOR:
		cset_anchor(st);
		break;
	default:
		cset_close(st);
		break;
	}
	if (n < q->min || !q->exact)
		cset_close(st);
}

static void parse_item(struct rx *rx, struct cset *st)
{
	struct cset before = { 0 };
	size_t start = rx->pos;
	struct quant q;
	struct atom a;

	if (!rx->quote && peek(rx, 0) == '(') {
		cset_copy(rx, &before, st);
		parse_group(rx, st, &a);
	} else {
		parse_atom(rx, &a);
	}
	if (!rx->why)
		read_quant(rx, &q);
	if (!rx->why)
		repeat(rx, st, &a, &q, &before, start);
	free(before.v);
}

/* Items up to a '|' or ')' of this level, or the end. */
static void parse_seq(struct rx *rx, struct cset *st)
{
	for (;;) {
		int c;

		skip_quoting(rx);
		c = peek(rx, 0);
		if (rx->why || c < 0 || (!rx->quote && (c == '|' || c == ')')))
			return;
		if (!rx->budget--) {
			rx->why = RX_UNSUPPORTED;
			return;
		}
		parse_item(rx, st);
	}
}

/* Branches separated by '|', each applied to st; st becomes their union. */
static void parse_branches(struct rx *rx, struct cset *st)
{
	struct cset in = { 0 }, out = { 0 }, cur = { 0 };

	cset_copy(rx, &in, st);
	for (;;) {
		cset_copy(rx, &cur, &in);
		parse_seq(rx, &cur);
		cset_append(rx, &out, &cur);
		if (rx->why || peek(rx, 0) != '|')
			break;
		if (!rx->budget--) {
			rx->why = RX_UNSUPPORTED;
			break;
		}
		rx->pos++;
	}
	cset_fit(&out);
	cset_move(st, &out);
	free(in.v);
	free(cur.v);
}

/* The candidate beginnings of every match of re, compiled as code; those
 * still open end with the pattern. */
static enum rx_why regex_cands(const char *re, size_t len, const pcre2_code *code,
			       struct cset *out)
{
	struct rx rx = { .p = re, .len = len, .budget = RX_BUDGET };
	uint32_t opts = 0, caps = 0;

	if (pcre2_pattern_info(code, PCRE2_INFO_ALLOPTIONS, &opts) || (opts & ~PCRE2_ANCHORED))
		return RX_OPTIONS;
	if (!cset_reserve(&rx, out, 1))
		return RX_UNSUPPORTED;
	out->v[0] = (struct cand){ .open = true };
	out->n = 1;
	parse_branches(&rx, out);
	if (!rx.why && rx.pos != rx.len)
		rx.why = RX_UNSUPPORTED; /* a ')' too many */
	/* a different count of groups: the reading went wrong somewhere */
	if (!rx.why && (pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &caps) ||
			caps != rx.captures))
		rx.why = RX_UNSUPPORTED;
	if (rx.why)
		return rx.why;
	for (size_t i = 0; i < out->n; i++)
		if (!out->v[i].anchored)
			return RX_UNANCHORED;
	/* PCRE2 must agree that every match starts at the subject's start */
	return opts & PCRE2_ANCHORED ? RX_OK : RX_UNANCHORED;
}

const char *re_prefix_read(const char *re, size_t len, const pcre2_code *code,
			   struct kf_prefix **v, size_t *n)
{
	struct cset c = { 0 };
	enum rx_why why = regex_cands(re, len, code, &c);

	/* an empty beginning lets every path pass */
	for (size_t i = 0; !why && i < c.n; i++)
		if (!c.v[i].len)
			why = RX_NO_PREFIX;
	/* parse_branches() ended with cset_fit(): at most TLSTOP_KF_MAX_PREFIXES */
	*v = why ? NULL : calloc(c.n + 1, sizeof(**v));
	*n = 0;
	if (!why && !*v)
		why = RX_UNSUPPORTED;
	for (size_t i = 0; !why && i < c.n; i++) {
		(*v)[i].len = c.v[i].len;
		memcpy((*v)[i].s, c.v[i].s, c.v[i].len);
	}
	if (!why)
		*n = c.n;
	free(c.v);
	return why ? rx_why_text[why] : NULL;
}
