/* record.c - the recording file: a checksummed header, then framed records. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "record.h"

#define REC_HEADER_SIZE 32
#define REC_FRAME_SIZE 12
/* fewer write(2) calls at ~100k records/s than stdio's st_blksize default */
#define REC_WRITE_BUFFER (256 * 1024)
#define REC_READ_INITIAL 4096

struct rec_writer {
	FILE *f;
	char *path;
	char *vbuf;
};

struct rec_reader {
	FILE *f;
	char *path;
	int64_t realtime_offset_ns;
	uint64_t off; /* file offset of the next record */
	uint8_t *buf;
	size_t cap;
	bool failed;
};

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* Checksum of one record: its type and length (the first 8 bytes of the
 * frame) and the payload. */
static uint32_t rec_crc(const uint8_t *frame, const void *payload, uint32_t len)
{
	uLong crc = crc32(0L, frame, 8);

	/* zlib's length is a uInt; REC_MAX_PAYLOAD keeps len within it */
	if (len)
		crc = crc32(crc, payload, len);
	return (uint32_t)crc;
}

static void rec_writer_free(struct rec_writer *w)
{
	free(w->vbuf);
	free(w->path);
	free(w);
}

int rec_writer_open(struct rec_writer **wp, const char *path, int64_t realtime_offset_ns,
		    char **cause)
{
	uint8_t hdr[REC_HEADER_SIZE] = { 0 };
	struct rec_writer *w;
	struct stat st;
	int fd;

	*wp = NULL;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path)) || !(w->vbuf = malloc(REC_WRITE_BUFFER))) {
		if (w)
			rec_writer_free(w);
		if (asprintf(cause, "%s: out of memory", path) < 0)
			*cause = NULL;
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (asprintf(cause, "%s: %s", path, strerror(errno)) < 0)
			*cause = NULL;
		rec_writer_free(w);
		return -1;
	}
	/* The recording holds decrypted traffic: an existing file keeps its old
	 * mode through O_TRUNC, so reset it. Only for regular files, since
	 * "-w /dev/null" as root must not make /dev/null 0600. */
	if (fstat(fd, &st) < 0 || (S_ISREG(st.st_mode) && fchmod(fd, 0600) < 0)) {
		if (asprintf(cause, "%s: cannot make the file private (mode 0600): %s", path,
			     strerror(errno)) < 0)
			*cause = NULL;
		close(fd);
		rec_writer_free(w);
		return -1;
	}
	w->f = fdopen(fd, "w");
	if (!w->f) {
		if (asprintf(cause, "%s: %s", path, strerror(errno)) < 0)
			*cause = NULL;
		close(fd);
		rec_writer_free(w);
		return -1;
	}
	setvbuf(w->f, w->vbuf, _IOFBF, REC_WRITE_BUFFER);

	memcpy(hdr, REC_MAGIC, 8);
	put_le32(hdr + 8, REC_VERSION);
	put_le32(hdr + 12, REC_HEADER_SIZE);
	put_le64(hdr + 16, (uint64_t)realtime_offset_ns);
	put_le32(hdr + 24, 0);
	put_le32(hdr + 28, (uint32_t)crc32(0L, hdr, 28));
	if (fwrite(hdr, 1, sizeof(hdr), w->f) != sizeof(hdr)) {
		if (asprintf(cause, "%s: write failed: %s", path, strerror(errno)) < 0)
			*cause = NULL;
		fclose(w->f);
		rec_writer_free(w);
		return -1;
	}
	*wp = w;
	return 0;
}

int rec_write(struct rec_writer *w, uint32_t type, const void *buf, uint32_t len,
	      char **cause)
{
	uint8_t frame[REC_FRAME_SIZE];

	if (len > REC_MAX_PAYLOAD) {
		if (asprintf(cause, "%s: a record of %" PRIu32 " bytes is over the %u byte limit",
			     w->path, len, REC_MAX_PAYLOAD) < 0)
			*cause = NULL;
		return -1;
	}
	put_le32(frame, type);
	put_le32(frame + 4, len);
	put_le32(frame + 8, rec_crc(frame, buf, len));
	if (fwrite(frame, 1, sizeof(frame), w->f) != sizeof(frame) ||
	    (len && fwrite(buf, 1, len, w->f) != len)) {
		if (asprintf(cause, "%s: write failed: %s", w->path, strerror(errno)) < 0)
			*cause = NULL;
		return -1;
	}
	return 0;
}

int rec_writer_close(struct rec_writer *w, char **cause)
{
	int ret = 0;

	if (!w)
		return 0;
	/* a full disk shows up here, when the buffer finally reaches write(2) */
	if (fflush(w->f) != 0 || ferror(w->f)) {
		if (asprintf(cause, "%s: write failed: %s", w->path, strerror(errno)) < 0)
			*cause = NULL;
		ret = -1;
	}
	if (fclose(w->f) != 0 && ret == 0) {
		if (asprintf(cause, "%s: close failed: %s", w->path, strerror(errno)) < 0)
			*cause = NULL;
		ret = -1;
	}
	rec_writer_free(w);
	return ret;
}

static void rec_reader_free(struct rec_reader *r)
{
	if (r->f)
		fclose(r->f);
	free(r->buf);
	free(r->path);
	free(r);
}

