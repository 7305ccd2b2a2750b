/* The HAProxy log parser: one message (syslog framing + body) into a struct logrec. Pure: no
 * I/O, no allocation per message; the listener, `halog ingest` and `halog parse` all call it. */
#ifndef LOGPARSE_H
#define LOGPARSE_H
#include <stddef.h>
#include <stdint.h>

#include "parse/logrec.h"

struct logparser;
/* fmt: NULL for auto-detection of the built-in formats (httplog, httpslog, tcplog, clf, Connect,
 * error lines, events), or a HAProxy log-format string (the %-variables of HAProxy's doc §8.2.6;
 * presets accepted by name: "httplog", "httpslog", "tcplog", "clf"). Returns NULL with a message
 * (with the column of the problem) in err. */
struct logparser *logparser_new(const char *fmt, char *err, size_t errsz);
void logparser_free(struct logparser *lp);
/* Sets the "now" (unix ms) that picks the year of a year-less syslog date when the body has no
 * date of its own; 0 (the default) reads the clock. For reproducible output in tests. */
void logparser_set_now(struct logparser *lp, int64_t now_ms);
/* Parses one message: framing then body. Never fails: input it does not understand yields
 * kind LR_UNPARSED, status LR_BAD and a reason. Reentrant, no allocation, no I/O. The slices in
 * out point into buf. buf may contain NULs and invalid UTF-8 and may be any length. */
void logparse_message(const struct logparser *lp, const char *buf, size_t len, struct logrec *out);

#endif
