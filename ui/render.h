/* render.h - messages turned into the lines the panes show: one-line
 * summaries, HTTP/2-style frames, and the tabs of the message detail. The
 * lines are copies, so a paused pane keeps them while the store moves on. */
#ifndef TLSTOP_UI_RENDER_H
#define TLSTOP_UI_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "message.h"
#include "view.h"

struct line {
	char *text; /* UTF-8, no newline */
	enum ui_role role;
	uint64_t id; /* message id the line belongs to; 0 for none */
};

struct lines {
	struct line *v;
	size_t n, cap;
};

/* Appends a formatted line; -1 when out of memory. */
int lines_add(struct lines *l, enum ui_role role, uint64_t id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void lines_clear(struct lines *l);

/* One line per message, as the Conversation list shows it:
 * "12:03:04.202 ← 200 grpc-status 13 INTERNAL  /pkg.S/M  83.9 ms ERR". */
void render_summary(struct ui *ui, struct lines *out, const struct message *m,
		    uint64_t first_ns, uint64_t prev_ns);
/* A message as frames, as the preview and the stream pane show them:
 * "12:03:04.118 → HEADERS  POST /p  content-type application/grpc",
 * "→ DATA  grpc msg 212 B  {1:"ord-77" 2:1999}", "← TRAILERS grpc-status 13 ...". */
void render_frames(struct ui *ui, struct lines *out, const struct message *m);

enum body_mode {
	BODY_AUTO, /* JSON, protobuf or text, as the content says */
	BODY_TEXT,
	BODY_JSON,
	BODY_PROTOBUF,
	BODY_HEX,
	BODY_NMODES
};
const char *body_mode_name(enum body_mode b);

/* Message detail tabs. Bodies stop after max_lines lines with
 * "… +N lines (o: open all)"; 0 means no limit. */
void render_headers(struct ui *ui, struct lines *out, const struct message *m);
void render_body(struct ui *ui, struct lines *out, const struct message *m, enum body_mode b,
		 size_t max_lines);
void render_raw(struct ui *ui, struct lines *out, const struct message *m);
void render_timing(struct ui *ui, struct lines *out, const struct message *m);

#endif
