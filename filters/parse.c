/* parse.c - the filter language's lexer and recursive-descent parser:
 * expression text to a tree of terms, regexes compiled by PCRE2. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "filter_int.h"
#include "proto/grpc.h"

/* What one regex may spend on one subject: a pathological pattern on a
 * large body then costs milliseconds and no match, not a frozen screen. */
#define MATCH_LIMIT 1000000
#define HEAP_LIMIT_KIB 16384
/* bytes of a token quoted in an error message */
#define QUOTE_MAX 24

static const char blanks[] = " \t\n\r\f\v";
/* characters that end an unquoted value */
static const char specials[] = "()'\"~!=<>&|";

enum tok_kind {
	T_END,
	T_ERROR, /* the lexer reported an error */
	T_LPAREN,
	T_RPAREN,
	T_AND,
	T_OR,
	T_NOT,
	T_OP,
	T_WORD,
	T_QUOTED,
	T_HEADER, /* header["name"] */
};

struct token {
	enum tok_kind kind;
	enum filter_op op; /* T_OP */
	size_t off, end; /* the token in the expression */
	size_t val_off, val_end; /* T_WORD, T_QUOTED, T_HEADER: the text inside the quotes */
	bool quoted; /* the text may hold escapes */
};

struct parser {
	const char *s;
	size_t pos; /* where the lexer reads next */
	struct token tok, prev; /* current and previous token */
	int depth; /* open parentheses and nots */
	bool failed;
	struct filter_error *err;
};

/* Punctuation, longest spellings first. */
static const struct {
	const char *text;
	enum tok_kind kind;
	enum filter_op op;
} puncts[] = {
	{ "&&", T_AND, 0 },
	{ "||", T_OR, 0 },
	{ "!~", T_OP, FOP_NOMATCH },
	{ "!=", T_OP, FOP_NE },
	{ "==", T_OP, FOP_EQ },
	{ "<=", T_OP, FOP_LE },
	{ ">=", T_OP, FOP_GE },
	{ "&", T_AND, 0 },
	{ "|", T_OR, 0 },
	{ "!", T_NOT, 0 },
	{ "~", T_OP, FOP_MATCH },
	{ "<", T_OP, FOP_LT },
	{ ">", T_OP, FOP_GT },
	{ "(", T_LPAREN, 0 },
	{ ")", T_RPAREN, 0 },
};

static const struct {
	const char *text;
	enum tok_kind kind;
} keywords[] = { { "and", T_AND }, { "or", T_OR }, { "not", T_NOT } };

enum field_kind {
	FK_TEXT, /* ~ !~ == != */
	FK_NUM, /* every operator; ~ on the decimal text */
	FK_LATENCY, /* a duration; no ~ */
	FK_SIZE, /* bytes with K M G */
	FK_GRPC_STATUS, /* a number or a code name */
	FK_BOOL, /* alone only */
};

struct field_rule {
	enum field_kind kind;
	const char *values; /* when set, == and != take only these words */
};

static const struct field_rule field_rules[FF_COUNT] = {
	[FF_STATUS] = { FK_NUM, NULL },
	[FF_GRPC_STATUS] = { FK_GRPC_STATUS, NULL },
	[FF_PROTO] = { FK_TEXT, "h1 h2 grpc" },
	[FF_DIR] = { FK_TEXT, "req resp" },
	[FF_ROLE] = { FK_TEXT, "client server" },
	[FF_PID] = { FK_NUM, NULL },
	[FF_TID] = { FK_NUM, NULL },
	[FF_LPORT] = { FK_NUM, NULL },
	[FF_RPORT] = { FK_NUM, NULL },
	[FF_LATENCY] = { FK_LATENCY, NULL },
	[FF_LEN] = { FK_SIZE, NULL },
	[FF_STREAM] = { FK_NUM, NULL },
	[FF_TRUNCATED] = { FK_BOOL, NULL },
	[FF_MARKED] = { FK_BOOL, NULL },
	[FF_ERROR] = { FK_BOOL, NULL },
};

