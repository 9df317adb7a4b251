/* elf_syms.h - function symbols of an ELF file and their file offsets
 * (what uprobes attach to), with libelf. */
#ifndef TLSTOP_ELF_SYMS_H
#define TLSTOP_ELF_SYMS_H

#include <stdbool.h>
#include <stdint.h>

struct elf_sym {
	const char *name; /* in: symbol to look for */
	bool found; /* out: defined function symbol */
	bool from_symtab; /* out: found in .symtab rather than .dynsym */
	uint64_t vaddr; /* out: st_value */
	uint64_t offset; /* out: file offset of the code, for a uprobe */
	uint64_t size; /* out: st_size, 0 when unknown */
	/* out: end (vaddr) of the code that may be read at offset + (vaddr -
	 * this.vaddr): the file part of the executable segment holding it */
	uint64_t segment_end;
};

struct elf_file_info {
	int type; /* ET_EXEC, ET_DYN, ... */
	int machine; /* EM_X86_64, ... */
	bool has_dynsym;
	bool has_symtab;
	bool has_interp; /* PT_INTERP: a dynamically linked executable */
	char build_id[41]; /* hex, "" when there is none */
};

/* Look up every syms[i].name among the defined STT_FUNC/STT_GNU_IFUNC symbols
 * of .dynsym and .symtab of the ELF file open on fd (not closed, offset not
 * relied on). Offsets are file offsets: vaddr - p_vaddr + p_offset of the
 * executable PT_LOAD segment that contains vaddr, for PIE, non-PIE and
 * shared objects alike. Returns 0 (whether or not any symbol is found), or
 * -1 with *cause set (malloc'd) when the file is not a readable ELF file. */
int elf_syms_lookup(int fd, struct elf_sym *syms, int nsyms, struct elf_file_info *info,
		    char **cause);

/* Convert a virtual address to a file offset through the PT_LOAD segments.
 * Returns 0, or -1 when no segment contains vaddr. Exposed for tests. */
int elf_vaddr_to_offset(int fd, uint64_t vaddr, uint64_t *offset);

/* Whether a section named section (".rodata") contains needle; used to tell
 * a stripped binary carrying OpenSSL from one without TLS. */
bool elf_section_contains(int fd, const char *section, const char *needle);

#endif
