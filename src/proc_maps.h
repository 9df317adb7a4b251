/* proc_maps.h - parser for /proc/PID/maps. */
#ifndef TLSTOP_PROC_MAPS_H
#define TLSTOP_PROC_MAPS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

struct maps_entry {
	uint64_t start;
	uint64_t end;
	uint64_t offset; /* file offset of start */
	unsigned int dev_major;
	unsigned int dev_minor;
	uint64_t inode; /* 0 for anonymous mappings */
	bool readable, writable, executable, shared;
	bool deleted; /* path ended in " (deleted)"; path has it stripped */
	char path[PATH_MAX]; /* "" for anonymous, "[heap]" etc. for special */
};

/* Parse one line (with or without its newline). Returns 0, or -EINVAL for a
 * line that is not in the kernel's format. */
int maps_parse_line(const char *line, struct maps_entry *e);

/* Return non-zero from the callback to stop early; that value is returned. */
typedef int (*maps_cb)(const struct maps_entry *e, void *arg);

/* Read /proc/PID/maps (procfs is the root, e.g. "/proc"). Returns 0, the
 * callback's non-zero value, or -errno when the file cannot be read (the
 * process exited: -ENOENT or -ESRCH; no permission: -EACCES). */
int maps_read_pid(const char *procfs, int pid, maps_cb cb, void *arg);

#endif
