/* The syslog framing layer of the log parser: recognises the header HAProxy (or a relay that
 * wrote it to a file) put in front of the body, and fills the framing fields of a logrec. */
#ifndef HALOG_SYSLOG_H
#define HALOG_SYSLOG_H
#include <stddef.h>
#include <stdint.h>

#include "parse/logrec.h"

/* A header date without a year (RFC3164 "Mmm dd hh:mm:ss"), kept until the year is chosen. */
struct syslog_noyear {
	int mon;  /* 1..12, 0 when the header had a full date or none */
	int mday; /* 1..31 */
	int sec_of_day;
};

/* Reads the header at the start of buf[0..len) (trailing LF/CR/NULs already removed). Fills
 * out->framing, pri, syslog_ms (full dates only: ISO 8601 with or without an offset; naive ISO
 * times are read with tz_off_ms), host, tag, pid, sd and body. A year-less date is left in ny
 * for syslog_resolve_year. Never fails: no header at all is LR_FR_NONE with body = buf.
 * Returns 1 when a header (or a bare "tag[pid]:") was recognised, 0 otherwise. */
int syslog_parse(const char *buf, size_t len, int64_t tz_off_ms, struct logrec *out,
		 struct syslog_noyear *ny);

/* Turns a year-less header date into out->syslog_ms: the year is the one (among the year of
 * ref_ms and its neighbours) that puts the date closest to ref_ms. ref_ms is the body date
 * when the body has one, else the current time. The date is local time (tz_off_ms). */
void syslog_resolve_year(const struct syslog_noyear *ny, int64_t ref_ms, int64_t tz_off_ms,
			 struct logrec *out);

#endif