/* A number's unit suffix, compared case-insensitively; "" is the bare number's. */
struct unit {
	const char *suffix;
	uint64_t scale;
};

static const struct unit plain_units[] = { { "", 1 }, { NULL, 0 } };
static const struct unit time_units[] = {
	{ "", 1000000 }, { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 },
	{ NULL, 0 },
};
static const struct unit size_units[] = {
	{ "", 1 }, { "k", 1 << 10 }, { "m", 1 << 20 }, { "g", 1 << 30 }, { NULL, 0 },
};

struct number_rule {
	const struct unit *units;
	bool fraction; /* 1.5s, 0.5K */
	const char *expect; /* for the error message */
};

static const struct number_rule number_rules[] = {
	[FK_NUM] = { plain_units, false, "a number" },
	[FK_LATENCY] = { time_units, true, "a duration (800us, 250ms, 1.5s; bare: ms)" },
	[FK_SIZE] = { size_units, true, "a size (512, 4K, 1M)" },
	[FK_GRPC_STATUS] = { NULL, false, "a gRPC status (14 or UNAVAILABLE)" }, /* by grpc.c */
};

/* Records the first error only: later ones are consequences. */
__attribute__((format(printf, 3, 4))) static void fail(struct parser *p, size_t off,
						      const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	p->err->offset = off;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
}

static bool is_blank(char c)
{
	return c && strchr(blanks, c);
}

static bool is_word_char(char c)
{
	return c && !strchr(blanks, c) && !strchr(specials, c);
}

/* Source bytes of the character at s[i] inside quotes: \' \" \\ are two. */
static size_t quoted_char_len(const char *s, size_t i)
{
	return s[i] == '\\' && s[i + 1] && strchr("'\"\\", s[i + 1]) ? 2 : 1;
}

/* A quoted string at p->pos into t's text. */
static bool lex_quoted(struct parser *p, struct token *t)
{
	const char *s = p->s;
	size_t i = p->pos + 1;

	while (s[i] && s[i] != s[p->pos])
		i += quoted_char_len(s, i);
	if (!s[i]) {
		fail(p, p->pos, "unterminated quote");
		return false;
	}
	t->val_off = p->pos + 1;
	t->val_end = i;
	t->quoted = true;
	p->pos = i + 1;
	return true;
}

/* header["name"], header['name'] or header[name], at p->pos. */
static void lex_header(struct parser *p, struct token *t)
{
	const char *s = p->s;

	t->kind = T_ERROR;
	p->pos += strlen("header[");
	if (s[p->pos] == '"' || s[p->pos] == '\'') {
		if (!lex_quoted(p, t))
			return;
	} else {
		t->val_off = p->pos;
		while (is_word_char(s[p->pos]) && s[p->pos] != ']')
			p->pos++;
		t->val_end = p->pos;
	}
	if (t->val_end == t->val_off) {
		fail(p, t->val_off, "expected a header name: header[\"x-request-id\"]");
	} else if (s[p->pos] != ']') {
		fail(p, p->pos, "expected ']' after the header name");
	} else {
		t->kind = T_HEADER;
		p->pos++;
	}
}

static void lex_word(struct parser *p, struct token *t)
{
	size_t n;

	t->kind = T_WORD;
	t->val_off = p->pos;
	while (is_word_char(p->s[p->pos]))
		p->pos++;
	t->val_end = p->pos;
	n = p->pos - t->off;
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strlen(keywords[i].text) == n && !memcmp(p->s + t->off, keywords[i].text, n))
			t->kind = keywords[i].kind;
}

