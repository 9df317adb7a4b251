/* tlstop.h - everything that crosses the BPF/userspace boundary. */
#ifndef TLSTOP_H
#define TLSTOP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/*
 * Fixed-width types only, no pointers, explicit padding: this header is
 * compiled by clang -target bpf and by the host compiler, and the recording
 * format stores these structs as they are.
 */

#define TLSTOP_COMM_LEN 16
#define TLSTOP_MAX_LIBS 1024 /* attached target files; index = uprobe cookie */
#define TLSTOP_CHUNK_MAX 16384 /* payload bytes in one ring-buffer record */
#define TLSTOP_SNAPLEN_MAX (1024 * 1024)
#define TLSTOP_SNAPLEN_DEFAULT (64 * 1024)
#define TLSTOP_MAX_PIDS 1024

enum tlstop_event_type {
	TLSTOP_EV_DATA = 1, /* one chunk of a TLS call's plaintext */
	TLSTOP_EV_EXEC = 2, /* a process called execve: scan it for targets */
	TLSTOP_EV_MMAP = 3, /* a process mapped an executable file never seen */
	TLSTOP_EV_EXIT = 4, /* a traced process exited: drop its state */
};

enum tlstop_func {
	TLSTOP_FN_SSL_WRITE = 0,
	TLSTOP_FN_SSL_READ = 1,
	TLSTOP_FN_SSL_WRITE_EX = 2,
	TLSTOP_FN_SSL_READ_EX = 3,
	TLSTOP_FN_COUNT = 4,
};

/* The uprobe cookie of an entry probe: which library and function, and
 * whether the bytes processed come from the size_t * in the 4th argument
 * (the _ex calls, and every planned probe on a worker call) rather than from
 * the int result. Return and result probes carry the lib_id alone. */
#define TLSTOP_COOKIE_LIB_MASK 0xffffULL
#define TLSTOP_COOKIE_FN_SHIFT 16
#define TLSTOP_COOKIE_OUT_PARAM (1ULL << 24)
#define TLSTOP_COOKIE(lib_id, fn, out_param)                                       \
	((__u64)(lib_id) | ((__u64)(fn) << TLSTOP_COOKIE_FN_SHIFT) |               \
	 ((out_param) ? TLSTOP_COOKIE_OUT_PARAM : 0))

enum tlstop_dir {
	TLSTOP_DIR_OUT = 0, /* plaintext the process sent (SSL_write*) */
	TLSTOP_DIR_IN = 1, /* plaintext the process received (SSL_read*) */
};

enum tlstop_role {
	TLSTOP_ROLE_UNKNOWN = 0,
	TLSTOP_ROLE_CLIENT = 1,
	TLSTOP_ROLE_SERVER = 2,
};

/* tlstop_data.flags */
#define TLSTOP_F_TRUNCATED (1u << 0) /* len > captured_len */
#define TLSTOP_F_HAS_FD (1u << 1) /* fd is a socket seen in this call or cached */
#define TLSTOP_F_FD_CACHED (1u << 2) /* fd came from the (pid, SSL*) cache */
#define TLSTOP_F_FD_CONFLICT (1u << 3) /* two different socket fds in one call */
#define TLSTOP_F_HAS_ADDR (1u << 4) /* addr holds an inet/inet6 socket's ends */
#define TLSTOP_F_LAST (1u << 5) /* last chunk of the call */
/* The prefilter dropped bytes of [offset, offset + chunk_len) of the call:
 * with nskips 0, all of them and no data[] follows; otherwise data[] opens
 * with nskips struct tlstop_skip, then holds the range's other bytes. */
#define TLSTOP_F_SKIP (1u << 6)

/* A range of the call the prefilter dropped, in a TLSTOP_F_SKIP record:
 * in order, apart, inside the record's range. One record per call carries
 * them all, so a call with a dropped DATA payload costs one record header. */
struct tlstop_skip {
	__u32 off;
	__u32 len;
};

#define TLSTOP_SKIPS_MAX 64 /* ranges one record may list */
/* a call whose kept bytes are at most this many goes up in one record with
 * its skips; a longer one as its pieces and one record per dropped range */
#define TLSTOP_PACK_MAX 1024

struct tlstop_addr {
	__u16 family; /* AF_INET, AF_INET6, AF_UNIX or 0 */
	__u16 role; /* enum tlstop_role */
	__u16 lport; /* host byte order */
	__u16 rport;
	__u8 laddr[16]; /* IPv4 in the first 4 bytes */
	__u8 raddr[16];
};

struct tlstop_event_hdr {
	__u32 type; /* enum tlstop_event_type */
	__u32 size; /* bytes of the whole record */
};

/* One ring-buffer record of a TLS call; a call bigger than TLSTOP_CHUNK_MAX
 * becomes several records with increasing offset, the last flagged LAST. */
