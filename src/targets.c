/* targets.c - process scan and per-file verdict cache of the attach core. */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_syms.h"
#include "proc_maps.h"
#include "targets.h"

#define FILE_BUCKETS 1024
#define PROC_BUCKETS 1024

const char *const target_func_names[TLSTOP_FN_COUNT] = {
	[TLSTOP_FN_SSL_WRITE] = "SSL_write",
	[TLSTOP_FN_SSL_READ] = "SSL_read",
	[TLSTOP_FN_SSL_WRITE_EX] = "SSL_write_ex",
	[TLSTOP_FN_SSL_READ_EX] = "SSL_read_ex",
};

/* Symbols that tell the library family apart; looked up with the functions. */
enum { MARK_BORINGSSL = TLSTOP_FN_COUNT, NSYMS };
static const char *const marker_names[] = {
	[MARK_BORINGSSL - TLSTOP_FN_COUNT] = "SSL_CTX_set_grease_enabled",
};

struct targets {
	char *procfs;
	const struct target_ops *ops;
	void *arg;
	struct lib_table *libs;
	pid_t self;
	char *comm; /* only processes with this comm, or NULL */
	enum probe_method method;
	struct target_file *files[FILE_BUCKETS];
	struct traced_proc *procs[PROC_BUCKETS];
	unsigned int untraced;
};

struct targets *targets_new(const char *procfs, const struct target_ops *ops, void *arg,
			    struct lib_table *libs, pid_t self)
{
	struct targets *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->procfs = strdup(procfs);
	if (!t->procfs) {
		free(t);
		return NULL;
	}
	t->ops = ops;
	t->arg = arg;
	t->libs = libs;
	t->self = self;
	return t;
}

void targets_set_probe_method(struct targets *t, enum probe_method m)
{
	t->method = m;
}

uint64_t target_probe_offset(const struct target_file *f, int fn, uint64_t vaddr)
{
	return f->offset[fn] + (vaddr - f->vaddr[fn]);
}

static void plan_one(struct target_file *f, int fd, const struct elf_sym *sym, int fn,
		     bool x86_64, enum probe_method want)
{
	struct code_file code = { fd, sym->vaddr, sym->offset, sym->segment_end };
	struct code_reader rd = { code_file_read, &code };
	struct plan_func pf = {
		.vaddr = sym->vaddr,
		.size = sym->size,
		.api = fn == TLSTOP_FN_SSL_WRITE || fn == TLSTOP_FN_SSL_READ ? API_INT_RETURN :
									  API_OUT_PARAM,
	};

	probe_plan(&rd, &pf, x86_64, want, &f->plan[fn]);
}

static void plan_probes(struct targets *t, struct target_file *f, int fd,
			const struct elf_sym *syms, bool x86_64)
{
	for (int i = 0; i < TLSTOP_FN_COUNT; i++)
		if (syms[i].found)
			plan_one(f, fd, &syms[i], i, x86_64, t->method);
	/* Two functions planned on the same points (one tail-jumps into the
	 * other) would both fire on every call of either, each with its own
	 * direction: such pairs keep their own entries. */
	for (int i = 0; i < TLSTOP_FN_COUNT; i++) {
		for (int j = i + 1; j < TLSTOP_FN_COUNT; j++) {
			if (!syms[i].found || !syms[j].found ||
			    f->plan[i].method != PROBE_PLANNED ||
			    f->plan[j].method != PROBE_PLANNED ||
			    f->plan[i].enter.vaddr != f->plan[j].enter.vaddr)
				continue;
			for (int k = 0; k < 2; k++) {
				int fn = k ? j : i;

				plan_one(f, fd, &syms[fn], fn, x86_64, PROBE_ENTRY_RETURN);
				snprintf(f->plan[fn].reason, sizeof(f->plan[fn].reason),
					 "its planned probe points are %s's too",
					 target_func_names[k ? i : j]);
			}
		}
	}
}

void targets_set_comm(struct targets *t, const char *comm)
{
	free(t->comm);
	t->comm = comm ? strdup(comm) : NULL;
}

