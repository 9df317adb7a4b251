/* test_targets.c - the attach core's process scan and per-file cache, on a
 * fake procfs whose processes map real files. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "targets.h"
#include "unit.h"

#define LIBSSL "/usr/lib/x86_64-linux-gnu/libssl.so.3"
#define NPROCS 300

struct fake_tracer {
	int attaches;
	bool refuse;
};

static int fake_attach(void *arg, struct target_file *f, int fd, char **cause)
{
	struct fake_tracer *ft = arg;

	ft->attaches++;
	if (ft->refuse) {
		*cause = strdup("refused by the test");
		return -1;
	}
	return 2 * (f->has[0] + f->has[1] + f->has[2] + f->has[3]);
}

static const struct target_ops ops = { fake_attach };

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		perror(path);
		exit(99);
	}
	fputs(text, f);
	fclose(f);
}

/* a maps line for an executable mapping of path, with its real dev/ino */
static void maps_line(char *buf, size_t len, const char *path, unsigned long start)
{
	struct stat st;

	if (stat(path, &st)) {
		snprintf(buf, len, "%lx-%lx r-xp 00000000 fd:01 424242 %s\n", start,
			 start + 0x1000, path);
		return;
	}
	snprintf(buf, len, "%lx-%lx r-xp 00001000 %02x:%02x %lu %s\n", start, start + 0x1000,
		 major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_ino, path);
}

static void make_proc(const char *root, int pid, const char *comm, const char *const *files,
		      int nfiles)
{
	char dir[PATH_MAX], path[PATH_MAX + 16], maps[8192] = "", line[PATH_MAX + 80];

	snprintf(dir, sizeof(dir), "%s/%d", root, pid);
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/comm", dir);
	snprintf(line, sizeof(line), "%s\n", comm);
	write_file(path, line);
	snprintf(path, sizeof(path), "%s/root", dir);
	if (symlink("/", path) && errno != EEXIST)
		exit(99);
	strcat(maps, "55d000000000-55d000001000 r--p 00000000 00:00 0 \n");
	for (int i = 0; i < nfiles; i++) {
		maps_line(line, sizeof(line), files[i], 0x7f0000000000UL + i * 0x10000UL);
		strcat(maps, line);
	}
	snprintf(path, sizeof(path), "%s/maps", dir);
	write_file(path, maps);
}

struct count {
	int procs, targets, problems;
	char stripped_reason[512];
	char unreadable_reason[512];
	bool static_seen;
};

static void count_proc(const struct traced_proc *p, void *arg)
{
	struct count *c = arg;

	c->procs++;
	c->problems += p->problem != NULL;
	for (int i = 0; i < p->nfiles; i++) {
		const struct target_file *f = p->files[i];

		if (f->verdict == FILE_TARGET) {
			c->targets++;
			c->static_seen |= f->lib->is_static;
		} else if (f->verdict == FILE_STRIPPED && f->reason) {
			snprintf(c->stripped_reason, sizeof(c->stripped_reason), "%s", f->reason);
		} else if (f->verdict == FILE_UNREADABLE && f->reason) {
			snprintf(c->unreadable_reason, sizeof(c->unreadable_reason), "%s", f->reason);
		}
	}
}

int main(void)
{
	char root[] = "/tmp/tlstop-test-targets.XXXXXX", cmd[PATH_MAX * 4];
	char static_bin[PATH_MAX], stripped[PATH_MAX + 32];
	struct fake_tracer ft = { 0 };
	struct lib_table libs = { 0 };
	struct count c = { 0 };
	struct targets *t;

	if (access(LIBSSL, R_OK)) {
		printf("test_targets: SKIP: %s is not installed\n", LIBSSL);
		return 77;
	}
	if (!mkdtemp(root))
		return 99;
	snprintf(static_bin, sizeof(static_bin), "%s/tests/progs/tls_client_static", TEST_BUILDDIR);
	snprintf(stripped, sizeof(stripped), "%s/stripped_client", root);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && strip '%s'", static_bin, stripped, stripped);
	CHECK(system(cmd) == 0);

	{
		const char *dyn[] = { "/bin/sh", LIBSSL };
		const char *stat_files[] = { static_bin };
		const char *strip_files[] = { stripped };
		const char *gone[] = { "/nonexistent/libssl.so.3" };

		for (int pid = 1000; pid < 1000 + NPROCS; pid++)
			make_proc(root, pid, "worker", dyn, 2);
		make_proc(root, 5000, "static", stat_files, 1);
		make_proc(root, 5001, "stripped", strip_files, 1);
		make_proc(root, 5002, "gone", gone, 1);
		make_proc(root, 5003, "self", dyn, 2);
	}

	t = targets_new(root, &ops, &ft, &libs, 5003);
	CHECK(targets_scan_all(t) == NPROCS + 4);
	/* one analysis and one attach per file, however many processes map it */
	CHECK_EQ_U64(ft.attaches, 2);
	CHECK_EQ_U64(libs.count, 2);
	CHECK_EQ_U64(targets_count_files(t, FILE_TARGET), 2);
	CHECK_EQ_U64(targets_probes(t), 16);
	CHECK_EQ_U64(targets_count_files(t, FILE_STRIPPED), 1);
	targets_for_each_proc(t, count_proc, &c);
	CHECK_EQ_U64(c.procs, NPROCS + 3); /* tlstop itself is never listed */
	CHECK_EQ_U64(c.targets, NPROCS + 1);
	CHECK(c.static_seen);
	CHECK(strstr(c.stripped_reason, "debug symbols") != NULL);
	CHECK(strstr(c.unreadable_reason, "/nonexistent/libssl.so.3") != NULL);
	CHECK(libs_get(&libs, 0) && libs_get(&libs, 1));

	/* rescans are served from the cache */
	CHECK(targets_scan_pid(t, 1000) == 1);
	CHECK(targets_scan_pid(t, 5000) == 1);
	CHECK(targets_scan_pid(t, 5001) == 0);
	CHECK_EQ_U64(ft.attaches, 2);
	targets_forget_pid(t, 1000);
	memset(&c, 0, sizeof(c));
	targets_for_each_proc(t, count_proc, &c);
	CHECK_EQ_U64(c.procs, NPROCS + 2);
	CHECK(targets_scan_pid(t, 999999) == -1);

	/* --comm restricts what is scanned */
	targets_set_comm(t, "static");
	CHECK(targets_scan_pid(t, 1001) == 0);
	targets_free(t);
	libs_clear(&libs);

	/* an attach the kernel refuses is a reason, not a target */
	ft = (struct fake_tracer){ .refuse = true };
	t = targets_new(root, &ops, &ft, &libs, 0);
	CHECK(targets_scan_pid(t, 1000) == 0);
	CHECK_EQ_U64(targets_count_files(t, FILE_ATTACH_FAILED), 1);
	CHECK_EQ_U64(targets_count_files(t, FILE_TARGET), 0);
	targets_free(t);
	libs_clear(&libs);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK(system(cmd) == 0);
	return unit_result("test_targets");
}
