/* elf_syms.c - function symbols of an ELF file and their file offsets, with libelf. */
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_syms.h"

/* glibc's <elf.h> names the bit only in comments. */
#define VERSYM_HIDDEN_BIT 0x8000

/* How good a match is, higher wins: .dynsym over .symtab (what the dynamic
 * linker binds to), global over local, default version over a hidden one. */
#define RANK_DYNSYM 4
#define RANK_GLOBAL 2
#define RANK_DEFAULT 1

static bool elf_ready;

__attribute__((format(printf, 2, 3))) static void set_cause(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (!cause)
		return;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) < 0)
		*cause = NULL;
	va_end(ap);
}

/* elf_errmsg(-1) says "no error" when libelf found nothing wrong but the
 * answer is still unusable, e.g. program headers past the end of file. */
static const char *elf_err(void)
{
	int err = elf_errno();

	return err ? elf_errmsg(err) : "file truncated or corrupt";
}

static Elf *elf_open(int fd, char **cause)
{
	Elf *elf;

	if (!elf_ready) {
		if (elf_version(EV_CURRENT) == EV_NONE) {
			set_cause(cause, "libelf does not support this ELF version: %s",
				  elf_err());
			return NULL;
		}
		elf_ready = true;
	}
	/* Forget an error an earlier file left, so elf_err() is about this one. */
	elf_errno();
	/* READ_MMAP: a static binary of tens of MB costs page-table entries,
	 * not a read() of the whole file. */
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf) {
		set_cause(cause, "cannot read the file as ELF: %s", elf_err());
		return NULL;
	}
	if (elf_kind(elf) != ELF_K_ELF) {
		set_cause(cause, "not an ELF file (%s)",
			  elf_kind(elf) == ELF_K_AR ? "an ar archive" : "no ELF header");
		elf_end(elf);
		return NULL;
	}
	return elf;
}

static int segment_offset(Elf *elf, uint64_t vaddr, uint64_t *offset, uint64_t *end)
{
	bool have = false;
	GElf_Phdr ph;
	size_t i, n;

	if (elf_getphdrnum(elf, &n))
		return -1;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		/* p_filesz, not p_memsz: the .bss tail has no file offset. */
		if (vaddr < ph.p_vaddr || vaddr - ph.p_vaddr >= ph.p_filesz)
			continue;
		if (have && !(ph.p_flags & PF_X))
			continue;
		*offset = vaddr - ph.p_vaddr + ph.p_offset;
		if (end)
			*end = ph.p_vaddr + ph.p_filesz;
		have = true;
		if (ph.p_flags & PF_X)
			break;
	}
	return have ? 0 : -1;
}

int elf_vaddr_to_offset(int fd, uint64_t vaddr, uint64_t *offset)
{
	Elf *elf = elf_open(fd, NULL);
	int ret;

	if (!elf)
		return -1;
	ret = segment_offset(elf, vaddr, offset, NULL);
	elf_end(elf);
	return ret;
}

static bool note_build_id(Elf_Data *data, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t off = 0, next, name_off, desc_off, i;
	GElf_Nhdr nh;

	if (!data || !data->d_buf)
		return false;
	while ((next = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const unsigned char *desc = (const unsigned char *)data->d_buf + desc_off;

		off = next;
		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 || !nh.n_descsz ||
		    memcmp((const char *)data->d_buf + name_off, "GNU", 4))
			continue;
		/* Longer ids (ld --build-id=0x...) are cut to what fits. */
		for (i = 0; i < nh.n_descsz && 2 * i + 2 < outsz; i++) {
			out[2 * i] = hex[desc[i] >> 4];
			out[2 * i + 1] = hex[desc[i] & 0xf];
		}
		out[2 * i] = '\0';
		return true;
	}
	return false;
}

static void phdr_info(Elf *elf, size_t phnum, struct elf_file_info *info)
{
	bool want_id = !info->build_id[0];
	GElf_Phdr ph;
	size_t i;

	for (i = 0; i < phnum; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph))
			continue;
		if (ph.p_type == PT_INTERP)
			info->has_interp = true;
		/* Only reached when the section headers are gone (sstrip). */
		if (ph.p_type == PT_NOTE && want_id) {
			Elf_Data *d = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz,
							   ph.p_align == 8 ? ELF_T_NHDR8 :
									     ELF_T_NHDR);

			want_id = !note_build_id(d, info->build_id, sizeof(info->build_id));
		}
	}
}

struct table {
	Elf_Scn *scn;
	GElf_Shdr sh;
};

static void scan_table(Elf *elf, const struct table *t, Elf_Data *versym, bool dynsym,
		       struct elf_sym *syms, int nsyms, unsigned char *rank)
{
	Elf_Data *data, *strdata;
	const char *strtab;
	size_t i, n, entsz;
	Elf_Scn *strscn;