struct tlstop_data {
	struct tlstop_event_hdr hdr;
	__u64 ts_ns; /* CLOCK_MONOTONIC at return */
	__u64 start_ns; /* CLOCK_MONOTONIC at entry */
	__u64 ssl; /* SSL* value, the connection key when no fd is seen */
	__u32 pid;
	__u32 tid;
	__u32 lib_id; /* index of the target file (uprobe cookie) */
	__s32 fd; /* -1 when no socket fd is known */
	__u32 len; /* bytes the call processed */
	__u32 captured_len; /* bytes of the call captured, min(len, snaplen) */
	__u32 offset; /* offset of data[] in the call's payload */
	__u32 chunk_len; /* bytes in data[] */
	__u32 flags; /* TLSTOP_F_* */
	__u8 func; /* enum tlstop_func */
	__u8 dir; /* enum tlstop_dir */
	__u16 nskips; /* TLSTOP_F_SKIP: struct tlstop_skip at the start of data[] */
	char comm[TLSTOP_COMM_LEN];
	struct tlstop_addr addr;
	__u8 data[];
};

/* EXEC, MMAP and EXIT records */
struct tlstop_proc {
	struct tlstop_event_hdr hdr;
	__u64 ts_ns;
	__u32 pid;
	__u32 pad;
	__u64 dev; /* MMAP: the file's device (kernel encoding) */
	__u64 ino; /* MMAP: the file's inode */
	char comm[TLSTOP_COMM_LEN];
};

/* Kernel-side counters, one slot per CPU, summed by userspace. */
struct tlstop_counters {
	__u64 ringbuf_fail; /* reservations refused: records lost */
	__u64 ringbuf_fail_bytes; /* payload bytes in those records */
	__u64 map_fail; /* map updates that failed (map full) */
	__u64 read_fail; /* bpf_probe_read_user of the buffer failed */
	__u64 truncated; /* calls longer than snaplen */
	__u64 proc_lost; /* exec/mmap/exit notices lost */
};

/* Per target file, the integrity counters of fd attribution. */
struct tlstop_lib_counters {
	__u64 calls; /* successful calls captured */
	__u64 bytes; /* bytes the calls processed */
	__u64 fd_seen; /* a socket fd seen during the call */
	__u64 fd_cached; /* no syscall, fd from the (pid, SSL*) cache */
	__u64 no_fd; /* neither: (pid, SSL*) identity */
	__u64 fd_conflict; /* two different socket fds during one call */
};

/* ---- the in-kernel prefilter: rules lowered from the filter expression
 * (filters/lower.c), written into maps by src/kfilter.c ---- */

#define TLSTOP_KF_PATH_MAX 64 /* path bytes (raw or Huffman-coded) the kernel compares */
#define TLSTOP_KF_MAX_PIDS 64
#define TLSTOP_KF_MAX_COMMS 64
#define TLSTOP_KF_MAX_PREFIXES 512 /* each is stored raw and Huffman-coded */

/* tlstop_kf_config.flags: which rules are in force */
#define TLSTOP_KF_PIDS (1u << 0)
#define TLSTOP_KF_COMMS (1u << 1)
#define TLSTOP_KF_PATHS (1u << 2)
#define TLSTOP_KF_SAMPLE (1u << 3)

struct tlstop_kf_config {
	__u32 flags;
	__u32 gen; /* bumped at every change: verdicts of an older one are void */
	__u32 sample_n; /* TLSTOP_KF_SAMPLE: keep one connection in sample_n */
	__u32 pad;
};

enum tlstop_kf_enc {
	TLSTOP_KF_RAW = 0,
	TLSTOP_KF_HUFF = 1, /* HPACK Huffman code (RFC 7541 Appendix B) */
};

/* Key of the LPM trie of path prefixes: data[0] is the encoding, then the
 * path bytes; prefixlen counts bits from data[0], so a Huffman-coded prefix
 * need not end on a byte. */
struct tlstop_kf_path_key {
	__u32 prefixlen;
	__u8 data[1 + TLSTOP_KF_PATH_MAX + 3];
};

/* What the prefilter kept from userspace, one slot per CPU. */
struct tlstop_kf_counters {
	__u64 calls; /* whole calls not copied (pid, comm, sampling, HTTP/1 requests) */
	__u64 bytes; /* payload bytes not copied */
	__u64 streams; /* HTTP/2 streams and HTTP/1 requests whose path matched no prefix */
	__u64 conns_sampled_out;
	__u64 path_unknown; /* a request whose path the kernel could not read: passed */
};

/* The prefilter's state (bpf/kf_logic.h decides with it), in maps of the
 * BPF programs and in the userspace model of the property test. */

