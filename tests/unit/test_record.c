/* test_record.c - unit tests for the recording file writer and reader. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "record.h"
#include "unit.h"

static char dir[] = "/tmp/test_record.XXXXXX";

static char *tmp_path(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		exit(99);
	return p;
}

static bool contains(const char *s, const char *sub)
{
	return s && strstr(s, sub);
}

static void fill(uint8_t *buf, uint32_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (uint32_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		exit(99);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n ? (size_t)n : 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		exit(99);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void spit(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(buf, 1, len, f) != len || fclose(f))
		exit(99);
}

static mode_t file_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return (mode_t)-1;
	return st.st_mode & 07777;
}

/* Reads every record; returns the last rec_read result (0 or -1) or -2
 * when the open failed, with the number of records read and any cause. */
static int read_all(const char *path, int *nrec, char **cause)
{
	struct rec_reader *r;
	const void *buf;
	uint32_t type, len;
	int ret;

	*nrec = 0;
	*cause = NULL;
	if (rec_reader_open(&r, path, cause) < 0)
		return -2;
	while ((ret = rec_read(r, &type, &buf, &len, cause)) == 1)
		(*nrec)++;
	rec_reader_close(r);
	return ret;
}

static const uint32_t sizes[] = { 0,    1,    2,    11,    12,    13,   255,  4095,
				  4096, 4097, 8193, 65535, 65536, 3,    0,    1000 };

static void test_round_trip(void)
{
	char *path = tmp_path("round_trip");
	const int64_t offsets[] = { 0, 1712345678123456789LL, -5, INT64_MIN, INT64_MAX };
	struct rec_writer *w;
	struct rec_reader *r;
	uint8_t *buf = malloc(REC_MAX_PAYLOAD), *expect = malloc(REC_MAX_PAYLOAD);
	const void *got;
	uint32_t type, len;
	char *cause = NULL;
	int n = 0, ret, bad = 0;
	const int count = 2000;

	/* the header alone: a clean, empty recording, for every offset */
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		CHECK(rec_writer_open(&w, path, offsets[i], &cause) == 0);
		CHECK(rec_writer_close(w, &cause) == 0);
		CHECK(rec_reader_open(&r, path, &cause) == 0);
		CHECK(rec_reader_realtime_offset(r) == offsets[i]);
		CHECK(rec_read(r, &type, &got, &len, &cause) == 0);
		CHECK(rec_read(r, &type, &got, &len, &cause) == 0);
		rec_reader_close(r);
	}

	CHECK(rec_writer_open(&w, path, -123456789012345LL, &cause) == 0);
	for (int i = 0; i < count; i++) {
		uint32_t sz = sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];

		fill(buf, sz, (uint32_t)i);
		if (rec_write(w, 1 + (uint32_t)i % 4, buf, sz, &cause) < 0)
			bad++;
	}
	/* exactly the limit is allowed, one byte more is refused */
	fill(buf, REC_MAX_PAYLOAD, 7);
	CHECK(rec_write(w, REC_EVENT, buf, REC_MAX_PAYLOAD, &cause) == 0);
	CHECK(rec_write(w, REC_EVENT, buf, REC_MAX_PAYLOAD + 1, &cause) == -1);
	CHECK(contains(cause, "limit"));
	free(cause);
	cause = NULL;
	CHECK(rec_write(w, 0xdeadbeef, "x", 1, &cause) == 0);
	CHECK(rec_writer_close(w, &cause) == 0);
	CHECK(bad == 0);
	CHECK_EQ_U64(file_mode(path), 0600);

	CHECK(rec_reader_open(&r, path, &cause) == 0);
	CHECK(rec_reader_realtime_offset(r) == -123456789012345LL);
	for (n = 0; n < count; n++) {
		uint32_t sz = sizes[n % (sizeof(sizes) / sizeof(sizes[0]))];

		ret = rec_read(r, &type, &got, &len, &cause);
		fill(expect, sz, (uint32_t)n);
		if (ret != 1 || type != 1 + (uint32_t)n % 4 || len != sz ||
		    (sz && memcmp(got, expect, sz))) {
			bad++;
			break;
		}
		CHECK(got != NULL);
	}
	CHECK(bad == 0);
	CHECK_EQ_U64(n, count);
	CHECK(rec_read(r, &type, &got, &len, &cause) == 1);
	fill(expect, REC_MAX_PAYLOAD, 7);
	CHECK(type == REC_EVENT && len == REC_MAX_PAYLOAD && !memcmp(got, expect, len));
	/* unknown types are the caller's to skip */
	CHECK(rec_read(r, &type, &got, &len, &cause) == 1);
	CHECK(type == 0xdeadbeef && len == 1 && !memcmp(got, "x", 1));
	CHECK(rec_read(r, &type, &got, &len, &cause) == 0);
	CHECK(cause == NULL);
	rec_reader_close(r);

	unlink(path);
	free(path);
	free(buf);
	free(expect);
}

