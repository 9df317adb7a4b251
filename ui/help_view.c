/* help_view.c - Help, generated from the key table the dispatcher uses:
 * this screen's keys first, then every key, then the filter language. */
#include <stdlib.h>
#include <string.h>

#include "textpane.h"

struct help {
	struct pane_view pv; /* first: pane_view_free() frees the help */
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
	textpane_set(&h->pv.tp, &l);
}

static void update(struct ui *ui, struct view *v, bool tick)
{
}

/* ? walks the sections: this screen, all keys, the filter language. */
static bool action(struct ui *ui, struct view *v, enum ui_action a)
{
	struct help *h = v->priv;

	if (a != ACT_HELP)
		return pane_view_action(ui, v, a);
	h->at = (h->at + 1) % 3;
	h->pv.tp.cur = h->pv.tp.top = h->sections[h->at];
	return true;
}

static const struct view_ops help_ops = {
	.name = "Help",
	.keys = KEYS_TEXT,
	.text = true,
	.update = update,
	.draw = pane_view_draw,
	.action = action,
	.search = pane_view_search,
	.free = pane_view_free,
};

struct view *help_view_new(struct ui *ui, const struct view *about)
{
	struct help *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->pv.v.ops = &help_ops;
	h->pv.v.priv = h;
	snprintf(h->pv.v.crumb, sizeof(h->pv.v.crumb), "Help");
	textpane_init(&h->pv.tp, false, false);
	build(h, about);
	return &h->pv.v;
}