#define KF_WIN 512 /* header block bytes examined at once */
#define KF_BLOCK_MAX 16384 /* header block bytes walked, sliding the window */
#define KF_H1_PEEK 128 /* request line bytes examined */
#define KF_MAX_SEGS 32 /* dropped ranges in one call */
#define KF_MAX_FRAMES 2048 /* frames walked in one call */
#define KF_MAX_FIELDS 64 /* HPACK representations walked in one block */
#define KF_H2_PREFACE_LEN 24
#define KF_FRAME_HDR 9

enum kf_proto {
	KF_P_NEW = 0, /* not recognised yet */
	KF_P_H1,
	KF_P_H2,
};

/* One direction of a connection. */
struct kf_dir {
	__u32 remain; /* payload bytes of the current frame still to come */
	__u32 ins; /* HPACK insertions walked since the start */
	__u8 sync; /* HTTP/2 framing known at the current position */
	__u8 drop; /* the current frame's payload is dropped */
	__u8 seen; /* a call went this way */
	__u8 hpack_lost; /* a header block was not walked: indexes unknown */
	__u8 hdr_have; /* bytes of a frame header cut by the call's end */
	__u8 h1_cont; /* the last call ended inside a request line */
	__u8 carry; /* a header block cut by a call's end is in kf_carries */
	__u8 pad;
	__u8 hdr[32]; /* room for a masked offset plus a masked length */
};

/* Per (pid, SSL*). id is random so that streams and table entries of an
 * earlier connection that used the same SSL* are never taken for ours. */
struct kf_conn {
	__u64 id;
	__u32 sample_n; /* rate the sampling decision was made at, 0: none */
	__u32 h1_gen; /* generation of the rules h1_reject was decided by */
	__u8 proto; /* enum kf_proto */
	__u8 sampled_out;
	__u8 h1_reject; /* the current HTTP/1 request matched no prefix */
	__u8 pad[5];
	struct kf_dir dir[2];
};

struct kf_stream_key {
	__u64 conn;
	__u32 stream;
	__u32 pad;
};

/* An HTTP/2 stream whose :path matched no prefix. */
struct kf_stream {
	__u32 gen;
	__u8 closed; /* bit per direction that sent END_STREAM */
	__u8 pad[3];
};

/* A :path the peer inserted into its HPACK table, by insertion number. */
struct kf_ins_key {
	__u64 conn;
	__u32 abs;
	__u32 dir;
};

/* A header block (one HEADERS frame's payload) that a call's end cut, kept
 * until the rest comes so that it can be walked whole: readers such as
 * gRPC's cut blocks often, and an unwalked block makes the rest of the
 * direction's table unknown. */
struct kf_carry_key {
	__u64 conn;
	__u32 dir;
	__u32 pad;
};

struct kf_carry {
	__u32 len; /* the frame's payload bytes, at most KF_WIN */
	__u32 have; /* bytes of it in buf */
	__u32 stream;
	__u8 flags; /* the HEADERS frame's */
	__u8 pad[3];
	__u8 buf[2 * KF_WIN]; /* room for a masked offset plus a masked length */
};

struct kf_seg {
	__u32 off;
	__u32 len;
};

/* The cursor of a header block walk. */
struct kf_hwalk {
	__u32 i; /* in win; past end after a string longer than the window */
	__u32 end; /* of the block's bytes in win */
	__u32 base; /* offset in the block of win[0] */
	__u32 block_end; /* the block's length, padding left out */
	__u64 src; /* the block in the traced process, to slide win along it */
	__u32 ins; /* insertions in this block so far */
	__u8 path; /* enum kf_path_state */
	__u8 bad; /* malformed or past the window: insertions unknown */
	__u8 done;
	__u8 dyn; /* dynamic indexes can be resolved */
};

/* Per-CPU scratch of one call's decisions. Loop state lives here rather
 * than on the stack: the verifier then need not follow every value a
 * cursor takes, and the loops verify in a few passes. */
struct kf_scratch {
	__u32 pos; /* next byte of the call to walk */
	__u32 tmp; /* see kf_opaque() */
	struct kf_hwalk h;
	__u8 win[KF_WIN + TLSTOP_KF_PATH_MAX]; /* a key is copied whole from any offset */
	struct tlstop_kf_path_key key; /* the path being decided */
	struct tlstop_kf_path_key lit; /* a :path literal just read */
	struct kf_seg segs[KF_MAX_SEGS]; /* dropped ranges, in order */
	struct kf_carry carry; /* zero: what a new carry starts from */
	__u32 nsegs;
	__u32 dropped; /* bytes in segs */
	__u32 rejected; /* streams or requests rejected by this call */
	__u32 unknown; /* requests whose path could not be read */
};

#endif /* TLSTOP_H */
