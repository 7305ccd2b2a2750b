/* Private to the store layer: a parsed query (query/query.h) translated to a ClickHouse predicate
 * over the columns of `lines` that both schema 2 and schema 3 rows fill, so that the server
 * sends only the rows that may match. The C evaluation (query_match) still runs on every row
 * it sends. */
#ifndef HALOG_STORE_CHQUERY_H
#define HALOG_STORE_CHQUERY_H
#include <stddef.h>

struct query;
struct strbuf;

/* Appends to pre and rest SQL boolean expressions whose AND every line q matches passes: a
 * superset of q. pre gets the terms that read small columns only (for PREWHERE: ClickHouse
 * evaluates it first and reads the other columns of the rows it passes only), rest those that
 * read the raw line (words and phrases, and the ORs and NOTs that hold one); "1" when there are
 * none. A term with no column to test (host, program, method, client, a regex), a pattern that
 * matches an empty name, or a term under NOT that is not translated exactly becomes 1 (no
 * filtering) for its subtree. Returns 1 when the AND passes exactly the lines q matches, 0 when
 * only a superset of them, -1 when out of memory (pre and rest then hold a part). */
int chq_predicate(const struct query *q, struct strbuf *pre, struct strbuf *rest);

/* Appends the len bytes at s as a ClickHouse string literal: quote, backslash and every byte
 * outside printable ASCII as \xHH, so a name with any byte reaches the server as those bytes.
 * Every literal the store's ClickHouse SQL holds goes through it. Returns 0, or -1 when out of
 * memory. */
int chq_lit(struct strbuf *sb, const char *s, size_t len);

#endif
