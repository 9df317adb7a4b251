/* view.h - what the screens share: the UI state they read, the view
 * interface the dispatcher drives, colour roles, glyphs and drawing
 * helpers. Screens draw from their own snapshots, taken from the core when
 * not paused, so a paused screen holds still while the store moves on. */
#ifndef TLSTOP_UI_VIEW_H
#define TLSTOP_UI_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curses.h>

#include "filter.h"
#include "keys.h"
#include "options.h"
#include "session.h"
#include "stats.h"
#include "store.h"

struct ui;
struct view;

/* Colours by role, never by value (UX.md B.8). */
enum ui_role {
	R_NORMAL,
	R_HEADER,
	R_BADGE_OK,
	R_BADGE_WARN,
	R_BADGE_ERROR,
	R_SELECTION,
	R_REQUEST,
	R_RESPONSE,
	R_ERROR_ROW,
	R_SLOW_ROW,
	R_DIM,
	R_MATCH,
	R_BAR_VALID,
	R_BAR_INVALID,
	R_TITLE, /* column titles, tab names */
	R_FKEY, /* function bar key labels */
	R_NROLES
};

/* Unicode glyphs or their ASCII fallback (-U, non-UTF-8 locale). */
struct ui_glyphs {
	const char *tree_mid; /* "├─" */
	const char *tree_last; /* "└─" */
	const char *tree_vert; /* "│ " */
	const char *arrow_out; /* "→": sent by the traced process */
	const char *arrow_in; /* "←" */
	const char *ellipsis; /* "…" */
	const char *sort_down; /* "▼" */
	const char *sort_up; /* "▲" */
	const char *hline; /* "─" */
	const char *sep; /* " › " breadcrumb separator */
	const char *dot; /* " · " */
};

enum ts_mode {
	TS_WALL, /* 12:03:04.118 */
	TS_RELATIVE, /* seconds since the first message shown */
	TS_DELTA, /* since the previous line */
};

struct view_ops {
	const char *name; /* tab and breadcrumb: "Connections" */
	unsigned int keys; /* KEYS_* contexts for dispatch and help */
	bool text; /* '/' searches (text pane) instead of opening the filter bar */
	/* Takes a new snapshot from the core; tick is true once per --delay
	 * (tables rebuild only then), false on the frames between (text panes
	 * may append new messages). Never called while paused. */
	void (*update)(struct ui *ui, struct view *v, bool tick);
	/* Draws into rows [y, y + h) of stdscr, full width. */
	void (*draw)(struct ui *ui, struct view *v, int y, int h);
	/* Returns true when the action was handled (the screen is redrawn). */
	bool (*action)(struct ui *ui, struct view *v, enum ui_action a);
	/* Filter bar: how many of the messages the view holds match f (NULL:
	 * all of them) out of how many. NULL: the view has no filter. */
	void (*count)(struct ui *ui, struct view *v, const struct filter *f, size_t *match,
		      size_t *total);
	/* Text panes: search regex (PCRE2 source; NULL clears). Returns the
	 * number of hits; the view highlights them and moves to the first one
	 * at or after the cursor. NULL: no search in this view. */
	size_t (*search)(struct ui *ui, struct view *v, const char *regex);
	void (*free)(struct view *v);
};

struct view {
	const struct view_ops *ops;
	struct filter *filter; /* owned; NULL: none. Set with ui_set_filter(). */
	char crumb[160]; /* breadcrumb segment: "4312 api-server", "stream 17" */
	const char *sort_name; /* "MSG/s"; NULL: no sort shown */
	bool sort_asc;
	size_t shown, total; /* "12/340 conns" */
	const char *unit; /* "conns", "methods", "messages", "streams", "lines" */
	bool follow; /* text panes: [FOLLOW] */
	bool dirty; /* redraw needed */
	void *priv;
};

struct prompt;

