/* test_probe_plan.c - the probe planner on Debian's libssl, on the statically
 * linked test client, on plan_fixture.c built five ways (-O0, -O2, frame
 * pointers, -fcf-protection, non-PIE) and on hand-edited machine code.
 * Where a plan is made, its points are checked on the bytes themselves,
 * independently of capstone: the enter point is a call rel32 to the worker
 * and the result point an opcode the kernel emulates. */
#include <elf.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "elf_syms.h"
#include "probe_plan.h"
#include "unit.h"

#ifndef TEST_BUILDDIR
#define TEST_BUILDDIR "."
#endif

#define LIBSSL_PATH "/usr/lib/x86_64-linux-gnu/libssl.so.3"

struct planned {
	int fd;
	struct elf_sym sym;
	struct probe_plan plan;
};

/* Plans function name of the file at path; false when it cannot. */
static bool plan_file(const char *path, const char *name, enum plan_api api,
		      enum probe_method want, struct planned *out)
{
	struct elf_file_info info;
	struct code_file code;
	struct code_reader rd = { code_file_read, &code };
	struct plan_func fn;
	char *cause = NULL;

	memset(out, 0, sizeof(*out));
	out->sym.name = name;
	out->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (out->fd < 0) {
		fprintf(stderr, "cannot open %s\n", path);
		return false;
	}
	if (elf_syms_lookup(out->fd, &out->sym, 1, &info, &cause) || !out->sym.found) {
		fprintf(stderr, "%s: no %s: %s\n", path, name, cause ? cause : "not found");
		free(cause);
		close(out->fd);
		return false;
	}
	code = (struct code_file){ out->fd, out->sym.vaddr, out->sym.offset, out->sym.segment_end };
	fn = (struct plan_func){ out->sym.vaddr, out->sym.size, api };
	CHECK(probe_plan(&rd, &fn, info.machine == EM_X86_64, want, &out->plan) == 0);
	return true;
}

static void read_at(const struct planned *p, uint64_t vaddr, uint8_t *buf, size_t len)
{
	ssize_t n = pread(p->fd, buf, len, (off_t)(vaddr - p->sym.vaddr + p->sym.offset));

	CHECK(n == (ssize_t)len);
}

/* The kernel's list, from the opcode bytes (no 0x66 prefix seen here). */
static bool emulated_bytes(const uint8_t *b)
{
	if (b[0] == 0xe8 || b[0] == 0xe9 || b[0] == 0xeb || (b[0] >= 0x70 && b[0] <= 0x7f))
		return true;
	if (b[0] == 0x0f && b[1] >= 0x80 && b[1] <= 0x8f)
		return true;
	return b[0] == 0x90 || (b[0] >= 0x50 && b[0] <= 0x57) ||
	       (b[0] == 0x41 && b[1] >= 0x50 && b[1] <= 0x57);
}

/* The target of the call rel32 at vaddr; 0 when it is not one. */
static uint64_t call_target(const struct planned *p, uint64_t vaddr)
{
	uint8_t b[5];
	int32_t rel;

	read_at(p, vaddr, b, sizeof(b));
	if (b[0] != 0xe8)
		return 0;
	memcpy(&rel, b + 1, sizeof(rel));
	return vaddr + 5 + (int64_t)rel;
}

/* A plan on the worker call with an emulated result point after it;
 * returns the call's target. */
static uint64_t check_planned(const struct planned *p)
{
	uint8_t b[2];
	uint64_t target;

	CHECK_STR(probe_method_name(p->plan.method), "planned");
	if (p->plan.method != PROBE_PLANNED) {
		fprintf(stderr, "  %s: %s\n", p->sym.name, p->plan.reason);
		return 0;
	}
	target = call_target(p, p->plan.enter.vaddr);
	CHECK(target != 0);
	CHECK(!strncmp(p->plan.enter.insn, "call ", 5));
	CHECK(p->plan.result.vaddr > p->plan.enter.vaddr);
	CHECK(p->plan.result.vaddr - p->plan.enter.vaddr <= 5 + 2 * 15);
	read_at(p, p->plan.result.vaddr, b, sizeof(b));
	CHECK(emulated_bytes(b));
	CHECK(p->plan.enter_emulated);
	return target;
}

