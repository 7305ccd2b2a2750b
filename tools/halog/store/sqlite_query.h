/* Private to the store layer: a parsed query (query/query.h) compiled to an SQL boolean
 * expression over the SQLite store's tables (lines l, requests r, events e), every value a bound
 * parameter, and the SQL functions it calls. */
#ifndef HALOG_STORE_SQLITE_QUERY_H
#define HALOG_STORE_SQLITE_QUERY_H
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

struct query;
struct sqlite3;
struct sqlite3_stmt;

/* The tables the expression reads besides lines l: the caller's FROM clause must LEFT JOIN
 * requests AS r / events AS e on the line id when these are set. */
#define SQLQ_REQUESTS 0x1
#define SQLQ_EVENTS 0x2

struct sqlq_param;

struct sqlq {
	struct strbuf sql; /* "(halog_contains(l.raw, ?1) AND …)", "1" for the empty query */
	unsigned needs;	   /* SQLQ_* */
	struct sqlq_param *params; /* ?1..?nparams */
	size_t nparams, aparams;
};

/* Compiles q into c (initialised here; release with sqlq_release, also after a failure).
 * Parameters are numbered ?1..?N and bound by sqlq_bind; the caller numbers its own after them
 * (or names them). Returns 0 or -1 (out of memory). */
int sqlq_compile(const struct query *q, struct sqlq *c);
void sqlq_release(struct sqlq *c);
/* Binds c's parameters to stmt (which holds c.sql); q must outlive the statement (regexes are
 * bound by pointer). Returns an SQLite result code. */
int sqlq_bind(const struct sqlq *c, struct sqlite3_stmt *stmt);
/* Registers on db the functions compiled expressions call: halog_contains(hay, needle),
 * halog_regexp(compiled, subject) and halog_cidr(ip, net), and a progress handler that interrupts
 * a statement once the query budget is over (query_budget_start). Returns an SQLite result code. */
int sqlq_register(struct sqlite3 *db);

#endif
