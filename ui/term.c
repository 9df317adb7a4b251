/* term.c - curses set-up, restore on exit and fatal signals, colours by
 * role, Unicode or ASCII glyphs. */
#include <langinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "term.h"

static const struct ui_glyphs glyphs_utf8 = {
	.tree_mid = "├─",
	.tree_last = "└─",
	.tree_vert = "│ ",
	.arrow_out = "→",
	.arrow_in = "←",
	.ellipsis = "…",
	.sort_down = "▼",
	.sort_up = "▲",
	.hline = "─",
	.sep = " › ",
	.dot = " · ",
};

static const struct ui_glyphs glyphs_ascii = {
	.tree_mid = "|-",
	.tree_last = "`-",
	.tree_vert = "| ",
	.arrow_out = ">",
	.arrow_in = "<",
	.ellipsis = "~",
	.sort_down = "v",
	.sort_up = "^",
	.hline = "-",
	.sep = " > ",
	.dot = " - ",
};

/* The one piece of process-wide state: a fatal signal must restore the
 * terminal, and a signal handler has nothing else to reach it by. */
static volatile sig_atomic_t term_active;

static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGQUIT };

static void on_fatal(int sig)
{
	if (term_active) {
		term_active = 0;
		endwin();
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static bool want_color(const struct ui *ui)
{
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");

	if (ui->o->no_color || (nc && *nc) || (term && !strcmp(term, "dumb")))
		return false;
	return has_colors();
}

/* Pair numbers are role + 1; -1 is the terminal's own background. */
static void set_colors(struct ui *ui)
{
	static const struct {
		enum ui_role role;
		short fg, bg;
		attr_t extra;
	} scheme[] = {
		{ R_HEADER, COLOR_CYAN, -1, A_BOLD },
		{ R_BADGE_OK, COLOR_GREEN, -1, A_BOLD },
		{ R_BADGE_WARN, COLOR_YELLOW, -1, A_BOLD },
		{ R_BADGE_ERROR, COLOR_WHITE, COLOR_RED, A_BOLD },
		{ R_SELECTION, COLOR_BLACK, COLOR_CYAN, 0 },
		{ R_REQUEST, COLOR_CYAN, -1, 0 },
		{ R_RESPONSE, COLOR_GREEN, -1, 0 },
		{ R_ERROR_ROW, COLOR_RED, -1, A_BOLD },
		{ R_SLOW_ROW, COLOR_YELLOW, -1, 0 },
		{ R_DIM, COLOR_BLUE, -1, A_DIM },
		{ R_MATCH, COLOR_BLACK, COLOR_YELLOW, 0 },
		{ R_BAR_VALID, COLOR_BLACK, COLOR_GREEN, 0 },
		{ R_BAR_INVALID, COLOR_WHITE, COLOR_RED, A_BOLD },
		{ R_TITLE, COLOR_BLACK, COLOR_GREEN, 0 },
		{ R_FKEY, COLOR_BLACK, COLOR_CYAN, 0 },
	};

	start_color();
	use_default_colors();
	for (size_t i = 0; i < sizeof(scheme) / sizeof(scheme[0]); i++) {
		init_pair(scheme[i].role + 1, scheme[i].fg, scheme[i].bg);
		ui->attrs[scheme[i].role] = COLOR_PAIR(scheme[i].role + 1) | scheme[i].extra;
	}
}

/* Monochrome keeps bold and reverse, as htop does. */
static void set_mono(struct ui *ui)
{
	ui->attrs[R_HEADER] = A_BOLD;
	ui->attrs[R_BADGE_OK] = A_BOLD;
	ui->attrs[R_BADGE_WARN] = A_BOLD;
	ui->attrs[R_BADGE_ERROR] = A_REVERSE | A_BOLD;
	ui->attrs[R_SELECTION] = A_REVERSE;
	ui->attrs[R_ERROR_ROW] = A_BOLD;
	ui->attrs[R_DIM] = A_DIM;
	ui->attrs[R_MATCH] = A_REVERSE | A_UNDERLINE;
	ui->attrs[R_BAR_VALID] = A_REVERSE;
	ui->attrs[R_BAR_INVALID] = A_REVERSE | A_BOLD;
	ui->attrs[R_TITLE] = A_REVERSE;
	ui->attrs[R_FKEY] = A_REVERSE;
}

static bool locale_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs && !strcmp(cs, "UTF-8");
}

int term_open(struct ui *ui, char **cause)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		*cause = strdup("the interactive view needs a terminal on stdin and stdout; use --batch or --json");
		return -1;
	}
	if (!newterm(NULL, stdout, stdin)) {
		if (asprintf(cause, "cannot use terminal type '%s'; set TERM, or use --batch",
			     getenv("TERM") ? getenv("TERM") : "") < 0)
			*cause = NULL;
		return -1;
	}
	term_active = 1;
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		signal(fatal_signals[i], on_fatal);
	raw(); /* Ctrl-C is the quit key, not a signal */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	/* ESC answers at once: function keys arrive in one read on any link
	 * this tool is used over */
	set_escdelay(25);
	memset(ui->attrs, 0, sizeof(ui->attrs));
	ui->color = want_color(ui);
	if (ui->color)
		set_colors(ui);
	else
		set_mono(ui);
	ui->utf8 = locale_utf8() && !ui->o->no_unicode;
	ui->g = ui->utf8 ? &glyphs_utf8 : &glyphs_ascii;
	if (ui->mouse)
		mousemask(BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED | BUTTON4_PRESSED |
				  BUTTON5_PRESSED,
			  NULL);
	getmaxyx(stdscr, ui->rows, ui->cols);
	return 0;
}

void term_close(void)
{
	if (!term_active)
		return;
	term_active = 0;
	endwin();
	fflush(stdout);
}

int term_fd(void)
{
	return STDIN_FILENO;
}
