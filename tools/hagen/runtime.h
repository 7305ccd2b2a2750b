/* Talking to a running HAProxy: one command on its runtime API (a stats socket, or the master
 * CLI of master-worker mode), the process list of the master, and the proxy and server states
 * of `show stat`. Sockets are UNIX paths or HOST:PORT (TCP); every exchange has a deadline. */
#ifndef HAGEN_RUNTIME_H
#define HAGEN_RUNTIME_H
#include <stddef.h>
#include <sys/types.h>

#include "strbuf.h"

#define RT_MAX_REPLY (8u << 20) /* bytes of one answer */
#define RT_MAX_PROCS 64

/* Sends cmd (one line, without newline) to the socket at addr and reads the whole answer into
 * out (appended), within timeout_ms. master: addr is a master CLI, where a command is followed
 * by "quit" so that the master closes at once (except "reload", which closes by itself).
 * Returns 0, or -1 with a message in err (errsz bytes). */
int rt_command(const char *addr, int master, const char *cmd, int timeout_ms, struct strbuf *out,
	       char *err, size_t errsz);

/* What `show proc` on the master says. */
struct rt_procs {
	pid_t master;
	unsigned reloads, failed; /* the master's reloads, and failed ones since the last good */
	pid_t workers[RT_MAX_PROCS];
	size_t nworkers;
	pid_t old[RT_MAX_PROCS]; /* old workers still finishing their connections */
	size_t nold;
};

/* Parses the text of `show proc`. Returns 0, or -1 when it does not look like one. */
int rt_parse_procs(const char *text, struct rt_procs *p);

/* One row of `show stat`: a frontend, a backend or a server. Strings point into the table's
 * copy of the text. */
struct rt_row {
	const char *px, *sv;   /* pxname, svname ("FRONTEND", "BACKEND" or the server) */
	const char *status;    /* "UP", "DOWN", "MAINT", "UP 1/3", "no check", "OPEN" ... */
	const char *check;     /* check_status: "L7OK", "L4CON", "" ... */
	long weight;	       /* -1 when empty */
	const char *addr;      /* server address (2.0+), "" when absent */
};

struct rt_stat {
	char *text; /* owned copy, cut into fields */
	struct rt_row *rows;
	size_t n;
};

/* Parses the CSV of `show stat` (its "# pxname,svname,..." header names the columns). Returns 0
 * (release with rt_stat_release()), or -1 when it is not such a table. */
int rt_parse_stat(const char *text, size_t len, struct rt_stat *st);
void rt_stat_release(struct rt_stat *st);
/* The row of proxy px and server (or "BACKEND"/"FRONTEND") sv, or NULL. */
const struct rt_row *rt_stat_find(const struct rt_stat *st, const char *px, const char *sv);

#endif