	data = elf_getdata(t->scn, NULL);
	strscn = elf_getscn(elf, t->sh.sh_link);
	strdata = strscn ? elf_getdata(strscn, NULL) : NULL;
	entsz = gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT);
	if (!data || !strdata || !strdata->d_buf || !strdata->d_size || !entsz)
		return;
	strtab = strdata->d_buf;
	/* A terminated table lets every in-range st_name be used as is,
	 * without elf_strptr()'s per-call checks on 100k+ symbols. */
	if (strtab[strdata->d_size - 1] != '\0')
		return;
	n = data->d_size / entsz;
	for (i = 1; i < n; i++) {
		const char *name;
		bool is_default;
		GElf_Versym vs;
		uint64_t off, end;
		GElf_Sym s;
		size_t len;
		int type, j, r;

		if (!gelf_getsym(data, (int)i, &s))
			break;
		type = GELF_ST_TYPE(s.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s.st_shndx == SHN_UNDEF ||
		    !s.st_value || s.st_name >= strdata->d_size)
			continue;
		name = strtab + s.st_name;
		/* .symtab of a versioned library: "SSL_write@@OPENSSL_3.0.0"
		 * is the default version, "name@VER" an old one. */
		len = strcspn(name, "@");
		for (j = 0; j < nsyms; j++)
			if (syms[j].name[0] == name[0] && !strncmp(syms[j].name, name, len) &&
			    syms[j].name[len] == '\0')
				break;
		if (j == nsyms)
			continue;
		if (dynsym)
			is_default = !versym || !gelf_getversym(versym, (int)i, &vs) ||
				     !(vs & VERSYM_HIDDEN_BIT);
		else
			is_default = name[len] == '\0' || name[len + 1] == '@';
		r = 1 + (dynsym ? RANK_DYNSYM : 0) +
		    (GELF_ST_BIND(s.st_info) != STB_LOCAL ? RANK_GLOBAL : 0) +
		    (is_default ? RANK_DEFAULT : 0);
		if (r <= rank[j] || segment_offset(elf, s.st_value, &off, &end))
			continue;
		rank[j] = (unsigned char)r;
		syms[j].found = true;
		syms[j].from_symtab = !dynsym;
		syms[j].vaddr = s.st_value;
		syms[j].offset = off;
		syms[j].size = s.st_size;
		syms[j].segment_end = end;
	}
}

int elf_syms_lookup(int fd, struct elf_sym *syms, int nsyms, struct elf_file_info *info,
		    char **cause)
{
	struct table dynsym = { 0 }, symtab = { 0 };
	struct elf_file_info local;
	unsigned char *rank = NULL;
	Elf_Data *versym = NULL;
	Elf_Scn *scn = NULL;
	size_t phnum;
	GElf_Ehdr eh;
	GElf_Phdr ph;
	int i, ret = -1;
	Elf *elf;

	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	for (i = 0; i < nsyms; i++) {
		syms[i].found = false;
		syms[i].from_symtab = false;
		syms[i].vaddr = 0;
		syms[i].offset = 0;
		syms[i].size = 0;
		syms[i].segment_end = 0;
	}
	elf = elf_open(fd, cause);
	if (!elf)
		return -1;
	if (!gelf_getehdr(elf, &eh)) {
		set_cause(cause, "cannot read the ELF header: %s", elf_err());
		goto out;
	}
	info->type = eh.e_type;
	info->machine = eh.e_machine;
	/* elfutils 0.188 reports 0 program headers, not an error, for a file
	 * cut short inside them: compare with the header's own count. */
	if (elf_getphdrnum(elf, &phnum) || (eh.e_phnum != PN_XNUM && phnum != eh.e_phnum) ||
	    (phnum && !gelf_getphdr(elf, 0, &ph))) {
		set_cause(cause, "cannot read the ELF program headers: %s", elf_err());
		goto out;
	}
	rank = calloc(nsyms > 0 ? nsyms : 1, 1);
	if (!rank) {
		set_cause(cause, "out of memory");
		goto out;
	}

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		switch (sh.sh_type) {
		case SHT_DYNSYM:
			if (!dynsym.scn)
				dynsym = (struct table){ scn, sh };
			break;
		case SHT_SYMTAB:
			if (!symtab.scn)
				symtab = (struct table){ scn, sh };
			break;
		case SHT_GNU_versym:
			versym = elf_getdata(scn, NULL);
			break;
		case SHT_NOTE:
			if (!info->build_id[0])
				note_build_id(elf_getdata(scn, NULL), info->build_id,
					      sizeof(info->build_id));
			break;
		}
	}
	info->has_dynsym = dynsym.scn && dynsym.sh.sh_size;
	info->has_symtab = symtab.scn && symtab.sh.sh_size;
	phdr_info(elf, phnum, info);

	if (info->has_dynsym)
		scan_table(elf, &dynsym, versym, true, syms, nsyms, rank);
	if (info->has_symtab)
		scan_table(elf, &symtab, NULL, false, syms, nsyms, rank);
	ret = 0;
out:
	free(rank);
	elf_end(elf);
	return ret;
}

bool elf_section_contains(int fd, const char *section, const char *needle)
{
	size_t shstrndx, nlen = strlen(needle);
	Elf_Scn *scn = NULL;
	bool found = false;
	Elf *elf;

	elf = elf_open(fd, NULL);
	if (!elf)
		return false;
	if (elf_getshdrstrndx(elf, &shstrndx))
		goto out;
	while (!found && (scn = elf_nextscn(elf, scn))) {
		const char *name;
		Elf_Data *d;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, section))
			continue;
		/* Raw bytes: no translation, a pointer into the mapping. */
		d = elf_rawdata(scn, NULL);
		found = d && d->d_buf && memmem(d->d_buf, d->d_size, needle, nlen);
	}
out:
	elf_end(elf);
	return found;
}
