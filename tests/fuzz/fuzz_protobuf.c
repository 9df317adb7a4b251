/* fuzz_protobuf.c - libFuzzer target for schema-less protobuf validation and rendering. */
#include <stddef.h>
#include <stdint.h>

#include "proto/protobuf.h"

/* The text is bounded and holds no control character a terminal would act on. */
static void check_text(const struct strbuf *sb, bool multiline)
{
	if (sb->len > 64 * 1024 + 64)
		__builtin_trap();
	for (size_t i = 0; i < sb->len; i++) {
		unsigned char c = (unsigned char)sb->s[i];

		if ((c < 0x20 && !(multiline && c == '\n')) || c == 0x7f)
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool valid = protobuf_valid(data, size);

	for (unsigned int flags = 0; flags <= PB_MULTILINE; flags += PB_MULTILINE) {
		struct strbuf sb = { 0 };
		int r = protobuf_render(data, size, flags, &sb);

		if ((r == -1) != (size > 0 && !valid) || (r == -1 && sb.len))
			__builtin_trap();
		check_text(&sb, flags & PB_MULTILINE);
		sb_free(&sb);
	}
	return 0;
}
