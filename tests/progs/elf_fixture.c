/* elf_fixture.c - functions whose file offsets the elf_syms unit test checks
 * against what the running process sees; built as PIE, non-PIE and static. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int tlstop_fixture_write(const void *buf, int len);
int tlstop_fixture_read(void *buf, int len);

/* In .rodata, for elf_section_contains(). */
const char tlstop_fixture_marker[] = "tlstop-fixture-marker 1.0";

/* A data symbol: looking it up must not find it. */
int tlstop_fixture_data = 42;

__attribute__((noinline, used)) int tlstop_fixture_write(const void *buf, int len)
{
	const unsigned char *p = buf;
	int sum = 0;

	for (int i = 0; i < len; i++)
		sum += p[i] ^ 0x5a;
	return sum;
}

__attribute__((noinline, used)) int tlstop_fixture_read(void *buf, int len)
{
	memset(buf, 0xa5, (size_t)len);
	return len * 3 + 1;
}

/* A local (STB_LOCAL) function symbol, only in .symtab. */
__attribute__((noinline, used)) static int tlstop_fixture_local(int x)
{
	return x * 7 - 2;
}

__attribute__((noinline, used)) static int fixture_ifunc_impl(int x)
{
	return x + 11;
}

/* The STT_GNU_IFUNC symbol's value is its resolver, so that is the code
 * whose offset the test compares. */
__attribute__((noinline, used)) static int (*fixture_ifunc_resolver(void))(int)
{
	return fixture_ifunc_impl;
}

int tlstop_fixture_ifunc(int x) __attribute__((ifunc("fixture_ifunc_resolver")));

/* The kernel's view of the file offset, independent of any ELF parsing:
 * the mapping holding addr, and that mapping's file offset. */
static int maps_offset(uintptr_t addr, uint64_t *offset)
{
	char line[4096];
	FILE *f = fopen("/proc/self/maps", "r");
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off;
		char perms[8];

		if (sscanf(line, "%llx-%llx %7s %llx", &start, &end, perms, &off) != 4)
			continue;
		if (addr >= start && addr < end) {
			*offset = addr - start + off;
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

static int show(const char *name, uintptr_t addr)
{
	const unsigned char *code = (const unsigned char *)addr;
	uint64_t offset;

	if (maps_offset(addr, &offset)) {
		fprintf(stderr, "%s: %#" PRIxPTR " is in no mapping\n", name, addr);
		return 1;
	}
	printf("%s %" PRIx64 " ", name, offset);
	for (int i = 0; i < 16; i++)
		printf("%02x", code[i]);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char buf[16];
	int err = 0;

	if (argc < 2) {
		/* Taking an import's address in non-PIE code gives its
		 * undefined symbol the PLT's address as value: found must
		 * still be false. */
		int (*volatile say)(const char *) = puts;

		if (argc < 0)
			say("unreachable");
		/* Plain run: call everything, so nothing looks dead. */
		tlstop_fixture_read(buf, sizeof(buf));
		return (tlstop_fixture_write(buf, sizeof(buf)) + tlstop_fixture_local(1) +
			tlstop_fixture_ifunc(1) + tlstop_fixture_data + tlstop_fixture_marker[0]) ==
		       0;
	}
	err |= show("tlstop_fixture_write", (uintptr_t)tlstop_fixture_write);
	err |= show("tlstop_fixture_read", (uintptr_t)tlstop_fixture_read);
	err |= show("tlstop_fixture_local", (uintptr_t)tlstop_fixture_local);
	err |= show("tlstop_fixture_ifunc", (uintptr_t)fixture_ifunc_resolver);
	return err;
}