static int rec_header_check(struct rec_reader *r, const uint8_t *hdr, size_t n, char **cause)
{
	const char *path = r->path;
	int ret;

	if (memcmp(hdr, REC_MAGIC, n < 8 ? n : 8) != 0 || n == 0)
		ret = n == 0 ? asprintf(cause, "%s: empty file, not a tlstop recording", path) :
			       asprintf(cause, "%s: not a tlstop recording", path);
	else if (n >= 12 && get_le32(hdr + 8) != REC_VERSION)
		ret = asprintf(cause, "%s: recording version %" PRIu32
			       ", this tlstop reads version %d",
			       path, get_le32(hdr + 8), REC_VERSION);
	else if (n < REC_HEADER_SIZE)
		ret = asprintf(cause, "%s: truncated at byte offset %zu, inside the %d-byte header",
			       path, n, REC_HEADER_SIZE);
	else if (get_le32(hdr + 28) != (uint32_t)crc32(0L, hdr, 28))
		ret = asprintf(cause, "%s: corrupted header at byte offset 0 (checksum mismatch)",
			       path);
	else if (get_le32(hdr + 12) != REC_HEADER_SIZE || get_le32(hdr + 24) != 0)
		ret = asprintf(cause, "%s: corrupted header at byte offset 0 "
			       "(header size %" PRIu32 ", flags %#" PRIx32 ")",
			       path, get_le32(hdr + 12), get_le32(hdr + 24));
	else
		return 0;
	if (ret < 0)
		*cause = NULL;
	return -1;
}

int rec_reader_open(struct rec_reader **rp, const char *path, char **cause)
{
	uint8_t hdr[REC_HEADER_SIZE];
	struct rec_reader *r;
	size_t n;

	*rp = NULL;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path)) || !(r->buf = malloc(REC_READ_INITIAL))) {
		if (r)
			rec_reader_free(r);
		if (asprintf(cause, "%s: out of memory", path) < 0)
			*cause = NULL;
		return -1;
	}
	r->cap = REC_READ_INITIAL;
	r->f = fopen(path, "rbe");
	if (!r->f) {
		if (asprintf(cause, "%s: %s", path, strerror(errno)) < 0)
			*cause = NULL;
		rec_reader_free(r);
		return -1;
	}
	n = fread(hdr, 1, sizeof(hdr), r->f);
	if (n < sizeof(hdr) && ferror(r->f)) {
		if (asprintf(cause, "%s: read error at byte offset %zu: %s", path, n,
			     strerror(errno)) < 0)
			*cause = NULL;
		rec_reader_free(r);
		return -1;
	}
	if (rec_header_check(r, hdr, n, cause) < 0) {
		rec_reader_free(r);
		return -1;
	}
	r->realtime_offset_ns = (int64_t)get_le64(hdr + 16);
	r->off = REC_HEADER_SIZE;
	*rp = r;
	return 0;
}

int64_t rec_reader_realtime_offset(const struct rec_reader *r)
{
	return r->realtime_offset_ns;
}

/* Reads exactly len bytes found at pos bytes into the current record; 0 on
 * success, else -1 with *cause naming where the data stops. */
static int rec_read_exact(struct rec_reader *r, void *dst, size_t len, uint64_t pos,
			  char **cause)
{
	size_t got = fread(dst, 1, len, r->f);
	int ret;

	if (got == len)
		return 0;
	if (ferror(r->f))
		ret = asprintf(cause, "%s: read error at byte offset %" PRIu64 ": %s", r->path,
			       r->off + pos + got, strerror(errno));
	else
		ret = asprintf(cause, "%s: truncated at byte offset %" PRIu64
			       ", in the record starting at byte offset %" PRIu64,
			       r->path, r->off + pos + got, r->off);
	if (ret < 0)
		*cause = NULL;
	return -1;
}

int rec_read(struct rec_reader *r, uint32_t *type, const void **buf, uint32_t *len,
	     char **cause)
{
	uint8_t frame[REC_FRAME_SIZE];
	uint32_t plen;
	int c;

	if (r->failed) {
		if (asprintf(cause, "%s: cannot read past the error at byte offset %" PRIu64,
			     r->path, r->off) < 0)
			*cause = NULL;
		return -1;
	}
	/* a clean end is end of file exactly at a record boundary */
	c = getc(r->f);
	if (c == EOF && !ferror(r->f))
		return 0;
	if (c != EOF)
		ungetc(c, r->f);
	/* framing is lost after any error: every return below until the end
	 * leaves the reader failed */
	r->failed = true;
	if (rec_read_exact(r, frame, sizeof(frame), 0, cause) < 0)
		return -1;
	plen = get_le32(frame + 4);
	if (plen > REC_MAX_PAYLOAD) {
		if (asprintf(cause, "%s: corrupted record at byte offset %" PRIu64
			     " (length %" PRIu32 " is over the %u byte limit)",
			     r->path, r->off, plen, REC_MAX_PAYLOAD) < 0)
			*cause = NULL;
		return -1;
	}
	if (plen > r->cap) {
		size_t cap = r->cap;
		uint8_t *nb;

		while (cap < plen)
			cap *= 2;
		if (cap > REC_MAX_PAYLOAD)
			cap = REC_MAX_PAYLOAD;
		nb = realloc(r->buf, cap);
		if (!nb) {
			if (asprintf(cause, "%s: out of memory for the record at byte offset %"
				     PRIu64, r->path, r->off) < 0)
				*cause = NULL;
			return -1;
		}
		r->buf = nb;
		r->cap = cap;
	}
	if (rec_read_exact(r, r->buf, plen, REC_FRAME_SIZE, cause) < 0)
		return -1;
	if (get_le32(frame + 8) != rec_crc(frame, r->buf, plen)) {
		if (asprintf(cause, "%s: corrupted record at byte offset %" PRIu64
			     " (checksum mismatch)", r->path, r->off) < 0)
			*cause = NULL;
		return -1;
	}
	r->failed = false;
	r->off += REC_FRAME_SIZE + (uint64_t)plen;
	*type = get_le32(frame);
	*buf = r->buf;
	*len = plen;
	return 1;
}

void rec_reader_close(struct rec_reader *r)
{
	if (r)
		rec_reader_free(r);
}
