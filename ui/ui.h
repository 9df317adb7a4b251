/* ui.h - the interactive view (ncurses) over a running session. */
#ifndef TLSTOP_UI_H
#define TLSTOP_UI_H

#include "options.h"
#include "session.h"

/* Runs the UI until the user quits or the session stops; always restores
 * the terminal. Returns RUN_OK, or RUN_USAGE when the terminal cannot be
 * used (*cause says why). */
int ui_run(const struct options *o, struct session *s, char **cause);

#endif
