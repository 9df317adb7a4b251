/* test_proc_maps.c - unit tests for the /proc/PID/maps parser and reader. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc_maps.h"
#include "unit.h"

static char tmpdir[] = "/tmp/tlstop-maps-XXXXXX";

static void test_library_line(void)
{
	struct maps_entry e;

	CHECK(maps_parse_line("7f1c2a000000-7f1c2a0a4000 r-xp 0001c000 08:01 1310769   "
			      "                /usr/lib/x86_64-linux-gnu/libssl.so.3\n",
			      &e) == 0);
	CHECK_EQ_U64(e.start, 0x7f1c2a000000ULL);
	CHECK_EQ_U64(e.end, 0x7f1c2a0a4000ULL);
	CHECK_EQ_U64(e.offset, 0x1c000);
	CHECK_EQ_U64(e.dev_major, 8);
	CHECK_EQ_U64(e.dev_minor, 1);
	CHECK_EQ_U64(e.inode, 1310769);
	CHECK(e.readable && !e.writable && e.executable && !e.shared);
	CHECK(!e.deleted);
	CHECK_STR(e.path, "/usr/lib/x86_64-linux-gnu/libssl.so.3");

	/* Without the newline, and with a single blank before the path. */
	CHECK(maps_parse_line("00400000-00452000 r--s 00000000 fd:01 42 /bin/prog", &e) == 0);
	CHECK_EQ_U64(e.start, 0x400000);
	CHECK_EQ_U64(e.end, 0x452000);
	CHECK_EQ_U64(e.dev_major, 0xfd);
	CHECK(e.readable && !e.writable && !e.executable && e.shared);
	CHECK_STR(e.path, "/bin/prog");

	/* Majors above 255 print with more than two digits. */
	CHECK(maps_parse_line("1000-2000 -w-p 00001000 103:1a 7 /x\n", &e) == 0);
	CHECK_EQ_U64(e.dev_major, 0x103);
	CHECK_EQ_U64(e.dev_minor, 0x1a);
	CHECK(!e.readable && e.writable && !e.executable);
	CHECK_EQ_U64(e.offset, 0x1000);
}

static void test_paths(void)
{
	struct maps_entry e;

	CHECK(maps_parse_line("1000-2000 r-xp 00000000 08:01 99     /opt/my app/lib ssl.so\n",
			      &e) == 0);
	CHECK_STR(e.path, "/opt/my app/lib ssl.so");
	CHECK(!e.deleted);

	CHECK(maps_parse_line("1000-2000 r-xp 00000000 08:01 99 /usr/lib/libssl.so.3 (deleted)\n",
			      &e) == 0);
	CHECK_STR(e.path, "/usr/lib/libssl.so.3");
	CHECK(e.deleted);

	CHECK(maps_parse_line("1000-2000 r-xp 00000000 08:01 99 /tmp/a b (deleted) (deleted)", &e) ==
	      0);
	CHECK_STR(e.path, "/tmp/a b (deleted)");
	CHECK(e.deleted);

	/* Only a suffix counts, and only with its blank. */
	CHECK(maps_parse_line("1000-2000 r-xp 00000000 08:01 99 /tmp/x (deleted)/lib.so\n", &e) ==
	      0);
	CHECK_STR(e.path, "/tmp/x (deleted)/lib.so");
	CHECK(!e.deleted);
	CHECK(maps_parse_line("1000-2000 r-xp 00000000 08:01 99 /tmp/lib.so(deleted)\n", &e) == 0);
	CHECK_STR(e.path, "/tmp/lib.so(deleted)");
	CHECK(!e.deleted);

	CHECK(maps_parse_line("7f00-8f00 rw-s 00000000 00:01 2049 /memfd:ring (deleted)\n", &e) ==
	      0);
	CHECK_STR(e.path, "/memfd:ring");
	CHECK(e.deleted);
	CHECK(e.shared);

	/* Blanks inside or at the end of a file name are part of it. */
	CHECK(maps_parse_line("1000-2000 r--p 00000000 08:01 5 /tmp/trail \n", &e) == 0);
	CHECK_STR(e.path, "/tmp/trail ");
}