static void test_mode(void)
{
	char *path = tmp_path("mode");
	char *fifo = tmp_path("fifo");
	struct rec_writer *w;
	char *cause = NULL;
	mode_t old = umask(0);
	int fd, rfd;
	size_t len;
	uint8_t *buf;

	/* a new file, with a permissive umask */
	CHECK(rec_writer_open(&w, path, 0, &cause) == 0);
	CHECK_EQ_U64(file_mode(path), 0600);
	CHECK(rec_writer_close(w, &cause) == 0);
	unlink(path);

	/* an existing readable file is truncated and made private */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK(write(fd, "old secret contents", 19) == 19);
	CHECK(fchmod(fd, 0644) == 0);
	close(fd);
	CHECK_EQ_U64(file_mode(path), 0644);
	CHECK(rec_writer_open(&w, path, 0, &cause) == 0);
	CHECK_EQ_U64(file_mode(path), 0600);
	CHECK(rec_writer_close(w, &cause) == 0);
	CHECK_EQ_U64(file_mode(path), 0600);
	buf = slurp(path, &len);
	CHECK_EQ_U64(len, 32);
	CHECK(!memcmp(buf, REC_MAGIC, 8));
	free(buf);
	unlink(path);

	/* not a regular file (think /dev/null): written to, mode left alone */
	CHECK(mkfifo(fifo, 0644) == 0);
	rfd = open(fifo, O_RDONLY | O_NONBLOCK);
	CHECK(rfd >= 0);
	CHECK(rec_writer_open(&w, fifo, 0, &cause) == 0);
	CHECK(rec_writer_close(w, &cause) == 0);
	CHECK_EQ_U64(file_mode(fifo), 0644);
	close(rfd);
	unlink(fifo);

	/* an unwritable path gives a cause, not a crash */
	CHECK(rec_writer_open(&w, "/nonexistent-dir/x.rec", 0, &cause) == -1);
	CHECK(w == NULL);
	CHECK(contains(cause, "/nonexistent-dir/x.rec"));
	free(cause);

	umask(old);
	free(fifo);
	free(path);
}

/* header + records of 0, 5 and 20 bytes; returns the record boundaries */
static char *small_recording(size_t *bounds, size_t *nbounds)
{
	char *path = tmp_path("small");
	struct rec_writer *w;
	char *cause = NULL;
	uint8_t payload[20];
	const uint32_t lens[] = { 0, 5, 20 };
	size_t off = 32;

	fill(payload, sizeof(payload), 3);
	CHECK(rec_writer_open(&w, path, 42, &cause) == 0);
	*nbounds = 0;
	bounds[(*nbounds)++] = off;
	for (size_t i = 0; i < 3; i++) {
		CHECK(rec_write(w, REC_EVENT + (uint32_t)i, payload, lens[i], &cause) == 0);
		off += 12 + lens[i];
		bounds[(*nbounds)++] = off;
	}
	CHECK(rec_writer_close(w, &cause) == 0);
	return path;
}

