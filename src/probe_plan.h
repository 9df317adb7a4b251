/* probe_plan.h - where a TLS function's probes go. A uprobe on an
 * instruction the kernel cannot emulate costs a trap plus an out-of-line
 * single step; on call, jmp, jcc, push and nop it costs the trap alone. The
 * planner decodes the function (x86-64, capstone) and, when its shape is
 * understood, places the entry probe on the call to the internal worker
 * (whose arguments are then in the ABI registers) and the result probe on
 * the first emulated instruction after that call (eax = the worker's
 * result, bytes processed in *rcx as it was at the call). Anything else is
 * planned as classic entry + return probes, with the reason. */
#ifndef TLSTOP_PROBE_PLAN_H
#define TLSTOP_PROBE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum probe_method {
	PROBE_AUTO, /* as a request: planned where understood */
	PROBE_PLANNED,
	PROBE_ENTRY_RETURN,
};

/* The calling shapes the planner knows. */
enum plan_api {
	API_INT_RETURN, /* int f(SSL *, buf, int num): returns the byte count */
	API_OUT_PARAM, /* int f(SSL *, buf, size_t num, size_t *processed) */
};

/* Reads len bytes of code at vaddr into buf; returns the bytes read (0 at
 * the end of the code segment). */
struct code_reader {
	size_t (*read)(void *arg, uint64_t vaddr, uint8_t *buf, size_t len);
	void *arg;
};

/* A code_reader over an ELF file open on fd: the executable segment that
 * holds vaddr, which lies at offset, up to end (a vaddr). */
struct code_file {
	int fd;
	uint64_t vaddr, offset, end;
};

size_t code_file_read(void *arg, uint64_t vaddr, uint8_t *buf, size_t len);

struct plan_func {
	uint64_t vaddr;
	uint64_t size; /* st_size; 0 when unknown */
	enum plan_api api;
};

struct probe_site {
	uint64_t vaddr;
	char insn[48]; /* "call 0x355a0", for --list-targets */
};

struct probe_plan {
	enum probe_method method; /* PLANNED or ENTRY_RETURN */
	/* PLANNED: the call to the worker and the emulated instruction after
	 * it; ENTRY_RETURN: enter is the function's first instruction */
	struct probe_site enter, result;
	bool enter_emulated; /* the kernel emulates enter's instruction */
	char reason[200]; /* ENTRY_RETURN: why not planned */
};

const char *probe_method_name(enum probe_method m);
/* "auto" / "planned" / "entry-return" -> method; -1 when unknown */
int probe_method_parse(const char *s);

/* Plans fn. want = PROBE_ENTRY_RETURN skips the analysis; x86_64 = false
 * (another architecture) plans entry + return. Returns 0, or -1 when
 * capstone cannot be opened (plan then holds entry + return). */
int probe_plan(const struct code_reader *r, const struct plan_func *fn, bool x86_64,
	       enum probe_method want, struct probe_plan *plan);

#endif
