/* halog report --format html: one self-contained page (inline CSS and SVG, no script, no URL)
 * with the numbers of struct report as tables and charts, plus time series read from the store. */
#ifndef HALOG_REPORT_HTML_H
#define HALOG_REPORT_HTML_H
#include <stdio.h>

#include "report/report.h"

struct store_reader;

#define REPORT_HTML_MAX_BINS 60	    /* bars of a time chart, at most */
#define REPORT_HTML_RAW_ROWS 200000 /* finer than a minute only when the store holds fewer
				       request records (store_info.records_hint) */

/* Writes r as an HTML page to fp. rd reads the store r was built from: it gives the status
 * classes over time (store_series: from the per-minute rollups, or from the request records in
 * bins under a minute when the span is short and the store small); NULL leaves the time charts
 * out. The output depends only on r and the store's content (no clock, no environment). Names
 * and paths from the log are made visible (control bytes and invalid UTF-8 as \xHH) and
 * HTML-escaped.
 * Returns 0, or -1 on a write error or a store error (message in err). report.h's
 * report_html(r, sb) (what report_write uses) is the same page without a store: no time charts. */
int report_html_write(struct store_reader *rd, const struct report *r, FILE *fp, char *err,
		      size_t errsz);

/* Options of the page beyond the report itself. */
struct report_html_opts {
	/* NULL: no links out of the page (halog report). Else the counts of the tables (servers,
	 * backends, status codes, termination states, error paths, events) link to the search of
	 * their lines: search_href + "?q=QUERY[&since=@SECONDS][&until=@SECONDS]", opened in the
	 * top window (halog serve shows the report in a frame). */
	const char *search_href;
};

/* The page of report_html_write, appended to sb, with opts (NULL: the same page). Returns 0, or
 * -1 with a message in err. */
int report_html_page(struct store_reader *rd, const struct report *r,
		     const struct report_html_opts *opts, struct strbuf *sb, char *err,
		     size_t errsz);

#endif
