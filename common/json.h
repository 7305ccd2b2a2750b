/* Writing JSON into a strbuf: escaping of arbitrary bytes (invalid UTF-8 becomes U+FFFD, control
 * bytes \uXXXX), so nothing from a log line can break the document. */
#ifndef JSON_H
#define JSON_H
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* Appends s (len bytes, may hold NULs) as a quoted JSON string. Returns 0 or -1 (no memory). */
int json_add_str(struct strbuf *sb, const char *s, size_t len);
/* Appends "key": (quoted, escaped). */
int json_add_key(struct strbuf *sb, const char *key);
/* Appends a number; doubles use %.17g-free shortest form with at most 3 decimals for ms values. */
int json_add_i64(struct strbuf *sb, int64_t v);
int json_add_double(struct strbuf *sb, double v, int decimals);

/* Object members that may be absent: each appends ,"key":value, or nothing when the value is
 * absent (value NULL; v == absent). Return 0 or -1 (no memory). */
int json_add_member_str(struct strbuf *sb, const char *key, const char *value, size_t len);
int json_add_member_i64(struct strbuf *sb, const char *key, int64_t v, int64_t absent);

/* Makes a byte string safe for a terminal: printable ASCII and valid UTF-8 pass; every control
 * byte (ESC included), DEL and invalid UTF-8 become \xHH (and \n, \r, \t their escapes).
 * Returns 0 or -1. */
int text_add_visible(struct strbuf *sb, const char *s, size_t len);

/* One CSV cell (RFC 4180) made safe twice: for a terminal (text_add_visible) and for a
 * spreadsheet: a cell that would start with '=', '+', '-', '@', a tab or a CR (a name taken
 * from a log line or a header, such as "=cmd|...") gets a leading apostrophe, which
 * spreadsheets show as text and never compute. Quoted when it holds a comma or a double quote.
 * Returns 0 or -1. */
int csv_add_cell(struct strbuf *sb, const char *s, size_t len);

/* One Markdown table cell (or any inline text in Markdown) made safe for a terminal
 * (text_add_visible) and for the table: '|' (which would end the cell), '\\', '`', '*', '<',
 * '>', '[' and ']' (markup, HTML, links) get a backslash, so a name from a log line or a header
 * shows as written and keeps its row's columns. Returns 0 or -1. */
int md_add_cell(struct strbuf *sb, const char *s, size_t len);

#endif
