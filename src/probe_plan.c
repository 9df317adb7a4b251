/* probe_plan.c - the probe planner: capstone decoding, a register model of
 * each path through the function, and the kernel's emulation rules.
 *
 * Every path from the entry is walked (both ways at each jcc, direct jumps
 * followed, tail jumps included). A plan is accepted only when, on every
 * path, either the worker call is made (and then the result probe follows
 * it before anything can change eax), or the function returns a constant
 * <= 0, i.e. moved no data, which is also what the return probe of the
 * classic method ignores. Loops, indirect jumps, undecodable bytes or two
 * different worker calls reject the plan. */
#include <capstone/capstone.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe_plan.h"

#define MAX_INSNS 512 /* decoded instructions per function */
#define MAX_STEPS 8192 /* instructions walked over all paths */
#define MAX_PATH 128 /* instructions on one path */
#define INSN_MAX_LEN 15

enum gpr { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, NGPR = 16 };

/* System V AMD64: where the first four integer arguments arrive */
static const enum gpr arg_regs[4] = { RDI, RSI, RDX, RCX };

enum vkind { V_UNKNOWN, V_ARG, V_STACK, V_CONST, V_RESULT };

struct value {
	enum vkind kind;
	int arg; /* V_ARG: 0-based argument index */
	bool narrow; /* V_ARG: only the low 32 bits survive */
	int64_t c; /* V_CONST */
};

struct state {
	struct value r[NGPR];
	bool called; /* the worker call was made on this path */
	bool fresh; /* between the worker call and its result point */
	uint64_t other_call; /* first call on this path that is not it, or 0 */
	int depth;
	uint64_t path[MAX_PATH];
};

struct planner {
	csh cs;
	const struct code_reader *rd;
	const struct plan_func *fn;
	cs_insn *insns[MAX_INSNS];
	/* walked on a path other than straight from the worker call: such an
	 * instruction cannot be the result point */
	bool elsewhere[MAX_INSNS];
	int ninsns;
	int steps;
	uint64_t call_at, result_at; /* 0: not found yet */
	char why[200];
};

const char *probe_method_name(enum probe_method m)
{
	switch (m) {
	case PROBE_AUTO:
		return "auto";
	case PROBE_PLANNED:
		return "planned";
	case PROBE_ENTRY_RETURN:
		return "entry-return";
	}
	return "?";
}

int probe_method_parse(const char *s)
{
	if (!strcmp(s, "auto"))
		return PROBE_AUTO;
	if (!strcmp(s, "entry-return"))
		return PROBE_ENTRY_RETURN;
	return -1;
}

size_t code_file_read(void *arg, uint64_t vaddr, uint8_t *buf, size_t len)
{
	const struct code_file *c = arg;
	ssize_t n;

	if (vaddr + c->offset < c->vaddr || vaddr >= c->end)
		return 0;
	if (len > c->end - vaddr)
		len = c->end - vaddr;
	n = pread(c->fd, buf, len, (off_t)(vaddr - c->vaddr + c->offset));
	return n > 0 ? (size_t)n : 0;
}