static bool lex_punct(struct parser *p, struct token *t)
{
	for (size_t i = 0; i < sizeof(puncts) / sizeof(puncts[0]); i++) {
		size_t n = strlen(puncts[i].text);

		if (!strncmp(p->s + p->pos, puncts[i].text, n)) {
			t->kind = puncts[i].kind;
			t->op = puncts[i].op;
			p->pos += n;
			return true;
		}
	}
	return false;
}

/* The next token into p->tok; the current one becomes p->prev. */
static void lex(struct parser *p)
{
	struct token *t = &p->tok;
	char c;

	p->prev = *t;
	while (is_blank(p->s[p->pos]))
		p->pos++;
	*t = (struct token){ .kind = T_END, .off = p->pos };
	c = p->s[p->pos];
	if (c == '\'' || c == '"') {
		t->kind = lex_quoted(p, t) ? T_QUOTED : T_ERROR;
	} else if (!strncmp(p->s + p->pos, "header[", strlen("header["))) {
		lex_header(p, t);
	} else if (is_word_char(c)) {
		lex_word(p, t);
	} else if (c && !lex_punct(p, t)) {
		fail(p, p->pos, "'%c' is not an operator: use '=='", c);
		t->kind = T_ERROR;
		p->pos++;
	}
	t->end = p->pos;
}

/* Bytes of the token to quote in a message: at most QUOTE_MAX, not
 * cutting a UTF-8 character. */
static int token_len(const char *s, const struct token *t)
{
	size_t n = t->end - t->off;

	if (n <= QUOTE_MAX)
		return (int)n;
	n = QUOTE_MAX;
	while (n && ((unsigned char)s[t->off + n] & 0xc0) == 0x80)
		n--;
	return (int)n;
}

/* The token's text, quotes and escapes removed, NUL-terminated. */
static char *token_text(struct parser *p, const struct token *t, size_t *len)
{
	char *d = malloc(t->val_end - t->val_off + 1);
	size_t i = t->val_off, n = 0;

	if (!d) {
		fail(p, t->off, "out of memory");
		return NULL;
	}
	while (i < t->val_end) {
		size_t l = t->quoted ? quoted_char_len(p->s, i) : 1;

		d[n++] = p->s[i + l - 1];
		i += l;
	}
	d[n] = '\0';
	if (len)
		*len = n;
	return d;
}

/* Where byte k of t's text is in the expression. */
static size_t source_offset(const char *s, const struct token *t, size_t k)
{
	size_t i = t->val_off;

	while (k-- && i < t->val_end)
		i += t->quoted ? quoted_char_len(s, i) : 1;
	return i;
}

static int field_lookup(const char *s, size_t n)
{
	for (int i = 0; i < FF_COUNT; i++)
		if (strlen(filter_field_names[i]) == n && !memcmp(filter_field_names[i], s, n))
			return i;
	return -1;
}

static void unknown_field(struct parser *p, const struct token *t)
{
	char list[128];
	size_t n = 0;

	for (int i = 0; i < FF_COUNT; i++) {
		const char *name = filter_field_names[i];

		/* room for ", name", then ", ..." and the NUL */
		if (n + strlen(name) + 8 > sizeof(list)) {
			strcpy(list + n, ", ...");
			break;
		}
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", name);
	}
	fail(p, t->off, "unknown field '%.*s' (fields: %s)", token_len(p->s, t), p->s + t->off,
	     list);
}

static void unexpected(struct parser *p)
{
	const struct token *t = &p->tok;

	if (t->kind == T_RPAREN)
		fail(p, t->off, "unbalanced ')'");
	else
		fail(p, t->off, "unexpected '%.*s'", token_len(p->s, t), p->s + t->off);
}

static void expected_term(struct parser *p)
{
	const struct token *t = &p->tok, *prev = &p->prev;

	if (prev->kind != T_END)
		fail(p, t->off, "expected a term after '%.*s'", token_len(p->s, prev),
		     p->s + prev->off);
	else
		fail(p, t->off, "expected a term, not '%.*s'", token_len(p->s, t), p->s + t->off);
}

