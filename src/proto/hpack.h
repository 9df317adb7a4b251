/* hpack.h - HPACK (RFC 7541): the decoder with its dynamic table and
 * Huffman code, able to start mid-connection (entries it never saw are
 * reported unknown, never guessed), and an encoder for tests, the demo,
 * benchmarks and filter lowering. */
#ifndef TLSTOP_PROTO_HPACK_H
#define TLSTOP_PROTO_HPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HPACK_DEFAULT_TABLE 4096

/* field flags given to the callback */
#define HPACK_NAME_UNKNOWN 0x1 /* name indexed from a dynamic entry never seen */
#define HPACK_VALUE_UNKNOWN 0x2
#define HPACK_NEVER_INDEXED 0x4 /* literal never indexed: the sender marked it sensitive */

struct hpack_entry;

struct hpack_decoder {
	struct hpack_entry *entries; /* ring, newest first */
	uint32_t nentries, cap, head;
	uint32_t size; /* RFC 7541 size of the known entries */
	uint32_t max_size; /* current table size limit */
	uint32_t settings_max; /* SETTINGS_HEADER_TABLE_SIZE bound, when known */
	/* Entries older than the known ones may exist: tlstop joined after the
	 * connection started, or a header block was lost. Indexes past the
	 * known entries are then unknown rather than errors. */
	bool unknown_tail;
	char *scratch; /* decoded strings */
	size_t scratch_cap;
};

/* name/value are NUL-terminated (and valid only during the call); NULL
 * when unknown. */
typedef void (*hpack_field_cb)(void *arg, const char *name, size_t nlen, const char *value,
			       size_t vlen, unsigned int flags);

void hpack_decoder_init(struct hpack_decoder *d, bool joined_late);
void hpack_decoder_free(struct hpack_decoder *d);
/* Decodes one complete header block (HEADERS + CONTINUATION payloads
 * joined, padding and priority removed). Returns 0, or -1 when the block is
 * malformed; the fields before the error were reported, and the table is
 * then marked unknown_tail (its state can no longer be trusted). */
int hpack_decode_block(struct hpack_decoder *d, const uint8_t *p, size_t n, hpack_field_cb cb,
		       void *arg);
/* A header block was lost: what it inserted is unknown. */
void hpack_decoder_lost_block(struct hpack_decoder *d);
/* The peer's SETTINGS_HEADER_TABLE_SIZE (an upper bound for size updates). */
void hpack_decoder_settings(struct hpack_decoder *d, uint32_t max);

/* Huffman code of RFC 7541 appendix B. decode returns the decoded length
 * (<= 8 * n / 5 + 1 bytes are written to out, which must hold that many),
 * or -1 on an invalid code (EOS inside, padding over 7 bits or not ones). */
long hpack_huffman_decode(const uint8_t *in, size_t n, char *out);
size_t hpack_huffman_len(const char *s, size_t n); /* encoded bytes */
size_t hpack_huffman_bits(const char *s, size_t n); /* encoded bits, before padding */
size_t hpack_huffman_encode(const char *s, size_t n, uint8_t *out);

/* encoder */
enum hpack_how {
	HPACK_INCREMENTAL, /* literal with incremental indexing (or an exact index hit) */
	HPACK_WITHOUT, /* literal without indexing */
	HPACK_NEVER, /* literal never indexed */
};

struct hpack_encoder {
	struct hpack_decoder table; /* the same table model, never unknown */
	bool huffman; /* Huffman-code literals when shorter */
	uint32_t pending_size_update; /* UINT32_MAX: none */
};

void hpack_encoder_init(struct hpack_encoder *e, bool huffman);
void hpack_encoder_free(struct hpack_encoder *e);
/* Emits a dynamic table size update at the start of the next field. */
void hpack_encoder_set_max(struct hpack_encoder *e, uint32_t max);
/* Appends one field to out (cap bytes); returns bytes written, or 0 when
 * out is too small. Uses the static and dynamic tables where they match. */
size_t hpack_encode_field(struct hpack_encoder *e, const char *name, const char *value,
			  enum hpack_how how, uint8_t *out, size_t cap);

#endif
