/* The search query language of `halog tail` and `halog search` (Papertrail-like): words,
 * "phrases", OR, -negation, parentheses, field:value and /regex/, parsed into a tree that says
 * what the query means. The tree is backend-neutral: the store evaluates it (the SQLite backend
 * compiles it to SQL with every value a bound parameter; a block scan or ClickHouse translate the
 * same tree), so readers pass a parsed query to the store and never see how it runs. */
#ifndef HALOG_QUERY_H
#define HALOG_QUERY_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "parse/logrec.h"

struct query;
struct query_regex;

#define QUERY_MAX_LEN 4096  /* bytes of query text */
#define QUERY_MAX_DEPTH 32  /* nested parentheses and negations */
#define QUERY_MAX_TERMS 256 /* words, phrases, fields and regexes */

/* Parses len bytes of text (need not be NUL-terminated; may hold any byte). An empty or
 * all-blank query matches every line. Returns the query (caller frees with query_free), or
 * NULL with at least one error in dl: file "query", line 1, col the 1-based byte column.
 * Regexes are compiled here, so a bad regex is a parse error with its position. */
struct query *query_parse(const char *text, size_t len, struct diag_list *dl);
void query_free(struct query *q);

/* ------------------------------------------------------------------------ the tree */

enum query_op {
	QUERY_ALL,   /* every line (the empty query) */
	QUERY_AND,   /* every kid */
	QUERY_OR,    /* some kid */
	QUERY_NOT,   /* not kids[0] */
	QUERY_TEXT,  /* the raw line holds val, ASCII case-insensitively (query_contains) */
	QUERY_REGEX, /* the raw line matches re (query_regex_match) */
	QUERY_FIELD, /* a parsed field matches (below) */
};

/* What each field matches, for every backend alike. A line without the field never matches
 * (and so matches under a NOT). "Pattern" fields compare val as a pattern when glob is set:
 * '*' stands for any run of bytes, '?' for one byte when qmark is set, every other byte for
 * itself (see query_glob); otherwise val must equal the field. Names are compared as bytes. */
enum query_field {
	QUERY_F_BACKEND,  /* pattern: a traffic line's backend, or an event's proxy (for connect
			     lines and connection errors: their frontend) */
	QUERY_F_SERVER,	  /* pattern: a traffic line's server, or an event's server (for
			     connection errors: their bind) */
	QUERY_F_FRONTEND, /* pattern: a traffic line's frontend */
	QUERY_F_STATUS,	  /* a traffic line's HTTP status lies in [lo, hi] */
	QUERY_F_STATE,	  /* pattern (always glob, qmark; ends with '*': a prefix): a traffic
			     line's termination state as logged, or an event's state with both
			     sides in upper case */
	QUERY_F_HOST,	  /* pattern, val lower case: the syslog host in lower case */
	QUERY_F_PROGRAM,  /* pattern: the syslog program (tag) */
	QUERY_F_CLIENT,	  /* a traffic line's client address: in the network net when glob is
			     not set (query_cidr_match), else the pattern on its text */
	QUERY_F_KIND,	  /* the line's kind is one of kinds (bit 1 << enum lr_kind) */
	QUERY_F_PATH,	  /* pattern (always glob; a value without '*' got one appended: a
			     prefix): a traffic line's path, without its query string */
	QUERY_F_METHOD,	  /* pattern, val upper case: a traffic line's method in upper case */
	QUERY_F_PARSE,	  /* the line's parse status (enum lr_status) is parse */
	QUERY_F_SOURCE,	  /* pattern: where the line came from ("udp:127.0.0.1:40001") */
	/* numbers of a traffic line, in [lo, hi] (absent: a -1 timer, a field the log format
	   lacks): */
	QUERY_F_TQ,	 /* TR (Tq before 1.7): time to receive the request, ms (t_req) */
	QUERY_F_TW,	 /* Tw: time in queues, ms (t_wait) */
	QUERY_F_TC,	 /* Tc: time to connect to the server, ms (t_connect) */
	QUERY_F_TR,	 /* Tr: the server's response time, ms (t_resp) */
	QUERY_F_TA,	 /* Ta (HTTP) or Tt (TCP): the total time, ms (t_active) */
	QUERY_F_BYTES,	 /* bytes sent to the client (bytes_read) */
	QUERY_F_RETRIES, /* connection retries (retries) */
	QUERY_NFIELDS
};

