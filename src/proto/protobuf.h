/* protobuf.h - schema-less protobuf rendering, like protoc --decode_raw:
 * field numbers and wire types, length-delimited fields shown as nested
 * messages when they parse as one, else as strings or bytes. */
#ifndef TLSTOP_PROTO_PROTOBUF_H
#define TLSTOP_PROTO_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define PB_MULTILINE 0x1 /* protoc layout, two spaces per level; else one line */

/* True when buf is a well-formed protobuf message (every field has a valid
 * tag, wire type and length, groups balanced) and is not empty. */
bool protobuf_valid(const uint8_t *buf, size_t n);
/* Appends the rendering to out: one line `1: "ord-77" 2: 1999 3 { 1: "EUR" }`
 * or protoc's multi-line layout. Returns 0, or -1 when buf is not valid
 * protobuf (out is then unchanged). */
int protobuf_render(const uint8_t *buf, size_t n, unsigned int flags, struct strbuf *out);

#endif
