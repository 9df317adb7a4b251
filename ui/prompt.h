/* prompt.h - the bottom-line editor shared by the filter bar, search, the
 * ':' command line and the save and delay questions: UTF-8 editing,
 * history per kind, Tab completion, and a status line above it that the
 * caller fills (the filter bar's error with a caret, or its match count). */
#ifndef TLSTOP_UI_PROMPT_H
#define TLSTOP_UI_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

#define PROMPT_MAX 512
#define PROMPT_HISTORY 32

enum prompt_kind {
	P_FILTER,
	P_SEARCH,
	P_COMMAND,
	P_SAVE,
	P_DELAY,
	P_NKINDS
};

enum prompt_result {
	PROMPT_EDITING, /* still open; the text may have changed */
	PROMPT_DONE, /* Enter */
	PROMPT_CANCEL, /* Esc */
};

struct prompt_history {
	char *items[P_NKINDS][PROMPT_HISTORY]; /* oldest first */
	int n[P_NKINDS];
};

/* Completes the word before the cursor: returns the text to insert (the
 * missing part) or NULL. */
typedef const char *(*prompt_complete_fn)(const char *text, size_t cur, void *arg);

struct prompt {
	enum prompt_kind kind;
	const char *label; /* "Filter: ", "Search: ", ":" */
	char text[PROMPT_MAX];
	size_t len, cur; /* bytes */
	int hist; /* history position while browsing; -1: editing */
	struct prompt_history *history;
	prompt_complete_fn complete;
	void *complete_arg;
	/* the status line above the prompt, set by the caller */
	bool error;
	size_t error_offset; /* byte offset in text for the caret */
	char status[256];
};

void prompt_open(struct prompt *p, enum prompt_kind kind, const char *label,
		 const char *initial, struct prompt_history *h);
/* One key (curses wide-char input: is_key for KEY_* codes). */
enum prompt_result prompt_key(struct prompt *p, int key, bool is_key);
/* Enter keeps the line in the history of its kind. */
void prompt_remember(struct prompt *p);
void prompt_history_free(struct prompt_history *h);

#endif
