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
/* [offset, offset + chunk_len) of the call was dropped by the prefilter:
 * no data[] follows */
#define TLSTOP_F_SKIP (1u << 6)

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
	__u8 pad[2];
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

#endif /* TLSTOP_H */
