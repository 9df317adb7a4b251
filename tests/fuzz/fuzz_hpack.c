/* fuzz_hpack.c - libFuzzer target for HPACK: a stream of header blocks into one
 * decoder, Huffman decode/encode identity, and encoder -> decoder round trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/hpack.h"

#define MAX_FIELDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads every byte handed over, so the sanitizers see any bad pointer. */
static void check_field(void *arg, const char *name, size_t nlen, const char *value, size_t vlen,
			unsigned int flags)
{
	unsigned int *sum = arg;
	size_t i;

	if (!name != !!(flags & HPACK_NAME_UNKNOWN) || !value != !!(flags & HPACK_VALUE_UNKNOWN))
		abort();
	if ((name && name[nlen]) || (value && value[vlen]))
		abort();
	for (i = 0; name && i < nlen; i++)
		*sum += (uint8_t)name[i];
	for (i = 0; value && i < vlen; i++)
		*sum += (uint8_t)value[i];
}

/* The input as blocks: a 2-byte big-endian header, then that many bytes;
 * headers with the top bit are events: 0xc000 | n the peer's SETTINGS bound
 * n, other 0x8000 ones a lost block. */
static void fuzz_blocks(const uint8_t *p, size_t n, bool joined_late)
{
	struct hpack_decoder d;
	unsigned int sum = 0;
	size_t len;

	hpack_decoder_init(&d, joined_late);
	while (n >= 2) {
		len = (size_t)p[0] << 8 | p[1];
		p += 2;
		n -= 2;
		if ((len & 0xc000) == 0xc000) {
			hpack_decoder_settings(&d, len & 0x3fff);
			continue;
		}
		if (len & 0x8000) {
			hpack_decoder_lost_block(&d);
			continue;
		}
		if (len > n)
			len = n;
		hpack_decode_block(&d, p, len, check_field, &sum);
		if (d.size > d.max_size || (!d.nentries && d.size))
			abort();
		p += len;
		n -= len;
	}
	hpack_decoder_free(&d);
}

/* A valid Huffman string has exactly one encoding, so encode(decode(x))
 * gives x back. */
static void fuzz_huffman(const uint8_t *p, size_t n)
{
	char *dec = malloc(n / 5 * 8 + n % 5 * 8 / 5 + 1);
	uint8_t *enc;
	long l = hpack_huffman_decode(p, n, dec);

	if (l >= 0) {
		enc = malloc(n + 1);
		if (hpack_huffman_len(dec, (size_t)l) != n ||
		    hpack_huffman_encode(dec, (size_t)l, enc) != n || memcmp(enc, p, n))
			abort();
		free(enc);
	}
	free(dec);
}

struct expect {
	char name[32], value[64];
	unsigned int flags;
};

struct expected {
	struct expect f[MAX_FIELDS];
	int n, seen;
};

static void compare_field(void *arg, const char *name, size_t nlen, const char *value,
			  size_t vlen, unsigned int flags)
{
	struct expected *x = arg;
	const struct expect *e;

	if (x->seen >= x->n)
		abort();
	e = &x->f[x->seen++];
	if (flags != e->flags || !name || !value || nlen != strlen(e->name) ||
	    vlen != strlen(e->value) || memcmp(name, e->name, nlen) ||
	    memcmp(value, e->value, vlen))
		abort();
}

/* Takes up to max - 1 bytes as a C string (NUL bytes become 'x'). */
static void take_string(const uint8_t **p, size_t *n, size_t len, char *out, size_t max)
{
	size_t i;

	len = len % max;
	if (len > *n)
		len = *n;
	for (i = 0; i < len; i++)
		out[i] = (*p)[i] ? (char)(*p)[i] : 'x';
	out[len] = '\0';
	*p += len;
	*n -= len;
}

/* Fields from the input, each as: control byte (how = c % 3), name length,
 * value length, name, value. Control bit 0x80 closes the block; 0x40 then
 * changes the table size for the next one. */
static void fuzz_roundtrip(const uint8_t *p, size_t n, bool huffman)
{
	static uint8_t block[MAX_FIELDS * 200];
	static struct expected x;
	struct hpack_encoder e;
	struct hpack_decoder d;
	size_t blen = 0, w, nlen, vlen;
	struct expect *f;
	uint8_t c;

	hpack_encoder_init(&e, huffman);
	hpack_decoder_init(&d, false);
	hpack_decoder_settings(&d, 1 << 16);
	x.n = 0;
	while (n >= 3) {
		c = p[0];
		nlen = p[1];
		vlen = p[2];
		p += 3;
		n -= 3;
		f = &x.f[x.n++];
		f->flags = c % 3 == HPACK_NEVER ? HPACK_NEVER_INDEXED : 0;
		take_string(&p, &n, nlen, f->name, sizeof(f->name));
		take_string(&p, &n, vlen, f->value, sizeof(f->value));
		w = hpack_encode_field(&e, f->name, f->value, (enum hpack_how)(c % 3), block + blen,
				       sizeof(block) - blen);
		if (!w)
			abort();
		blen += w;
		if (!(c & 0x80) && x.n < MAX_FIELDS && n >= 3)
			continue;
		x.seen = 0;
		if (hpack_decode_block(&d, block, blen, compare_field, &x) || x.seen != x.n ||
		    d.nentries != e.table.nentries || d.size != e.table.size)
			abort();
		x.n = 0;
		blen = 0;
		if (c & 0x40)
			hpack_encoder_set_max(&e, (uint32_t)(c & 0x3f) * 80);
	}
	hpack_encoder_free(&e);
	hpack_decoder_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	fuzz_blocks(data + 1, size - 1, data[0] & 1);
	fuzz_huffman(data + 1, size - 1);
	fuzz_roundtrip(data + 1, size - 1, data[0] & 2);
	return 0;
}