static void check_entry_return(const struct planned *p, const char *why)
{
	CHECK_STR(probe_method_name(p->plan.method), "entry-return");
	CHECK_EQ_U64(p->plan.enter.vaddr, p->sym.vaddr);
	if (!strstr(p->plan.reason, why)) {
		fprintf(stderr, "%s: reason \"%s\" lacks \"%s\"\n", p->sym.name, p->plan.reason,
			why);
		unit_failures++;
	}
}

static void done(struct planned *p)
{
	if (p->fd >= 0)
		close(p->fd);
}

/* OpenSSL 3 as Debian builds it: SSL_write/SSL_read on the call to
 * ssl_write_internal/ssl_read_internal and the jle after it; the _ex twins
 * call the same worker but fold its result with a cmov before ret. */
static void test_libssl(void)
{
	static const char *const names[4] = { "SSL_write", "SSL_read", "SSL_write_ex",
					      "SSL_read_ex" };
	struct planned p[4];
	uint64_t worker[2] = { 0 };

	for (int i = 0; i < 4; i++)
		if (!plan_file(LIBSSL_PATH, names[i], i < 2 ? API_INT_RETURN : API_OUT_PARAM,
			       PROBE_AUTO, &p[i]))
			unit_failures++;
	if (unit_failures)
		return;
	for (int i = 0; i < 2; i++) {
		worker[i] = check_planned(&p[i]);
		/* the _ex twin calls the same worker from its own body */
		CHECK_EQ_U64(worker[i], call_target(&p[i + 2], p[i + 2].sym.vaddr + 4));
		check_entry_return(&p[i + 2], "before cmovs");
		CHECK(!p[i + 2].plan.enter_emulated); /* sub $8, %rsp */
	}
	CHECK(worker[0] != worker[1]);
	for (int i = 0; i < 4; i++)
		done(&p[i]);

	if (plan_file(LIBSSL_PATH, "SSL_write", API_INT_RETURN, PROBE_ENTRY_RETURN, &p[0])) {
		check_entry_return(&p[0], "--probe-method=entry-return");
		done(&p[0]);
	}
}

/* libssl.a linked into the test client: the same shapes, in an executable */
static void test_static_client(void)
{
	struct planned p;

	if (!plan_file(TEST_BUILDDIR "/tests/progs/tls_client_static", "SSL_write", API_INT_RETURN,
		       PROBE_AUTO, &p)) {
		unit_failures++;
		return;
	}
	check_planned(&p);
	done(&p);
}

