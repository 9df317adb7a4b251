/* term.h - the terminal: curses set-up and a restore that also runs on
 * fatal signals, colour roles per scheme, and the glyph set. */
#ifndef TLSTOP_UI_TERM_H
#define TLSTOP_UI_TERM_H

#include <stdbool.h>

#include "view.h"

/* Initialises curses on the controlling terminal and fills ui->attrs,
 * ui->g, ui->utf8, ui->color, ui->rows/cols. -1 with *cause when the
 * terminal cannot be used. */
int term_open(struct ui *ui, char **cause);
/* Restores the terminal; safe to call twice. */
void term_close(void);
/* The terminal file descriptor to poll for keys. */
int term_fd(void);

#endif
