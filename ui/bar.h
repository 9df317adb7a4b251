/* bar.h - the three header lines (identity and cost, integrity counters
 * and badges, breadcrumb with filter and sort) and the bottom line
 * (function bar, prompt with its status line, or a transient message). */
#ifndef TLSTOP_UI_BAR_H
#define TLSTOP_UI_BAR_H

#include "view.h"

#define BAR_HEADER_LINES 3

void bar_draw_header(struct ui *ui);
/* Lines the bottom takes now: 0 to 2. */
int bar_bottom_lines(const struct ui *ui);
void bar_draw_bottom(struct ui *ui);

#endif