static void test_fixture(const char *variant, bool optimised, bool cet)
{
	char path[512];
	struct planned p, worker, w;

	snprintf(path, sizeof(path), TEST_BUILDDIR "/tests/progs/plan_%s", variant);
	if (!plan_file(path, "fixture_worker", API_OUT_PARAM, PROBE_AUTO, &worker) ||
	    !plan_file(path, "SSL_write", API_INT_RETURN, PROBE_AUTO, &w)) {
		unit_failures++;
		return;
	}
	/* the worker returns 1 without calling anything: never planned */
	check_entry_return(&worker, "without the worker call");
	if (!optimised) {
		/* -O0 passes the arguments through the stack frame */
		check_entry_return(&w, "not given the function's SSL*");
		CHECK(w.plan.enter_emulated); /* push %rbp */
		done(&w);
		done(&worker);
		return;
	}
	CHECK_EQ_U64(check_planned(&w), worker.sym.vaddr);

	if (plan_file(path, "SSL_write_ex", API_OUT_PARAM, PROBE_AUTO, &p)) {
		uint8_t entry[2];

		check_entry_return(&p, "overwrites its result");
		read_at(&p, p.sym.vaddr, entry, sizeof(entry));
		CHECK(p.plan.enter_emulated == emulated_bytes(entry));
		if (cet)
			CHECK(!p.plan.enter_emulated); /* endbr64 is single-stepped */
		done(&p);
	}
	if (plan_file(path, "tail_write", API_INT_RETURN, PROBE_AUTO, &p)) {
		/* followed into SSL_write: the very same points */
		check_planned(&p);
		CHECK_EQ_U64(p.plan.enter.vaddr, w.plan.enter.vaddr);
		CHECK_EQ_U64(p.plan.result.vaddr, w.plan.result.vaddr);
		done(&p);
	}
	if (plan_file(path, "cached_write", API_INT_RETURN, PROBE_AUTO, &p)) {
		check_entry_return(&p, "is reached without the worker call and may return a byte count");
		done(&p);
	}
	if (plan_file(path, "loop_write", API_INT_RETURN, PROBE_AUTO, &p)) {
		check_entry_return(&p, "a loop");
		done(&p);
	}
	if (plan_file(path, "indirect_write", API_INT_RETURN, PROBE_AUTO, &p)) {
		check_entry_return(&p, "an indirect");
		done(&p);
	}
	done(&w);
	done(&worker);
}

/* ---- hand-edited code: Debian's SSL_write, 0x83 bytes at 0x35980 ---- */

static const uint8_t ssl_write_code[] = {
	0x48, 0x83, 0xec, 0x18, 0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00, 0x48,
	0x89, 0x44, 0x24, 0x08, 0x31, 0xc0, 0x85, 0xd2, 0x78, 0x2f, 0x48, 0x89, 0xe1, 0x48,
	0x63, 0xd2, 0xe8, 0xfd, 0xfb, 0xff, 0xff, 0x85, 0xc0, 0x7e, 0x03, 0x8b, 0x04, 0x24,
	0x48, 0x8b, 0x54, 0x24, 0x08, 0x64, 0x48, 0x2b, 0x14, 0x25, 0x28, 0x00, 0x00, 0x00,
	0x75, 0x44, 0x48, 0x83, 0xc4, 0x18, 0x31, 0xd2, 0x31, 0xc9, 0x31, 0xf6, 0x31, 0xff,
	0xc3, 0xe8, 0xf4, 0x99, 0xfe, 0xff, 0x48, 0x8d, 0x15, 0x25, 0xcf, 0x04, 0x00, 0xbe,
	0x46, 0x08, 0x00, 0x00, 0x48, 0x8d, 0x3d, 0x12, 0xc7, 0x04, 0x00, 0xe8, 0xdc, 0xa0,
	0xfe, 0xff, 0x31, 0xc0, 0x31, 0xd2, 0xbe, 0x0f, 0x01, 0x00, 0x00, 0xbf, 0x14, 0x00,
	0x00, 0x00, 0xe8, 0xf9, 0x9e, 0xfe, 0xff, 0xb8, 0xff, 0xff, 0xff, 0xff, 0xeb, 0xac,
	0xe8, 0xed, 0xab, 0xfe, 0xff,
};
#define CODE_VADDR 0x35980
#define JLE_AT 0x25 /* 7e 03: jle +3, right after test %eax,%eax */

struct mem_code {
	uint8_t bytes[sizeof(ssl_write_code)];
};

static size_t mem_read(void *arg, uint64_t vaddr, uint8_t *buf, size_t len)
{
	const struct mem_code *m = arg;

	if (vaddr < CODE_VADDR || vaddr >= CODE_VADDR + sizeof(m->bytes))
		return 0;
	if (len > CODE_VADDR + sizeof(m->bytes) - vaddr)
		len = CODE_VADDR + sizeof(m->bytes) - vaddr;
	memcpy(buf, m->bytes + (vaddr - CODE_VADDR), len);
	return len;
}

