/* ClickHouse over its HTTP interface (libcurl): the clickhouse:// URL that names a database and
 * the options of the sink, and one call that runs a statement. Only what every ClickHouse from
 * 18.16 on accepts: POST to "/", the statement in the body or in ?query= when the body carries
 * the rows, basic authentication, gzip request bodies. Store layer only: readers and writers
 * above it name a URL, never SQL. */
#ifndef HALOG_STORE_CHHTTP_H
#define HALOG_STORE_CHHTTP_H
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define CH_SCHEME "clickhouse://"
#define CH_NAME_MAX 64

/* A parsed clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE[?OPTION=VALUE&…] URL.
 * Options: user, password (else $HALOG_CLICKHOUSE_USER / $HALOG_CLICKHOUSE_PASSWORD, else
 * "default" and none), cluster (the remote_servers name: rows go through the *_all Distributed
 * tables), and the sink's spool, spool_max, memory, batch, batch_ms, timeout, compress; the
 * readers' page and state (the SQLite file of saved searches and alerts: store/state.h). */
struct ch_url {
	char host[256];		  /* name or address, IPv6 without brackets */
	unsigned port;		  /* default 8123 */
	char db[CH_NAME_MAX];	  /* [A-Za-z0-9_]+ */
	char user[CH_NAME_MAX];	  /* "default" when none is given */
	char password[256];	  /* "" when none */
	char cluster[CH_NAME_MAX]; /* "" when the database is one server */
	char spool[4096];	  /* the sink's spool file; "" for the caller's default */
	char state[4096];	  /* the readers' state file (store_state_open); "" for the default */
	uint64_t spool_max;	  /* bytes of the spool file at most (default 1 GiB) */
	uint64_t memory;	  /* bytes of batches held in memory at most (default 256 MiB) */
	uint64_t batch;		  /* rows per insert at most (default 100000) */
	uint64_t batch_ms;	  /* an insert at the latest this long after its first row (1000) */
	uint64_t timeout_ms;	  /* one HTTP request at most this long (default 30000) */
	uint64_t page;		  /* rows a reader's cursor fetches per request (default 20000) */
	char compress[8];	  /* the sink's bodies: "gzip", or "none" (the default for a
				     loopback host: 127.x, ::1, localhost) */
	char text[480];		  /* "clickhouse://HOST:PORT/DB" for messages (no password) */
};

/* True when s starts with clickhouse://. */
int ch_is_url(const char *s);
/* Parses url, then loads libcurl (lazylib_load), which every user of a URL needs. Returns 0,
 * or -1 with the reason in err: the part of the URL that is wrong (shown as ch_url_redact does,
 * never its password), else "ClickHouse needs LIBRARY: WHY". */
int ch_url_parse(const char *url, struct ch_url *u, char *err, size_t errsz);

#define CH_SHOWN_MAX 4096 /* a buffer for ch_url_redact: longer URLs are shown cut */
/* s as a message, an answer or a log may show it: when s is a URL (it holds "://"), the PASSWORD
 * of USER:PASSWORD@ and the value of each password= option read as "***", as ch_url_parse reads
 * them; anything else (a file's path) is s itself. Returns s when s is no URL, else buf, which
 * holds the shown URL cut to bufsz - 1 bytes. Loads no library: usable before ch_url_parse. */
const char *ch_url_redact(const char *s, char *buf, size_t bufsz);

struct ch_conn;

/* A connection (one curl handle, kept alive between calls) to the server of u (copied). Used by
 * one thread at a time. Returns NULL when out of memory. */
struct ch_conn *ch_conn_new(const struct ch_url *u);
void ch_conn_free(struct ch_conn *c);
const struct ch_url *ch_conn_url(const struct ch_conn *c);

/* Runs one statement. With body NULL, sql is sent as the request body; otherwise sql goes in
 * the URL (e.g. "INSERT INTO t FORMAT RowBinary") and body[0..len) is the data, gzip-compressed
 * when gzipped. settings, when not NULL, is appended to the URL ("&insert_distributed_sync=1").
 * The answer's body is appended to out when out is not NULL. Returns 0; -1 with the reason in
 * err ("clickhouse://h:p/db: HTTP 500: Code: 60, … Table x doesn't exist"; the server's
 * message is cut at its first line); *sent, when not NULL, tells whether the request may have
 * reached the server (0: it certainly did not, e.g. connection refused). */
int ch_exec(struct ch_conn *c, const char *sql, const void *body, size_t len, int gzipped,
	    const char *settings, struct strbuf *out, int *sent, char *err, size_t errsz);

/* Appends src[0..len) to out gzip-compressed (level 1). Returns 0 or -1 (no memory). */
int ch_gzip(const void *src, size_t len, struct strbuf *out);

/* The server's version as major * 1000 + minor (18016 for 18.16.1). Returns 0 or -1. */
int ch_server_version(struct ch_conn *c, int *version, char *err, size_t errsz);

#endif