static unsigned int file_hash(unsigned int major, unsigned int minor, uint64_t ino)
{
	uint64_t h = ino * 0x9e3779b97f4a7c15ULL ^ ((uint64_t)major << 32 | minor);

	return (unsigned int)(h >> 40) % FILE_BUCKETS;
}

static struct target_file *file_find(struct targets *t, const struct maps_entry *e)
{
	struct target_file *f = t->files[file_hash(e->dev_major, e->dev_minor, e->inode)];

	for (; f; f = f->next)
		if (f->ino == e->inode && f->dev_major == e->dev_major &&
		    f->dev_minor == e->dev_minor)
			return f;
	return NULL;
}

static void file_set_reason(struct target_file *f, enum file_verdict v, char *reason)
{
	f->verdict = v;
	free(f->reason);
	f->reason = reason;
}

/* Opens the file as the process sees it, so a library inside a container's
 * root works; map_files covers a file deleted or replaced since. */
static int open_mapped(struct targets *t, pid_t pid, const struct maps_entry *e, char **cause)
{
	char path[PATH_MAX + 64];
	struct stat st;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%d/root%s", t->procfs, pid, e->path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_ino == e->inode)
		return fd;
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/%d/map_files/%llx-%llx", t->procfs, pid,
		 (unsigned long long)e->start, (unsigned long long)e->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	err = errno;
	if (asprintf(cause, "cannot open %s/%d/root%s: %s%s", t->procfs, pid, e->path,
		     strerror(err),
		     err == EACCES || err == EPERM ?
			     " (tlstop needs root, or CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH)" :
			     "") < 0)
		*cause = NULL;
	return -1;
}

static void classify(struct targets *t, struct target_file *f, int fd)
{
	struct elf_sym syms[NSYMS] = { 0 };
	struct elf_file_info info;
	char *cause = NULL;
	bool is_exec;
	int i, n;

	for (i = 0; i < TLSTOP_FN_COUNT; i++)
		syms[i].name = target_func_names[i];
	for (i = TLSTOP_FN_COUNT; i < NSYMS; i++)
		syms[i].name = marker_names[i - TLSTOP_FN_COUNT];
	if (elf_syms_lookup(fd, syms, NSYMS, &info, &cause)) {
		file_set_reason(f, FILE_UNREADABLE, cause);
		return;
	}
	memcpy(f->build_id, info.build_id, sizeof(f->build_id));
	is_exec = info.type == ET_EXEC || info.has_interp;
	if (!syms[TLSTOP_FN_SSL_WRITE].found || !syms[TLSTOP_FN_SSL_READ].found) {
		/* OpenSSL and BoringSSL name their source files in error
		 * strings; a program that only links libssl does not carry
		 * ssl_lib.c's name, so this does not flag /usr/bin/openssl. */
		if (is_exec && !info.has_symtab &&
		    elf_section_contains(fd, ".rodata", "ssl_lib.c")) {
			if (asprintf(&cause,
				     "OpenSSL/BoringSSL code without SSL_write/SSL_read symbols to attach to; use an unstripped build or install its debug symbols (build-id %s)",
				     info.build_id[0] ? info.build_id : "none") < 0)
				cause = NULL;
			file_set_reason(f, FILE_STRIPPED, cause);
		}
		return;
	}
	for (i = 0; i < TLSTOP_FN_COUNT; i++) {
		f->has[i] = syms[i].found;
		f->offset[i] = syms[i].offset;
		f->vaddr[i] = syms[i].vaddr;
	}
	plan_probes(t, f, fd, syms, info.machine == EM_X86_64);
	f->lib = libs_add(t->libs, syms[MARK_BORINGSSL].found ? LIB_BORINGSSL : LIB_OPENSSL,
			  is_exec, f->path);
	if (!f->lib) {
		if (asprintf(&cause, "more than %d TLS library files; %s not attached",
			     TLSTOP_MAX_LIBS, f->path) < 0)
			cause = NULL;
		file_set_reason(f, FILE_ATTACH_FAILED, cause);
		return;
	}
	n = t->ops->attach(t->arg, f, fd, &cause);
	if (n < 0) {
		file_set_reason(f, FILE_ATTACH_FAILED, cause);
		return;
	}
	f->probes = n;
	f->verdict = FILE_TARGET;
}

