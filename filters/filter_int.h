/* filter_int.h - the compiled filter: the expression tree that parse.c
 * builds, eval.c runs on messages and the lowering walks for kernel rules. */
#ifndef TLSTOP_FILTER_INT_H
#define TLSTOP_FILTER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "filter.h"

/* Nesting of parentheses and nots: bounds the recursion of parsing,
 * evaluation and freeing whatever the input. */
#define FILTER_DEPTH_MAX 64

/* Fields, in the order of filter_field_names[]. */
enum filter_field {
	FF_PATH,
	FF_SERVICE,
	FF_RPC,
	FF_METHOD,
	FF_HOST,
	FF_STATUS,
	FF_GRPC_STATUS,
	FF_GRPC_MESSAGE,
	FF_HEADER,
	FF_BODY,
	FF_CONTENT_TYPE,
	FF_PROTO,
	FF_DIR,
	FF_PID,
	FF_TID,
	FF_COMM,
	FF_EXE,
	FF_CONTAINER,
	FF_LIB,
	FF_ROLE,
	FF_SRC,
	FF_DST,
	FF_LPORT,
	FF_RPORT,
	FF_LATENCY,
	FF_LEN,
	FF_TRUNCATED,
	FF_STREAM,
	FF_MARKED,
	FF_ERROR,
	FF_COUNT
};

enum filter_op {
	FOP_PRESENT, /* FIELD alone */
	FOP_MATCH, /* ~ */
	FOP_NOMATCH, /* !~ */
	FOP_EQ,
	FOP_NE,
	FOP_LT,
	FOP_LE,
	FOP_GT,
	FOP_GE,
};

/* One FIELD [OP VALUE]. A field without a value fails every comparison;
 * != and !~ hold when the field is present and == or ~ does not. */
struct filter_term {
	enum filter_field field;
	enum filter_op op;
	bool bare; /* a value without a field: path ~ VALUE */
	char *name; /* header["name"]: the name; NULL for other fields */
	char *str; /* the value, quotes and escapes removed; NULL for FOP_PRESENT */
	size_t len; /* of str */
	bool unknown; /* path == unknown, path != unknown (unquoted) */
	uint64_t num; /* numeric == != < <= > >=: latency in ns, len in bytes */
	pcre2_code *re; /* ~ and !~ */
	bool jit; /* re is JIT-compiled */
	/* spans in the expression, [off, end); the value's includes its quotes */
	size_t field_off, field_end; /* bare: the value's */
	size_t op_off, op_end; /* FOP_PRESENT, bare: 0, 0 */
	size_t value_off, value_end; /* FOP_PRESENT: 0, 0 */
};

enum filter_node_kind {
	FN_AND,
	FN_OR,
	FN_NOT,
	FN_TERM,
};

/* AND and OR have two or more children, NOT one, TERM none. */
struct filter_node {
	enum filter_node_kind kind;
	size_t off, end; /* span in the expression */
	struct filter_node *kid; /* first child */
	struct filter_node *next; /* next sibling */
	struct filter_term term; /* FN_TERM */
};

struct filter {
	char *text; /* the expression */
	struct filter_node *root;
	/* shared by every regex: evaluation is single-threaded */
	pcre2_match_data *md;
	pcre2_match_context *mctx;
};

/* Frees n, its children and its siblings. */
void filter_node_free(struct filter_node *n);

#endif