static void test_special(void)
{
	struct maps_entry e;

	/* The kernel leaves a blank after the inode of a nameless mapping. */
	CHECK(maps_parse_line("7ffd6b1f0000-7ffd6b211000 rw-p 00000000 00:00 0 \n", &e) == 0);
	CHECK_STR(e.path, "");
	CHECK_EQ_U64(e.inode, 0);
	CHECK(e.readable && e.writable && !e.executable && !e.shared);
	CHECK(maps_parse_line("7ffd6b1f0000-7ffd6b211000 rw-p 00000000 00:00 0\n", &e) == 0);
	CHECK_STR(e.path, "");
	CHECK(maps_parse_line("7ffd6b1f0000-7ffd6b211000 ---p 00000000 00:00 0", &e) == 0);
	CHECK_STR(e.path, "");
	CHECK(!e.readable && !e.writable && !e.executable);

	CHECK(maps_parse_line("7ffd6b3e4000-7ffd6b3e6000 r-xp 00000000 00:00 0                  "
			      "        [vdso]\n",
			      &e) == 0);
	CHECK_STR(e.path, "[vdso]");
	CHECK(e.executable);
	CHECK(maps_parse_line("55d0c1a5e000-55d0c1a7f000 rw-p 00000000 00:00 0 [heap]\n", &e) ==
	      0);
	CHECK_STR(e.path, "[heap]");
	CHECK(maps_parse_line("7f00-8f00 rw-p 00000000 00:00 0 [anon:glibc malloc]\n", &e) == 0);
	CHECK_STR(e.path, "[anon:glibc malloc]");
	CHECK(!e.deleted);

	/* Sixteen hex digits, the top of the address space. */
	CHECK(maps_parse_line("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0       "
			      "           [vsyscall]\n",
			      &e) == 0);
	CHECK_EQ_U64(e.start, 0xffffffffff600000ULL);
	CHECK_EQ_U64(e.end, 0xffffffffff601000ULL);
	CHECK_STR(e.path, "[vsyscall]");
	CHECK(maps_parse_line("0-ffffffffffffffff r--p ffffffffffff0000 ff:ff 18446744073709551615 "
			      "/big\n",
			      &e) == 0);
	CHECK_EQ_U64(e.end, UINT64_MAX);
	CHECK_EQ_U64(e.offset, 0xffffffffffff0000ULL);
	CHECK_EQ_U64(e.inode, UINT64_MAX);
	CHECK_STR(e.path, "/big");
	CHECK(maps_parse_line("7F00-8F00 R-XP 00000000 08:01 1 /x", &e) == -EINVAL);
	CHECK(maps_parse_line("7F00-8F00 r-xp 0000ABCD 08:01 1 /x", &e) == 0);
	CHECK_EQ_U64(e.offset, 0xabcd);
}

static void test_malformed(void)
{
	static const char *const bad[] = {
		"",
		"\n",
		"garbage\n",
		" 1000-2000 r-xp 00000000 08:01 1 /x\n",
		"1000 2000 r-xp 00000000 08:01 1 /x\n",
		"1000-2000 r-xp 00000000 08:01\n",
		"1000-2000 r-xp 00000000 08:01 \n",
		"1000-2000 r-xp 00000000 0801 1 /x\n",
		"1000-2000 r-xp 00000000 08: 1 /x\n",
		"1000-2000 r-xp 00000000 :01 1 /x\n",
		"1000-2000 r-xp 1 /x\n",
		"1000-2000 r-x 00000000 08:01 1 /x\n",
		"1000-2000 r-xpp 00000000 08:01 1 /x\n",
		"1000-2000 rwzp 00000000 08:01 1 /x\n",
		"1000-2000 xwrp 00000000 08:01 1 /x\n",
		"1000-2000 r-xq 00000000 08:01 1 /x\n",
		"1000-2000  r-xp 00000000 08:01 1 /x\n",
		"1000-2000 r-xp 00000000 08:01 1a /x\n",
		"1000-2000 r-xp 00000000 08:01 -1 /x\n",
		"1000-2000 r-xp 00000000 08:01 1/x\n",
		"1000-2000 r-xp -0000001 08:01 1 /x\n",
		"1000-2000 r-xp 0x000001 08:01 1 /x\n",
		"0x1000-0x2000 r-xp 00000000 08:01 1 /x\n",
		"-1000-2000 r-xp 00000000 08:01 1 /x\n",
		"+1000-2000 r-xp 00000000 08:01 1 /x\n",
		"1000-+2000 r-xp 00000000 08:01 1 /x\n",
		"2000-1000 r-xp 00000000 08:01 1 /x\n",
		"g000-2000 r-xp 00000000 08:01 1 /x\n",
		/* 17 hex digits and 2^64 overflow */
		"10000000000000000-10000000000000001 r-xp 00000000 08:01 1 /x\n",
		"1000-2000 r-xp 00000000 08:01 18446744073709551616 /x\n",
		"1000-2000 r-xp 00000000 123456789:01 1 /x\n",
		/* two lines in one */
		"1000-2000 r-xp 00000000 08:01 1 /x\n2000-3000 r-xp 00000000 08:01 1 /y\n",
		/* a tab where the kernel pads with blanks */
		"1000-2000 r-xp 00000000 08:01 1\t/x\n",
	};
	struct maps_entry e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = maps_parse_line(bad[i], &e);

		if (ret != -EINVAL)
			fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
		CHECK_EQ_U64(ret, -EINVAL);
	}
}

