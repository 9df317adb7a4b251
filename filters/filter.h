/* filter.h - the filter language of UX.md B.5: an expression parsed into a
 * tree, regexes compiled with PCRE2 (JIT where available), evaluated on
 * decoded messages. The same language serves -f / the trailing positional
 * filter in batch mode and the UI's filter bar. */
#ifndef TLSTOP_FILTER_H
#define TLSTOP_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "message.h"

struct filter;

/* Where and why an expression is invalid: offset is the byte offset in the
 * expression text for the caret (the PCRE2 offset of a bad regex is mapped
 * into the expression). */
struct filter_error {
	size_t offset;
	char msg[192];
};

/* What a message does not carry itself; any callback may be NULL (the
 * field is then unknown: comparisons on it are false, presence false). */
struct filter_env {
	const char *(*lib)(uint32_t lib_id, void *arg); /* "openssl", "boringssl" */
	const char *(*exe)(uint32_t pid, void *arg); /* executable path */
	const char *(*container)(uint32_t pid, void *arg);
	bool (*marked)(uint64_t msg_id, void *arg);
	void *arg;
};

/* Compiles expr. An empty or all-blank expression gives *f = NULL, which
 * matches everything. Returns 0, or -1 with *err filled (*f NULL). */
int filter_compile(struct filter **f, const char *expr, struct filter_error *err);
void filter_free(struct filter *f);
/* True when m matches; a NULL filter matches every message. env may be NULL. */
bool filter_match(const struct filter *f, const struct message *m, const struct filter_env *env);
/* The expression as given to filter_compile(). */
const char *filter_text(const struct filter *f);

/* Field names, NULL-terminated, for the filter bar's Tab completion and the
 * help screen's language reference. */
extern const char *const filter_field_names[];
/* Lines of the language reference (help screen and --help-filter),
 * NULL-terminated. */
extern const char *const filter_reference[];

#endif