static bool compile_regex(struct parser *p, struct filter_term *t, const struct token *v)
{
	PCRE2_UCHAR msg[128];
	PCRE2_SIZE eoff;
	int code;

	t->re = pcre2_compile((PCRE2_SPTR)t->str, t->len, 0, &code, &eoff, NULL);
	if (!t->re) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		fail(p, source_offset(p->s, v, eoff), "%s", (const char *)msg);
		return false;
	}
	t->jit = pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE) == 0;
	return true;
}

/* Whether w (n bytes) is a word of the blank-separated list. */
static bool word_in(const char *list, const char *w, size_t n)
{
	size_t l;

	for (; *list; list += l + (list[l] == ' ')) {
		l = strcspn(list, " ");
		if (l == n && !memcmp(list, w, n))
			return true;
	}
	return false;
}

/* == and != on a text field */
static bool text_value(struct parser *p, struct filter_term *t, const struct token *v)
{
	const char *values = field_rules[t->field].values;

	if (t->field == FF_PATH && v->kind == T_WORD && !strcmp(t->str, "unknown")) {
		t->unknown = true;
		return true;
	}
	if (values && !word_in(values, t->str, t->len)) {
		fail(p, v->off, "'%s' is one of: %s", filter_field_names[t->field], values);
		return false;
	}
	return true;
}

static uint64_t unit_scale(const struct unit *u, const char *s, size_t n)
{
	for (; u->suffix; u++)
		if (strlen(u->suffix) == n && !strncasecmp(u->suffix, s, n))
			return u->scale;
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decimal digits, an optional fraction, a unit; false when malformed or
 * too large. */
static bool parse_number(const char *s, size_t n, const struct number_rule *r, uint64_t *out)
{
	uint64_t v = 0, frac = 0, div = 1, scale;
	size_t i = 0;

	if (!n || !is_digit(s[0]))
		return false;
	for (; i < n && is_digit(s[i]); i++)
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v))
			return false;
	if (i < n && s[i] == '.' && r->fraction) {
		if (++i == n || !is_digit(s[i]))
			return false;
		/* digits beyond nanoseconds are below any unit's resolution */
		for (; i < n && is_digit(s[i]); i++) {
			if (div < 1000000000) {
				frac = frac * 10 + (uint64_t)(s[i] - '0');
				div *= 10;
			}
		}
	}
	scale = unit_scale(r->units, s + i, n - i);
	return scale && !__builtin_mul_overflow(v, scale, &v) &&
	       !__builtin_add_overflow(v, frac * scale / div, out);
}

/* == != < <= > >= on a numeric field */
static bool number_value(struct parser *p, struct filter_term *t, const struct token *v)
{
	enum field_kind kind = field_rules[t->field].kind;
	int code;

	if (kind == FK_GRPC_STATUS) {
		code = grpc_status_parse(t->str);
		t->num = (uint64_t)code;
		if (code >= 0)
			return true;
	} else if (parse_number(t->str, t->len, &number_rules[kind], &t->num)) {
		return true;
	}
	fail(p, v->off, "'%s' takes %s, not '%.*s'", filter_field_names[t->field],
	     number_rules[kind].expect, token_len(p->s, v), p->s + v->off);
	return false;
}

/* Checks the operator against the field and compiles the value. */
static bool compile_value(struct parser *p, struct filter_term *t, const struct token *v)
{
	enum field_kind kind = field_rules[t->field].kind;
	const char *name = filter_field_names[t->field];
	int oplen = (int)(t->op_end - t->op_off);

	if (t->op == FOP_PRESENT)
		return true;
	if (kind == FK_BOOL) {
		fail(p, t->op_off, "'%s' takes no value: use it alone or with not", name);
		return false;
	}
	if (t->op == FOP_MATCH || t->op == FOP_NOMATCH) {
		if (kind != FK_LATENCY)
			return compile_regex(p, t, v);
		fail(p, t->op_off, "'%.*s' does not apply to '%s': use == != < <= > >=", oplen,
		     p->s + t->op_off, name);
		return false;
	}
	if (kind != FK_TEXT)
		return number_value(p, t, v);
	if (t->op == FOP_EQ || t->op == FOP_NE)
		return text_value(p, t, v);
	fail(p, t->op_off, "'%.*s' does not apply to '%s': it is text (use ~ !~ == !=)", oplen,
	     p->s + t->op_off, name);
	return false;
}