static void test_long_path(void)
{
	const char *prefix = "1000-2000 r-xp 00000000 08:01 1 ";
	size_t plen = strlen(prefix);
	char *line = malloc(plen + PATH_MAX + 2);
	struct maps_entry e;

	/* PATH_MAX - 1 characters fit with their terminator. */
	memcpy(line, prefix, plen);
	line[plen] = '/';
	memset(line + plen + 1, 'a', PATH_MAX - 2);
	strcpy(line + plen + PATH_MAX - 1, "\n");
	CHECK(maps_parse_line(line, &e) == 0);
	CHECK_EQ_U64(strlen(e.path), PATH_MAX - 1);

	/* One more does not, and is not silently cut to another path. */
	memset(line + plen + 1, 'a', PATH_MAX - 1);
	strcpy(line + plen + PATH_MAX, "\n");
	CHECK(maps_parse_line(line, &e) == -EINVAL);
	free(line);
}

/* ---- maps_read_pid ---- */

struct collect {
	int n;
	int stop_at; /* return 7 from this entry (1-based), 0 never */
	char paths[8][PATH_MAX];
	uint64_t starts[8];
};

static int collect_cb(const struct maps_entry *e, void *arg)
{
	struct collect *c = arg;

	if (c->n < 8) {
		snprintf(c->paths[c->n], sizeof(c->paths[0]), "%s", e->path);
		c->starts[c->n] = e->start;
	}
	c->n++;
	return c->n == c->stop_at ? 7 : 0;
}

static char *make_pid(int pid, const char *content)
{
	char *dir, *path;
	FILE *f;

	if (asprintf(&dir, "%s/%d", tmpdir, pid) < 0 || asprintf(&path, "%s/maps", dir) < 0)
		exit(99);
	CHECK(mkdir(dir, 0755) == 0);
	if (content) {
		f = fopen(path, "w");
		CHECK(f != NULL);
		if (f) {
			fputs(content, f);
			fclose(f);
		}
	} else {
		CHECK(mkdir(path, 0755) == 0);
	}
	free(dir);
	return path;
}

static void remove_pid(int pid, char *maps, bool is_dir)
{
	char *dir;

	if (asprintf(&dir, "%s/%d", tmpdir, pid) < 0)
		exit(99);
	if (is_dir)
		rmdir(maps);
	else
		unlink(maps);
	rmdir(dir);
	free(dir);
	free(maps);
}

