/* prompt.c - a small line editor for the bottom line. */
#include <curses.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "prompt.h"

#define CTRL(c) ((c) & 0x1f)

void prompt_open(struct prompt *p, enum prompt_kind kind, const char *label,
		 const char *initial, struct prompt_history *h)
{
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->label = label;
	p->history = h;
	p->hist = -1;
	snprintf(p->text, sizeof(p->text), "%s", initial ? initial : "");
	p->len = p->cur = strlen(p->text);
}

static void set_text(struct prompt *p, const char *s)
{
	snprintf(p->text, sizeof(p->text), "%s", s);
	p->len = p->cur = strlen(p->text);
}

static void insert(struct prompt *p, const char *s, size_t n)
{
	if (p->len + n >= sizeof(p->text))
		return;
	memmove(p->text + p->cur + n, p->text + p->cur, p->len - p->cur + 1);
	memcpy(p->text + p->cur, s, n);
	p->len += n;
	p->cur += n;
}

static bool continuation(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

static size_t char_before(const struct prompt *p, size_t at)
{
	while (at > 0 && continuation(p->text[--at]))
		;
	return at;
}

static size_t char_after(const struct prompt *p, size_t at)
{
	if (at < p->len)
		while (++at < p->len && continuation(p->text[at]))
			;
	return at;
}

static void delete_range(struct prompt *p, size_t from, size_t to)
{
	memmove(p->text + from, p->text + to, p->len - to + 1);
	p->len -= to - from;
	p->cur = from;
}

static void browse(struct prompt *p, int dir)
{
	int n, pos;

	if (!p->history)
		return;
	n = p->history->n[p->kind];
	pos = p->hist < 0 ? n : p->hist;
	pos += dir;
	if (pos < 0 || pos > n)
		return;
	p->hist = pos == n ? -1 : pos;
	set_text(p, pos == n ? "" : p->history->items[p->kind][pos]);
}

static void complete(struct prompt *p)
{
	const char *add = p->complete ? p->complete(p->text, p->cur, p->complete_arg) : NULL;

	if (add)
		insert(p, add, strlen(add));
}

static enum prompt_result edit_key(struct prompt *p, int key)
{
	switch (key) {
	case KEY_LEFT:
		p->cur = char_before(p, p->cur);
		break;
	case KEY_RIGHT:
		p->cur = char_after(p, p->cur);
		break;
	case KEY_HOME:
		p->cur = 0;
		break;
	case KEY_END:
		p->cur = p->len;
		break;
	case KEY_BACKSPACE:
		if (p->cur)
			delete_range(p, char_before(p, p->cur), p->cur);
		break;
	case KEY_DC:
		delete_range(p, p->cur, char_after(p, p->cur));
		break;
	case KEY_UP:
		browse(p, -1);
		break;
	case KEY_DOWN:
		browse(p, 1);
		break;
	case KEY_ENTER:
		return PROMPT_DONE;
	}
	return PROMPT_EDITING;
}

enum prompt_result prompt_key(struct prompt *p, int key, bool is_key)
{
	char mb[MB_LEN_MAX];
	mbstate_t st = { 0 };
	size_t n;

	if (is_key)
		return edit_key(p, key);
	switch (key) {
	case '\r':
	case '\n':
		return PROMPT_DONE;
	case 27:
		return PROMPT_CANCEL;
	case CTRL('a'):
		return edit_key(p, KEY_HOME);
	case CTRL('e'):
		return edit_key(p, KEY_END);
	case CTRL('h'):
	case 127:
		return edit_key(p, KEY_BACKSPACE);
	case CTRL('u'):
		set_text(p, "");
		return PROMPT_EDITING;
	case '\t':
		complete(p);
		return PROMPT_EDITING;
	}
	if (key < 0x20 || key == 0x7f)
		return PROMPT_EDITING;
	n = wcrtomb(mb, (wchar_t)key, &st);
	if (n != (size_t)-1)
		insert(p, mb, n);
	return PROMPT_EDITING;
}

void prompt_remember(struct prompt *p)
{
	struct prompt_history *h = p->history;
	int *n;
	char *copy;

	if (!h || !p->len)
		return;
	n = &h->n[p->kind];
	if (*n && !strcmp(h->items[p->kind][*n - 1], p->text))
		return;
	copy = strdup(p->text);
	if (!copy)
		return;
	if (*n == PROMPT_HISTORY) {
		free(h->items[p->kind][0]);
		memmove(&h->items[p->kind][0], &h->items[p->kind][1],
			(PROMPT_HISTORY - 1) * sizeof(char *));
		--*n;
	}
	h->items[p->kind][(*n)++] = copy;
}

void prompt_history_free(struct prompt_history *h)
{
	for (int k = 0; k < P_NKINDS; k++)
		for (int i = 0; i < h->n[k]; i++)
			free(h->items[k][i]);
	memset(h, 0, sizeof(*h));
}