/* A node of the tree; owned by its query, read-only. */
struct query_node {
	enum query_op op;
	unsigned col;		  /* 1-based column of the term in the query text */
	struct query_node **kids; /* AND, OR: two or more; NOT: one */
	size_t nkids;
	enum query_field field; /* QUERY_FIELD */
	const char *val;	/* TEXT: the needle, lower case; FIELD: value or pattern; */
	size_t vlen;		/* NUL-terminated after vlen bytes, holds no NUL */
	int glob, qmark;	/* FIELD: val is a pattern ('*'; and '?' when qmark) */
	int64_t lo, hi;		/* STATUS and the numbers (TQ … RETRIES) */
	unsigned kinds;		/* KIND */
	int parse;		/* PARSE */
	unsigned char net[18];	/* CLIENT: family (4 or 6), prefix bits, 16 address bytes */
	struct query_regex *re; /* REGEX */
};

/* The root of q's tree (QUERY_ALL for the empty query). */
const struct query_node *query_root(const struct query *q);

/* ------------------------------------------------------------------------ evaluating */

/* 1 when a line matches q, evaluated here in C (the SQLite store compiles the same tree to SQL
 * instead; test_halog_query checks that both agree): for a store that scans its own blocks, a
 * live filter on received lines, or a check. raw: the bytes stored (len bytes, any byte);
 * source: where the line came from (p NULL: unknown); rec: its parse record, as the parser made
 * it or as the store gives it back with STORE_WANT_LINE | STORE_WANT_FIELDS. 0 otherwise. */
int query_match(const struct query *q, const char *raw, size_t len, struct lr_str source,
		const struct logrec *rec);

/* What every evaluator of the tree uses, so a term means the same whatever runs it. */

/* Case-insensitive (ASCII) search for needle in hay; both may hold any byte. needle must be
 * lowercase already. Returns 1 when found (an empty needle is always found), 0 otherwise. */
int query_contains(const char *hay, size_t hlen, const char *needle, size_t nlen);
/* 1 when re matches subj (len bytes, any byte), 0 otherwise. A match that reaches the regex
 * limits (a hostile pattern) is no match, counted in query_regex_limit_hits. */
int query_regex_match(const struct query_regex *re, const char *subj, size_t len);
/* Lines a regex gave up on, counted across all queries since start. */
uint64_t query_regex_limit_hits(void);

/* The time budget of the queries run from now on, for the whole process: once ms milliseconds
 * have passed on the monotonic clock (0: no budget, the default), query_budget_over() turns 1
 * and stays 1 until the next query_budget_start; query_regex_match then matches nothing
 * without running the regex, and an evaluator stops at its next check (the SQLite store's
 * progress handler interrupts the statement). A regex costs up to its match limit per line;
 * the budget bounds the whole query. The caller tells the user with query_budget_spent(). */
void query_budget_start(int64_t ms);
int query_budget_over(void);  /* reads the clock */
int query_budget_spent(void); /* does not */
/* 1 when the address text ip (len bytes) lies in net (struct query_node.net): IPv4 in an IPv4
 * network also as an IPv4-mapped IPv6 address. 0 otherwise (not an address, another family). */
int query_cidr_match(const unsigned char net[18], const char *ip, size_t len);
/* 1 when s (slen bytes) matches pattern pat (plen bytes) as struct query_node patterns do:
 * '*' any run of bytes, '?' any one when qmark (SQLite's GLOB: one character; the same for the
 * ASCII termination and event states it serves), any other byte itself. */
int query_glob(const char *pat, size_t plen, int qmark, const char *s, size_t slen);

struct strbuf;
/* Appends the term field:"value" to sb, with '"' and '\\' in value escaped as the parser reads
 * them back, so any name from the log becomes a term that matches exactly that name (but '*' in
 * a name field stays a wildcard). value may hold any byte but NUL. Returns 0 or -1. */
int query_add_term(struct strbuf *sb, const char *field, const char *value);

/* Prints each error of dl as "PROG: query:1:COL: error: MSG", then the query and a caret
 * under the column (both made terminal-safe). */
void query_print_errors(const struct diag_list *dl, const char *text, size_t len, FILE *fp,
			const char *prog);

#endif
