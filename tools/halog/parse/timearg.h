/* The WHEN argument of --since/--until (report, search, tail): one syntax, one time zone. */
#ifndef HALOG_TIMEARG_H
#define HALOG_TIMEARG_H
#include <stdint.h>

/* Parses s as:
 *   a duration back from now_ms: digits and a unit, us|ms|s|m|h|d ("10m", "2h", "1d");
 *   "@UNIXSECONDS";
 *   a date "YYYY-MM-DD[(T| )hh:mm[:ss[.fff]]][Z|(+|-)hh[:]mm]", UTC unless an offset is given.
 * Returns 0 and sets *ms (unix ms), or -1. */
int timearg_parse(const char *s, int64_t now_ms, int64_t *ms);

#endif
