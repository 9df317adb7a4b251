/* help_view.c - Help, generated from the key table the dispatcher uses:
 * this screen's keys first, then every key, then the filter language. */
#include <stdlib.h>
#include <string.h>

#include "textpane.h"

struct help {
	struct view v;
	struct textpane tp;
	size_t sections[3]; /* first line of: this screen, all keys, filter language */
	int at; /* section shown by the last ? */
};

static void add_binding(struct lines *l, const struct key_binding *b)
{
	lines_add(l, R_NORMAL, 0, "  %-16s %s  (%s)", b->names, b->help, b->precedent);
}

static void build(struct help *h, const struct view *about)
{
	struct lines l = { 0 };
	unsigned int local = about->ops->keys & ~KEYS_GLOBAL;

	lines_add(&l, R_HEADER, 0, "tlstop help: %s  (? again: all keys, then the filter language; q: back)",
		  about->ops->name);
	h->sections[0] = l.n;
	lines_add(&l, R_TITLE, 0, "Keys of %s", about->ops->name);
	for (size_t i = 0; i < key_table_len; i++)
		if (key_table[i].where & (local | (about->ops->text ? KEYS_TEXT : 0)))
			add_binding(&l, &key_table[i]);
	lines_add(&l, R_NORMAL, 0, "%s", "");
	h->sections[1] = l.n;
	lines_add(&l, R_TITLE, 0, "All keys");
	for (size_t i = 0; i < key_table_len; i++)
		add_binding(&l, &key_table[i]);
	lines_add(&l, R_NORMAL, 0, "%s", "");
	h->sections[2] = l.n;
	lines_add(&l, R_TITLE, 0, "Filter language");
	for (size_t i = 0; filter_reference[i]; i++)
		lines_add(&l, R_NORMAL, 0, "  %s", filter_reference[i]);
	textpane_set(&h->tp, &l);
}

static void update(struct ui *ui, struct view *v, bool tick)
{
}

static void draw(struct ui *ui, struct view *v, int y, int rows)
{
	struct help *h = v->priv;

	textpane_draw(ui, &h->tp, y, rows);
}

/* ? walks the sections: this screen, all keys, the filter language. */
static bool action(struct ui *ui, struct view *v, enum ui_action a)
{
	struct help *h = v->priv;

	if (a != ACT_HELP)
		return textpane_action(ui, &h->tp, a, ui->rows);
	h->at = (h->at + 1) % 3;
	h->tp.cur = h->tp.top = h->sections[h->at];
	return true;
}

static size_t search(struct ui *ui, struct view *v, const char *regex)
{
	struct help *h = v->priv;
	long n = textpane_search(ui, &h->tp, regex);

	return n > 0 ? (size_t)n : 0;
}

static void help_free(struct view *v)
{
	struct help *h = v->priv;

	textpane_free(&h->tp);
	free(h);
}

static const struct view_ops help_ops = {
	.name = "Help",
	.keys = KEYS_TEXT,
	.text = true,
	.update = update,
	.draw = draw,
	.action = action,
	.search = search,
	.free = help_free,
};

struct view *help_view_new(struct ui *ui, const struct view *about)
{
	struct help *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->v.ops = &help_ops;
	h->v.priv = h;
	snprintf(h->v.crumb, sizeof(h->v.crumb), "Help");
	textpane_init(&h->tp, false, false);
	build(h, about);
	return &h->v;
}
