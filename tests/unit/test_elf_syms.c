/* test_elf_syms.c - unit tests for ELF symbol lookup and file offsets, checked
 * against the running fixtures' own mappings and against readelf. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "elf_syms.h"
#include "unit.h"

#ifndef TEST_BUILDDIR
#define TEST_BUILDDIR "."
#endif

#define LIBSSL_PATH "/usr/lib/x86_64-linux-gnu/libssl.so.3"

static char tmpdir[] = "/tmp/tlstop-elf-XXXXXX";

/* ---- helpers ---- */

/* Runs argv (PATH searched) and returns its stdout, or NULL when it could
 * not run or exited non-zero. */
static char *run_capture(const char *const argv[])
{
	size_t len = 0, cap = 4096;
	char *out = malloc(cap);
	int pfd[2], status;
	pid_t pid;
	ssize_t n;

	if (!out || pipe(pfd)) {
		free(out);
		return NULL;
	}
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		free(out);
		return NULL;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(pfd[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		close(pfd[0]);
		/* execvp() does not write through argv; its type predates const. */
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		if (len + 1 == cap) {
			char *grown = realloc(out, cap * 2);

			if (!grown)
				break;
			out = grown;
			cap *= 2;
		}
		n = read(pfd[0], out + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
	close(pfd[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		free(out);
		return NULL;
	}
	return out;
}

static char *tmp_path(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", tmpdir, name) < 0) {
		perror("asprintf");
		exit(99);
	}
	return p;
}

static int copy_file(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY), out;
	char buf[65536];
	ssize_t n;

	if (in < 0)
		return -1;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	close(in);
	close(out);
	return n < 0 ? -1 : 0;
}

static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static int hex_decode(const char *hex, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (unsigned char)b;
	}
	return 0;
}

/* ---- readelf, the independent oracle ---- */

struct re_sym {
	char name[128]; /* as readelf prints it, with any @VERSION */
	uint64_t value;
	bool dynsym;
	bool global;
};

struct re_load {
	uint64_t offset, vaddr, filesz, memsz;
	bool exec;
};

struct readelf {
	struct re_sym *syms;
	size_t nsyms;
	struct re_load load[32];
	int nload;
	bool interp;
	char build_id[128];
};

/* Parses `readelf -W -l -s -n`: program headers, both symbol tables (only
 * defined FUNC/IFUNC entries kept) and the build-id note. */
static int readelf_load(const char *path, struct readelf *r)
{
	const char *argv[] = { "readelf", "-W", "-l", "-s", "-n", path, NULL };
	char *out = run_capture(argv), *line, *save = NULL;
	bool dynsym = false;
	size_t cap = 0;

	memset(r, 0, sizeof(*r));
	if (!out)
		return -1;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long off, va, pa, fsz, msz, value, size;
		char type[32], bind[32], vis[32], ndx[32], name[128];
		const char *bid;
		unsigned int num;
		int pos = 0;

		if (strstr(line, "Symbol table '.dynsym'")) {
			dynsym = true;
			continue;
		}
		if (strstr(line, "Symbol table '")) {
			dynsym = false;
			continue;
		}
		bid = strstr(line, "Build ID: ");
		if (bid) {
			snprintf(r->build_id, sizeof(r->build_id), "%s", bid + 10);
			r->build_id[strcspn(r->build_id, " \t")] = '\0';
			continue;
		}
		if (sscanf(line, " INTERP %llx", &off) == 1) {
			r->interp = true;
			continue;
		}
		if (sscanf(line, " LOAD %llx %llx %llx %llx %llx %n", &off, &va, &pa, &fsz, &msz,
			   &pos) == 5 &&
		    pos) {
			/* The flags ("R E", "RW ") come before the 0x alignment. */
			const char *flags = line + pos, *align = strstr(flags, "0x");
			size_t flen = align ? (size_t)(align - flags) : strlen(flags);

			if (r->nload < (int)(sizeof(r->load) / sizeof(r->load[0])))
				r->load[r->nload++] = (struct re_load){
					off, va, fsz, msz, memchr(flags, 'E', flen) != NULL
				};
			continue;
		}
		if (sscanf(line, " %u: %llx %llu %31s %31s %31s %31s %127s", &num, &value, &size,
			   type, bind, vis, ndx, name) != 8)
			continue;
		if ((strcmp(type, "FUNC") && strcmp(type, "IFUNC")) || !strcmp(ndx, "UND") ||
		    !value)
			continue;
		if (r->nsyms == cap) {
			struct re_sym *grown;

			cap = cap ? 2 * cap : 1024;
			grown = realloc(r->syms, cap * sizeof(*grown));
			if (!grown)
				break;
			r->syms = grown;
		}
		r->syms[r->nsyms] = (struct re_sym){ .value = value, .dynsym = dynsym,
						     .global = strcmp(bind, "LOCAL") != 0 };
		snprintf(r->syms[r->nsyms].name, sizeof(r->syms[r->nsyms].name), "%s", name);
		r->nsyms++;
	}
	free(out);
	return 0;
}

