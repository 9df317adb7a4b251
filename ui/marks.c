/* marks.c - the marked message ids (m, M, U), kept in marking order so a
 * save lists them as they were marked. */
#include <stdlib.h>
#include <string.h>

#include "view.h"

bool ui_marked(const struct ui *ui, uint64_t id)
{
	for (size_t i = 0; i < ui->nmarks; i++)
		if (ui->marks[i] == id)
			return true;
	return false;
}

void ui_mark_toggle(struct ui *ui, uint64_t id)
{
	for (size_t i = 0; i < ui->nmarks; i++) {
		if (ui->marks[i] == id) {
			memmove(ui->marks + i, ui->marks + i + 1, (--ui->nmarks - i) * sizeof(*ui->marks));
			return;
		}
	}
	if (ui->nmarks == ui->marks_cap) {
		size_t cap = ui->marks_cap ? 2 * ui->marks_cap : 64;
		uint64_t *grown = realloc(ui->marks, cap * sizeof(*grown));

		if (!grown)
			return;
		ui->marks = grown;
		ui->marks_cap = cap;
	}
	ui->marks[ui->nmarks++] = id;
}

void ui_marks_clear(struct ui *ui)
{
	ui->nmarks = 0;
}
