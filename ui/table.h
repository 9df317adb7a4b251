/* table.h - the sortable, tree-aware table of the Connections and Methods
 * screens: rows are copies keyed by identity, the selection follows the
 * key across refills, columns drop by priority when the terminal is narrow.
 * Everything but table_draw() is pure logic, testable without a terminal. */
#ifndef TLSTOP_UI_TABLE_H
#define TLSTOP_UI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "view.h"

#define TABLE_COLS_MAX 16
#define TABLE_STABLE_NS 3000000000ULL /* no re-sort this long after the cursor moved */

struct table_col {
	const char *title;
	int min; /* columns it needs */
	int want; /* columns it grows to when there is room (>= min) */
	bool right; /* a number: right-aligned, sorted by value, largest first at first */
	bool mid; /* too long: cut in the middle ("/payments…/Charge"), not at the end */
	bool flex; /* grows first and takes the width left over; h-scrolled; at most one */
	unsigned char drop; /* 0: never dropped; when narrow the highest goes first */
};

struct table_row {
	char *key; /* identity: the selection follows it */
	char *cell[TABLE_COLS_MAX]; /* NULL: blank */
	double num[TABLE_COLS_MAX]; /* sort value of the right-aligned columns */
	enum ui_role role;
	unsigned char depth; /* tree level: a row owns the deeper rows after it */
	size_t rank; /* private: the order kept while the list holds still */
};

struct table_rows {
	struct table_row *v;
	size_t n, cap;
};

/* Columns on screen: indices into the column table, with position and width. */
struct table_layout {
	int n;
	int col[TABLE_COLS_MAX];
	int x[TABLE_COLS_MAX];
	int w[TABLE_COLS_MAX];
};

struct table {
	const struct table_col *cols;
	int ncols;
	int flex; /* the flex column, -1 for none */
	int tree_col; /* column whose text follows the tree glyphs; -1 for none */
	int tie_col; /* right-aligned column breaking sort ties, largest first; -1 none */
	uint32_t hidden; /* bit per column not shown at all (MATCH without a filter) */
	const struct ui_glyphs *g; /* tree and sort glyphs; NULL: none (tests) */
	const char *empty; /* shown when there is no row */
	struct table_rows rows; /* what is shown */
	struct table_rows next; /* being filled: table_add() ... table_commit() */
	size_t cur, top;
	bool touched; /* the cursor was moved: it follows its row, else stays on the first */
	int hscroll; /* columns the flex column is scrolled */
	int flex_max; /* bytes of its longest text: the h-scroll limit */
	int sort_col;
	bool sort_asc;
	/* where the last table_draw() put it: paging and mouse use it */
	int y, x, h, w;
	struct table_layout lay;
};

void table_init(struct table *t, const struct table_col *cols, int ncols, int sort_col);
void table_free(struct table *t);

/* Starts filling the next set of rows (the shown ones stay until commit). */
void table_begin(struct table *t);
/* A new row of the next set; NULL when out of memory (the row is left out). */
struct table_row *table_add(struct table *t, const char *key, enum ui_role role,
			    unsigned int depth);
/* Cell text (printf) and sort value; out of memory leaves the cell blank. */
void table_set(struct table_row *r, int col, double num, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Cells shared by the tables: "1.2k"; "7" or "ERR 7" when failing; "83.9"
 * ms or "-" when unknown (negative); "64+" at limit. */
void table_set_human(struct table_row *r, int col, double v);
void table_set_errors(struct table_row *r, int col, uint64_t n, bool failing);
void table_set_ms(struct table_row *r, int col, double ms);
void table_set_upto(struct table_row *r, int col, uint64_t n, uint64_t limit);
/* The next set replaces the shown rows. resort: ordered by the sort column;
 * else rows keep their previous order and new ones go last among their
 * siblings, sorted (a list that holds still). Once moved, the cursor stays on the
 * row with the same key, else at the same index, clamped; before, on the
 * first row. */
void table_commit(struct table *t, bool resort);
/* Orders the shown rows by the sort column now, keeping the selection. */
void table_sort(struct table *t);
/* Sorts by col: largest first for numbers, A to Z for text. */
void table_sort_by(struct table *t, int col);
/* The sort column's title, for the header's "Sort: ERR ▼". */
const char *table_sort_name(const struct table *t);
/* True while lists hold still: the cursor moved less than 3 s ago. */
bool table_stable(const struct ui *ui);

/* Which columns fit in width and where: droppable columns go by priority,
 * then the flex column grows to its wanted width, the others to theirs
 * left first, and the flex column takes the rest. No column is narrower
 * than its title and the sort glyph. */
void table_layout(const struct table *t, int width, struct table_layout *lay);
/* The row under the cursor, NULL when there is none. */
const struct table_row *table_current(const struct table *t);
/* Selects the row with that key (the cursor then follows it); false when
 * there is none. */
bool table_select_key(struct table *t, const char *key);
/* Moves the top so that the cursor is within h rows. */
void table_scroll(struct table *t, int h);
/* Cursor moves, paging (by the height last drawn) and h-scroll; true when
 * the cursor or the scroll changed. */
bool table_move(struct table *t, enum ui_action a);
/* The last row of its siblings (drawn with the └ glyph). */
bool table_is_last(const struct table *t, size_t i);

enum table_result {
	TABLE_IGNORED,
	TABLE_HANDLED,
	TABLE_MOVED, /* the selection changed */
	TABLE_SORTED, /* the sort column or direction changed */
	TABLE_ACTIVATE, /* double click: what Enter does */
};
/* Moves, sort keys (ACT_SORT, ACT_SORT_PREV, ACT_SORT_NEXT, ACT_SORT_INVERT) and
 * the mouse (click selects, double click activates, a title click sorts). */
enum table_result table_action(struct ui *ui, struct table *t, enum ui_action a);
/* Titles on row y, the rows below, in columns [x, x + w). */
void table_draw(struct ui *ui, struct table *t, int y, int x, int h, int w);

/* A message the view's rows stand for: it matches f and, with M, is marked. */
bool table_msg_match(const struct ui *ui, const struct filter *f, const struct message *m);
/* view_ops.count of the table screens: retained messages matching f (and,
 * with M, marked) out of all. */
void table_count_messages(struct ui *ui, struct view *v, const struct filter *f, size_t *match,
			  size_t *total);

#endif
