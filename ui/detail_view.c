/* detail_view.c - the Message detail screen: one message's Headers, Body,
 * Raw and Timing tabs, rendered when opened so that the message being
 * evicted later does not empty them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "save.h"
#include "textpane.h"

#define BODY_LINES_MAX 512 /* mitmproxy's cutoff; o opens all */

enum tab { TAB_HEADERS, TAB_BODY, TAB_RAW, TAB_TIMING, TAB_COUNT };

static const char *const tab_names[TAB_COUNT] = { "Headers", "Body", "Raw", "Timing" };

struct detail {
	struct view v;
	uint64_t id;
	pid_t pid;
	enum tab tab;
	enum body_mode mode;
	bool open_all;
	bool evicted; /* the store no longer holds it: v, x, o and [ ] cannot work */
	struct textpane panes[TAB_COUNT];
	char *regex; /* the search, applied to each tab when shown */
	unsigned int searched; /* tabs the regex was applied to */
	int h; /* pane rows last drawn */
};

static const struct message *detail_msg(struct ui *ui, struct detail *d)
{
	struct store_msg *sm = store_msg_find(session_store(ui->s), d->id);

	d->evicted = !sm;
	return sm ? sm->m : NULL;
}

static void detail_search_tab(struct ui *ui, struct detail *d)
{
	if (!d->regex || (d->searched & 1u << d->tab))
		return;
	textpane_search(ui, &d->panes[d->tab], d->regex);
	d->searched |= 1u << d->tab;
}

static void detail_body(struct ui *ui, struct detail *d, const struct message *m)
{
	struct lines l = { 0 };

	render_body(ui, &l, m, d->mode, d->open_all ? 0 : BODY_LINES_MAX);
	textpane_set(&d->panes[TAB_BODY], &l); /* keeps the pane's search */
}

/* "stream 17 · response", "message 123 · request" */
static void detail_crumb(struct ui *ui, struct detail *d, const struct message *m)
{
	if (m->proto == MSG_H1)
		snprintf(d->v.crumb, sizeof(d->v.crumb), "message %" PRIu64 "%s%s", m->id,
			 ui->g->dot, msg_kind_name(m->kind));
	else
		snprintf(d->v.crumb, sizeof(d->v.crumb), "stream %u%s%s", m->stream, ui->g->dot,
			 msg_kind_name(m->kind));
}

/* Renders every tab of m from the start. */
static void detail_load(struct ui *ui, struct detail *d, const struct message *m)
{
	void (*render[TAB_COUNT])(struct ui *, struct lines *, const struct message *) = {
		render_headers, NULL, render_raw, render_timing
	};

	d->id = m->id;
	d->pid = (pid_t)m->who.pid;
	d->searched = 0;
	for (int t = 0; t < TAB_COUNT; t++) {
		struct lines l = { 0 };

		textpane_free(&d->panes[t]);
		textpane_init(&d->panes[t], false, false);
		if (render[t]) {
			render[t](ui, &l, m);
			textpane_set(&d->panes[t], &l);
		}
	}
	detail_body(ui, d, m);
	detail_search_tab(ui, d);
	detail_crumb(ui, d, m);
	d->v.dirty = true;
}

static void detail_update(struct ui *ui, struct view *v, bool tick)
{
	struct detail *d = v->priv;
	bool was = d->evicted;

	detail_msg(ui, d);
	v->dirty |= was != d->evicted;
}

static void detail_draw(struct ui *ui, struct view *v, int y, int h)
{
	struct detail *d = v->priv;
	char info[96];
	int x = 0;

	if (h <= 0)
		return;
	for (int t = 0; t < TAB_COUNT; t++) {
		char label[16];

		snprintf(label, sizeof(label), " %s ", tab_names[t]);
		x += ui_print(ui, y, x, ui->cols - x, t == (int)d->tab ? R_SELECTION : R_TITLE, 0,
			      false, label);
		x += ui_print(ui, y, x, ui->cols - x, R_NORMAL, 0, false, " ");
	}
	snprintf(info, sizeof(info), "  body: %s%s%s", body_mode_name(d->mode),
		 d->open_all ? " (all lines)" : "", d->evicted ? "  (evicted: kept as shown)" : "");
	if (x < ui->cols)
		ui_print_pad(ui, y, x, ui->cols - x, R_DIM, 0, info);
	d->h = h - 1;
	textpane_draw(ui, &d->panes[d->tab], y + 1, h - 1);
}