static void readelf_free(struct readelf *r)
{
	free(r->syms);
	r->syms = NULL;
}

static int re_offset(const struct readelf *r, uint64_t vaddr, uint64_t *offset)
{
	int found = -1;

	for (int i = 0; i < r->nload; i++) {
		const struct re_load *l = &r->load[i];

		if (vaddr >= l->vaddr && vaddr < l->vaddr + l->filesz &&
		    (found < 0 || l->exec)) {
			*offset = vaddr - l->vaddr + l->offset;
			found = i;
			if (l->exec)
				break;
		}
	}
	return found < 0 ? -1 : 0;
}

/* The symbol a uprobe on `want` should use, as readelf shows the tables:
 * .dynsym first, then global, then the default ("@@" or unversioned)
 * version. */
static const struct re_sym *re_find(const struct readelf *r, const char *want)
{
	const struct re_sym *best = NULL;
	int best_rank = 0;

	for (size_t i = 0; i < r->nsyms; i++) {
		const struct re_sym *s = &r->syms[i];
		const char *at = strchr(s->name, '@');
		size_t len = at ? (size_t)(at - s->name) : strlen(s->name);
		int rank;

		if (len != strlen(want) || strncmp(s->name, want, len))
			continue;
		rank = 1 + (s->dynsym ? 4 : 0) + (s->global ? 2 : 0) + (!at || at[1] == '@');
		if (rank > best_rank) {
			best = s;
			best_rank = rank;
		}
	}
	return best;
}

/* Checks every found symbol against readelf's view of the same file. */
static void check_against_readelf(const char *path, const struct elf_sym *syms, int n,
				  const struct elf_file_info *info)
{
	struct readelf r;
	uint64_t where;
	int fd;

	if (readelf_load(path, &r)) {
		fprintf(stderr, "readelf not available: %s not cross-checked\n", path);
		return;
	}
	CHECK(r.nload > 0);
	fd = open(path, O_RDONLY);
	for (int i = 0; i < r.nload; i++) {
		const struct re_load *l = &r.load[i];
		uint64_t off = 0;

		CHECK(elf_vaddr_to_offset(fd, l->vaddr, &off) == 0);
		CHECK_EQ_U64(off, l->offset);
		/* The zero-filled tail (.bss) has no bytes in the file. */
		if (l->memsz > l->filesz && re_offset(&r, l->vaddr + l->filesz, &off))
			CHECK(elf_vaddr_to_offset(fd, l->vaddr + l->filesz, &off) == -1);
	}
	CHECK(elf_vaddr_to_offset(fd, UINT64_MAX - 16, &where) == -1);
	close(fd);
	for (int i = 0; i < n; i++) {
		const struct re_sym *s = re_find(&r, syms[i].name);
		uint64_t off = 0;

		CHECK(syms[i].found == (s != NULL));
		if (!s || !syms[i].found)
			continue;
		CHECK_EQ_U64(syms[i].vaddr, s->value);
		CHECK(syms[i].from_symtab == !s->dynsym);
		CHECK(re_offset(&r, s->value, &off) == 0);
		CHECK_EQ_U64(syms[i].offset, off);
	}
	if (info) {
		CHECK(info->has_interp == r.interp);
		CHECK_STR(info->build_id, r.build_id);
	}
	readelf_free(&r);
}