static void test_read_fake(void)
{
	static const char good[] =
		"55d0c0000000-55d0c0001000 r--p 00000000 08:01 100 /usr/bin/prog\n"
		"55d0c0001000-55d0c0002000 r-xp 00001000 08:01 100 /usr/bin/prog\n"
		"55d0c1a5e000-55d0c1a7f000 rw-p 00000000 00:00 0 [heap]\n"
		"7f1c2a000000-7f1c2a0a4000 r-xp 0001c000 08:01 1310769 /usr/lib/x86_64-linux-gnu/libssl.so.3\n"
		"7f1c2b000000-7f1c2b001000 rw-p 00000000 00:00 0 \n"
		"7ffd6b3e4000-7ffd6b3e6000 r-xp 00000000 00:00 0 [vdso]";
	static const char with_bad[] =
		"1000-2000 r-xp 00000000 08:01 1 /first\n"
		"this line is not a mapping\n"
		"3000-4000 r-xp 00000000 08:01 2 /second\n";
	struct collect c = { 0 };
	char *good_maps = make_pid(123, good);
	char *bad_maps = make_pid(124, with_bad);
	char *dir_maps = make_pid(125, NULL);
	char *big_maps, *big, *p;
	char longroot[PATH_MAX + 16];
	int n = 5000;

	CHECK_EQ_U64(maps_read_pid(tmpdir, 123, collect_cb, &c), 0);
	CHECK_EQ_U64(c.n, 6);
	CHECK_STR(c.paths[0], "/usr/bin/prog");
	CHECK_STR(c.paths[2], "[heap]");
	CHECK_STR(c.paths[3], "/usr/lib/x86_64-linux-gnu/libssl.so.3");
	CHECK_STR(c.paths[4], "");
	CHECK_STR(c.paths[5], "[vdso]");
	CHECK_EQ_U64(c.starts[3], 0x7f1c2a000000ULL);

	/* The callback's value stops the walk and is returned. */
	c = (struct collect){ .stop_at = 2 };
	CHECK_EQ_U64(maps_read_pid(tmpdir, 123, collect_cb, &c), 7);
	CHECK_EQ_U64(c.n, 2);

	/* A bad line does not hide the lines after it, but is reported. */
	c = (struct collect){ 0 };
	CHECK_EQ_U64(maps_read_pid(tmpdir, 124, collect_cb, &c), -EINVAL);
	CHECK_EQ_U64(c.n, 2);
	CHECK_STR(c.paths[0], "/first");
	CHECK_STR(c.paths[1], "/second");

	c = (struct collect){ 0 };
	CHECK_EQ_U64(maps_read_pid(tmpdir, 999999, collect_cb, &c), -ENOENT);
	CHECK_EQ_U64(c.n, 0);
	CHECK_EQ_U64(maps_read_pid(tmpdir, 125, collect_cb, &c), -EISDIR);
	CHECK_EQ_U64(c.n, 0);

	memset(longroot, 'x', sizeof(longroot) - 1);
	longroot[0] = '/';
	longroot[sizeof(longroot) - 1] = '\0';
	CHECK_EQ_U64(maps_read_pid(longroot, 1, collect_cb, &c), -ENAMETOOLONG);

	/* Many long lines: the reader's buffer has to grow and be reused. */
	big = malloc((size_t)n * 400);
	p = big;
	for (int i = 0; i < n; i++) {
		p += sprintf(p, "%x000-%x000 r-xp 00000000 08:01 %d /lib/", i + 1, i + 2, i);
		memset(p, 'a' + i % 26, (size_t)(i % 300));
		p += i % 300;
		*p++ = '\n';
	}
	*p = '\0';
	big_maps = make_pid(126, big);
	c = (struct collect){ 0 };
	CHECK_EQ_U64(maps_read_pid(tmpdir, 126, collect_cb, &c), 0);
	CHECK_EQ_U64(c.n, n);
	CHECK_EQ_U64(c.starts[7], 0x8000);
	free(big);

	if (geteuid() != 0) {
		CHECK(chmod(good_maps, 0) == 0);
		CHECK_EQ_U64(maps_read_pid(tmpdir, 123, collect_cb, &c), -EACCES);
	}

	remove_pid(123, good_maps, false);
	remove_pid(124, bad_maps, false);
	remove_pid(125, dir_maps, true);
	remove_pid(126, big_maps, false);
}

struct self_scan {
	uintptr_t code, stack, heap;
	int n;
	bool code_ok, stack_ok, heap_ok, vdso;
	char exe[PATH_MAX];
	uint64_t prev_end;
	bool ordered;
};

static int self_cb(const struct maps_entry *e, void *arg)
{
	struct self_scan *s = arg;

	s->n++;
	if (e->start < s->prev_end)
		s->ordered = false;
	s->prev_end = e->end;
	if (s->code >= e->start && s->code < e->end)
		s->code_ok = e->executable && e->readable && e->inode != 0 && !e->deleted &&
			     !strcmp(e->path, s->exe);
	if (s->stack >= e->start && s->stack < e->end)
		s->stack_ok = e->readable && e->writable && !e->executable && !e->inode;
	if (s->heap >= e->start && s->heap < e->end)
		s->heap_ok = e->readable && e->writable;
	if (!strcmp(e->path, "[vdso]"))
		s->vdso = e->executable && !e->inode;
	return 0;
}

static void test_read_self(void)
{
	struct self_scan s = { .ordered = true };
	char *heap = malloc(64);
	int local = 0;
	ssize_t len;

	len = readlink("/proc/self/exe", s.exe, sizeof(s.exe) - 1);
	if (len < 0) {
		fprintf(stderr, "/proc/self/exe: %s: real /proc not tested\n", strerror(errno));
		free(heap);
		return;
	}
	s.exe[len] = '\0';
	s.code = (uintptr_t)test_read_self;
	s.stack = (uintptr_t)&local;
	s.heap = (uintptr_t)heap;
	CHECK_EQ_U64(maps_read_pid("/proc", getpid(), self_cb, &s), 0);
	CHECK(s.n > 5);
	CHECK(s.ordered);
	CHECK(s.code_ok);
	CHECK(s.stack_ok);
	CHECK(s.heap_ok);
	CHECK(s.vdso);
	free(heap);

	/* Above any pid_max the kernel allows (2^22). */
	CHECK_EQ_U64(maps_read_pid("/proc", 2147483647, self_cb, &s), -ENOENT);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	test_library_line();
	test_paths();
	test_special();
	test_malformed();
	test_long_path();
	test_read_fake();
	test_read_self();
	rmdir(tmpdir);
	return unit_result("test_proc_maps");
}
