/* A stored line as one JSON object: what `halog search --json` prints for each line, and, with
 * LINE_JSON_FULL, the line objects of halog serve's API (docs/halog-serve.md), which add the
 * parse outcome, the request's method and path, and the terminal-safe text. */
#ifndef HALOG_LINEJSON_H
#define HALOG_LINEJSON_H
#include <stdint.h>

#include "store/read.h"
#include "strbuf.h"

#define LINE_JSON_FULL 0x1 /* also parse, reason, method, path and text */

/* Appends l (read with STORE_WANT_LINE and STORE_WANT_SUMMARY; with LINE_JSON_FULL also
 * STORE_WANT_FIELDS) as one JSON object, without a newline. Every string is JSON-escaped
 * (invalid UTF-8 becomes U+FFFD in "raw"); "text" is the line as halog search prints it
 * (control bytes, DEL and invalid UTF-8 as \xHH). Returns 0 or -1 (out of memory). */
int line_json(struct strbuf *sb, const struct store_line *l, unsigned flags);

/* Appends unix ms t as a quoted "2026-11-25T06:00:00.123Z". Returns 0 or -1. */
int line_json_time(struct strbuf *sb, int64_t t);

#endif
