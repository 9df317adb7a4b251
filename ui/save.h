/* save.h - messages taken out of the UI: saved to a file (JSON Lines or the
 * --detail 3 text, mode 0600) for the incident ticket, or copied to the
 * terminal's clipboard with OSC 52, which works through ssh and tmux. */
#ifndef TLSTOP_UI_SAVE_H
#define TLSTOP_UI_SAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "message.h"
#include "view.h"

/* OSC 52 payloads past this are cut: terminals drop longer sequences
 * (hterm and others stop at 100,000 base64 characters). */
#define SAVE_OSC52_MAX 74994

/* m as the batch printer prints it: JSON Lines record, or text at
 * --detail 3. NUL-terminated, malloc'd; *len set; NULL when out of memory. */
char *save_format(struct ui *ui, const struct message *m, bool json, size_t *len);

/* Writes the messages still held among ids, in that order, to path
 * (created or truncated, mode 0600; never through a symlink, only a regular
 * file). Returns how many were written, or -1 with *cause (malloc'd). */
int save_messages(struct ui *ui, const uint64_t *ids, size_t n, const char *path, bool json,
		  char **cause);

/* "./tlstop-4312-20261121-120304.jsonl" for pid at now (local time). */
void save_default_path(char *buf, size_t len, pid_t pid, time_t now, bool json);

/* The OSC 52 sequence setting the clipboard to text (cut at
 * SAVE_OSC52_MAX), wrapped in tmux's passthrough when tmux is true.
 * malloc'd, NUL-terminated; NULL when out of memory. */
char *save_osc52(const char *text, size_t n, bool tmux, size_t *len);

/* The views' s: saves ids (sorted here) to the default path, or the
 * marked messages when any are marked, and flashes the outcome. */
void save_flash_messages(struct ui *ui, const uint64_t *ids, size_t n, pid_t pid);
/* The views' y: copies the messages' text with OSC 52 to the terminal and
 * flashes the outcome. */
void save_flash_copy(struct ui *ui, const uint64_t *ids, size_t n);

#endif