static void test_truncation(void)
{
	size_t bounds[4], nbounds, len;
	char *src = small_recording(bounds, &nbounds);
	char *path = tmp_path("truncated");
	uint8_t *file = slurp(src, &len);
	int clean = 0, failed = 0;

	CHECK_EQ_U64(len, 32 + 12 + 17 + 32);
	for (size_t cut = 0; cut <= len; cut++) {
		size_t boundary = 0, last = 32;
		int nrec, ret, expect_rec = 0;
		char *cause, want[64];

		for (size_t i = 0; i < nbounds; i++) {
			if (bounds[i] == cut)
				boundary = cut;
			if (bounds[i] <= cut) {
				last = bounds[i];
				expect_rec = (int)i;
			}
		}
		spit(path, file, cut);
		ret = read_all(path, &nrec, &cause);
		if (cut < 32) {
			CHECK(ret == -2);
			CHECK(cause != NULL);
		} else if (boundary) {
			CHECK(ret == 0);
			CHECK(cause == NULL);
			CHECK_EQ_U64(nrec, expect_rec);
			clean++;
		} else {
			CHECK(ret == -1);
			CHECK_EQ_U64(nrec, expect_rec);
			snprintf(want, sizeof(want), "truncated at byte offset %zu", cut);
			CHECK(contains(cause, want));
			snprintf(want, sizeof(want), "starting at byte offset %zu", last);
			CHECK(contains(cause, want));
		}
		if (cut > 0 && cut < 32) {
			snprintf(want, sizeof(want), "truncated at byte offset %zu", cut);
			CHECK(contains(cause, want));
		}
		if (ret != 0)
			failed++;
		free(cause);
	}
	CHECK_EQ_U64(clean, nbounds);
	CHECK_EQ_U64(failed, len + 1 - nbounds);
	unlink(path);
	unlink(src);
	free(file);
	free(path);
	free(src);
}