/* v, x, o: the body again in another mode; the body tab is shown. */
static void detail_rebody(struct ui *ui, struct detail *d, enum body_mode mode, bool open_all)
{
	const struct message *m = detail_msg(ui, d);

	d->tab = TAB_BODY;
	if (!m) {
		ui_flash(ui, true,
			 "message %" PRIu64 " was evicted: its body cannot be shown again", d->id);
		return;
	}
	d->mode = mode;
	d->open_all = open_all;
	detail_body(ui, d, m);
	ui_flash(ui, false, "body: %s%s", body_mode_name(mode), open_all ? ", all lines" : "");
}

/* [ ]: the previous or next message of the same stream (HTTP/1: of the
 * same connection). */
static void detail_step(struct ui *ui, struct detail *d, bool next)
{
	struct store_msg *sm = store_msg_find(session_store(ui->s), d->id), *o = sm;

	if (!sm) {
		ui_flash(ui, true, "message %" PRIu64 " was evicted: its neighbours are unknown",
			 d->id);
		return;
	}
	do
		o = next ? store_msg_newer(o) : store_msg_older(o);
	while (o && sm->m->proto != MSG_H1 && o->m->stream != sm->m->stream);
	if (!o) {
		ui_flash(ui, true, "no %s message in this %s", next ? "next" : "previous",
			 sm->m->proto == MSG_H1 ? "connection" : "stream");
		return;
	}
	detail_load(ui, d, o->m);
}

static bool detail_action(struct ui *ui, struct view *v, enum ui_action a)
{
	struct detail *d = v->priv;

	switch (a) {
	case ACT_TAB:
	case ACT_BTAB:
		d->tab = (d->tab + (a == ACT_TAB ? 1 : TAB_COUNT - 1)) % TAB_COUNT;
		detail_search_tab(ui, d);
		break;
	case ACT_VIEW_MODE:
		detail_rebody(ui, d, (d->mode + 1) % BODY_NMODES, d->open_all);
		break;
	case ACT_HEX:
		detail_rebody(ui, d, d->mode == BODY_HEX ? BODY_AUTO : BODY_HEX, d->open_all);
		break;
	case ACT_OPEN_ALL:
		detail_rebody(ui, d, d->mode, !d->open_all);
		break;
	case ACT_PREV_ITEM:
	case ACT_NEXT_ITEM:
		detail_step(ui, d, a == ACT_NEXT_ITEM);
		break;
	case ACT_COPY:
		save_flash_copy(ui, &d->id, 1);
		break;
	case ACT_SAVE:
		save_flash_messages(ui, &d->id, 1, d->pid);
		break;
	case ACT_MARK:
		ui_mark_toggle(ui, d->id);
		ui_flash(ui, false, "message %" PRIu64 " %s", d->id,
			 ui_marked(ui, d->id) ? "marked" : "unmarked");
		break;
	default:
		if (!textpane_action(ui, &d->panes[d->tab], a, d->h))
			return false;
	}
	v->dirty = true;
	return true;
}

static size_t detail_search(struct ui *ui, struct view *v, const char *regex)
{
	struct detail *d = v->priv;
	long n = textpane_search(ui, &d->panes[d->tab], regex);

	if (n < 0)
		return 0;
	free(d->regex);
	d->regex = regex && *regex ? strdup(regex) : NULL;
	for (int t = 0; t < TAB_COUNT; t++)
		if (t != (int)d->tab)
			textpane_search(ui, &d->panes[t], NULL);
	d->searched = 1u << d->tab;
	v->dirty = true;
	return (size_t)n;
}

static void detail_free(struct view *v)
{
	struct detail *d = v->priv;

	for (int t = 0; t < TAB_COUNT; t++)
		textpane_free(&d->panes[t]);
	free(d->regex);
	free(d);
}

static const struct view_ops detail_ops = {
	.name = "Message",
	.keys = KEYS_DETAIL | KEYS_TEXT,
	.text = true,
	.update = detail_update,
	.draw = detail_draw,
	.action = detail_action,
	.search = detail_search,
	.free = detail_free,
};

struct view *detail_view_new(struct ui *ui, uint64_t msg_id)
{
	struct store_msg *sm = store_msg_find(session_store(ui->s), msg_id);
	struct detail *d;

	if (!sm || !(d = calloc(1, sizeof(*d))))
		return NULL;
	d->v.ops = &detail_ops;
	d->v.priv = d;
	detail_load(ui, d, sm->m);
	return &d->v;
}