/* ---- tests ---- */

static void test_not_elf(void)
{
	static const char text[] = "#!/bin/sh\necho this is not an ELF file\n";
	struct elf_sym sym = { .name = "SSL_write", .found = true };
	struct elf_file_info info;
	char *path = tmp_path("not_elf"), *empty = tmp_path("empty");
	char *cause = NULL;
	uint64_t off;
	int fd;

	CHECK(write_file(path, text, sizeof(text) - 1) == 0);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	CHECK(elf_syms_lookup(fd, &sym, 1, &info, &cause) == -1);
	CHECK(cause != NULL);
	CHECK(!sym.found);
	free(cause);
	cause = NULL;
	CHECK(elf_vaddr_to_offset(fd, 0x1000, &off) == -1);
	CHECK(!elf_section_contains(fd, ".rodata", "echo"));
	close(fd);

	CHECK(write_file(empty, "", 0) == 0);
	fd = open(empty, O_RDONLY);
	CHECK(elf_syms_lookup(fd, &sym, 1, NULL, &cause) == -1);
	CHECK(cause != NULL);
	free(cause);
	cause = NULL;
	close(fd);

	/* A directory: read() fails inside libelf. */
	fd = open(tmpdir, O_RDONLY | O_DIRECTORY);
	CHECK(elf_syms_lookup(fd, &sym, 1, NULL, &cause) == -1);
	CHECK(cause != NULL);
	free(cause);
	close(fd);

	unlink(path);
	unlink(empty);
	free(path);
	free(empty);
}

struct fixture_fn {
	char name[64];
	uint64_t offset;
	unsigned char code[16];
};

/* The fixture reports, for each of its functions, the file offset the
 * kernel mapped it from and its first code bytes. */
static int fixture_report(const char *prog, struct fixture_fn *fns, int max)
{
	const char *argv[] = { prog, "show", NULL };
	char *out = run_capture(argv), *line, *save = NULL;
	int n = 0;

	if (!out)
		return -1;
	for (line = strtok_r(out, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long off;
		char hex[64];

		if (sscanf(line, "%63s %llx %63s", fns[n].name, &off, hex) != 3 ||
		    strlen(hex) != 32 || hex_decode(hex, fns[n].code, 16))
			continue;
		fns[n].offset = off;
		n++;
	}
	free(out);
	return n;
}

enum {
	FX_WRITE,
	FX_READ,
	FX_LOCAL,
	FX_IFUNC,
	FX_NFUNCS, /* the functions the fixture reports */
	FX_DATA = FX_NFUNCS,
	FX_MISSING,
	FX_PUTS,
	FX_NSYMS,
};

static void fixture_syms(struct elf_sym *syms)
{
	static const char *const names[FX_NSYMS] = {
		[FX_WRITE] = "tlstop_fixture_write",
		[FX_READ] = "tlstop_fixture_read",
		[FX_LOCAL] = "tlstop_fixture_local",
		[FX_IFUNC] = "tlstop_fixture_ifunc",
		[FX_DATA] = "tlstop_fixture_data",
		[FX_MISSING] = "tlstop_fixture_missing",
		[FX_PUTS] = "puts",
	};

	memset(syms, 0, FX_NSYMS * sizeof(*syms));
	for (int i = 0; i < FX_NSYMS; i++)
		syms[i].name = names[i];
}

static void test_fixture(const char *name, int want_type, bool want_interp)
{
	struct fixture_fn fns[FX_NFUNCS];
	struct elf_sym syms[FX_NSYMS];
	struct elf_file_info info;
	char *path, *cause = NULL;
	int fd, n;

	if (asprintf(&path, "%s/tests/progs/%s", TEST_BUILDDIR, name) < 0)
		exit(99);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "%s: %s (fixtures are built by make check)\n", path,
			strerror(errno));
		CHECK(fd >= 0);
		free(path);
		return;
	}
	fixture_syms(syms);
	CHECK(elf_syms_lookup(fd, syms, FX_NSYMS, &info, &cause) == 0);
	CHECK(cause == NULL);
	if (want_type >= 0)
		CHECK_EQ_U64(info.type, want_type);
	else
		CHECK(info.type == ET_EXEC || info.type == ET_DYN);
	CHECK(info.has_interp == want_interp);
	CHECK(info.has_symtab);
	CHECK(strlen(info.build_id) == 0 || strlen(info.build_id) == 40 ||
	      strlen(info.build_id) == 32);

	n = fixture_report(path, fns, FX_NFUNCS);
	CHECK_EQ_U64(n, FX_NFUNCS);
	for (int i = 0; i < n && i < FX_NFUNCS; i++) {
		unsigned char code[16];
		uint64_t off = 0;

		CHECK_STR(fns[i].name, syms[i].name);
		CHECK(syms[i].found);
		if (!syms[i].found)
			continue;
		/* The kernel's idea of where the code came from. */
		CHECK_EQ_U64(syms[i].offset, fns[i].offset);
		/* And the bytes there are the bytes that ran. */
		CHECK(pread(fd, code, sizeof(code), (off_t)syms[i].offset) == sizeof(code));
		CHECK(!memcmp(code, fns[i].code, sizeof(code)));
		CHECK(elf_vaddr_to_offset(fd, syms[i].vaddr, &off) == 0);
		CHECK_EQ_U64(off, syms[i].offset);
	}
	CHECK(!syms[FX_DATA].found);
	CHECK(!syms[FX_MISSING].found);
	/* Imported, so undefined in a dynamic executable; a static one has it. */
	if (want_interp)
		CHECK(!syms[FX_PUTS].found);
	check_against_readelf(path, syms, FX_NSYMS, &info);

	CHECK(elf_section_contains(fd, ".rodata", "tlstop-fixture-marker 1.0"));
	CHECK(!elf_section_contains(fd, ".rodata", "tlstop-fixture-marker 2.0"));
	CHECK(!elf_section_contains(fd, ".no_such_section", "tlstop"));
	CHECK(!elf_section_contains(fd, ".bss", "tlstop"));
	close(fd);
	free(path);
}

