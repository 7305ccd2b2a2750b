/* The search query language of `halog tail` and `halog search` (Papertrail-like): words,
 * "phrases", OR, -negation, parentheses, field:value and /regex/, parsed into a tree and
 * compiled to an SQL boolean expression whose every value is a bound parameter. */
#ifndef HALOG_QUERY_H
#define HALOG_QUERY_H
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "strbuf.h"

struct sqlite3;
struct sqlite3_stmt;
struct query;

#define QUERY_MAX_LEN 4096  /* bytes of query text */
#define QUERY_MAX_DEPTH 32  /* nested parentheses and negations */
#define QUERY_MAX_TERMS 256 /* words, phrases, fields and regexes */

/* SQL aliases the compiled expression refers to: the caller's FROM clause must name
 * lines AS l, and LEFT JOIN requests AS r / events AS e when query_needs() says so. */
#define QUERY_NEEDS_REQUESTS 0x1
#define QUERY_NEEDS_EVENTS 0x2

/* Parses len bytes of text (need not be NUL-terminated; may hold any byte). An empty or
 * all-blank query matches every line. Returns the query (caller frees with query_free), or
 * NULL with at least one error in dl: file "query", line 1, col the 1-based byte column.
 * Regexes are compiled here, so a bad regex is a parse error with its position. */
struct query *query_parse(const char *text, size_t len, struct diag_list *dl);
void query_free(struct query *q);

/* QUERY_NEEDS_* flags for the tables the expression reads. */
unsigned query_needs(const struct query *q);

/* Appends the query as an SQL boolean expression to sb (e.g. "(halog_contains(l.raw, ?1) AND
 * ...)"), with parameters numbered ?1..?N where N = query_param_count(q); "1" for the empty
 * query. Returns 0 or -1 (out of memory). */
int query_sql(const struct query *q, struct strbuf *sb);
int query_param_count(const struct query *q);
/* Binds the N parameters of query_sql's expression to stmt. Returns an SQLite result code. */
int query_bind(const struct query *q, struct sqlite3_stmt *stmt);

/* Registers the SQL functions the expression calls on db: halog_contains(hay, needle),
 * halog_regexp(compiled, subject) and halog_cidr(ip, net). Returns an SQLite result code. */
int query_register(struct sqlite3 *db);

/* Lines a regex gave up on (match limit reached), counted across all queries since start;
 * such lines are treated as not matching. */
uint64_t query_regex_limit_hits(void);

/* Case-insensitive (ASCII) search for needle in hay; both may hold any byte. needle must be
 * lowercase already. Returns 1 when found (an empty needle is always found), 0 otherwise. */
int query_contains(const char *hay, size_t hlen, const char *needle, size_t nlen);

/* Prints each error of dl as "PROG: query:1:COL: error: MSG", then the query and a caret
 * under the column (both made terminal-safe). */
void query_print_errors(const struct diag_list *dl, const char *text, size_t len, FILE *fp,
			const char *prog);

#endif
