/* HAProxy log-format strings compiled into a token matcher, and the field readers shared by the
 * compiled matcher and the hand-written fast paths of logparse.c (dates, addresses, requests). */
#ifndef HALOG_LOGFORMAT_H
#define HALOG_LOGFORMAT_H
#include <stddef.h>
#include <stdint.h>

#include "parse/logrec.h"

struct logformat;

/* Compiles a log-format string (the text between the quotes of `log-format "…"`; \" and \\ are
 * unescaped) or a preset name ("httplog", "httpslog", "tcplog", "clf"). Returns the compiled
 * form (caller frees with logformat_free), or NULL with "column N: problem" in err. */
struct logformat *logformat_compile(const char *fmt, char *err, size_t errsz);
void logformat_free(struct logformat *lf);

/* Matches body [p, e) against lf and fills the traffic fields of out (kind, status, reason and
 * flags included). Returns 1 when the whole format matched (status LR_OK or, for a cut line,
 * LR_PARTIAL), 0 when the body does not have the format's shape (out's traffic fields are then
 * unspecified: the caller clears or overrides them). */
int logformat_match(const struct logformat *lf, const char *p, const char *e, int64_t tz_off_ms,
		    struct logrec *out);

/* --- field readers (also used by logparse.c) --- */

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t lf_days_from_civil(int64_t y, unsigned m, unsigned d);
/* "Jan".."Dec" at p (3 bytes readable) to 1..12, or 0. */
int lf_month(const char *p);
/* Reads "dd/Mon/yyyy:HH:MM:SS[.mmm]" and, when with_zone, an optional " +hhmm" at p (< e).
 * Naive times are local: tz_off_ms (local minus UTC) is subtracted. Sets *ms (unix ms UTC) and
 * *has_ms (1 when the date had milliseconds). Returns the end of the date, or NULL. */
const char *lf_date(const char *p, const char *e, int with_zone, int64_t tz_off_ms, int64_t *ms,
		    int *has_ms);
/* Splits "ip:port" (IPv6 unbracketed: at the last ':'; "[v6]:port" unbracketed too; "-" or
 * "-:port" is an absent address; "unix:N" gives ip "unix") into ip and port. */
void lf_split_addr(const char *p, size_t n, struct lr_str *ip, int64_t *port);
/* Splits out->request into method, uri, path, query and version, and sets LR_F_BADREQ for
 * "<BADREQ>" and an empty request, LR_F_TRUNCATED when the version is missing. */
void lf_split_request(struct logrec *out);
/* Sets LR_F_SPECIAL_SRV / LR_F_NOT_ROUTED from out->server, backend and frontend. */
void lf_server_flags(struct logrec *out);

#endif