static void plan_mem(struct mem_code *m, uint64_t size, bool x86_64, struct probe_plan *plan)
{
	struct code_reader rd = { mem_read, m };
	struct plan_func fn = { CODE_VADDR, size, API_INT_RETURN };

	CHECK(probe_plan(&rd, &fn, x86_64, PROBE_AUTO, plan) == 0);
}

static void test_edited_code(void)
{
	struct probe_plan plan;
	struct mem_code m;

	memcpy(m.bytes, ssl_write_code, sizeof(m.bytes));
	plan_mem(&m, sizeof(m.bytes), true, &plan);
	CHECK(plan.method == PROBE_PLANNED);
	CHECK_EQ_U64(plan.enter.vaddr, CODE_VADDR + 0x1e);
	CHECK_EQ_U64(plan.result.vaddr, CODE_VADDR + JLE_AT);
	/* without st_size, __stack_chk_fail is told from padding-less code by
	 * its fall-through leaving the readable code */
	plan_mem(&m, 0, true, &plan);
	CHECK(plan.method == PROBE_PLANNED);

	/* an emulated one-byte nop is a result point too */
	m.bytes[JLE_AT] = 0x90;
	m.bytes[JLE_AT + 1] = 0x90;
	plan_mem(&m, sizeof(m.bytes), true, &plan);
	CHECK(plan.method == PROBE_PLANNED);
	CHECK_EQ_U64(plan.result.vaddr, CODE_VADDR + JLE_AT);

	/* 66 90 is a nop the kernel single-steps (0x66 prefix); the next
	 * instruction, mov (%rsp),%eax, overwrites the result */
	m.bytes[JLE_AT] = 0x66;
	plan_mem(&m, sizeof(m.bytes), true, &plan);
	CHECK(plan.method == PROBE_ENTRY_RETURN);
	CHECK(strstr(plan.reason, "before mov at +0x27 overwrites its result") != NULL);
	CHECK(!plan.enter_emulated);

	/* a count returned without the worker: mov $0x1,%eax on the error path */
	memcpy(m.bytes, ssl_write_code, sizeof(m.bytes));
	m.bytes[0x78] = 0x01;
	m.bytes[0x79] = m.bytes[0x7a] = m.bytes[0x7b] = 0x00;
	plan_mem(&m, sizeof(m.bytes), true, &plan);
	CHECK(plan.method == PROBE_ENTRY_RETURN);
	CHECK(strstr(plan.reason, "without the worker call") != NULL ||
	      strstr(plan.reason, "follows a call") != NULL);

	/* without its mov $-1,%eax the error path returns whatever
	 * ERR_set_error left in eax, not the 0 set before that call */
	memcpy(m.bytes, ssl_write_code, sizeof(m.bytes));
	memset(m.bytes + 0x77, 0x90, 5);
	plan_mem(&m, sizeof(m.bytes), true, &plan);
	CHECK(plan.method == PROBE_ENTRY_RETURN);
	CHECK(strstr(plan.reason, "follows a call") != NULL);

	/* another architecture: nothing is decoded */
	memcpy(m.bytes, ssl_write_code, sizeof(m.bytes));
	plan_mem(&m, sizeof(m.bytes), false, &plan);
	CHECK(plan.method == PROBE_ENTRY_RETURN);
	CHECK(strstr(plan.reason, "x86-64 code only") != NULL);
}

static void test_method_names(void)
{
	CHECK(probe_method_parse("auto") == PROBE_AUTO);
	CHECK(probe_method_parse("entry-return") == PROBE_ENTRY_RETURN);
	CHECK(probe_method_parse("planned") == -1);
	CHECK(probe_method_parse("") == -1);
	CHECK_STR(probe_method_name(PROBE_PLANNED), "planned");
}

int main(void)
{
	test_method_names();
	test_edited_code();
	test_libssl();
	test_static_client();
	test_fixture("O0", false, false);
	test_fixture("O2", true, false);
	test_fixture("O2_fp", true, false);
	test_fixture("O2_cet", true, true);
	test_fixture("O2_nopie", true, false);
	return unit_result("test_probe_plan");
}