static struct target_file *file_learn(struct targets *t, pid_t pid, const struct maps_entry *e)
{
	unsigned int h = file_hash(e->dev_major, e->dev_minor, e->inode);
	struct target_file *f = calloc(1, sizeof(*f));
	char *cause = NULL;
	int fd;

	if (!f)
		return NULL;
	f->path = strdup(e->path);
	if (!f->path) {
		free(f);
		return NULL;
	}
	f->dev_major = e->dev_major;
	f->dev_minor = e->dev_minor;
	f->ino = e->inode;
	f->verdict = FILE_NOT_TLS;
	fd = open_mapped(t, pid, e, &cause);
	if (fd < 0) {
		file_set_reason(f, FILE_UNREADABLE, cause);
	} else {
		classify(t, f, fd);
		close(fd);
	}
	/* an unreadable file may become readable from another process's view */
	if (f->verdict != FILE_UNREADABLE) {
		f->next = t->files[h];
		t->files[h] = f;
	}
	return f;
}

static void file_free(struct target_file *f)
{
	free(f->path);
	free(f->reason);
	free(f);
}

static struct traced_proc **proc_link(struct targets *t, pid_t pid)
{
	struct traced_proc **link = &t->procs[(unsigned int)pid % PROC_BUCKETS];

	while (*link && (*link)->pid != pid)
		link = &(*link)->next;
	return link;
}

static void proc_free(struct traced_proc *p)
{
	for (int i = 0; i < p->nfiles; i++)
		if (p->files[i]->verdict == FILE_UNREADABLE)
			file_free(p->files[i]);
	free(p->files);
	free(p->problem);
	free(p);
}

void targets_forget_pid(struct targets *t, pid_t pid)
{
	struct traced_proc **link = proc_link(t, pid), *p = *link;

	if (p) {
		*link = p->next;
		proc_free(p);
	}
}

const struct traced_proc *targets_proc(struct targets *t, pid_t pid)
{
	return *proc_link(t, pid);
}

struct scan {
	struct targets *t;
	pid_t pid;
	struct target_file **files;
	int nfiles;
	int err;
};

static int scan_entry(const struct maps_entry *e, void *arg)
{
	struct scan *s = arg;
	struct target_file *f, **grown;

	if (!e->executable || !e->inode || e->path[0] != '/')
		return 0;
	f = file_find(s->t, e);
	for (int i = 0; i < s->nfiles; i++)
		if (f && s->files[i] == f)
			return 0;
	if (!f)
		f = file_learn(s->t, s->pid, e);
	if (!f) {
		s->err = -ENOMEM;
		return 1;
	}
	if (f->verdict == FILE_NOT_TLS)
		return 0;
	grown = realloc(s->files, (s->nfiles + 1) * sizeof(*grown));
	if (!grown) {
		if (f->verdict == FILE_UNREADABLE)
			file_free(f);
		s->err = -ENOMEM;
		return 1;
	}
	s->files = grown;
	s->files[s->nfiles++] = f;
	return 0;
}

static int read_comm(const char *procfs, pid_t pid, char *comm)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/comm", procfs, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, comm, TLSTOP_COMM_LEN - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	return 0;
}