static void test_stripped(void)
{
	char *src, *dst = tmp_path("elf_static.stripped");
	const char *argv[] = { "strip", "-o", dst, NULL, NULL };
	struct elf_sym syms[FX_NSYMS];
	struct elf_file_info full, info;
	char *cause = NULL, *out;
	int fd;

	if (asprintf(&src, "%s/tests/progs/elf_static", TEST_BUILDDIR) < 0)
		exit(99);
	argv[3] = src;
	out = run_capture(argv);
	if (!out) {
		fprintf(stderr, "strip not available: stripped binary not tested\n");
		goto out;
	}
	free(out);

	fd = open(src, O_RDONLY);
	fixture_syms(syms);
	CHECK(elf_syms_lookup(fd, syms, FX_NSYMS, &full, NULL) == 0);
	close(fd);

	fd = open(dst, O_RDONLY);
	CHECK(fd >= 0);
	fixture_syms(syms);
	CHECK(elf_syms_lookup(fd, syms, FX_NSYMS, &info, &cause) == 0);
	CHECK(cause == NULL);
	CHECK(!info.has_symtab);
	CHECK(!info.has_interp);
	for (int i = 0; i < FX_NSYMS; i++)
		CHECK(!syms[i].found);
	/* strip keeps the note: what a debuginfod lookup would need. */
	CHECK_STR(info.build_id, full.build_id);
	CHECK(elf_section_contains(fd, ".rodata", "tlstop-fixture-marker 1.0"));
	close(fd);
	unlink(dst);
out:
	free(src);
	free(dst);
}

/* What sstrip leaves: no section headers at all. The build id and the
 * interpreter must still come from the program headers. */