struct ui {
	const struct options *o;
	struct session *s;
	struct view *tabs[3]; /* Connections, Methods, Events: live all the time */
	int tab;
	struct view *stack[8]; /* drill-down above the current tab */
	int depth; /* views on the stack */
	int rows, cols;
	bool utf8, color, mouse, bar_hidden;
	const struct ui_glyphs *g;
	attr_t attrs[R_NROLES];
	bool paused;
	uint64_t paused_msgs; /* session_messages() when paused */
	enum ts_mode ts;
	bool wrap; /* w: wrap long lines in text panes */
	uint64_t delay_ns;
	uint64_t now_ns; /* CLOCK_MONOTONIC of this frame */
	uint64_t last_move_ns; /* the cursor moved: sorted lists keep their order a while */
	/* the latest counters and rates, refreshed each --delay */
	struct stats st, st_prev;
	double msg_rate, byte_rate;
	struct self_usage self;
	uint64_t msgs_prev;
	/* marks: message ids (m, M, U) */
	uint64_t *marks;
	size_t nmarks, marks_cap;
	bool show_marked;
	/* mouse event for ACT_MOUSE */
	int mouse_y, mouse_x;
	bool mouse_double;
	struct prompt *prompt; /* open prompt, or NULL */
	char flash[256];
	uint64_t flash_until_ns;
	bool flash_error;
	struct filter_env fenv;
	bool quit;
};

/* The view on top: drill-down if any, else the current tab. */
struct view *ui_top(struct ui *ui);
/* Drill down into v (the UI takes it); pops the deepest when full. */
void ui_push(struct ui *ui, struct view *v);
/* Back one level; false at the top level. */
bool ui_pop(struct ui *ui);
/* Switch to tab i (0 Connections, 1 Methods, 2 Events), dropping drill-downs. */
void ui_show_tab(struct ui *ui, int i);
/* Replaces v's filter (compiled from expr; "" clears). Returns 0, or -1
 * with *err when expr is invalid (the old filter stays). */
int ui_set_filter(struct ui *ui, struct view *v, const char *expr, struct filter_error *err);
/* A transient message on the bottom line for 3 s. */
void ui_flash(struct ui *ui, bool error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The cursor moved (stable lists and follow use it). */
void ui_moved(struct ui *ui);

bool ui_marked(const struct ui *ui, uint64_t id);
void ui_mark_toggle(struct ui *ui, uint64_t id);
void ui_marks_clear(struct ui *ui);

/* "12:03:04.118", "+12.345s" or "+0.004s" as ui->ts says; prev_ns is the
 * line before (TS_DELTA), first_ns the first shown (TS_RELATIVE). */
void ui_format_ts(const struct ui *ui, char *buf, size_t len, uint64_t mono_ns,
		  uint64_t first_ns, uint64_t prev_ns);

/* Drawing: text is UTF-8; at most w columns from column x are used (what
 * does not fit is cut, with the ellipsis glyph when cut is true). Returns
 * the columns used. */
int ui_print(struct ui *ui, int y, int x, int w, enum ui_role role, attr_t extra, bool cut,
	     const char *s);
/* Like ui_print, then pads with blanks to w columns. */
int ui_print_pad(struct ui *ui, int y, int x, int w, enum ui_role role, attr_t extra,
		 const char *s);
/* Columns s takes on screen. */
int ui_width(const char *s);
/* s shortened to w columns by cutting its middle ("/payments…/Charge"). */
void ui_cut_middle(const struct ui *ui, char *out, size_t len, const char *s, int w);
/* "1.2k", "3.1M" */
void ui_human(char *buf, size_t len, double v);

/* Screens (one file each). */
struct view *conns_view_new(struct ui *ui);
struct view *methods_view_new(struct ui *ui);
struct view *events_view_new(struct ui *ui);
struct view *conv_view_new(struct ui *ui, const struct store_conn_key *k);
struct view *detail_view_new(struct ui *ui, uint64_t msg_id);
struct view *help_view_new(struct ui *ui, const struct view *about);
/* Connections, filtered to the messages of one Methods row. */
void conns_view_show_method(struct ui *ui, const char *filter_expr);

#endif
