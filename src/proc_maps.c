/* proc_maps.c - parser for /proc/PID/maps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc_maps.h"

#define DELETED_SUFFIX " (deleted)"

/* strtoull() would accept a sign, leading blanks and "0x", and saturate on
 * overflow: none of which the kernel ever prints. */
static int parse_hex(const char **p, unsigned int max_digits, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	unsigned int n;

	for (n = 0;; n++, s++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (n == max_digits)
			return -EINVAL;
		x = x << 4 | d;
	}
	if (!n)
		return -EINVAL;
	*p = s;
	*v = x;
	return 0;
}

static int parse_dec(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned int d = *s - '0';

		if (x > (UINT64_MAX - d) / 10)
			return -EINVAL;
		x = x * 10 + d;
	}
	*p = s;
	*v = x;
	return 0;
}

static int expect(const char **p, char c)
{
	if (**p != c)
		return -EINVAL;
	(*p)++;
	return 0;
}

static int parse_perms(const char **p, struct maps_entry *e)
{
	const char *s = *p;

	if ((s[0] != 'r' && s[0] != '-') || (s[1] != 'w' && s[1] != '-') ||
	    (s[2] != 'x' && s[2] != '-') || (s[3] != 'p' && s[3] != 's'))
		return -EINVAL;
	e->readable = s[0] == 'r';
	e->writable = s[1] == 'w';
	e->executable = s[2] == 'x';
	e->shared = s[3] == 's';
	*p = s + 4;
	return 0;
}

int maps_parse_line(const char *line, struct maps_entry *e)
{
	const char *p = line;
	uint64_t major, minor;
	size_t len, slen = strlen(DELETED_SUFFIX);

	memset(e, 0, sizeof(*e));
	if (parse_hex(&p, 16, &e->start) || expect(&p, '-') || parse_hex(&p, 16, &e->end) ||
	    expect(&p, ' ') || parse_perms(&p, e) || expect(&p, ' ') ||
	    parse_hex(&p, 16, &e->offset) || expect(&p, ' ') || parse_hex(&p, 8, &major) ||
	    expect(&p, ':') || parse_hex(&p, 8, &minor) || expect(&p, ' ') ||
	    parse_dec(&p, &e->inode))
		return -EINVAL;
	if (e->end < e->start)
		return -EINVAL;
	e->dev_major = (unsigned int)major;
	e->dev_minor = (unsigned int)minor;

	/* The kernel ends the fixed fields with a blank even when no path
	 * follows, then pads to a column; a path itself never starts with a
	 * blank (it is absolute or a bracketed name) but may contain or end
	 * with them, so only the leading padding and the newline go. */
	if (*p != ' ' && *p != '\n' && *p != '\0')
		return -EINVAL;
	while (*p == ' ')
		p++;
	len = strcspn(p, "\n");
	if (p[len] == '\n' && p[len + 1] != '\0')
		return -EINVAL;
	if (len >= sizeof(e->path))
		return -EINVAL;
	memcpy(e->path, p, len);
	e->path[len] = '\0';
	if (e->path[0] == '/' && len > slen && !strcmp(e->path + len - slen, DELETED_SUFFIX)) {
		e->deleted = true;
		e->path[len - slen] = '\0';
	}
	return 0;
}

int maps_read_pid(const char *procfs, int pid, maps_cb cb, void *arg)
{
	char path[PATH_MAX];
	struct maps_entry *e;
	char *line = NULL;
	size_t cap = 0;
	int ret = 0, bad = 0;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/%d/maps", procfs, pid) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	/* struct maps_entry carries a PATH_MAX buffer: keep it off the stack
	 * of callers that may already be deep. */
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		free(e);
		return ret;
	}
	for (;;) {
		errno = 0;
		if (getline(&line, &cap, f) < 0) {
			if (ferror(f))
				ret = errno ? -errno : -EIO;
			break;
		}
		/* One line this parser does not understand should not hide the
		 * mappings after it; it is reported once the rest is read. */
		if (maps_parse_line(line, e)) {
			bad = -EINVAL;
			continue;
		}
		ret = cb(e, arg);
		if (ret)
			break;
	}
	free(line);
	fclose(f);
	free(e);
	return ret ? ret : bad;
}