int targets_scan_pid(struct targets *t, pid_t pid)
{
	struct scan s = { .t = t, .pid = pid };
	char comm[TLSTOP_COMM_LEN];
	struct traced_proc **link, *p;
	bool traced = false;
	int err;

	if (pid == t->self || read_comm(t->procfs, pid, comm))
		return -1;
	if (t->comm && strcmp(comm, t->comm))
		return 0;
	err = maps_read_pid(t->procfs, pid, scan_entry, &s);
	if (!err)
		err = s.err;
	targets_forget_pid(t, pid);
	if (err == -ENOENT || err == -ESRCH) {
		for (int i = 0; i < s.nfiles; i++)
			if (s.files[i]->verdict == FILE_UNREADABLE)
				file_free(s.files[i]);
		free(s.files);
		return -1;
	}
	if (!err && !s.nfiles) {
		t->untraced++;
		free(s.files);
		return 0;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		for (int i = 0; i < s.nfiles; i++)
			if (s.files[i]->verdict == FILE_UNREADABLE)
				file_free(s.files[i]);
		free(s.files);
		return -1;
	}
	p->pid = pid;
	memcpy(p->comm, comm, sizeof(comm));
	p->files = s.files;
	p->nfiles = s.nfiles;
	if (err && asprintf(&p->problem, "cannot read %s/%d/maps: %s", t->procfs, pid,
			    strerror(-err)) < 0)
		p->problem = NULL;
	link = proc_link(t, pid);
	p->next = *link;
	*link = p;
	for (int i = 0; i < s.nfiles; i++)
		traced |= s.files[i]->verdict == FILE_TARGET;
	return err ? -1 : traced;
}

int targets_scan_all(struct targets *t)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(t->procfs);
	if (!d)
		return -errno;
	t->untraced = 0;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		targets_scan_pid(t, (pid_t)pid);
		n++;
	}
	closedir(d);
	return n;
}

static int cmp_proc(const void *a, const void *b)
{
	const struct traced_proc *pa = *(const struct traced_proc *const *)a;
	const struct traced_proc *pb = *(const struct traced_proc *const *)b;

	return (pa->pid > pb->pid) - (pa->pid < pb->pid);
}

void targets_for_each_proc(struct targets *t, targets_proc_fn fn, void *arg)
{
	struct traced_proc **all = NULL, **grown, *p;
	size_t n = 0;

	for (int b = 0; b < PROC_BUCKETS; b++) {
		for (p = t->procs[b]; p; p = p->next) {
			grown = realloc(all, (n + 1) * sizeof(*all));
			if (!grown)
				goto out;
			all = grown;
			all[n++] = p;
		}
	}
	if (n) /* qsort(NULL, 0) is undefined */
		qsort(all, n, sizeof(*all), cmp_proc);
	for (size_t i = 0; i < n; i++)
		fn(all[i], arg);
out:
	free(all);
}

unsigned int targets_count_files(const struct targets *t, enum file_verdict v)
{
	unsigned int n = 0;

	for (int b = 0; b < FILE_BUCKETS; b++)
		for (const struct target_file *f = t->files[b]; f; f = f->next)
			n += f->verdict == v;
	return n;
}

unsigned int targets_probes(const struct targets *t)
{
	unsigned int n = 0;

	for (int b = 0; b < FILE_BUCKETS; b++)
		for (const struct target_file *f = t->files[b]; f; f = f->next)
			n += f->probes;
	return n;
}

unsigned int targets_untraced(const struct targets *t)
{
	return t->untraced;
}

const char *file_verdict_name(enum file_verdict v)
{
	switch (v) {
	case FILE_NOT_TLS:
		return "no TLS library";
	case FILE_TARGET:
		return "traced";
	case FILE_ATTACH_FAILED:
		return "attach failed";
	case FILE_STRIPPED:
		return "stripped";
	case FILE_UNREADABLE:
		return "unreadable";
	}
	return "?";
}

void targets_free(struct targets *t)
{
	if (!t)
		return;
	for (int b = 0; b < PROC_BUCKETS; b++) {
		while (t->procs[b]) {
			struct traced_proc *p = t->procs[b];

			t->procs[b] = p->next;
			proc_free(p);
		}
	}
	for (int b = 0; b < FILE_BUCKETS; b++) {
		while (t->files[b]) {
			struct target_file *f = t->files[b];

			t->files[b] = f->next;
			file_free(f);
		}
	}
	free(t->comm);
	free(t->procfs);
	free(t);
}
