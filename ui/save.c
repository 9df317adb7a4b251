/* save.c - messages saved to a file (JSON Lines or text, 0600) or copied
 * to the clipboard with OSC 52, through the batch printers so the three
 * agree on what a message looks like. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "output.h"
#include "save.h"
#include "session.h"
#include "store.h"

static void save_output(struct ui *ui, struct output *o, FILE *f, bool json)
{
	output_init(o, f, json, session_realtime_offset(ui->s), session_libs(ui->s));
	o->utf8 = ui->utf8;
	o->detail = 3;
}

char *save_format(struct ui *ui, const struct message *m, bool json, size_t *len)
{
	struct output o;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (!f)
		return NULL;
	save_output(ui, &o, f, json);
	output_message(&o, m);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

/* A file the user named may exist: write only into a regular file, never
 * through a symlink, and never leave it readable by others (tlstop often
 * runs as root and messages hold secrets the masker does not know). */
static FILE *save_open(const char *path, char **cause)
{
	struct stat st;
	FILE *f;
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);

	if (fd < 0)
		goto fail;
	if (fstat(fd, &st)) {
		close(fd);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		if (asprintf(cause, "%s: not a regular file", path) < 0)
			*cause = NULL;
		return NULL;
	}
	if (fchmod(fd, 0600) || ftruncate(fd, 0) || !(f = fdopen(fd, "w"))) {
		close(fd);
		goto fail;
	}
	return f;
fail:
	if (asprintf(cause, "%s: %s", path, strerror(errno)) < 0)
		*cause = NULL;
	return NULL;
}

int save_messages(struct ui *ui, const uint64_t *ids, size_t n, const char *path, bool json,
		  char **cause)
{
	struct store *st = session_store(ui->s);
	struct output o;
	int saved = 0;
	FILE *f = save_open(path, cause);

	if (!f)
		return -1;
	save_output(ui, &o, f, json);
	for (size_t i = 0; i < n; i++) {
		struct store_msg *sm = store_msg_find(st, ids[i]);

		if (!sm)
			continue;
		output_message(&o, sm->m);
		saved++;
	}
	if (ferror(f) | fclose(f)) {
		if (asprintf(cause, "%s: %s", path, strerror(errno ? errno : EIO)) < 0)
			*cause = NULL;
		return -1;
	}
	return saved;
}

void save_default_path(char *buf, size_t len, pid_t pid, time_t now, bool json)
{
	struct tm tm;
	char ts[32] = "";

	if (localtime_r(&now, &tm))
		strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", &tm);
	snprintf(buf, len, "./tlstop-%d-%s.%s", (int)pid, ts, json ? "jsonl" : "txt");
}

/* Base64 of p through the JSON writer's encoder, which writes it quoted. */
static char *save_base64(const char *p, size_t n, size_t *len)
{
	struct json_writer w;
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);

	if (!f)
		return NULL;
	json_init(&w, f);
	json_base64(&w, p, n);
	if (fclose(f) || sz < 2) {
		free(buf);
		return NULL;
	}
	memmove(buf, buf + 1, sz - 2);
	buf[sz - 2] = '\0';
	*len = sz - 2;
	return buf;
}

/* Cut at most max bytes of text on a UTF-8 character boundary. */
static size_t save_cut(const char *text, size_t n, size_t max)
{
	if (n <= max)
		return n;
	while (max && ((unsigned char)text[max] & 0xc0) == 0x80)
		max--;
	return max;
}

char *save_osc52(const char *text, size_t n, bool tmux, size_t *len)
{
	size_t blen;
	char *b64 = save_base64(text, save_cut(text, n, SAVE_OSC52_MAX), &blen);
	char *seq;
	int k;

	if (!b64)
		return NULL;
	/* tmux passes a sequence through when it is wrapped in a DCS with
	 * every ESC inside doubled; the OSC 52 body holds only the one */
	if (tmux)
		k = asprintf(&seq, "\033Ptmux;\033\033]52;c;%s\a\033\\", b64);
	else
		k = asprintf(&seq, "\033]52;c;%s\a", b64);
	free(b64);
	if (k < 0)
		return NULL;
	*len = (size_t)k;
	return seq;
}

static int cmp_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void save_flash_messages(struct ui *ui, const uint64_t *ids, size_t n, pid_t pid)
{
	const uint64_t *src = ui->nmarks ? ui->marks : ids;
	size_t count = ui->nmarks ? ui->nmarks : n;
	uint64_t *sorted = malloc((count ? count : 1) * sizeof(*sorted));
	char path[256], *cause = NULL;
	int saved;

	if (!sorted) {
		ui_flash(ui, true, "save: out of memory");
		return;
	}
	memcpy(sorted, src, count * sizeof(*sorted));
	qsort(sorted, count, sizeof(*sorted), cmp_id);
	save_default_path(path, sizeof(path), pid, time(NULL), true);
	saved = save_messages(ui, sorted, count, path, true, &cause);
	free(sorted);
	if (saved < 0) {
		ui_flash(ui, true, "save failed: %s", cause ? cause : "out of memory");
		free(cause);
		return;
	}
	if ((size_t)saved < count)
		ui_flash(ui, false, "saved %d messages to %s (%zu evicted before saving)", saved,
			 path, count - (size_t)saved);
	else
		ui_flash(ui, false, "saved %d messages to %s", saved, path);
}

static int save_write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* /dev/tty first: stdout may be redirected, and a fresh descriptor is
 * blocking even when the event loop made the terminal's non-blocking. */
static int save_to_terminal(const char *seq, size_t n)
{
	int fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return save_write_all(STDOUT_FILENO, seq, n);
	ret = save_write_all(fd, seq, n);
	close(fd);
	return ret;
}

/* The texts of the messages still held, one after the other. */
static char *save_texts(struct ui *ui, const uint64_t *ids, size_t n, size_t *len)
{
	struct store *st = session_store(ui->s);
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);

	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct store_msg *sm = store_msg_find(st, ids[i]);
		size_t k;
		char *t = sm ? save_format(ui, sm->m, false, &k) : NULL;

		if (t)
			fwrite(t, 1, k, f);
		free(t);
	}
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	*len = sz;
	return buf;
}

void save_flash_copy(struct ui *ui, const uint64_t *ids, size_t n)
{
	size_t len = 0, slen, copied;
	char *text = save_texts(ui, ids, n, &len), *seq;

	if (!text || !len) {
		ui_flash(ui, true, text ? "nothing to copy: the message was evicted" :
					  "copy failed: out of memory");
		free(text);
		return;
	}
	copied = save_cut(text, len, SAVE_OSC52_MAX);
	seq = save_osc52(text, len, getenv("TMUX"), &slen);
	free(text);
	if (!seq || save_to_terminal(seq, slen))
		ui_flash(ui, true, "copy failed: %s", seq ? strerror(errno) : "out of memory");
	else if (copied < len)
		ui_flash(ui, false, "copied %zu of %zu B with OSC 52 (terminal limit)", copied,
			 len);
	else
		ui_flash(ui, false, "copied %zu B with OSC 52", copied);
	free(seq);
}