__attribute__((format(printf, 2, 3))) static int reject(struct planner *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->why[0]) {
		va_start(ap, fmt);
		vsnprintf(p->why, sizeof(p->why), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Offsets in reasons are relative to the planned function, as in objdump's
 * <SSL_write+0x1e>. */
static long long rel(const struct planner *p, uint64_t vaddr)
{
	return (long long)(vaddr - p->fn->vaddr);
}

static int gpr_of(x86_reg reg, bool *narrow)
{
	static const x86_reg r64[NGPR] = {
		X86_REG_RAX, X86_REG_RCX, X86_REG_RDX, X86_REG_RBX, X86_REG_RSP, X86_REG_RBP,
		X86_REG_RSI, X86_REG_RDI, X86_REG_R8,  X86_REG_R9,  X86_REG_R10, X86_REG_R11,
		X86_REG_R12, X86_REG_R13, X86_REG_R14, X86_REG_R15,
	};
	static const x86_reg r32[NGPR] = {
		X86_REG_EAX,  X86_REG_ECX,  X86_REG_EDX,  X86_REG_EBX,	X86_REG_ESP,  X86_REG_EBP,
		X86_REG_ESI,  X86_REG_EDI,  X86_REG_R8D,  X86_REG_R9D,	X86_REG_R10D, X86_REG_R11D,
		X86_REG_R12D, X86_REG_R13D, X86_REG_R14D, X86_REG_R15D,
	};
	static const x86_reg r16[NGPR] = {
		X86_REG_AX,   X86_REG_CX,   X86_REG_DX,	  X86_REG_BX,	X86_REG_SP,   X86_REG_BP,
		X86_REG_SI,   X86_REG_DI,   X86_REG_R8W,  X86_REG_R9W,	X86_REG_R10W, X86_REG_R11W,
		X86_REG_R12W, X86_REG_R13W, X86_REG_R14W, X86_REG_R15W,
	};
	static const x86_reg r8[NGPR] = {
		X86_REG_AL,   X86_REG_CL,   X86_REG_DL,	  X86_REG_BL,	X86_REG_SPL,  X86_REG_BPL,
		X86_REG_SIL,  X86_REG_DIL,  X86_REG_R8B,  X86_REG_R9B,	X86_REG_R10B, X86_REG_R11B,
		X86_REG_R12B, X86_REG_R13B, X86_REG_R14B, X86_REG_R15B,
	};
	static const x86_reg high8[4] = { X86_REG_AH, X86_REG_CH, X86_REG_DH, X86_REG_BH };

	*narrow = true;
	for (int i = 0; i < NGPR; i++) {
		if (reg == r64[i]) {
			*narrow = false;
			return i;
		}
		if (reg == r32[i] || reg == r16[i] || reg == r8[i])
			return i;
	}
	for (int i = 0; i < 4; i++)
		if (reg == high8[i])
			return i;
	return -1;
}

/* The rules of arch/x86/kernel/uprobes.c: branch_setup_xol_ops emulates
 * relative call, jmp and jcc and the one-byte nop, unless a 0x66 prefix is
 * present; push_setup_xol_ops emulates push of a register (rex 0x41 for
 * r8-r15). Everything else is single-stepped out of line. */
static bool kernel_emulates(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	uint8_t op = x->opcode[0];

	for (int i = 0; i < 4; i++)
		if (x->prefix[i] == 0x66)
			return false;
	if (op == 0xe8 || op == 0xe9 || op == 0xeb || (op >= 0x70 && op <= 0x7f))
		return true;
	if (op == 0x0f && x->opcode[1] >= 0x80 && x->opcode[1] <= 0x8f)
		return true;
	if (op == 0x90 && in->size == 1)
		return true;
	if (op >= 0x50 && op <= 0x57)
		return in->size == 1 || (in->size == 2 && x->rex == 0x41);
	return false;
}

/* The cache slot of the instruction at vaddr, decoded on first use; -1
 * when it cannot be read or decoded. */
static int decode_slot(struct planner *p, uint64_t vaddr)
{
	uint8_t buf[INSN_MAX_LEN];
	const uint8_t *code = buf;
	uint64_t addr = vaddr;
	size_t n;
	cs_insn *in;

	for (int i = 0; i < p->ninsns; i++)
		if (p->insns[i]->address == vaddr)
			return i;
	if (p->ninsns == MAX_INSNS)
		return -1;
	n = p->rd->read(p->rd->arg, vaddr, buf, sizeof(buf));
	if (!n)
		return -1;
	in = cs_malloc(p->cs);
	if (!in)
		return -1;
	if (!cs_disasm_iter(p->cs, &code, &n, &addr, in)) {
		cs_free(in, 1);
		return -1;
	}
	p->insns[p->ninsns] = in;
	return p->ninsns++;
}

static const cs_insn *decode(struct planner *p, uint64_t vaddr)
{
	int i = decode_slot(p, vaddr);

	return i < 0 ? NULL : p->insns[i];
}

static bool is_reg_op(const cs_x86_op *o, int *g, bool *narrow)
{
	if (o->type != X86_OP_REG)
		return false;
	*g = gpr_of(o->reg, narrow);
	return *g >= 0;
}

/* The effect of one non-control-flow instruction on the register model.
 * Only the moves that carry arguments and stack addresses to the call are
 * followed; any other write makes its registers unknown. */
static void apply(struct planner *p, const cs_insn *in, struct state *s)
{
	const cs_x86 *x = &in->detail->x86;
	cs_regs rd, wr;
	uint8_t nrd, nwr;
	int d = -1, src = -1;
	bool dn = false, sn = false;

	if (x->op_count >= 1)
		is_reg_op(&x->operands[0], &d, &dn);
	switch (in->id) {
	case X86_INS_MOV:
	case X86_INS_MOVSXD:
		if (d < 0 || x->op_count != 2)
			break;
		if (is_reg_op(&x->operands[1], &src, &sn)) {
			struct value v = s->r[src];

			if (src == RSP) {
				v = (struct value){ .kind = dn ? V_UNKNOWN : V_STACK };
			} else if (v.kind == V_ARG) {
				/* movslq %edx,%rdx keeps an int argument */
				v.narrow = v.narrow || sn || (dn && in->id == X86_INS_MOV);
			} else if (v.kind != V_CONST && (sn || dn)) {
				v.kind = V_UNKNOWN;
			}
			s->r[d] = v;
			return;
		}
		if (x->operands[1].type == X86_OP_IMM) {
			int64_t c = x->operands[1].imm;

			/* a 32-bit move zero-extends: $0xffffffff in eax is int -1 */
			s->r[d] = (struct value){ .kind = V_CONST, .c = dn ? (int32_t)c : c };
			return;
		}
		break;
	case X86_INS_LEA: {
		/* a frame slot: off rsp, or off rbp once it holds rsp */
		int base = gpr_of(x->operands[1].mem.base, &sn);

		if (d >= 0 && !dn && base >= 0 && !sn &&
		    x->operands[1].mem.index == X86_REG_INVALID &&
		    (base == RSP || s->r[base].kind == V_STACK)) {
			s->r[d] = (struct value){ .kind = V_STACK };
			return;
		}
		break;
	}
	case X86_INS_XOR:
		if (d >= 0 && is_reg_op(&x->operands[1], &src, &sn) && src == d) {
			s->r[d] = (struct value){ .kind = V_CONST };
			return;
		}
		break;
	}
	if (cs_regs_access(p->cs, in, rd, &nrd, wr, &nwr))
		nwr = 0;
	for (int i = 0; i < nwr; i++) {
		int g = gpr_of(wr[i], &dn);

		if (g >= 0 && g != RSP)
			s->r[g] = (struct value){ .kind = V_UNKNOWN };
	}
}

static bool value_is_arg(const struct value *v, int arg, bool may_narrow)
{
	return v->kind == V_ARG && v->arg == arg && (may_narrow || !v->narrow);
}

/* Does the call made in state s pass the function's own SSL*, buffer and
 * length on, with an out-parameter for the bytes processed? */
static bool worker_call(const struct planner *p, const struct state *s)
{
	const struct value *out = &s->r[RCX];

	if (!value_is_arg(&s->r[RDI], 0, false) || !value_is_arg(&s->r[RSI], 1, false) ||
	    !value_is_arg(&s->r[RDX], 2, true))
		return false;
	if (p->fn->api == API_OUT_PARAM)
		return value_is_arg(out, 3, false);
	return out->kind == V_STACK;
}

static bool outside(const struct planner *p, uint64_t vaddr)
{
	return p->fn->size && (vaddr < p->fn->vaddr || vaddr >= p->fn->vaddr + p->fn->size);
}

/* Whether a call returns: a call whose fall-through leaves the function
 * does not (__stack_chk_fail, abort). Past the function's known bounds (a
 * tail-jumped body, or no st_size) alignment padding after the call is
 * the only sign of that. */
static bool call_returns(struct planner *p, const cs_insn *in)
{
	uint64_t next = in->address + in->size;
	const cs_insn *n;

	if (!outside(p, in->address) && p->fn->size)
		return !outside(p, next);
	n = decode(p, next);
	return n && n->id != X86_INS_NOP && n->id != X86_INS_INT3;
}

static void insn_text(const cs_insn *in, char *out, size_t outsz)
{
	/* long operands are cut: the text is for people, the vaddr is exact */
	snprintf(out, outsz, "%.15s%s%.30s", in->mnemonic, in->op_str[0] ? " " : "", in->op_str);
}

/* After the worker call at `call`: the first emulated instruction, with
 * nothing in between that writes eax, moves rsp or branches. */
static int find_result(struct planner *p, const cs_insn *call, uint64_t *at)
{
	uint64_t va = call->address + call->size;

	for (int i = 0; i < 16; i++) {
		const cs_insn *in = decode(p, va);
		cs_regs rd, wr;
		uint8_t nrd, nwr;
		bool narrow;

		if (!in)
			return reject(p, "cannot decode the code after the call at +0x%llx",
				      rel(p, call->address));
		if (kernel_emulates(in)) {
			*at = va;
			return 0;
		}
		if (cs_insn_group(p->cs, in, CS_GRP_JUMP) || cs_insn_group(p->cs, in, CS_GRP_RET) ||
		    cs_insn_group(p->cs, in, CS_GRP_CALL))
			break;
		if (cs_regs_access(p->cs, in, rd, &nrd, wr, &nwr))
			return reject(p, "cannot tell what %s at +0x%llx writes", in->mnemonic,
				      rel(p, va));
		for (int j = 0; j < nwr; j++) {
			int g = gpr_of(wr[j], &narrow);

			if (g == RAX)
				return reject(p,
					      "no instruction the kernel emulates after the call at +0x%llx before %s at +0x%llx overwrites its result",
					      rel(p, call->address), in->mnemonic, rel(p, va));
			/* the byte count is in a slot of this frame */
			if (g == RSP && p->fn->api == API_INT_RETURN)
				return reject(p,
					      "no instruction the kernel emulates after the call at +0x%llx before %s at +0x%llx releases the frame holding the byte count",
					      rel(p, call->address), in->mnemonic, rel(p, va));
		}
		va += in->size;
	}
	return reject(p, "no instruction the kernel emulates right after the call at +0x%llx",
		      rel(p, call->address));
}

static int walk(struct planner *p, struct state *s, uint64_t va);

/* A callee may change every caller-saved register (capstone lists only the
 * registers a call itself writes). */
static void clobber_call(struct state *s)
{
	static const enum gpr caller_saved[] = { RAX, RCX, RDX, RSI, RDI, 8, 9, 10, 11 };

	for (size_t i = 0; i < sizeof(caller_saved) / sizeof(caller_saved[0]); i++)
		s->r[caller_saved[i]] = (struct value){ .kind = V_UNKNOWN };
}

static int take_worker_call(struct planner *p, const cs_insn *in, struct state *s)
{
	uint64_t result = 0;

	if (s->called)
		return reject(p, "a path makes the worker call twice (+0x%llx)",
			      rel(p, in->address));
	if (p->call_at && p->call_at != in->address)
		return reject(p, "two different worker calls (+0x%llx and +0x%llx)",
			      rel(p, p->call_at), rel(p, in->address));
	if (find_result(p, in, &result))
		return -1;
	if (!p->call_at) {
		p->call_at = in->address;
		p->result_at = result;
	}
	s->called = true;
	s->fresh = true;
	clobber_call(s);
	s->r[RAX] = (struct value){ .kind = V_RESULT };
	return walk(p, s, in->address + in->size);
}

static int walk_ret(struct planner *p, const struct state *s, uint64_t va)
{
	const struct value *ax = &s->r[RAX];

	if (s->called)
		return 0;
	if (ax->kind == V_CONST && (int32_t)ax->c <= 0)
		return 0;
	if (s->other_call)
		return reject(p, "the return at +0x%llx follows a call (+0x%llx) that is not given the function's SSL*, buffer, length and out-parameter in registers",
			      rel(p, va), rel(p, s->other_call));
	return reject(p, "the return at +0x%llx is reached without the worker call and may return a byte count",
		      rel(p, va));
}

static int walk(struct planner *p, struct state *s, uint64_t va)
{
	for (;;) {
		const cs_insn *in;
		const cs_x86 *x;
		int slot;

		if (++p->steps > MAX_STEPS)
			return reject(p, "too many paths through the function");
		for (int i = 0; i < s->depth; i++)
			if (s->path[i] == va)
				return reject(p, "a loop at +0x%llx", rel(p, va));
		if (s->depth == MAX_PATH)
			return reject(p, "a path longer than %d instructions", MAX_PATH);
		s->path[s->depth++] = va;
		slot = decode_slot(p, va);
		if (slot < 0)
			return reject(p, "cannot decode the instruction at +0x%llx", rel(p, va));
		in = p->insns[slot];
		x = &in->detail->x86;
		if (!s->fresh)
			p->elsewhere[slot] = true;
		else if (va == p->result_at)
			s->fresh = false;

		if (cs_insn_group(p->cs, in, CS_GRP_RET))
			return walk_ret(p, s, va);
		if (in->id == X86_INS_CALL) {
			if (x->operands[0].type != X86_OP_IMM)
				return reject(p, "an indirect call at +0x%llx", rel(p, va));
			if (!s->called && worker_call(p, s))
				return take_worker_call(p, in, s);
			if (!call_returns(p, in))
				return 0;
			if (!s->called && !s->other_call)
				s->other_call = va;
			clobber_call(s);
			va += in->size;
			continue;
		}
		if (in->id == X86_INS_JMP) {
			if (x->operands[0].type != X86_OP_IMM)
				return reject(p, "an indirect jump at +0x%llx", rel(p, va));
			va = (uint64_t)x->operands[0].imm;
			continue;
		}
		if (cs_insn_group(p->cs, in, CS_GRP_JUMP)) {
			struct state taken;

			if (x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
				return reject(p, "a %s at +0x%llx", in->mnemonic, rel(p, va));
			/* jcxz/loop also write rcx; the model keeps it unknown */
			apply(p, in, s);
			taken = *s;
			if (walk(p, &taken, (uint64_t)x->operands[0].imm))
				return -1;
			va += in->size;
			continue;
		}
		if (cs_insn_group(p->cs, in, CS_GRP_INT) || cs_insn_group(p->cs, in, CS_GRP_IRET) ||
		    in->id == X86_INS_HLT || in->id == X86_INS_UD2 || in->id == X86_INS_SYSCALL)
			return reject(p, "%s at +0x%llx", in->mnemonic, rel(p, va));
		apply(p, in, s);
		va += in->size;
	}
}

static void entry_return(struct planner *p, struct probe_plan *plan, const char *why)
{
	const cs_insn *in = decode(p, p->fn->vaddr);

	plan->method = PROBE_ENTRY_RETURN;
	plan->enter.vaddr = p->fn->vaddr;
	plan->result = plan->enter;
	plan->enter_emulated = in && kernel_emulates(in);
	if (in)
		insn_text(in, plan->enter.insn, sizeof(plan->enter.insn));
	snprintf(plan->reason, sizeof(plan->reason), "%s", why);
}

int probe_plan(const struct code_reader *r, const struct plan_func *fn, bool x86_64,
	       enum probe_method want, struct probe_plan *plan)
{
	struct planner p = { .rd = r, .fn = fn };
	struct state *s;
	int err;

	memset(plan, 0, sizeof(*plan));
	plan->enter.vaddr = fn->vaddr;
	plan->result.vaddr = fn->vaddr;
	plan->method = PROBE_ENTRY_RETURN;
	if (!x86_64) {
		snprintf(plan->reason, sizeof(plan->reason),
			 "the planner decodes x86-64 code only");
		return 0;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &p.cs) != CS_ERR_OK) {
		snprintf(plan->reason, sizeof(plan->reason), "capstone cannot decode x86-64");
		return -1;
	}
	cs_option(p.cs, CS_OPT_DETAIL, CS_OPT_ON);
	s = calloc(1, sizeof(*s));
	if (!s) {
		err = -1;
		snprintf(plan->reason, sizeof(plan->reason), "out of memory");
		goto out;
	}
	err = 0;
	if (want == PROBE_ENTRY_RETURN) {
		entry_return(&p, plan, "--probe-method=entry-return");
		goto out;
	}
	for (int i = 0; i < 4; i++)
		s->r[arg_regs[i]] = (struct value){ .kind = V_ARG, .arg = i };
	if (!walk(&p, s, fn->vaddr) && p.call_at && p.elsewhere[decode_slot(&p, p.result_at)])
		reject(&p, "the result point at +0x%llx is also reached without the worker call",
		       rel(&p, p.result_at));
	if (p.why[0] || !p.call_at) {
		entry_return(&p, plan, p.why[0] ? p.why : "no call passes the arguments on");
		goto out;
	}
	plan->method = PROBE_PLANNED;
	plan->enter.vaddr = p.call_at;
	plan->result.vaddr = p.result_at;
	plan->enter_emulated = true;
	insn_text(decode(&p, p.call_at), plan->enter.insn, sizeof(plan->enter.insn));
	insn_text(decode(&p, p.result_at), plan->result.insn, sizeof(plan->result.insn));
out:
	free(s);
	for (int i = 0; i < p.ninsns; i++)
		cs_free(p.insns[i], 1);
	cs_close(&p.cs);
	return err;
}