static struct filter_node *node_new(struct parser *p, enum filter_node_kind kind, size_t off)
{
	struct filter_node *n = calloc(1, sizeof(*n));

	if (!n) {
		fail(p, off, "out of memory");
		return NULL;
	}
	n->kind = kind;
	n->off = n->end = off;
	return n;
}

/* A term on field from tokens f (the field), op and v (NULL: presence). */
static struct filter_node *make_term(struct parser *p, int field, const struct token *f,
				     const struct token *op, const struct token *v)
{
	struct filter_node *n = node_new(p, FN_TERM, f->off);
	struct filter_term *t;

	if (!n)
		return NULL;
	t = &n->term;
	t->field = field;
	t->field_off = f->off;
	t->field_end = n->end = f->end;
	if (op) {
		t->op = op->op;
		t->op_off = op->off;
		t->op_end = op->end;
		t->value_off = v->off;
		t->value_end = n->end = v->end;
		t->str = token_text(p, v, &t->len);
	}
	if (f->kind == T_HEADER)
		t->name = token_text(p, f, NULL);
	else if (field == FF_HEADER)
		fail(p, f->off, "expected a header name: header[\"x-request-id\"]");
	if (p->failed || !compile_value(p, t, v)) {
		filter_node_free(n);
		return NULL;
	}
	return n;
}

/* A value alone: path ~ VALUE. */
static struct filter_node *bare_term(struct parser *p, const struct token *v)
{
	static const struct token match = { .kind = T_OP, .op = FOP_MATCH };
	struct filter_node *n = make_term(p, FF_PATH, v, &match, v);

	if (n)
		n->term.bare = true;
	return n;
}

/* Moves past the term's last token once the term is built, so that an
 * error in the term is reported before one in a later token. */
static struct filter_node *consumed(struct parser *p, struct filter_node *n)
{
	if (n)
		lex(p);
	return n;
}

/* FIELD [OP VALUE], or a bare value; the current token starts it. */
static struct filter_node *parse_term(struct parser *p)
{
	struct token f = p->tok, op;
	int field = FF_HEADER;

	if (f.kind == T_QUOTED)
		return consumed(p, bare_term(p, &f));
	if (f.kind == T_WORD) {
		field = field_lookup(p->s + f.off, f.end - f.off);
		if (field < 0) {
			lex(p);
			if (p->tok.kind == T_OP) {
				unknown_field(p, &f);
				return NULL;
			}
			return bare_term(p, &f);
		}
	} else if (f.kind != T_HEADER) {
		expected_term(p);
		return NULL;
	}
	lex(p);
	if (p->tok.kind != T_OP)
		return make_term(p, field, &f, NULL, NULL);
	op = p->tok;
	lex(p);
	if (p->tok.kind != T_WORD && p->tok.kind != T_QUOTED) {
		fail(p, p->tok.off, "expected a value after '%.*s'", token_len(p->s, &op),
		     p->s + op.off);
		return NULL;
	}
	return consumed(p, make_term(p, field, &f, &op, &p->tok));
}

static struct filter_node *parse_list(struct parser *p, enum filter_node_kind kind);
static struct filter_node *parse_unary(struct parser *p);

static struct filter_node *parse_group(struct parser *p)
{
	size_t off = p->tok.off;
	struct filter_node *n;