static void test_no_sections(void)
{
	char *src, *dst = tmp_path("elf_pie.nosections");
	struct elf_sym syms[FX_NSYMS];
	struct elf_file_info full, info;
	char *cause = NULL;
	Elf64_Ehdr eh;
	int fd;

	if (asprintf(&src, "%s/tests/progs/elf_pie", TEST_BUILDDIR) < 0)
		exit(99);
	fd = open(src, O_RDONLY);
	fixture_syms(syms);
	CHECK(elf_syms_lookup(fd, syms, FX_NSYMS, &full, NULL) == 0);
	close(fd);

	CHECK(copy_file(src, dst) == 0);
	fd = open(dst, O_RDWR);
	CHECK(fd >= 0);
	CHECK(pread(fd, &eh, sizeof(eh), 0) == sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64) {
		fprintf(stderr, "not a 64-bit fixture: section-less case not tested\n");
		goto out;
	}
	eh.e_shoff = 0;
	eh.e_shnum = 0;
	eh.e_shstrndx = SHN_UNDEF;
	CHECK(pwrite(fd, &eh, sizeof(eh), 0) == sizeof(eh));

	fixture_syms(syms);
	CHECK(elf_syms_lookup(fd, syms, FX_NSYMS, &info, &cause) == 0);
	CHECK(cause == NULL);
	CHECK(!info.has_symtab);
	CHECK(!info.has_dynsym);
	CHECK(info.has_interp);
	CHECK_EQ_U64(info.type, ET_DYN);
	CHECK_STR(info.build_id, full.build_id);
	CHECK(!syms[FX_WRITE].found);
	CHECK(!elf_section_contains(fd, ".rodata", "tlstop-fixture-marker"));
out:
	close(fd);
	unlink(dst);
	free(src);
	free(dst);
}

/* Cut short in the middle of the section headers: an error or a partial
 * answer, never a crash. */
static void test_truncated(void)
{
	char *src, *dst = tmp_path("elf_static.truncated");
	struct elf_sym syms[FX_NSYMS];
	struct elf_file_info info;
	char *cause = NULL;
	struct stat st;
	int fd;

	if (asprintf(&src, "%s/tests/progs/elf_static", TEST_BUILDDIR) < 0)
		exit(99);
	CHECK(copy_file(src, dst) == 0);
	CHECK(stat(dst, &st) == 0);
	CHECK(truncate(dst, st.st_size - 100) == 0);
	fd = open(dst, O_RDONLY);
	fixture_syms(syms);
	if (elf_syms_lookup(fd, syms, FX_NSYMS, &info, &cause) < 0)
		CHECK(cause != NULL);
	free(cause);
	cause = NULL;
	elf_section_contains(fd, ".rodata", "tlstop");
	close(fd);

	/* Only the ELF header and part of the program headers. */
	CHECK(truncate(dst, 80) == 0);
	fd = open(dst, O_RDONLY);
	fixture_syms(syms);
	CHECK(elf_syms_lookup(fd, syms, FX_NSYMS, &info, &cause) == -1);
	CHECK(cause != NULL);
	free(cause);
	close(fd);
	unlink(dst);
	free(src);
	free(dst);
}

static void test_libssl(void)
{
	struct elf_sym syms[] = {
		{ .name = "SSL_write" },   { .name = "SSL_read" },
		{ .name = "SSL_write_ex" }, { .name = "SSL_read_ex" },
		{ .name = "SSL_new" },     { .name = "SSL_no_such_function" },
	};
	int n = sizeof(syms) / sizeof(syms[0]);
	struct elf_file_info info;
	char *cause = NULL;
	int fd;

	fd = open(LIBSSL_PATH, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: libssl not tested\n", LIBSSL_PATH, strerror(errno));
		return;
	}
	CHECK(elf_syms_lookup(fd, syms, n, &info, &cause) == 0);
	CHECK(cause == NULL);
	CHECK_EQ_U64(info.type, ET_DYN);
	CHECK(info.has_dynsym);
	CHECK(!info.has_interp);
	for (int i = 0; i < 5; i++) {
		CHECK(syms[i].found);
		CHECK(!syms[i].from_symtab);
		CHECK(syms[i].offset != 0);
	}
	CHECK(!syms[5].found);
	check_against_readelf(LIBSSL_PATH, syms, n, &info);
	close(fd);
}

/* The libc the test runs on, found through our own mappings. */
static char *own_libc(void)
{
	char line[4096], *path = NULL;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return NULL;
	while (!path && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/');

		if (p && strstr(p, "/libc.so")) {
			p[strcspn(p, "\n")] = '\0';
			path = strdup(p);
		}
	}
	fclose(f);
	return path;
}

