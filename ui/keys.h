/* keys.h - the one key table: the dispatcher maps keys to actions through
 * it and the help screen is generated from it, so the two cannot drift. */
#ifndef TLSTOP_UI_KEYS_H
#define TLSTOP_UI_KEYS_H

#include <stddef.h>

/* ACT_, not A_: curses owns the A_ prefix (A_LEFT is an attribute). */
enum ui_action {
	ACT_NONE = 0,
	ACT_HELP,
	ACT_BACK, /* q Esc Backspace: back one level; q quits at the top */
	ACT_QUIT,
	ACT_ENTER,
	ACT_TAB,
	ACT_BTAB,
	ACT_COMMAND,
	ACT_UP,
	ACT_DOWN,
	ACT_LEFT,
	ACT_RIGHT,
	ACT_HOME,
	ACT_END,
	ACT_PGUP,
	ACT_PGDN,
	ACT_SLASH, /* filter bar in tables, search in text panes */
	ACT_FILTER,
	ACT_CLEAR_FILTER,
	ACT_SEARCH_NEXT,
	ACT_SEARCH_PREV,
	ACT_PAUSE,
	ACT_FOLLOW,
	ACT_SORT, /* choose the sort column (next) */
	ACT_SORT_PREV,
	ACT_SORT_NEXT,
	ACT_SORT_INVERT,
	ACT_TREE,
	ACT_EXPAND,
	ACT_COLLAPSE,
	ACT_EXPAND_ALL,
	ACT_LAYOUT,
	ACT_MARK,
	ACT_SHOW_MARKED,
	ACT_UNMARK_ALL,
	ACT_SAVE,
	ACT_CLEAR,
	ACT_WRAP,
	ACT_TIMESTAMPS,
	ACT_VIEW_MODE,
	ACT_HEX,
	ACT_OPEN_ALL,
	ACT_DIRECTION,
	ACT_CONTEXT,
	ACT_PREV_ITEM,
	ACT_NEXT_ITEM,
	ACT_COPY,
	ACT_EVENTS,
	ACT_DELAY,
	ACT_HIDE_BAR,
	ACT_REDRAW,
	ACT_MOUSE, /* a mouse event: the view reads ui->mouse_y/x/double */
	ACT_COUNT
};

/* Where a binding applies; the help screen lists the current view's first. */
#define KEYS_GLOBAL 0x1
#define KEYS_TABLE 0x2 /* Connections, Methods */
#define KEYS_TREE 0x4 /* Connections */
#define KEYS_CONV 0x8 /* Conversation */
#define KEYS_DETAIL 0x10 /* Message detail */
#define KEYS_TEXT 0x20 /* any text pane: Conversation, detail, Events, Help */

struct key_binding {
	int keys[4]; /* curses key codes; 0 ends */
	const char *names; /* as the help shows them: "q Esc Backspace" */
	enum ui_action action;
	unsigned int where; /* KEYS_* */
	const char *help;
	const char *precedent; /* the tools this habit comes from */
};

extern const struct key_binding key_table[];
extern const size_t key_table_len;

/* The action of key in a view whose contexts are where (KEYS_GLOBAL is
 * always included); ACT_NONE when unbound there. */
enum ui_action keys_lookup(int key, unsigned int where);
/* The name of an action's first key, for messages ("press ? for help"). */
const char *keys_name(enum ui_action a);

#endif
