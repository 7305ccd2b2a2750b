/* A stored line as a JSON object of halog serve's API (docs/halog-serve.md, "Line objects"):
 * the fields of `halog search --json`, the parse outcome, and the line made visible. */
#ifndef SERVE_JLINE_H
#define SERVE_JLINE_H
#include <stdint.h>

#include "store/read.h"
#include "strbuf.h"

/* Appends l (read with SDATA_WANT) as one JSON object (no newline). Every string is
 * JSON-escaped; "raw" has invalid UTF-8 as U+FFFD, "text" is the terminal-safe form of halog
 * search (control bytes, DEL and invalid UTF-8 as \xHH). Returns 0 or -1 (out of memory). */
int jline_add(struct strbuf *sb, const struct store_line *l);

/* Appends "2026-11-25T06:00:00.123Z" (quoted) for unix ms t. Returns 0 or -1. */
int jline_add_time(struct strbuf *sb, int64_t t);

#endif