static void test_bit_flips(void)
{
	size_t bounds[4], nbounds, len;
	char *src = small_recording(bounds, &nbounds);
	char *path = tmp_path("flipped");
	uint8_t *file = slurp(src, &len);
	int undetected = 0, cases = 0;

	for (size_t byte = 0; byte < len; byte++) {
		for (int bit = 0; bit < 8; bit++) {
			int nrec, ret;
			char *cause;

			file[byte] ^= (uint8_t)(1u << bit);
			spit(path, file, len);
			ret = read_all(path, &nrec, &cause);
			file[byte] ^= (uint8_t)(1u << bit);
			cases++;
			if (ret >= 0 || !cause) {
				undetected++;
				fprintf(stderr, "  flip byte %zu bit %d not detected\n", byte, bit);
			} else if (byte >= 32 && !contains(cause, "byte offset")) {
				undetected++;
				fprintf(stderr, "  flip byte %zu bit %d: %s\n", byte, bit, cause);
			}
			free(cause);
		}
	}
	CHECK_EQ_U64(cases, len * 8);
	CHECK_EQ_U64(undetected, 0);
	unlink(path);
	unlink(src);
	free(file);
	free(path);
	free(src);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A header as a different writer would produce it, crc made valid. */
static void make_header(uint8_t *hdr, const char *magic, uint32_t version)
{
	memset(hdr, 0, 32);
	memcpy(hdr, magic, 8);
	put_le32(hdr + 8, version);
	put_le32(hdr + 12, 32);
	put_le32(hdr + 28, (uint32_t)crc32(0L, hdr, 28));
}

/* The bytes on disk, built independently: replays of old files depend on it. */
static void test_format(void)
{
	char *path = tmp_path("format");
	struct rec_writer *w;
	char *cause = NULL;
	uint8_t expect[32 + 12 + 3 + 12], *file;
	uLong crc;
	size_t len;

	CHECK(rec_writer_open(&w, path, 0x0102030405060708LL, &cause) == 0);
	CHECK(rec_write(w, REC_LIB, "abc", 3, &cause) == 0);
	CHECK(rec_write(w, REC_STATS, NULL, 0, &cause) == 0);
	CHECK(rec_writer_close(w, &cause) == 0);

	memset(expect, 0, sizeof(expect));
	memcpy(expect, "TLSTOPRC", 8);
	put_le32(expect + 8, 1);
	put_le32(expect + 12, 32);
	put_le32(expect + 16, 0x05060708);
	put_le32(expect + 20, 0x01020304);
	put_le32(expect + 28, (uint32_t)crc32(0L, expect, 28));
	put_le32(expect + 32, 2);
	put_le32(expect + 36, 3);
	memcpy(expect + 44, "abc", 3);
	crc = crc32(0L, expect + 32, 8);
	put_le32(expect + 40, (uint32_t)crc32(crc, expect + 44, 3));
	put_le32(expect + 47, 3);
	put_le32(expect + 55, (uint32_t)crc32(0L, expect + 47, 8));

	file = slurp(path, &len);
	CHECK_EQ_U64(len, sizeof(expect));
	CHECK(len == sizeof(expect) && !memcmp(file, expect, len));
	free(file);
	unlink(path);
	free(path);
}

static void test_bad_headers(void)
{
	char *path = tmp_path("bad");
	uint8_t file[64];
	struct rec_reader *r;
	char *cause;
	int nrec;

	make_header(file, "TLSTOPRX", 1);
	spit(path, file, 32);
	CHECK(read_all(path, &nrec, &cause) == -2);
	CHECK(contains(cause, "not a tlstop recording"));
	free(cause);

	spit(path, "GIF89a\x01\x00", 8);
	CHECK(read_all(path, &nrec, &cause) == -2);
	CHECK(contains(cause, "not a tlstop recording"));
	free(cause);

	spit(path, "", 0);
	CHECK(read_all(path, &nrec, &cause) == -2);
	CHECK(contains(cause, "not a tlstop recording"));
	free(cause);

	make_header(file, REC_MAGIC, 2);
	spit(path, file, 32);
	CHECK(read_all(path, &nrec, &cause) == -2);
	CHECK(contains(cause, "recording version 2, this tlstop reads version 1"));
	free(cause);

	/* a future version is named even when its header is shorter */
	spit(path, file, 12);
	CHECK(read_all(path, &nrec, &cause) == -2);
	CHECK(contains(cause, "recording version 2"));
	free(cause);

	make_header(file, REC_MAGIC, 1);
	file[24] = 1; /* flags, crc recomputed: unknown flags are refused */
	put_le32(file + 28, (uint32_t)crc32(0L, file, 28));
	spit(path, file, 32);
	CHECK(read_all(path, &nrec, &cause) == -2);
	CHECK(contains(cause, "corrupted header"));
	free(cause);

	/* a length over the limit with an intact crc: no 4 GiB allocation */
	make_header(file, REC_MAGIC, 1);
	put_le32(file + 32, REC_EVENT);
	put_le32(file + 36, 0xffffffffu);
	put_le32(file + 40, (uint32_t)crc32(0L, file + 32, 8));
	spit(path, file, 44);
	CHECK(read_all(path, &nrec, &cause) == -1);
	CHECK(contains(cause, "corrupted record at byte offset 32"));
	free(cause);
	put_le32(file + 36, REC_MAX_PAYLOAD + 1);
	put_le32(file + 40, (uint32_t)crc32(0L, file + 32, 8));
	spit(path, file, 44);
	CHECK(read_all(path, &nrec, &cause) == -1);
	CHECK(contains(cause, "corrupted record at byte offset 32"));
	free(cause);

	/* a bad crc, then every later call keeps failing */
	put_le32(file + 36, 4);
	memcpy(file + 44, "abcd", 4);
	put_le32(file + 40, 0);
	spit(path, file, 48);
	cause = NULL;
	CHECK(rec_reader_open(&r, path, &cause) == 0);
	if (r) {
		const void *buf;
		uint32_t type, len;

		CHECK(rec_read(r, &type, &buf, &len, &cause) == -1);
		CHECK(contains(cause, "corrupted record at byte offset 32"));
		free(cause);
		cause = NULL;
		CHECK(rec_read(r, &type, &buf, &len, &cause) == -1);
		CHECK(cause != NULL);
		free(cause);
		rec_reader_close(r);
	}

	CHECK(read_all("/nonexistent-dir/x.rec", &nrec, &cause) == -2);
	CHECK(contains(cause, "/nonexistent-dir/x.rec"));
	free(cause);

	unlink(path);
	free(path);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 99;
	}
	test_round_trip();
	test_mode();
	test_truncation();
	test_bit_flips();
	test_format();
	test_bad_headers();
	rmdir(dir);
	return unit_result("test_record");
}
