/* targets.h - which processes use which TLS library files: the /proc scan,
 * the per-file cache of what each executable mapping is, and the reasons a
 * process is not traced. Attaching is delegated through target_ops so this
 * module runs without BPF in tests. */
#ifndef TLSTOP_TARGETS_H
#define TLSTOP_TARGETS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "libs.h"
#include "probe_plan.h"
#include "tlstop.h"

enum file_verdict {
	FILE_NOT_TLS, /* no TLS functions: most files */
	FILE_TARGET, /* SSL_write/SSL_read defined: attached */
	FILE_ATTACH_FAILED, /* a target the kernel refused */
	FILE_STRIPPED, /* OpenSSL/BoringSSL code without symbols */
	FILE_UNREADABLE, /* could not be opened or parsed */
};

extern const char *const target_func_names[TLSTOP_FN_COUNT];

struct target_file {
	struct target_file *next; /* hash chain */
	unsigned int dev_major, dev_minor;
	uint64_t ino;
	enum file_verdict verdict;
	char *path; /* as named in the first process's maps */
	char *reason; /* why not a target, or NULL */
	struct lib_info *lib; /* FILE_TARGET: the attached library */
	bool has[TLSTOP_FN_COUNT];
	uint64_t offset[TLSTOP_FN_COUNT]; /* file offsets of the functions */
	uint64_t vaddr[TLSTOP_FN_COUNT];
	struct probe_plan plan[TLSTOP_FN_COUNT]; /* where their probes go */
	int probes; /* uprobes attached */
	char build_id[41];
};

struct traced_proc {
	struct traced_proc *next;
	pid_t pid;
	char comm[TLSTOP_COMM_LEN];
	struct target_file **files; /* TLS-relevant files it maps */
	int nfiles;
	char *problem; /* why the process could not be scanned, or NULL */
};

struct target_ops {
	/* Attach the probes of f, whose file is open on fd. Returns the
	 * number of probes attached, or -1 with *cause. */
	int (*attach)(void *arg, struct target_file *f, int fd, char **cause);
};

struct targets;

struct targets *targets_new(const char *procfs, const struct target_ops *ops, void *arg,
			    struct lib_table *libs, pid_t self);
void targets_free(struct targets *t);

/* PROBE_AUTO (the default) or PROBE_ENTRY_RETURN, for files learnt after. */
void targets_set_probe_method(struct targets *t, enum probe_method m);
/* The file offset of vaddr in function fn of f, for a uprobe. */
uint64_t target_probe_offset(const struct target_file *f, int fn, uint64_t vaddr);

/* Restrict scans to processes with this comm (NULL: all). */
void targets_set_comm(struct targets *t, const char *comm);

/* Scan one process. Returns 1 when it maps a target, 0 when not, -1 when
 * it could not be scanned (it exited, or its maps are unreadable; the
 * reason is kept on the process for --list-targets). */
int targets_scan_pid(struct targets *t, pid_t pid);
/* Scan every process in procfs; returns the number scanned. */
int targets_scan_all(struct targets *t);
void targets_forget_pid(struct targets *t, pid_t pid);
/* A process that maps TLS-relevant files or could not be scanned; NULL for
 * processes without any TLS library. */
const struct traced_proc *targets_proc(struct targets *t, pid_t pid);

/* Iteration for reports, in ascending pid order. */
typedef void (*targets_proc_fn)(const struct traced_proc *p, void *arg);
void targets_for_each_proc(struct targets *t, targets_proc_fn fn, void *arg);
unsigned int targets_count_files(const struct targets *t, enum file_verdict v);
unsigned int targets_probes(const struct targets *t);
/* Processes scanned that map no TLS library at all. */
unsigned int targets_untraced(const struct targets *t);

const char *file_verdict_name(enum file_verdict v);

#endif
