/* store.h - the bounded message store: decoded messages grouped per
 * connection for the UI and batch snapshots, oldest evicted first past a
 * per-connection or an overall byte budget, evictions counted. */
#ifndef TLSTOP_STORE_H
#define TLSTOP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "htab.h"
#include "message.h"

struct store_conn_key {
	char id[48]; /* "fd:PID:FD", "ssl:PID:0x..."; NUL-terminated */
	uint64_t gen; /* tells a reused fd apart: the message's conn_seq */
};

struct store_limits {
	size_t conn_budget; /* bytes per connection: its messages and its own record */
	size_t total_budget; /* bytes overall */
};

struct store_msg;

/* A connection and what the UI shows about it. The counters cover every
 * message added, evicted or not. Read-only for callers. */
struct store_conn {
	struct htab_node hnode; /* store-private from here ... */
	struct store_conn *prev, *next;
	struct store_msg *oldest, *newest; /* ... to here */

	struct store_conn_key key;
	uint64_t first_ns, last_ns; /* start of its first message, end of its latest */
	uint64_t msgs_in, msgs_out; /* out: sent by the traced process */
	uint64_t bytes_in, bytes_out; /* body bytes on the wire (body_len) */
	uint64_t errors; /* as methods_is_error() */
	uint64_t evicted_msgs, evicted_bytes;
	uint64_t nmsgs; /* messages held now */
	size_t mem; /* bytes held now, counted against conn_budget */
	char *last_path; /* latest path seen; NULL before one */
	enum msg_proto proto; /* 0 before any message; MSG_GRPC once one gRPC message was seen */
	bool closed;
	uint64_t closed_ns;
	struct tlstop_data who; /* of the latest message; last: it ends in a flexible array */
};

/* A message held by the store. Read-only for callers. */
struct store_msg {
	struct htab_node hnode; /* store-private from here ... */
	struct store_msg *gprev, *gnext; /* all messages, in insertion order */
	struct store_msg *cprev, *cnext; /* ... to here: the connection's */

	struct message *m;
	struct store_conn *conn;
	size_t mem; /* msg_mem() at insertion plus the store's overhead */
};

struct store_stats {
	uint64_t conns; /* connections held, open or closed */
	uint64_t msgs; /* messages held */
	uint64_t evicted_msgs, evicted_bytes; /* ever, all connections */
	size_t mem; /* what the budgets count */
	struct store_limits lim;
};

struct store;

/* An empty store with those budgets; NULL when out of memory. */
struct store *store_new(const struct store_limits *lim);
/* Frees the store, its connections and every message it holds. */
void store_free(struct store *s);

/* Adds m to the connection with key k (created on first use) and evicts
 * the oldest messages past the budgets: that connection's past
 * conn_budget, anybody's past total_budget. The store takes m in every
 * case. A message larger than conn_budget is kept alone on its
 * connection; one that cannot fit total_budget even alone is counted as
 * evicted at once and 1 is returned. Returns 0 when held, -1 when out of
 * memory (m freed, not counted). Invalidates every store_conn and
 * store_msg pointer the caller holds: evicting may free closed
 * connections. Message ids must be unique. */
int store_add(struct store *s, const struct store_conn_key *k, struct message *m);

/* Marks the connection closed at now_ns; it stays until store_reap()
 * or until its last message is evicted. -1 when no such connection. */
int store_conn_close(struct store *s, const struct store_conn_key *k, uint64_t now_ns);
/* Frees the closed connections closed before before_ns, with their
 * messages (not counted as evictions). Returns how many went. Invalidates
 * pointers as store_add() does. */
size_t store_reap(struct store *s, uint64_t before_ns);

/* The connection with that key and generation, or NULL. */
struct store_conn *store_conn_find(const struct store *s, const struct store_conn_key *k);
/* All connections, oldest created first: store_conn_first(), then
 * store_conn_next() until NULL. */
struct store_conn *store_conn_first(const struct store *s);
struct store_conn *store_conn_next(const struct store_conn *c);

/* A connection's messages held: from store_conn_oldest() through
 * store_msg_newer(), or from store_conn_newest() through store_msg_older(),
 * until NULL. */
struct store_msg *store_conn_oldest(const struct store_conn *c);
struct store_msg *store_conn_newest(const struct store_conn *c);
struct store_msg *store_msg_newer(const struct store_msg *sm);
struct store_msg *store_msg_older(const struct store_msg *sm);
/* The message with that id, or NULL once it was evicted (or never added). */
struct store_msg *store_msg_find(const struct store *s, uint64_t id);

/* Bytes held: what the budgets count. */
size_t store_mem(const struct store *s);
void store_stats(const struct store *s, struct store_stats *st);

#endif