/* glibc keeps old versions of some functions in .dynsym next to the
 * default one (realpath@GLIBC_2.2.5, realpath@@GLIBC_2.3); the default
 * is the one programs call. */
static void test_libc_versions(void)
{
	struct elf_sym syms[] = {
		{ .name = "realpath" }, { .name = "memcpy" }, { .name = "fmemopen" },
		{ .name = "malloc" },
	};
	int n = sizeof(syms) / sizeof(syms[0]);
	char *libc = own_libc(), *cause = NULL;
	int fd;

	if (!libc) {
		fprintf(stderr, "libc not found in /proc/self/maps: versions not tested\n");
		return;
	}
	fd = open(libc, O_RDONLY);
	CHECK(fd >= 0);
	CHECK(elf_syms_lookup(fd, syms, n, NULL, &cause) == 0);
	CHECK(cause == NULL);
	for (int i = 0; i < n; i++)
		CHECK(syms[i].found);
	check_against_readelf(libc, syms, n, NULL);
	close(fd);
	free(libc);
}

/* A library with both tables: .dynsym wins for a name in both, .symtab
 * names match without their version and prefer the default one. */
static void test_both_tables(void)
{
	char *dst = tmp_path("libssl.symtab.so");
	const char *argv[] = {
		"objcopy",
		"--add-symbol", "SSL_write=.text:0x100,function,global",
		"--add-symbol", "tlstop_v@OLD=.text:0x10,function,global",
		"--add-symbol", "tlstop_v@@NEW=.text:0x20,function,global",
		"--add-symbol", "tlstop_old@OLD=.text:0x28,function,global",
		"--add-symbol", "tlstop_l=.text:0x30,function,local",
		"--add-symbol", "tlstop_l=.text:0x40,function,global",
		"--add-symbol", "tlstop_obj=.text:0x50,object,global",
		LIBSSL_PATH, dst, NULL,
	};
	struct elf_sym syms[] = {
		{ .name = "SSL_write" }, { .name = "tlstop_v" }, { .name = "tlstop_old" },
		{ .name = "tlstop_l" },  { .name = "tlstop_obj" }, { .name = "tlstop_v@OLD" },
		{ .name = "tlstop" },
	};
	int n = sizeof(syms) / sizeof(syms[0]);
	struct elf_file_info info;
	char *cause = NULL, *out;
	uint64_t text;
	int fd;

	if (access(LIBSSL_PATH, R_OK))
		goto out;
	out = run_capture(argv);
	if (!out) {
		fprintf(stderr, "objcopy --add-symbol failed: both-tables case not tested\n");
		goto out;
	}
	free(out);
	fd = open(dst, O_RDONLY);
	CHECK(fd >= 0);
	CHECK(elf_syms_lookup(fd, syms, n, &info, &cause) == 0);
	CHECK(cause == NULL);
	CHECK(info.has_dynsym);
	CHECK(info.has_symtab);
	CHECK(syms[0].found && !syms[0].from_symtab);
	CHECK(syms[1].found && syms[1].from_symtab);
	CHECK(syms[2].found && syms[2].from_symtab);
	CHECK(syms[3].found && syms[3].from_symtab);
	CHECK(!syms[4].found);
	CHECK(!syms[5].found);
	CHECK(!syms[6].found);
	text = syms[1].vaddr - 0x20;
	CHECK_EQ_U64(syms[2].vaddr, text + 0x28);
	CHECK_EQ_U64(syms[3].vaddr, text + 0x40);
	check_against_readelf(dst, syms, n, &info);
	close(fd);
	unlink(dst);
out:
	free(dst);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	test_not_elf();
	test_fixture("elf_pie", ET_DYN, true);
	test_fixture("elf_nopie", ET_EXEC, true);
	test_fixture("elf_static", -1, false);
	test_stripped();
	test_no_sections();
	test_truncated();
	test_libssl();
	test_libc_versions();
	test_both_tables();
	rmdir(tmpdir);
	return unit_result("test_elf_syms");
}
