/* keys.c - the key table: dispatch and help both read it. */
#include <curses.h>
#include <string.h>

#include "keys.h"

#define CTRL(c) ((c) & 0x1f)
#define ESC 27
#define G KEYS_GLOBAL
#define TBL KEYS_TABLE
#define TXT (KEYS_CONV | KEYS_DETAIL | KEYS_TEXT)
#define ANY (G | TBL | KEYS_TREE | TXT)

/* Order matters twice: the help lists bindings in this order, and the
 * first binding of a key valid in the current view wins. */
const struct key_binding key_table[] = {
	{ { '?', KEY_F(1) }, "? F1", ACT_HELP, G, "help: this screen's keys, then all keys, then the filter language", "all" },
	{ { 'q', ESC, KEY_BACKSPACE, 127 }, "q Esc Backspace", ACT_BACK, G, "back one level; q quits at the top level", "mitmproxy, csysdig, k9s, htop" },
	{ { 'Q', KEY_F(10), CTRL('c') }, "Q F10 Ctrl-C", ACT_QUIT, G, "quit now, restoring the terminal", "mitmproxy, htop" },
	{ { '\n', '\r', KEY_ENTER }, "Enter", ACT_ENTER, G, "drill down: connection, stream, message", "csysdig, k9s, bpftop" },
	{ { '\t' }, "Tab", ACT_TAB, G, "next tab (screens at the top, panes and tabs inside)", "htop, mitmproxy, termshark" },
	{ { KEY_BTAB }, "Shift-Tab", ACT_BTAB, G, "previous tab", "htop, mitmproxy" },
	{ { ':' }, ":", ACT_COMMAND, G, "command: :filter :filter explain :conns :methods :events :w FILE :set delay N :q", "vim, mitmproxy, k9s" },
	{ { 'k', KEY_UP }, "k Up", ACT_UP, ANY, "move up (stops follow)", "vim, mitmproxy" },
	{ { 'j', KEY_DOWN }, "j Down", ACT_DOWN, ANY, "move down", "vim, mitmproxy" },
	{ { 'h', KEY_LEFT }, "h Left", ACT_LEFT, ANY, "scroll columns / long lines left", "top, mitmproxy" },
	{ { 'l', KEY_RIGHT }, "l Right", ACT_RIGHT, ANY, "scroll columns / long lines right", "top, mitmproxy" },
	{ { 'g', KEY_HOME }, "g Home", ACT_HOME, ANY, "first line", "less, mitmproxy" },
	{ { 'G', KEY_END }, "G End", ACT_END, ANY, "last line; on a live list also resumes follow", "less, termshark" },
	{ { KEY_PPAGE, CTRL('b') }, "PgUp Ctrl-B", ACT_PGUP, ANY, "page up", "less" },
	{ { KEY_NPAGE, CTRL('f') }, "PgDn Ctrl-F", ACT_PGDN, ANY, "page down", "less" },
	{ { '/' }, "/", ACT_SLASH, G, "tables: filter bar; text panes: search", "k9s, less" },
	{ { 'f', '\\', KEY_F(4) }, "f \\ F4", ACT_FILTER, G, "filter bar, from anywhere", "mitmproxy, htop" },
	{ { '=' }, "=", ACT_CLEAR_FILTER, G, "clear this screen's filter", "top" },
	{ { 'n', KEY_F(3) }, "n F3", ACT_SEARCH_NEXT, TXT, "next search hit", "less, htop" },
	{ { 'N' }, "N", ACT_SEARCH_PREV, TXT, "previous search hit", "less" },
	{ { 'Z', 'p', KEY_F(9) }, "Z p F9", ACT_PAUSE, G, "pause / resume the view (capture goes on)", "htop, csysdig" },
	{ { 'F', KEY_F(8) }, "F F8", ACT_FOLLOW, ANY, "follow new messages on / off", "less, mitmproxy" },
	{ { KEY_F(6) }, "F6", ACT_SORT, TBL, "next sort column", "htop" },
	{ { '<' }, "<", ACT_SORT_PREV, TBL, "sort by the column to the left", "top" },
	{ { '>' }, ">", ACT_SORT_NEXT, TBL, "sort by the column to the right", "top" },
	{ { 'I' }, "I", ACT_SORT_INVERT, TBL, "invert the sort order", "top" },
	{ { 't', KEY_F(5) }, "t F5", ACT_TREE, KEYS_TREE, "tree / flat", "htop" },
	{ { '+' }, "+", ACT_EXPAND, KEYS_TREE, "expand a process", "htop" },
	{ { '-' }, "-", ACT_COLLAPSE, KEYS_TREE, "collapse a process", "htop" },
	{ { '*' }, "*", ACT_EXPAND_ALL, KEYS_TREE, "expand or collapse all", "htop" },
	{ { '|' }, "|", ACT_LAYOUT, KEYS_TREE, "preview: bottom / right / off", "termshark" },
	{ { 'm' }, "m", ACT_MARK, TXT, "mark / unmark the message", "mitmproxy, htop" },
	{ { 'M' }, "M", ACT_SHOW_MARKED, G, "show only marked messages (and their connections)", "mitmproxy" },
	{ { 'U' }, "U", ACT_UNMARK_ALL, G, "unmark all", "htop" },
	{ { 's', CTRL('s') }, "s Ctrl-S", ACT_SAVE, G, "save the conversation, or the marked messages (0600)", "k9s" },
	{ { 'c', KEY_DC }, "c Del", ACT_CLEAR, TXT, "clear this view's buffer (counters go on)", "csysdig" },
	{ { 'w' }, "w", ACT_WRAP, TXT, "wrap long lines", "k9s, htop" },
	{ { 'T' }, "T", ACT_TIMESTAMPS, G, "timestamps: wall clock / relative / delta", "k9s, termshark" },
	{ { 'v', KEY_F(7) }, "v F7", ACT_VIEW_MODE, KEYS_DETAIL, "body view: auto / text / JSON / protobuf / hex", "mitmproxy" },
	{ { 'x' }, "x", ACT_HEX, KEYS_DETAIL, "body as hex", "csysdig" },
	{ { 'o' }, "o", ACT_OPEN_ALL, KEYS_DETAIL, "open a long body fully", "mitmproxy" },
	{ { 'a' }, "a", ACT_DIRECTION, KEYS_CONV, "all / requests only / responses only", "termshark" },
	{ { CTRL('x') }, "Ctrl-X", ACT_CONTEXT, KEYS_CONV, "show filtered-out messages dimmed", "k9s" },
	{ { '[' }, "[", ACT_PREV_ITEM, KEYS_CONV | KEYS_DETAIL, "previous message or stream", "mitmproxy, kyanos" },
	{ { ']' }, "]", ACT_NEXT_ITEM, KEYS_CONV | KEYS_DETAIL, "next message or stream", "mitmproxy, kyanos" },
	{ { 'y' }, "y", ACT_COPY, KEYS_CONV | KEYS_DETAIL, "copy the message (OSC 52: works through ssh and tmux)", "k9s, vim" },
	{ { 'E' }, "E", ACT_EVENTS, G, "Events: attach, libraries, losses, filter", "mitmproxy" },
	{ { 'd' }, "d", ACT_DELAY, G, "refresh delay", "top" },
	{ { 'H' }, "H", ACT_HIDE_BAR, G, "hide / show the function bar", "mitmproxy" },
	{ { CTRL('l') }, "Ctrl-L", ACT_REDRAW, G, "redraw the screen", "everyone" },
};

const size_t key_table_len = sizeof(key_table) / sizeof(key_table[0]);

enum ui_action keys_lookup(int key, unsigned int where)
{
	where |= KEYS_GLOBAL;
	for (size_t i = 0; i < key_table_len; i++) {
		if (!(key_table[i].where & where))
			continue;
		for (int k = 0; k < 4 && key_table[i].keys[k]; k++)
			if (key_table[i].keys[k] == key)
				return key_table[i].action;
	}
	return ACT_NONE;
}

const char *keys_name(enum ui_action a)
{
	for (size_t i = 0; i < key_table_len; i++)
		if (key_table[i].action == a)
			return key_table[i].names;
	return "";
}
