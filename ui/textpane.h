/* textpane.h - a scrollable list of lines with a cursor, follow, horizontal
 * scroll or wrap, and PCRE2 search that highlights and never hides. The
 * Conversation, Message detail, Events and Help screens are text panes. */
#ifndef TLSTOP_UI_TEXTPANE_H
#define TLSTOP_UI_TEXTPANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "render.h"
#include "view.h"

struct textpane {
	struct lines lines; /* owned */
	size_t cur; /* cursor line */
	size_t top; /* first line shown */
	int hscroll; /* columns scrolled right */
	bool follow; /* the cursor stays on the last line as lines arrive */
	bool cursor; /* draw a cursor line (lists) or not (plain text) */
	void *re; /* pcre2_code *, NULL: no search */
	void *md; /* pcre2_match_data * */
	size_t hits;
};

void textpane_init(struct textpane *tp, bool cursor, bool follow);
void textpane_free(struct textpane *tp);
/* Replaces the lines, keeping the cursor on the line with the same message
 * id (or index) it was on, or on the last line when following. */
void textpane_set(struct textpane *tp, struct lines *lines);
/* Draws rows [y, y + h); wrap from ui->wrap. */
void textpane_draw(struct ui *ui, struct textpane *tp, int y, int h);
/* Movement, paging, h-scroll, follow (ACT_FOLLOW, ACT_END resume it; moving up
 * stops it), n/N. Returns true when handled. h is the height last drawn. */
bool textpane_action(struct ui *ui, struct textpane *tp, enum ui_action a, int h);
/* Compiles regex (NULL or "" clears) and moves to the first hit at or
 * after the cursor; returns the number of matching lines, or -1 with the
 * PCRE2 message flashed when invalid. Turns follow off. */
long textpane_search(struct ui *ui, struct textpane *tp, const char *regex);
/* The message id under the cursor, 0 when none. */
uint64_t textpane_id(const struct textpane *tp);

/* A screen that is one text pane (Events, Help): the view's priv points to
 * this, which may start a larger struct. */
struct pane_view {
	struct view v;
	struct textpane tp;
};
void pane_view_draw(struct ui *ui, struct view *v, int y, int h);
bool pane_view_action(struct ui *ui, struct view *v, enum ui_action a);
size_t pane_view_search(struct ui *ui, struct view *v, const char *regex);
void pane_view_free(struct view *v);

#endif