	lex(p);
	n = parse_list(p, FN_OR);
	if (n && p->tok.kind == T_RPAREN) {
		lex(p);
		return n;
	}
	if (p->tok.kind == T_END)
		fail(p, off, "unbalanced '('");
	else
		unexpected(p);
	filter_node_free(n);
	return NULL;
}

static struct filter_node *parse_not(struct parser *p)
{
	struct filter_node *n = node_new(p, FN_NOT, p->tok.off);

	if (!n)
		return NULL;
	lex(p);
	n->kid = parse_unary(p);
	if (!n->kid) {
		filter_node_free(n);
		return NULL;
	}
	n->end = n->kid->end;
	return n;
}

/* not X, ( X ) or a term */
static struct filter_node *parse_unary(struct parser *p)
{
	struct filter_node *n;

	if (p->tok.kind != T_NOT && p->tok.kind != T_LPAREN)
		return parse_term(p);
	if (p->depth == FILTER_DEPTH_MAX) {
		fail(p, p->tok.off, "expression nested too deeply");
		return NULL;
	}
	p->depth++;
	n = p->tok.kind == T_NOT ? parse_not(p) : parse_group(p);
	p->depth--;
	return n;
}

static bool starts_unary(enum tok_kind k)
{
	return k == T_NOT || k == T_LPAREN || k == T_WORD || k == T_QUOTED || k == T_HEADER;
}

/* Whether the list goes on; an and-list also goes on without a separator. */
static bool list_continues(const struct parser *p, enum filter_node_kind kind)
{
	if (kind == FN_OR)
		return p->tok.kind == T_OR;
	return p->tok.kind == T_AND || starts_unary(p->tok.kind);
}

static struct filter_node *parse_operand(struct parser *p, enum filter_node_kind kind)
{
	return kind == FN_OR ? parse_list(p, FN_AND) : parse_unary(p);
}

/* Operands separated by or (kind FN_OR) or and (FN_AND); a single operand
 * is returned as it is. */
static struct filter_node *parse_list(struct parser *p, enum filter_node_kind kind)
{
	struct filter_node *list, *last = parse_operand(p, kind);

	if (!last || !list_continues(p, kind))
		return last;
	list = node_new(p, kind, last->off);
	if (!list) {
		filter_node_free(last);
		return NULL;
	}
	list->kid = last;
	while (list_continues(p, kind)) {
		if (p->tok.kind == T_AND || p->tok.kind == T_OR)
			lex(p);
		last->next = parse_operand(p, kind);
		if (!last->next) {
			filter_node_free(list);
			return NULL;
		}
		last = last->next;
	}
	list->end = last->end;
	return list;
}

static struct filter *filter_new(struct parser *p, const char *expr)
{
	struct filter *f = calloc(1, sizeof(*f));

	if (f) {
		f->text = strdup(expr);
		f->md = pcre2_match_data_create(1, NULL);
		f->mctx = pcre2_match_context_create(NULL);
	}
	if (!f || !f->text || !f->md || !f->mctx) {
		fail(p, 0, "out of memory");
		filter_free(f);
		return NULL;
	}
	pcre2_set_match_limit(f->mctx, MATCH_LIMIT);
	pcre2_set_heap_limit(f->mctx, HEAP_LIMIT_KIB);
	return f;
}

int filter_compile(struct filter **fp, const char *expr, struct filter_error *err)
{
	struct filter_error ignored;
	struct parser p = { .s = expr, .err = err ? err : &ignored };
	struct filter *f;

	*fp = NULL;
	if (!expr || !expr[strspn(expr, blanks)])
		return 0;
	f = filter_new(&p, expr);
	if (!f)
		return -1;
	lex(&p);
	f->root = parse_list(&p, FN_OR);
	if (f->root && p.tok.kind != T_END)
		unexpected(&p);
	if (p.failed) {
		filter_free(f);
		return -1;
	}
	*fp = f;
	return 0;
}
